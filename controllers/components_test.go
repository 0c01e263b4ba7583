package controllers_test

import (
	"context"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/tektoncd/operator/pkg/client/clientset/versioned"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

const (
	controllerImage = "registry.redhat.io/openshift-pipelines/pipelines-controller-rhel9@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	hotfixImage     = "quay.io/openshift-pipeline/pipelines-controller:hotfix"
	controllerVar   = "IMAGE_PIPELINES_TEKTON_PIPELINES_CONTROLLER"
)

// runPipelines plays OSP's pipelines component (simulate.Pipelines: OSP's own installer-set
// code) and the kubelet of the target namespace until the test ends.
func (e *operatorEnv) runPipelines() {
	e.t.Helper()
	p := e.pipelinesStandIn()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	e.t.Cleanup(func() { cancel(); wg.Wait() })
	// OSP's component reconcilers and its installer-set reconciler run side by side, as in
	// the OSP operator's process; RunDeployments plays the kubelet.
	for _, step := range []func(context.Context) error{p.Step, p.InstallSets} {
		wg.Go(func() {
			for ctx.Err() == nil {
				if err := step(ctx); err != nil && ctx.Err() == nil {
					e.t.Logf("OSP stand-in: %v", err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(200 * time.Millisecond):
				}
			}
		})
	}
	wg.Go(func() { testenv.RunDeployments(ctx, e.c, stackSpec.TargetNamespace, func(string) bool { return true }) })
}

// pipelinesStandIn is OSP's pipelines component as simulate.Pipelines plays it, on this
// control plane, for the 5.0.5 stack.
func (e *operatorEnv) pipelinesStandIn() *simulate.Pipelines {
	e.t.Helper()
	dir, err := testenv.ModuleDir(testenv.ModTektonPipeline)
	e.Expect(err).NotTo(HaveOccurred())
	payload, err := simulate.PipelinesPayload(dir)
	e.Expect(err).NotTo(HaveOccurred())
	tekton, err := versioned.NewForConfig(e.cfg)
	e.Expect(err).NotTo(HaveOccurred())
	return &simulate.Pipelines{Client: e.c, Operator: tekton, OperatorNamespace: stackSpec.SubscriptionNamespace,
		ReleaseVersion: "5.0.5", Manifest: payload}
}

// installedWithPipelines plays OLM to the end of the install, and OSP's TektonConfig Ready;
// the component workloads come from simulate.Pipelines, not simulate.Healthy's stand-ins.
//
// OLM is played in the hot-fix tests, not run: the real OLM needs a control plane and
// processes of its own (about 20 s a test, see olm_test.go), and it cannot hold a CSV in
// Installing while a hot-fix arrives, as TestNoRefreshDuringAnUpgrade needs: it finishes an
// install as soon as the kubelet's stand-in reports the Deployment, or fails it. What OLM does
// to the operator's Deployment (the Subscription's env over the CSV's), these helpers copy,
// and TestRealOLMHotFixAndRevert shows against the real OLM.
func (e *operatorEnv) installedWithPipelines() error {
	if err := simulate.CatalogState(ctx, e.c, stackSpec.CatalogNamespace, stackSpec.CatalogName, "READY"); err != nil {
		return err
	}
	if err := simulate.InstallCSV(ctx, e.c, stackSpec.SubscriptionNamespace, stackSpec.SubscriptionName, stack505.CSV, stack505.Version); err != nil {
		return err
	}
	return simulate.TektonConfigReady(ctx, e.c, stack505.TektonVersion)
}

// olmRolls plays OLM rolling the operator Deployment of csv with the Subscription's
// environment, until the operator has applied the Subscription that names controller.
func (e *operatorEnv) olmRolls(csv, controller string) {
	e.t.Helper()
	e.Eventually(func(g Gomega) {
		g.Expect(simulate.OperatorDeployment(ctx, e.c, stackSpec.SubscriptionNamespace, stackSpec.SubscriptionName, csv)).To(Succeed())
		g.Expect(e.operatorEnvOf()).To(HaveKeyWithValue(controllerVar, controller))
	}, timeout, poll).Should(Succeed())
}

// installWithPipelines creates the full sample with the controller's image overridden, in
// the given rollout mode, plays OLM's install and OSP's pipelines component, and waits until
// the controller runs that image, the operator says so, and OSP has rendered all it was asked.
func (e *operatorEnv) installWithPipelines(mode psv1alpha1.OverridesRollout) {
	e.t.Helper()
	e.create(samples.Full, func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.ImageOverrides = map[string]psv1alpha1.ImageReference{controllerVar: controllerImage}
		ps.Spec.Operator.Subscription.OverridesRollout = mode
	})
	e.runPipelines()
	e.Eventually(e.installedWithPipelines, timeout, poll).Should(Succeed())
	e.Eventually(e.controllerRuns(), timeout, poll).Should(Equal(controllerImage))
	e.waitCondition(psv1alpha1.ConditionOverridesApplied, psv1alpha1.ReasonComponentsCurrent, "every component container")
	e.ospSettled()
}

// ospSettled waits until the operator is quiet and OSP's stand-in has rendered what it last
// asked: the controller Deployment carries the refresh annotation that the TektonConfig's
// options give it, if any. A hot-fix made before that would be rendered by the refresh of
// the install, not by the refresh under test.
func (e *operatorEnv) ospSettled() {
	e.t.Helper()
	e.waitQuiet()
	e.Eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(e.c.Get(ctx, client.ObjectKey{Namespace: stackSpec.TargetNamespace, Name: "tekton-pipelines-controller"}, d)).To(Succeed())
		g.Expect(d.Annotations[render.AnnotationRefreshedImages]).To(Equal(e.refreshAsked()))
	}, timeout, poll).Should(Succeed())
}

