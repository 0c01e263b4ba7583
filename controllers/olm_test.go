package controllers_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// The real OLM's tests: OLM v0.46.0's olm and catalog operators run against the control plane
// and resolve, plan and install from a file-based catalog that opm serves. What cannot run
// here is played: a kubelet (testenv.RunDeployments reports the operator's Deployment rolled
// out, or past its progress deadline) and OSP's controllers (simulate.OSP).

const ospPackage = "openshift-pipelines-operator-rh"

// olmLogs collects OLM's and opm's output, shown when the test fails.
type olmLogs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *olmLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// startRealOLM starts a control plane of the test's own with OLM's CRDs (the TektonConfig CRD
// comes from the bundle, as on a cluster), serves a catalog of bundles, runs the real OLM and
// the operator, and returns the catalog's address.
func startRealOLM(t *testing.T, bundles ...testenv.Bundle) (*operatorEnv, string) {
	t.Helper()
	crds := testenv.AllOLMCRDs()
	for _, load := range []func() (*apiextensionsv1.CustomResourceDefinition, error){testenv.ExternalSecretCRD, testenv.ServiceMonitorCRD, testenv.PrometheusRuleCRD} {
		crd, err := load()
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		crds = append(crds, crd)
	}
	e := startControlPlaneIn(t, crds, "")
	bg, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.Expect(simulate.EnsureNamespaces(bg, e.c, testenv.OLMNamespace)).To(Succeed())
	group := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
		"metadata": map[string]any{"namespace": stackSpec.SubscriptionNamespace, "name": "global-operators"},
		"spec":     map[string]any{},
	}}
	e.Expect(e.c.Create(bg, group)).To(Succeed())

	logs := &olmLogs{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("OLM and opm said:\n%s", logs.buf.String())
		}
	})
	dir := filepath.Join(t.TempDir(), "catalog")
	e.Expect(testenv.WriteCatalog(dir, ospPackage, "latest", bundles)).To(Succeed())
	address, stopCatalog, err := testenv.ServeCatalog(dir, logs)
	e.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(stopCatalog)
	olm, err := testenv.StartOLM(e.env, logs)
	e.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(olm.Stop)

	go testenv.RunDeployments(bg, e.c, stackSpec.SubscriptionNamespace, func(image string) bool { return !strings.Contains(image, "never-ready") })
	go func() {
		for bg.Err() == nil {
			_ = simulate.OSP(bg, e.c, stackSpec.TargetNamespace)
			time.Sleep(200 * time.Millisecond)
		}
	}()
	e.op = e.runOperator(e.cfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
	return e, address
}

// ospBundles are 5.0.5 and 5.0.6, which replaces it, each owning the TektonConfig CRD.
func ospBundles(t *testing.T) []testenv.Bundle {
	crd, err := testenv.TektonConfigCRD()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return []testenv.Bundle{
		{Version: "5.0.5", CRDs: []*apiextensionsv1.CustomResourceDefinition{crd}},
		{Version: "5.0.6", Replaces: "5.0.5", CRDs: []*apiextensionsv1.CustomResourceDefinition{crd}},
	}
}

// servedBy points the full sample at the catalog served at address, following channel.
func servedBy(address, channel, csv string) func(*psv1alpha1.PipelineService) {
	return func(ps *psv1alpha1.PipelineService) {
		cs := &ps.Spec.Operator.CatalogSource
		cs.Image, cs.Address, cs.PollInterval = "", address, nil
		ps.Spec.Operator.Subscription.Channel = channel
		ps.Spec.Operator.Subscription.CSV = csv
		ps.Spec.Mirrors = nil
	}
}

// installPlans lists the InstallPlans in the Subscription's namespace by the CSV they install.
func (e *operatorEnv) installPlans() map[string][]*unstructured.Unstructured {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(children.GVKInstallPlan.GroupVersion().WithKind("InstallPlanList"))
	NewWithT(e.t).Expect(e.c.List(ctx, list, client.InNamespace(stackSpec.SubscriptionNamespace))).To(Succeed())
	out := map[string][]*unstructured.Unstructured{}
	for i := range list.Items {
		csvs, _, _ := unstructured.NestedStringSlice(list.Items[i].Object, "spec", "clusterServiceVersionNames")
		for _, csv := range csvs {
			out[csv] = append(out[csv], &list.Items[i])
		}
	}
	return out
}

func (e *operatorEnv) csvPhase(name string) string {
	u := e.object(children.GVKClusterServiceVersion, stackSpec.SubscriptionNamespace, name)
	if u == nil {
		return ""
	}
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	return phase
}

