package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
)

const (
	csv505 = "openshift-pipelines-operator-rh.v5.0.5"
	csv506 = "openshift-pipelines-operator-rh.v5.0.6"
	csv504 = "openshift-pipelines-operator-rh.v5.0.4"
)

var (
	ctx       = context.Background()
	stackSpec = simulate.Spec{
		CatalogNamespace: "openshift-marketplace", CatalogName: "pipeline-service-catalog",
		SubscriptionNamespace: "openshift-operators", SubscriptionName: "openshift-pipelines-operator",
		TargetNamespace: "openshift-pipelines",
	}
	stack505 = simulate.Stack{CSV: csv505, Version: "5.0.5", TektonVersion: "1.21.0"}
)

// becomeHealthy plays OLM and OSP until the PipelineService is Ready.
func (e *operatorEnv) becomeHealthy(stack simulate.Stack) {
	e.t.Helper()
	e.playHealthy(stack)
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
}

// playHealthy plays OLM and OSP to the end of a good install of stack (simulate.Healthy),
// without waiting for the operator to report it.
func (e *operatorEnv) playHealthy(stack simulate.Stack) {
	e.t.Helper()
	e.Eventually(func() error { return simulate.Healthy(ctx, e.c, stackSpec, stack) }, timeout, poll).Should(Succeed())
}

// expectReady waits for Ready to have status and reason.
func (e *operatorEnv) expectReady(status metav1.ConditionStatus, reason string) *psv1alpha1.PipelineService {
	e.t.Helper()
	var ps *psv1alpha1.PipelineService
	e.Eventually(func(g Gomega) {
		ps = e.get()
		ready := meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(status), ready.Message)
		g.Expect(ready.Reason).To(Equal(reason), ready.Message)
		g.Expect(ready.ObservedGeneration).To(Equal(ps.Generation))
	}, timeout, poll).Should(Succeed())
	return ps
}

// events returns the reasons of the Events about the PipelineService.
func (e *operatorEnv) events() []string {
	var reasons []string
	for _, ev := range e.eventList(NewWithT(e.t)) {
		if ev.Regarding.Kind == "PipelineService" {
			reasons = append(reasons, ev.Reason)
		}
	}
	return reasons
}