// controllerRuns is the image the pipelines controller Deployment runs.
func (e *operatorEnv) controllerRuns() func() string {
	return func() string {
		d := &appsv1.Deployment{}
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: stackSpec.TargetNamespace, Name: "tekton-pipelines-controller"}, d); err != nil {
			return ""
		}
		return d.Spec.Template.Spec.Containers[0].Image
	}
}

// TestHotFixReachesTheComponents: an image override rolls the OSP operator's environment, but
// OSP keeps the components' installer sets, so the controller keeps its image and
// OverridesApplied says so; the operator then asks OSP to re-render the pipelines component,
// OSP's own installer-set code updates the set in place, and the controller runs the hot-fix.
// At about 65 s, its idle minute included, it is the package's longest test: its file is named
// to sort early, because parallel tests start in the order they are declared, and declared late
// it would be the last to end.
func TestHotFixReachesTheComponents(t *testing.T) {
	e := startOperator(t, nil)
	e.installWithPipelines(psv1alpha1.OverridesRefresh)
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)

	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.OverridesRollout = psv1alpha1.OverridesReport
		ps.Spec.Operator.Subscription.ImageOverrides[controllerVar] = hotfixImage
	})
	// OLM rolls the operator with the new environment; OSP keeps its installer sets.
	e.olmRolls(csv505, hotfixImage)
	c := e.waitCondition(psv1alpha1.ConditionOverridesApplied, psv1alpha1.ReasonComponentsStale,
		"Deployment/tekton-pipelines-controller container tekton-pipelines-controller runs "+controllerImage+", wants "+hotfixImage)
	e.Expect(c.Status).To(Equal(metav1.ConditionFalse))
	e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonComponentsStale)
	e.Consistently(e.controllerRuns(), 2*time.Second, poll).Should(Equal(controllerImage), "Report mode refreshes nothing")

	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.OverridesRollout = psv1alpha1.OverridesRefresh
	})
	e.expectEvent(psv1alpha1.ReasonComponentsRefreshed, "Deployment/tekton-pipelines-controller (TektonPipeline)")
	e.Eventually(e.controllerRuns(), timeout, poll).Should(Equal(hotfixImage))
	e.waitCondition(psv1alpha1.ConditionOverridesApplied, psv1alpha1.ReasonComponentsCurrent, "every component container")
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Expect(e.get().Status.StaleContainers).To(BeZero())
	// A whole idle minute with the override in effect and the refresh annotation in the
	// TektonConfig, while OSP's stand-in keeps reconciling its installer sets: no write.
	e.expectNoWritesFor(time.Minute, "the hot-fix runs: nothing is left to refresh")
}