// TestRealOLMPinnedInstallAndUpgrade runs the pinned-approval life cycle against the real OLM:
// a channel that does not exist named in the status; the pinned plan approved once it
// requires approval, and only it; the install to Healthy; the next version's plan held back
// and named; the pin moved forward and the upgrade recorded; a pin below what runs refused;
// and deletionPolicy Delete removing the CSV.
func TestRealOLMPinnedInstallAndUpgrade(t *testing.T) {
	e, address := startRealOLM(t, ospBundles(t)...)
	csv505, csv506 := testenv.CSVName(ospPackage, "5.0.5"), testenv.CSVName(ospPackage, "5.0.6")

	// A channel the catalog does not have: OLM's ResolutionFailed, named.
	e.create(samples.Full, servedBy(address, "nope", csv505))
	e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonResolutionFailed)
	// Until OLM has connected to the catalog, its resolution fails for that reason first.
	e.Eventually(func() string { return e.condition(psv1alpha1.ConditionOperatorInstalled).Message }, 2*timeout, poll).
		Should(ContainSubstring("nope"))

	// The right channel: OLM plans the pin; the operator approves that plan, once.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.Channel = "latest" })
	e.Eventually(func(g Gomega) {
		plans := e.installPlans()[csv505]
		g.Expect(plans).To(HaveLen(1))
		approved, _, _ := unstructured.NestedBool(plans[0].Object, "spec", "approved")
		g.Expect(approved).To(BeTrue())
	}, 2*timeout, poll).Should(Succeed())
	e.Eventually(func() string { return e.csvPhase(csv505) }, 2*timeout, poll).Should(Equal("Succeeded"))
	ps := e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Expect(ps.Status.InstalledCSV).To(Equal(csv505))
	e.Expect(ps.Status.InstalledVersion).To(Equal("5.0.5"))
	e.Expect(e.installPlans()[csv505]).To(HaveLen(1), "one plan for the pin: no duplicate")

	// OLM plans 5.0.6: held back by the pin, named, not approved.
	e.Eventually(func() []*unstructured.Unstructured { return e.installPlans()[csv506] }, 2*timeout, poll).ShouldNot(BeEmpty())
	e.Eventually(func() string { return e.condition(psv1alpha1.ConditionOperatorInstalled).Message }, timeout, poll).
		Should(And(ContainSubstring("held back by the pin"), ContainSubstring(csv506)))
	e.Consistently(func() bool {
		approved, _, _ := unstructured.NestedBool(e.installPlans()[csv506][0].Object, "spec", "approved")
		return approved
	}, "2s", poll).Should(BeFalse())
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)

	// The pin moves: that plan is approved, OLM upgrades, the upgrade is recorded.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.CSV = csv506 })
	e.Eventually(func() string { return e.csvPhase(csv506) }, 2*timeout, poll).Should(Equal("Succeeded"))
	e.Eventually(func(g Gomega) {
		ps := e.get()
		g.Expect(ps.Status.InstalledCSV).To(Equal(csv506))
		g.Expect(ps.Status.Upgrade).NotTo(BeNil())
		g.Expect(ps.Status.Upgrade.From).To(Equal(csv505))
		g.Expect(ps.Status.Upgrade.To).To(Equal(csv506))
		g.Expect(ps.Status.Upgrade.CompletedAt).NotTo(BeNil())
	}, 2*timeout, poll).Should(Succeed())
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	// OLM marks the replaced CSV Deleting, then deletes it.
	e.Eventually(func() string { return e.csvPhase(csv505) }, 2*timeout, poll).Should(BeEmpty(), "OLM replaced 5.0.5")

	// A pin below what runs: OLM cannot go back.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.CSV = csv505 })
	e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonDowngradeNotSupported)

	// deletionPolicy Delete uninstalls: the CSV goes.
	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.CSV = csv506
		ps.Spec.DeletionPolicy = psv1alpha1.DeletionPolicyDelete
	})
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Expect(e.c.Delete(ctx, e.get())).To(Succeed())
	e.Eventually(func() string { return e.csvPhase(csv506) }, 2*timeout, poll).Should(BeEmpty())
	e.Eventually(func() bool {
		return e.object(children.GVKSubscription, stackSpec.SubscriptionNamespace, stackSpec.SubscriptionName) == nil
	}, timeout, poll).Should(BeTrue())
}