// TestStatusTellsHealthAndVersion plays a good install, then breaks each part in turn: Ready
// follows, with the reason of the part that broke, and recovers when it is fixed.
func TestStatusTellsHealthAndVersion(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Full, nil)
	e.waitForGolden("full.yaml")

	// The pinned CSV needs an approved plan; this test is about health, so OLM installs directly.
	e.becomeHealthy(stack505)
	g := NewWithT(t)
	ps := e.get()
	g.Expect(ps.Status.InstalledCSV).To(Equal(csv505))
	g.Expect(ps.Status.InstalledVersion).To(Equal("5.0.5"))
	g.Expect(ps.Status.DesiredCSV).To(Equal(csv505))
	g.Expect(ps.Status.TektonVersion).To(Equal("1.21.0"))
	g.Expect(ps.Status.CatalogState).To(Equal("READY"))
	g.Expect(ps.Status.Components).To(ContainElements(
		psv1alpha1.ComponentStatus{Name: render.ExporterName, Ready: 1, Desired: 1, Restarts: ptr.To[int32](0)},
		psv1alpha1.ComponentStatus{Name: "tekton-pipelines-controller", Ready: 1, Desired: 1, Restarts: ptr.To[int32](0)},
	))
	g.Expect(ps.Status.Components).To(HaveLen(len(simulate.Components) + 1))
	g.Expect(ps.Status.Upgrade).NotTo(BeNil())
	g.Expect(ps.Status.Upgrade.To).To(Equal(csv505))
	g.Expect(ps.Status.Upgrade.CompletedAt).NotTo(BeNil())
	for _, c := range ps.Status.Conditions {
		g.Expect(c.ObservedGeneration).To(Equal(ps.Generation), c.Type)
		if c.Type != psv1alpha1.ConditionReconciling && c.Type != psv1alpha1.ConditionStalled {
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Type, c.Message)
		}
	}
	g.Expect(meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionReconciling)).To(BeNil())
	g.Expect(meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionStalled)).To(BeNil())
	e.Eventually(e.events, timeout, poll).Should(ContainElements(psv1alpha1.ReasonHealthy, psv1alpha1.ReasonUpgradeCompleted))

	// An idle healthy cluster: no writes.
	e.waitQuiet()
	mark := e.writeMark()
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Annotations = map[string]string{"test/poke": "1"} })
	e.waitQuiet()
	g.Expect(e.writesSince(mark)).To(BeEmpty())

	type breakage struct {
		name          string
		brk, fix      func() error
		status        metav1.ConditionStatus
		reason        string
		condition     string
		conditionWant metav1.ConditionStatus
	}
	sub, subNS := stackSpec.SubscriptionName, stackSpec.SubscriptionNamespace
	target := stackSpec.TargetNamespace
	for _, b := range []breakage{
		{
			name: "catalog in TRANSIENT_FAILURE",
			brk: func() error {
				return simulate.CatalogState(ctx, e.c, "openshift-marketplace", "pipeline-service-catalog", "TRANSIENT_FAILURE")
			},
			fix: func() error {
				return simulate.CatalogState(ctx, e.c, "openshift-marketplace", "pipeline-service-catalog", "READY")
			},
			status: metav1.ConditionFalse, reason: psv1alpha1.ReasonCatalogSourceUnhealthy,
			condition: psv1alpha1.ConditionCatalogSourceReady, conditionWant: metav1.ConditionFalse,
		},
		{
			name: "catalog CONNECTING",
			brk: func() error {
				return simulate.CatalogState(ctx, e.c, "openshift-marketplace", "pipeline-service-catalog", "CONNECTING")
			},
			fix: func() error {
				return simulate.CatalogState(ctx, e.c, "openshift-marketplace", "pipeline-service-catalog", "READY")
			},
			status: metav1.ConditionUnknown, reason: psv1alpha1.ReasonCatalogSourceConnecting,
			condition: psv1alpha1.ConditionCatalogSourceReady, conditionWant: metav1.ConditionFalse,
		},
		{
			name: "CSV Failed",
			brk: func() error {
				return simulate.CSVPhase(ctx, e.c, subNS, csv505, "Failed", "InstallComponentFailed", "deployment not ready")
			},
			fix:    func() error { return simulate.CSVPhase(ctx, e.c, subNS, csv505, "Succeeded", "InstallSucceeded", "") },
			status: metav1.ConditionFalse, reason: psv1alpha1.ReasonCSVFailed,
			condition: psv1alpha1.ConditionOperatorInstalled, conditionWant: metav1.ConditionFalse,
		},
		{
			name: "CSV Installing",
			brk: func() error {
				return simulate.CSVPhase(ctx, e.c, subNS, csv505, "Installing", "InstallWaiting", "waiting for deployment")
			},
			fix:    func() error { return simulate.CSVPhase(ctx, e.c, subNS, csv505, "Succeeded", "InstallSucceeded", "") },
			status: metav1.ConditionUnknown, reason: psv1alpha1.ReasonCSVInstalling,
			condition: psv1alpha1.ConditionOperatorInstalled, conditionWant: metav1.ConditionFalse,
		},
		{
			name: "Subscription ResolutionFailed",
			brk: func() error {
				return simulate.SubscriptionCondition(ctx, e.c, subNS, sub, "ResolutionFailed", "ConstraintsNotSatisfiable", "no operators found")
			},
			fix:    func() error { return simulate.SubscriptionInstalled(ctx, e.c, subNS, sub, csv505) },
			status: metav1.ConditionFalse, reason: psv1alpha1.ReasonResolutionFailed,
			condition: psv1alpha1.ConditionOperatorInstalled, conditionWant: metav1.ConditionFalse,
		},
		{
			name: "TektonConfig ComponentsReady False",
			brk: func() error {
				return simulate.TektonConfigStatus(ctx, e.c, "1.21.0", [3]string{"PreInstall", "True", ""},
					[3]string{"ComponentsReady", "False", "TektonPipeline not ready"}, [3]string{"Ready", "False", "Components not ready"})
			},
			fix:    func() error { return simulate.TektonConfigReady(ctx, e.c, "1.21.0") },
			status: metav1.ConditionFalse, reason: psv1alpha1.ReasonTektonConfigNotReady,
			condition: psv1alpha1.ConditionTektonConfigReady, conditionWant: metav1.ConditionFalse,
		},
		{
			name:   "exporter without ready replicas",
			brk:    func() error { return simulate.DeploymentReady(ctx, e.c, target, render.ExporterName, 0) },
			fix:    func() error { return simulate.DeploymentReady(ctx, e.c, target, render.ExporterName, 1) },
			status: metav1.ConditionUnknown, reason: psv1alpha1.ReasonExporterRollingOut,
			condition: psv1alpha1.ConditionExporterAvailable, conditionWant: metav1.ConditionFalse,
		},
	} {
		t.Run(b.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(b.brk()).To(Succeed())
			e.expectReady(b.status, b.reason)
			g.Expect(e.condition(b.condition).Status).To(Equal(b.conditionWant))
			g.Expect(b.fix()).To(Succeed())
			e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
		})
	}

	// A component below its desired replicas shows in components, and Ready does not hide it.
	g.Expect(simulate.DeploymentReady(ctx, e.c, target, "tekton-pipelines-webhook", 0)).To(Succeed())
	e.Eventually(func() []psv1alpha1.ComponentStatus { return e.get().Status.Components }, timeout, poll).
		Should(ContainElement(psv1alpha1.ComponentStatus{Name: "tekton-pipelines-webhook", Ready: 0, Desired: 1, Restarts: ptr.To[int32](0)}))
}