// refreshAsked is the refresh annotation the operator set on the pipelines controller's
// options in the TektonConfig, "" when there is none.
func (e *operatorEnv) refreshAsked() string {
	tc := e.object(children.GVKTektonConfig, "", render.TektonConfigName)
	if tc == nil {
		return ""
	}
	token, _, _ := unstructured.NestedString(tc.Object, "spec", "pipeline", "options", "deployments",
		"tekton-pipelines-controller", "metadata", "annotations", render.AnnotationRefreshedImages)
	return token
}

// TestNoRefreshDuringAnUpgrade: a hot-fix that arrives while an upgrade runs waits for it,
// because the upgrade re-renders every component; once the new CSV has Succeeded, the
// operator asks OSP for the one component still stale. OSP's stand-in keeps its release
// version, so here only the refresh can move the controller.
func TestNoRefreshDuringAnUpgrade(t *testing.T) {
	e := startOperator(t, nil)
	e.installWithPipelines(psv1alpha1.OverridesRefresh)

	// OLM installs 5.0.6, and the hot-fix arrives meanwhile: OLM rolls the operator with it.
	// The install itself may have asked for a refresh (a component rendered before OLM rolled
	// the override): what counts is that nothing more is asked while the upgrade runs.
	refreshes, asked := len(e.eventsWith(psv1alpha1.ReasonComponentsRefreshed)), e.refreshAsked()
	subNS, sub := stackSpec.SubscriptionNamespace, stackSpec.SubscriptionName
	e.Expect(simulate.CreateCSV(ctx, e.c, subNS, csv506, "5.0.6")).To(Succeed())
	e.Expect(simulate.CSVPhase(ctx, e.c, subNS, csv506, "Installing", "InstallWaiting", "")).To(Succeed())
	e.Expect(simulate.SubscriptionInstalled(ctx, e.c, subNS, sub, csv506)).To(Succeed())
	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.CSV = csv506
		ps.Spec.Operator.Subscription.ImageOverrides[controllerVar] = hotfixImage
	})
	e.olmRolls(csv506, hotfixImage)
	c := e.waitCondition(psv1alpha1.ConditionOverridesApplied, psv1alpha1.ReasonComponentsStale, "an upgrade is running")
	e.Expect(c.Status).To(Equal(metav1.ConditionFalse))
	e.expectReady(metav1.ConditionUnknown, psv1alpha1.ReasonCSVInstalling)
	e.Expect(e.condition(psv1alpha1.ConditionReconciling).Reason).To(Equal(psv1alpha1.ReasonUpgrading))
	e.Consistently(func() []string { return []string{e.refreshAsked(), e.controllerRuns()()} }, 2*time.Second, poll).
		Should(Equal([]string{asked, controllerImage}), "nothing is refreshed while the upgrade runs")
	e.Expect(e.eventsWith(psv1alpha1.ReasonComponentsRefreshed)).To(HaveLen(refreshes))

	// The upgrade completes: the stale controller is refreshed, once.
	e.Expect(simulate.CSVPhase(ctx, e.c, subNS, csv506, "Succeeded", "InstallSucceeded", "")).To(Succeed())
	e.Eventually(e.controllerRuns(), timeout, poll).Should(Equal(hotfixImage))
	e.waitCondition(psv1alpha1.ConditionOverridesApplied, psv1alpha1.ReasonComponentsCurrent, "every component container")
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Expect(e.refreshAsked()).NotTo(Equal(asked))
	e.Expect(e.eventsWith(psv1alpha1.ReasonComponentsRefreshed)).To(HaveLen(refreshes + 1))
}