// TestRealOLMFailedCSV installs a bundle whose Deployment never becomes available: OLM fails
// the CSV and the PipelineService says so.
func TestRealOLMFailedCSV(t *testing.T) {
	bundles := ospBundles(t)[:1]
	bundles[0].Image = "registry.example.com/never-ready:v5.0.5"
	e, address := startRealOLM(t, bundles...)
	csv505 := testenv.CSVName(ospPackage, "5.0.5")
	e.create(samples.Full, servedBy(address, "latest", csv505))
	e.Eventually(func() string { return e.csvPhase(csv505) }, 3*timeout, poll).Should(Equal("Failed"))
	e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonCSVFailed)
}

// The image variables of the test bundles: the controller's changes from 5.0.5 to 5.0.6, the
// webhook's does not.
const webhookVar = "IMAGE_PIPELINES_WEBHOOK"

var (
	controller505 = "registry.redhat.io/openshift-pipelines/pipelines-controller-rhel9@sha256:" + strings.Repeat("5", 64)
	controller506 = "registry.redhat.io/openshift-pipelines/pipelines-controller-rhel9@sha256:" + strings.Repeat("6", 64)
	webhook50x    = "registry.redhat.io/openshift-pipelines/pipelines-webhook-rhel9@sha256:" + strings.Repeat("0", 64)
	webhookHotfix = "quay.io/openshift-pipeline/pipelines-webhook@sha256:" + strings.Repeat("f", 64)
)

// operatorEnvOf is the environment OLM set on the OSP operator's Deployment.
func (e *operatorEnv) operatorEnvOf() map[string]string {
	u := e.object(children.GVKDeployment, stackSpec.SubscriptionNamespace, simulate.OperatorName)
	out := map[string]string{}
	if u == nil {
		return out
	}
	containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		env, _, _ := unstructured.NestedSlice(c.(map[string]any), "env")
		for _, v := range env {
			m := v.(map[string]any)
			name, _ := m["name"].(string)
			value, _ := m["value"].(string)
			out[name] = value
		}
	}
	return out
}

// eventsWith returns the Events about the PipelineService with reason.
func (e *operatorEnv) eventsWith(reason string) []eventsv1.Event {
	var out []eventsv1.Event
	for _, ev := range e.eventList(NewWithT(e.t)) {
		if ev.Reason == reason {
			out = append(out, ev)
		}
	}
	return out
}