// TestTektonConfigDeletedIsReappliedAndUnknownMeanwhile: a TektonConfig deleted after it was
// healthy is applied again at once, and until OSP reports on the new one its condition is
// Unknown, and Ready says so rather than False.
func TestTektonConfigDeletedIsReappliedAndUnknownMeanwhile(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Minimal, nil)
	e.waitForGolden("minimal.yaml")
	e.becomeHealthy(stack505)

	tc := e.object(children.GVKTektonConfig, "", render.TektonConfigName)
	e.Expect(e.c.Delete(ctx, tc)).To(Succeed())
	// The operator puts it back at once; OSP has not reported on the new one yet.
	e.Eventually(func(g Gomega) {
		c := e.condition(psv1alpha1.ConditionTektonConfigReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionUnknown))
		g.Expect(c.Reason).To(Equal(psv1alpha1.ReasonTektonConfigNotObserved))
	}, timeout, poll).Should(Succeed())
	e.expectReady(metav1.ConditionUnknown, psv1alpha1.ReasonTektonConfigNotObserved)
	e.Expect(simulate.TektonConfigReady(ctx, e.c, "1.21.0")).To(Succeed())
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
}

// TestStatusWithoutOLM: nothing plays OLM, so the status waits: Ready stays Unknown, never
// False, and says what it waits for.
func TestStatusWithoutOLM(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Minimal, nil)
	e.waitConverged()
	ps := e.expectReady(metav1.ConditionUnknown, psv1alpha1.ReasonCatalogSourceNotObserved)
	g := NewWithT(t)
	g.Expect(meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionCatalogSourceReady).Status).To(Equal(metav1.ConditionUnknown))
	g.Expect(meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionOperatorInstalled).Reason).To(Equal(psv1alpha1.ReasonOperatorInstalling))
	g.Expect(meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionReady).Message).To(ContainSubstring("CatalogSource"),
		"Ready says what it waits for")
	for _, c := range ps.Status.Conditions {
		g.Expect(c.Message).NotTo(BeEmpty(), c.Type)
	}
	g.Expect(ps.Status.InstalledCSV).To(BeEmpty())
	g.Expect(ps.Status.Upgrade).To(BeNil())

	// Still waiting once the operator has nothing more to do: no pass turns it False.
	e.waitQuiet()
	g.Expect(e.condition(psv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionUnknown))
}
