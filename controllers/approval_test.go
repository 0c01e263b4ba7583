package controllers_test

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
)

// setPlanPhase moves an InstallPlan to phase, as OLM does.
func (e *operatorEnv) setPlanPhase(name, phase string) {
	e.t.Helper()
	e.Expect(simulate.InstallPlanPhase(ctx, e.c, stackSpec.SubscriptionNamespace, name, phase)).To(Succeed())
}

func (e *operatorEnv) approved(name string) func() bool {
	return func() bool {
		ok, err := simulate.InstallPlanApproved(ctx, e.c, stackSpec.SubscriptionNamespace, name)
		return err == nil && ok
	}
}

// TestPinnedCSVApproval plays OLM with Manual approval: the operator approves only the plan
// of the pinned CSV, and of nothing else, and only once it is in RequiresApproval, leaves
// other plans alone and
// reports them, rolls forward when the pin moves, records the upgrade, and refuses a pin below
// what is installed. The same life cycle runs against the real OLM in
// TestRealOLMPinnedInstallAndUpgrade; this stand-in keeps the orderings the real OLM does not
// produce on demand (a plan seen while Planning, a stale plan for another CSV), and the plan
// that holds the pin beside another operator's CSV: the real OLM resolves that only when a
// second package in the same namespace has an upgrade pending at the moment the pin's plan is
// made, a second catalog and a race this test cannot hold still.
func TestPinnedCSVApproval(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Full, nil) // pinned to v5.0.5
	e.waitForGolden("full.yaml")
	subNS, sub := stackSpec.SubscriptionNamespace, stackSpec.SubscriptionName
	e.Expect(simulate.CatalogState(ctx, e.c, stackSpec.CatalogNamespace, stackSpec.CatalogName, "READY")).To(Succeed())

	// A plan for some other CSV, and one that holds the pin but would also upgrade another
	// operator of the shared namespace: both left alone and reported by name.
	e.Expect(simulate.CreateInstallPlan(ctx, e.c, subNS, sub, "install-other", "RequiresApproval", "openshift-pipelines-operator-rh.v5.1.0")).To(Succeed())
	e.Expect(simulate.CreateInstallPlan(ctx, e.c, subNS, sub, "install-shared", "RequiresApproval", csv505, "other-operator.v2.0.0")).To(Succeed())
	ps := e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonInstallPlanPendingApproval)
	e.Eventually(func() string { return e.condition(psv1alpha1.ConditionOperatorInstalled).Message }, timeout, poll).Should(And(
		ContainSubstring("install-other"), ContainSubstring("v5.1.0"), ContainSubstring("does not hold the pinned CSV "+csv505),
		ContainSubstring("install-shared"), ContainSubstring("also other-operator.v2.0.0, which other operators own")))
	e.Expect(ps.Status.DesiredCSV).To(Equal(csv505))
	e.Consistently(func() []bool { return []bool{e.approved("install-other")(), e.approved("install-shared")()} }, "2s", poll).
		Should(Equal([]bool{false, false}))
	e.Expect(simulate.DeletePlan(ctx, e.c, subNS, "install-other")).To(Succeed())
	e.Expect(simulate.DeletePlan(ctx, e.c, subNS, "install-shared")).To(Succeed())

	// The plan of the pin, still Planning: approving now would make OLM plan twice.
	e.Expect(simulate.CreateInstallPlan(ctx, e.c, subNS, sub, "install-pin", "Planning", csv505)).To(Succeed())
	e.Consistently(e.approved("install-pin"), "2s", poll).Should(BeFalse())
	// Once it requires approval, it is approved.
	e.setPlanPhase("install-pin", "RequiresApproval")
	e.Eventually(e.approved("install-pin"), timeout, poll).Should(BeTrue())
	e.Eventually(e.events, timeout, poll).Should(ContainElement(psv1alpha1.ReasonInstallPlanApproved))

	// OLM installs it; the rest of the stack comes up.
	e.Expect(simulate.CompleteInstallPlan(ctx, e.c, subNS, sub, "install-pin", csv505, "5.0.5")).To(Succeed())
	e.becomeHealthy(stack505)
	e.Expect(e.get().Status.InstalledCSV).To(Equal(csv505))

	// OLM offers the channel's next CSV past the pin: held back, reported, and still Ready.
	e.Expect(simulate.CreateInstallPlan(ctx, e.c, subNS, sub, "install-next", "RequiresApproval", csv506)).To(Succeed())
	e.Eventually(func() string { return e.condition(psv1alpha1.ConditionOperatorInstalled).Message }, timeout, poll).
		Should(ContainSubstring("held back by the pin"))
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Consistently(e.approved("install-next"), "2s", poll).Should(BeFalse())

	// Moving the pin rolls forward: that plan is approved, the upgrade is recorded.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.CSV = csv506 })
	e.Eventually(e.approved("install-next"), timeout, poll).Should(BeTrue())
	e.expectReady(metav1.ConditionUnknown, psv1alpha1.ReasonUpgradePending)
	// OLM creates the new CSV; it installs before it succeeds.
	e.Expect(simulate.CreateCSV(ctx, e.c, subNS, csv506, "5.0.6")).To(Succeed())
	e.Expect(simulate.CSVPhase(ctx, e.c, subNS, csv506, "Installing", "InstallWaiting", "installing")).To(Succeed())
	e.Expect(simulate.SubscriptionInstalled(ctx, e.c, subNS, sub, csv506)).To(Succeed())
	e.Eventually(func(g Gomega) {
		ps := e.get()
		g.Expect(ps.Status.Upgrade).NotTo(BeNil())
		g.Expect(ps.Status.Upgrade.From).To(Equal(csv505))
		g.Expect(ps.Status.Upgrade.To).To(Equal(csv506))
		g.Expect(ps.Status.Upgrade.CompletedAt).To(BeNil())
		g.Expect(e.condition(psv1alpha1.ConditionReconciling).Reason).To(Equal(psv1alpha1.ReasonUpgrading))
	}, timeout, poll).Should(Succeed())
	e.expectReady(metav1.ConditionUnknown, psv1alpha1.ReasonCSVInstalling)

	e.Expect(simulate.CSVPhase(ctx, e.c, subNS, csv506, "Succeeded", "InstallSucceeded", "")).To(Succeed())
	ps = e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Expect(ps.Status.InstalledCSV).To(Equal(csv506))
	e.Expect(ps.Status.InstalledVersion).To(Equal("5.0.6"))
	e.Expect(ps.Status.Upgrade.CompletedAt).NotTo(BeNil())
	e.Expect(ps.Status.Upgrade.CompletedAt.Time).NotTo(BeTemporally("<", ps.Status.Upgrade.StartedAt.Time))
	e.Expect(e.condition(psv1alpha1.ConditionReconciling)).To(BeNil())
	e.Eventually(e.events, timeout, poll).Should(ContainElements(psv1alpha1.ReasonUpgrading, psv1alpha1.ReasonUpgradeCompleted))

	// A pin below what is installed: OLM cannot roll back. Stalled, named, nothing approved.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.CSV = csv504 })
	e.Expect(simulate.CreateInstallPlan(ctx, e.c, subNS, sub, "install-old", "RequiresApproval", csv504)).To(Succeed())
	e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonDowngradeNotSupported)
	stalled := e.condition(psv1alpha1.ConditionStalled)
	e.Expect(stalled).NotTo(BeNil())
	e.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
	e.Expect(stalled.Message).To(And(ContainSubstring("spec.operator.subscription.csv"), ContainSubstring(csv504)))
	e.Consistently(e.approved("install-old"), "2s", poll).Should(BeFalse())

	// Fixed: the pin back on what runs, the stall clears.
	e.Expect(simulate.DeletePlan(ctx, e.c, subNS, "install-old")).To(Succeed())
	e.Expect(simulate.SubscriptionInstalled(ctx, e.c, subNS, sub, csv506)).To(Succeed())
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.CSV = csv506 })
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Expect(e.condition(psv1alpha1.ConditionStalled)).To(BeNil())
	var warnings int
	for _, r := range e.events() {
		if strings.HasPrefix(r, psv1alpha1.ReasonDowngradeNotSupported) {
			warnings++
		}
	}
	e.Expect(warnings).To(Equal(1), "the stall is announced once")
}