// TestRealOLMHotFixAndRevert runs the hot-fix life cycle against the real OLM, whose bundles
// ship image variables: an override reaches the operator's Deployment through OLM and is
// listed as holding the controller away from the bundle's image; an override naming the
// bundle's own image is called redundant, with one Event; an upgrade records the build it
// replaces from that CSV before OLM deletes it, and an override outlives the upgrade, holding
// the webhook away from the new bundle's image; revertImagesTo turns the recorded images into
// overrides under imageOverrides, which OLM rolls, and the Ready message says so; a name
// other than the recorded build stalls, saying what is recorded.
func TestRealOLMHotFixAndRevert(t *testing.T) {
	bundles := ospBundles(t)
	bundles[0].Images = map[string]string{controllerVar: controller505, webhookVar: webhook50x}
	bundles[1].Images = map[string]string{controllerVar: controller506, webhookVar: webhook50x}
	e, address := startRealOLM(t, bundles...)
	csv505, csv506 := testenv.CSVName(ospPackage, "5.0.5"), testenv.CSVName(ospPackage, "5.0.6")

	// A hot-fix: OLM rolls the operator's Deployment with it, over the bundle's value.
	e.create(samples.Full, func(ps *psv1alpha1.PipelineService) {
		servedBy(address, "latest", csv505)(ps)
		ps.Spec.Operator.Subscription.ImageOverrides = map[string]psv1alpha1.ImageReference{controllerVar: hotfixImage}
	})
	e.Eventually(func() string { return e.csvPhase(csv505) }, 2*timeout, poll).Should(Equal("Succeeded"))
	e.Eventually(e.operatorEnvOf, timeout, poll).Should(And(
		HaveKeyWithValue(controllerVar, hotfixImage), HaveKeyWithValue(webhookVar, webhook50x)), "OLM sets the Subscription's env over the CSV's")
	e.waitCondition(psv1alpha1.ConditionOverridesApplied, psv1alpha1.ReasonComponentsCurrent, "1 image variables from the Subscription")
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Eventually(func() []psv1alpha1.ImageOverrideStatus { return e.get().Status.ImageOverrides }, timeout, poll).Should(Equal([]psv1alpha1.ImageOverrideStatus{{
		Name: controllerVar, Image: hotfixImage, Source: psv1alpha1.OverrideSourceImageOverrides, BundleImage: controller505, State: psv1alpha1.ImageOverrideHolding}}))

	// The override names the bundle's own image: redundant, said once.
	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.ImageOverrides[controllerVar] = psv1alpha1.ImageReference(controller505)
	})
	e.waitCondition(psv1alpha1.ConditionOverridesApplied, psv1alpha1.ReasonComponentsCurrent,
		"imageOverrides "+controllerVar+" name the very images "+csv505+" ships: they are redundant")
	e.expectEvent(psv1alpha1.ReasonOverrideRedundant, controllerVar+" names "+controller505)
	e.Expect(e.get().Status.ImageOverrides).To(ConsistOf(HaveField("State", psv1alpha1.ImageOverrideRedundant)))
	e.waitQuiet()
	redundant := e.eventsWith(psv1alpha1.ReasonOverrideRedundant)
	e.Expect(redundant).To(HaveLen(1))
	e.Expect(redundant[0].Series).To(BeNil(), "the Event is not repeated")

	// The pin moves, with a hot-fix of the webhook in place: the upgrade records 5.0.5's
	// images, read from its CSV, before OLM deletes it, and the hot-fix outlives the upgrade.
	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.ImageOverrides = map[string]psv1alpha1.ImageReference{webhookVar: psv1alpha1.ImageReference(webhookHotfix)}
		ps.Spec.Operator.Subscription.CSV = csv506
	})
	e.Eventually(func() string { return e.csvPhase(csv505) }, 2*timeout, poll).Should(BeEmpty(), "OLM replaced 5.0.5")
	e.Eventually(func(g Gomega) {
		u := e.get().Status.Upgrade
		g.Expect(u).NotTo(BeNil())
		g.Expect(u.To).To(Equal(csv506))
		g.Expect(u.CompletedAt).NotTo(BeNil())
		g.Expect(u.Previous).To(Equal(&psv1alpha1.BuildImages{CSV: csv505, Images: []psv1alpha1.ImageVariable{
			{Name: controllerVar, Image: controller505}, {Name: webhookVar, Image: webhook50x}}}))
	}, 2*timeout, poll).Should(Succeed())
	e.Eventually(e.operatorEnvOf, timeout, poll).Should(And(
		HaveKeyWithValue(controllerVar, controller506), HaveKeyWithValue(webhookVar, webhookHotfix)), "the override wins over the new CSV")
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	webhookHeld := psv1alpha1.ImageOverrideStatus{Name: webhookVar, Image: webhookHotfix, Source: psv1alpha1.OverrideSourceImageOverrides,
		BundleImage: webhook50x, State: psv1alpha1.ImageOverrideHolding}
	e.Expect(e.get().Status.ImageOverrides).To(Equal([]psv1alpha1.ImageOverrideStatus{webhookHeld}))

	// A name that is not the recorded build: stalled, nothing applied.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.RevertImagesTo = csv506 })
	e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonRevertNotRecorded)
	e.Expect(e.condition(psv1alpha1.ConditionStalled).Message).To(ContainSubstring("the recorded previous build is " + csv505))

	// Revert: 5.0.5's images become overrides under the hot-fix, OLM rolls them, Ready says so.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.RevertImagesTo = csv505 })
	e.Eventually(e.operatorEnvOf, timeout, poll).Should(And(
		HaveKeyWithValue(controllerVar, controller505), HaveKeyWithValue(webhookVar, webhookHotfix)))
	ps := e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Expect(meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionReady).Message).To(
		ContainSubstring("the component images are reverted to those of " + csv505))
	e.Expect(ps.Status.ImageOverrides).To(Equal([]psv1alpha1.ImageOverrideStatus{{
		Name: controllerVar, Image: controller505, Source: psv1alpha1.OverrideSourceRevert, BundleImage: controller506, State: psv1alpha1.ImageOverrideHolding},
		webhookHeld}), "imageOverrides win over the reverted images")

	// The revert and the hot-fix end: 5.0.6's images again.
	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.RevertImagesTo = ""
		ps.Spec.Operator.Subscription.ImageOverrides = nil
	})
	e.Eventually(e.operatorEnvOf, timeout, poll).Should(And(
		HaveKeyWithValue(controllerVar, controller506), HaveKeyWithValue(webhookVar, webhook50x)))
	ps = e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Expect(meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionReady).Message).NotTo(ContainSubstring("reverted"))
	e.Expect(ps.Status.ImageOverrides).To(BeEmpty())
}
