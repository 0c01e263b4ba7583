package controllers

import (
	"errors"
	"testing"
	"time"

	"github.com/blang/semver/v4"
	. "github.com/onsi/gomega"
	"github.com/operator-framework/api/pkg/lib/version"
	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/health"
)

// Tiny builders for the setters' table tests, after Cluster API's: a PipelineService, an
// applyOutcome and an observation, each from options that say only what a case needs.

const (
	csvOld = "openshift-pipelines-operator-rh.v5.0.5"
	csvNew = "openshift-pipelines-operator-rh.v5.0.6"
)

func fakePS(opts ...func(*psv1alpha1.PipelineService)) *psv1alpha1.PipelineService {
	ps := &psv1alpha1.PipelineService{}
	ps.Name = psv1alpha1.Name
	ps.Generation = 2
	for _, o := range opts {
		o(ps)
	}
	return ps
}

func exporterOn(ps *psv1alpha1.PipelineService) { ps.Spec.Exporter.Enabled = true }

func mirrorsOn(ps *psv1alpha1.PipelineService) {
	ps.Spec.Mirrors = []psv1alpha1.Mirror{{Source: "registry.redhat.io/openshift-pipelines", Mirrors: []psv1alpha1.Repository{"quay.io/x"}}}
}

func installedCSV(name string) func(*psv1alpha1.PipelineService) {
	return func(ps *psv1alpha1.PipelineService) { ps.Status.InstalledCSV = name }
}

func hasCondition(t, reason, msg string, generation int64) func(*psv1alpha1.PipelineService) {
	return func(ps *psv1alpha1.PipelineService) {
		status := metav1.ConditionTrue
		if t == psv1alpha1.ConditionReady && reason != psv1alpha1.ReasonHealthy {
			status = metav1.ConditionFalse
		}
		meta.SetStatusCondition(&ps.Status.Conditions, metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: generation})
	}
}

func outcome(opts ...func(*applyOutcome)) applyOutcome {
	var o applyOutcome
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

func failedWith(msg string) func(*applyOutcome) {
	return func(o *applyOutcome) { o.errs = append(o.errs, errors.New(msg)) }
}

func rejectedWith(msg string) func(*applyOutcome) {
	return func(o *applyOutcome) { o.errs = append(o.errs, errors.New(msg)); o.rejected = append(o.rejected, msg) }
}

func invalidSpec(msg string) func(*applyOutcome) {
	return func(o *applyOutcome) {
		o.invalid = &metav1.Condition{Reason: psv1alpha1.ReasonInvalidTektonConfig, Message: msg}
	}
}

func missingKinds(kinds ...string) func(*applyOutcome) {
	return func(o *applyOutcome) { o.missing = append(o.missing, kinds...) }
}

func mirroredAs(kind string) func(*applyOutcome) {
	return func(o *applyOutcome) { o.mirrorKind = kind }
}

func observed(opts ...func(*observation)) observation {
	o := observation{tektonServed: true}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// healthy is a cluster where every part reports healthy, with csv installed.
func healthy(csv string) func(*observation) {
	return func(o *observation) {
		catalogReady(o)
		operatorAt(csv, olmv1alpha1.CSVPhaseSucceeded)(o)
		tektonReady(o)
		exporterAvailable(o)
	}
}

func catalogReady(o *observation) {
	o.catalog = &olmv1alpha1.CatalogSource{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-marketplace", Name: "catalog"}}
	o.catalog.Status.GRPCConnectionState = &olmv1alpha1.GRPCConnectionState{LastObservedState: "READY"}
}

func operatorAt(csv string, phase olmv1alpha1.ClusterServiceVersionPhase) func(*observation) {
	return func(o *observation) {
		sub := &olmv1alpha1.Subscription{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-operators", Name: "openshift-pipelines-operator"}}
		sub.Status.InstalledCSV, sub.Status.CurrentCSV = csv, csv
		o.operator.Subscription = sub
		c := &olmv1alpha1.ClusterServiceVersion{ObjectMeta: metav1.ObjectMeta{Namespace: sub.Namespace, Name: csv}}
		c.Spec.Version = version.OperatorVersion{Version: semver.MustParse(health.VersionFromCSVName(csv))}
		c.Status.Phase = phase
		o.operator.CSV = c
	}
}

func subscriptionUnreadable(o *observation) {
	o.operator.SubscriptionErr = errors.New("connection refused")
}

func tektonReady(o *observation) {
	o.tekton = &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{
		"version":    "1.21.0",
		"conditions": []any{map[string]any{"type": "Ready", "status": "True"}},
	}}}
}

func tektonCRDMissing(o *observation) { o.tektonServed, o.tekton = false, nil }

func exporterAvailable(o *observation) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-pipelines", Name: "pipeline-metrics-exporter", Generation: 1}}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, ReadyReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}}}
	o.exporter = d
	o.components = []appsv1.Deployment{*d}
}

func componentsUnlisted(o *observation) {
	o.componentsErr = errors.New("connection refused")
	o.exporterErr, o.exporter, o.components = o.componentsErr, nil, nil
}

func reasons(events []event) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.reason)
	}
	return out
}

// expectCondition checks that ps has condition t True with reason, or none when reason is "".
func expectCondition(g Gomega, ps *psv1alpha1.PipelineService, t, reason string) {
	c := meta.FindStatusCondition(ps.Status.Conditions, t)
	if reason == "" {
		g.Expect(c).To(BeNil(), t)
		return
	}
	g.Expect(c).NotTo(BeNil(), t)
	g.Expect(c.Reason).To(Equal(reason), t)
	g.Expect(c.Status).To(Equal(metav1.ConditionTrue), t)
}

var now = metav1.NewTime(time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC))

func TestSetUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ps         *psv1alpha1.PipelineService
		obs        observation
		wantFrom   string
		wantTo     string
		completed  bool
		wantEvents []string
	}{
		{"first install, still installing", fakePS(), observed(operatorAt(csvOld, olmv1alpha1.CSVPhaseInstalling)),
			"", csvOld, false, []string{psv1alpha1.ReasonUpgrading}},
		{"first install seen already succeeded", fakePS(), observed(healthy(csvOld)),
			"", csvOld, true, []string{psv1alpha1.ReasonUpgrading, psv1alpha1.ReasonUpgradeCompleted}},
		{"upgrade started", fakePS(installedCSV(csvOld)), observed(operatorAt(csvNew, olmv1alpha1.CSVPhaseInstalling)),
			csvOld, csvNew, false, []string{psv1alpha1.ReasonUpgrading}},
		{"nothing changed", fakePS(installedCSV(csvOld)), observed(healthy(csvOld)), "", "", false, []string{}},
		{"Subscription unreadable: nothing recorded", fakePS(installedCSV(csvOld)), observed(subscriptionUnreadable), "", "", false, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			events := setUpgrade(tc.ps, tc.obs, now)
			g.Expect(reasons(events)).To(Equal(tc.wantEvents))
			if tc.wantTo == "" {
				g.Expect(tc.ps.Status.Upgrade).To(BeNil())
				return
			}
			g.Expect(tc.ps.Status.Upgrade.From).To(Equal(tc.wantFrom))
			g.Expect(tc.ps.Status.Upgrade.To).To(Equal(tc.wantTo))
			g.Expect(tc.ps.Status.Upgrade.CompletedAt != nil).To(Equal(tc.completed))
		})
	}
}

func TestSetVersions(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		ps                       *psv1alpha1.PipelineService
		obs                      observation
		csv, version, tekton, cs string
	}{
		{"healthy", fakePS(), observed(healthy(csvOld)), csvOld, "5.0.5", "1.21.0", "READY"},
		{"the installed CSV is kept while the Subscription is unreadable",
			fakePS(installedCSV(csvOld), func(ps *psv1alpha1.PipelineService) { ps.Status.InstalledVersion = "5.0.5" }),
			observed(subscriptionUnreadable), csvOld, "5.0.5", "", ""},
		{"a new CSV not read yet has no version", fakePS(installedCSV(csvOld)),
			observed(operatorAt(csvNew, ""), func(o *observation) { o.operator.CSV = nil }), csvNew, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			setVersions(tc.ps, tc.obs)
			g.Expect(tc.ps.Status.InstalledCSV).To(Equal(tc.csv))
			g.Expect(tc.ps.Status.InstalledVersion).To(Equal(tc.version))
			g.Expect(tc.ps.Status.TektonVersion).To(Equal(tc.tekton))
			g.Expect(tc.ps.Status.CatalogState).To(Equal(tc.cs))
		})
	}
}

func TestSetComponents(t *testing.T) {
	known := []psv1alpha1.ComponentStatus{{Name: "tekton-pipelines-controller", Ready: 2, Desired: 2}}
	withKnown := func(ps *psv1alpha1.PipelineService) { ps.Status.Components = known }
	for _, tc := range []struct {
		name string
		ps   *psv1alpha1.PipelineService
		obs  observation
		want []psv1alpha1.ComponentStatus
	}{
		{"listed", fakePS(withKnown), observed(exporterAvailable), []psv1alpha1.ComponentStatus{{Name: "pipeline-metrics-exporter", Ready: 1, Desired: 1}}},
		{"a failed list keeps the last, exporter on", fakePS(withKnown, exporterOn), observed(componentsUnlisted), known},
		{"a failed list keeps the last, exporter off", fakePS(withKnown), observed(componentsUnlisted), known},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setComponents(tc.ps, tc.obs)
			NewWithT(t).Expect(tc.ps.Status.Components).To(Equal(tc.want))
		})
	}
}

func TestSetObservedGeneration(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  applyOutcome
		want int64
	}{
		{"every object applied", outcome(), 2},
		{"an optional API missing still applies the generation", outcome(missingKinds("ServiceMonitor")), 2},
		{"an apply failed", outcome(failedWith("apply Service: boom")), 1},
		{"invalid spec", outcome(invalidSpec("bad")), 1},
		{"TektonConfig waits for its CRD", outcome(missingKinds("TektonConfig")), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := fakePS(func(ps *psv1alpha1.PipelineService) { ps.Status.ObservedGeneration = 1 })
			setObservedGeneration(ps, tc.out)
			NewWithT(t).Expect(ps.Status.ObservedGeneration).To(Equal(tc.want))
		})
	}
}

func TestSetInventory(t *testing.T) {
	g := NewWithT(t)
	inv := []psv1alpha1.InventoryEntry{{APIVersion: "v1", Kind: "Namespace", Name: "openshift-pipelines"}}
	ps := fakePS()
	setInventory(ps, outcome(func(o *applyOutcome) { o.inventory = inv }))
	g.Expect(ps.Status.Inventory).To(Equal(inv))
}

func TestSetPartConditions(t *testing.T) {
	types := func(ps *psv1alpha1.PipelineService) []string {
		var out []string
		for _, c := range ps.Status.Conditions {
			out = append(out, c.Type)
		}
		return out
	}
	base := []string{psv1alpha1.ConditionCatalogSourceReady, psv1alpha1.ConditionOperatorInstalled, psv1alpha1.ConditionTektonConfigReady}
	for _, tc := range []struct {
		name string
		ps   *psv1alpha1.PipelineService
		out  applyOutcome
		want []string
	}{
		{"exporter and mirrors off", fakePS(), outcome(), base},
		{"exporter on", fakePS(exporterOn), outcome(), append(base, psv1alpha1.ConditionExporterAvailable)},
		{"mirrors on", fakePS(mirrorsOn), outcome(mirroredAs("ImageContentSourcePolicy")), append(base, psv1alpha1.ConditionMirrorsApplied)},
		{"turning the exporter off removes its condition",
			fakePS(hasCondition(psv1alpha1.ConditionExporterAvailable, psv1alpha1.ReasonExporterAvailable, "", 1)), outcome(), base},
		{"removing the mirrors removes their condition",
			fakePS(hasCondition(psv1alpha1.ConditionMirrorsApplied, "Applied", "", 1)), outcome(), base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			setPartConditions(tc.ps, partChecks(tc.ps, tc.out, observed(healthy(csvOld)), health.Approval{}))
			g.Expect(types(tc.ps)).To(ConsistOf(tc.want))
			for _, c := range tc.ps.Status.Conditions {
				g.Expect(c.ObservedGeneration).To(Equal(tc.ps.Generation), c.Type)
			}
		})
	}
}

func TestSetStalledCondition(t *testing.T) {
	downgrade := health.Approval{Downgrade: "pin older than installed"}
	for _, tc := range []struct {
		name       string
		ps         *psv1alpha1.PipelineService
		out        applyOutcome
		approval   health.Approval
		wantReason string
		wantEvents []string
	}{
		{"healthy: none", fakePS(), outcome(), health.Approval{}, "", []string{}},
		{"invalid spec", fakePS(), outcome(invalidSpec("buckets: out of range")), health.Approval{},
			psv1alpha1.ReasonInvalidTektonConfig, []string{psv1alpha1.ReasonInvalidTektonConfig}},
		{"downgrade pin", fakePS(), outcome(), downgrade,
			psv1alpha1.ReasonDowngradeNotSupported, []string{psv1alpha1.ReasonDowngradeNotSupported}},
		{"the same refusal again: no second Event",
			fakePS(hasCondition(psv1alpha1.ConditionStalled, psv1alpha1.ReasonDowngradeNotSupported, "pin older than installed", 2)),
			outcome(), downgrade, psv1alpha1.ReasonDowngradeNotSupported, []string{}},
		{"the same refusal on a new generation: announced",
			fakePS(hasCondition(psv1alpha1.ConditionStalled, psv1alpha1.ReasonDowngradeNotSupported, "pin older than installed", 1)),
			outcome(), downgrade, psv1alpha1.ReasonDowngradeNotSupported, []string{psv1alpha1.ReasonDowngradeNotSupported}},
		{"fixed: removed",
			fakePS(hasCondition(psv1alpha1.ConditionStalled, psv1alpha1.ReasonInvalidTektonConfig, "x", 1)),
			outcome(), health.Approval{}, "", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			before := tc.ps.Status.DeepCopy()
			events := setStalledCondition(tc.ps, before, stalledBy(tc.out, tc.approval))
			g.Expect(reasons(events)).To(Equal(tc.wantEvents))
			expectCondition(g, tc.ps, psv1alpha1.ConditionStalled, tc.wantReason)
		})
	}
}

func TestSetReconcilingCondition(t *testing.T) {
	running := func(ps *psv1alpha1.PipelineService) {
		ps.Status.Upgrade = &psv1alpha1.UpgradeStatus{From: csvOld, To: csvNew, StartedAt: now}
	}
	for _, tc := range []struct {
		name       string
		ps         *psv1alpha1.PipelineService
		out        applyOutcome
		wantReason string
		wantEvents []string
	}{
		{"nothing left to do", fakePS(), outcome(), "", []string{}},
		{"an invalid spec is not work in progress", fakePS(), outcome(invalidSpec("bad")), "", []string{}},
		{"refused by admission", fakePS(), outcome(rejectedWith("apply TektonConfig config: denied")),
			psv1alpha1.ReasonApplyRejected, []string{psv1alpha1.ReasonApplyRejected}},
		{"the same refusal again: no second Event",
			fakePS(hasCondition(psv1alpha1.ConditionReconciling, psv1alpha1.ReasonApplyRejected, "apply TektonConfig config: denied; retrying", 2)),
			outcome(rejectedWith("apply TektonConfig config: denied")), psv1alpha1.ReasonApplyRejected, []string{}},
		{"a transient failure", fakePS(), outcome(failedWith("apply Service: connection refused")), psv1alpha1.ReasonApplyFailed, []string{}},
		{"TektonConfig waits for its CRD", fakePS(), outcome(missingKinds("TektonConfig")), psv1alpha1.ReasonTektonConfigCRDMissing, []string{}},
		{"an upgrade runs", fakePS(running), outcome(), psv1alpha1.ReasonUpgrading, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			events := setReconcilingCondition(tc.ps, tc.ps.Status.DeepCopy(), tc.out)
			g.Expect(reasons(events)).To(Equal(tc.wantEvents))
			expectCondition(g, tc.ps, psv1alpha1.ConditionReconciling, tc.wantReason)
		})
	}
}

func TestSetReadyCondition(t *testing.T) {
	for _, tc := range []struct {
		name        string
		ps          *psv1alpha1.PipelineService
		out         applyOutcome
		obs         observation
		approval    health.Approval
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMessage string
		wantEvents  []string
	}{
		{"healthy, exporter off: the message does not name it", fakePS(), outcome(), observed(healthy(csvOld)), health.Approval{},
			metav1.ConditionTrue, psv1alpha1.ReasonHealthy,
			"the catalog, the OpenShift Pipelines operator and the TektonConfig are healthy", []string{psv1alpha1.ReasonHealthy}},
		{"healthy with exporter and mirrors: both named", fakePS(exporterOn, mirrorsOn), outcome(mirroredAs("ImageContentSourcePolicy")),
			observed(healthy(csvOld)), health.Approval{}, metav1.ConditionTrue, psv1alpha1.ReasonHealthy,
			"the catalog, the OpenShift Pipelines operator, the TektonConfig, the exporter and the mirrors are healthy", []string{psv1alpha1.ReasonHealthy}},
		{"still healthy: no second Event", fakePS(hasCondition(psv1alpha1.ConditionReady, psv1alpha1.ReasonHealthy, "", 2)), outcome(),
			observed(healthy(csvOld)), health.Approval{}, metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "", []string{}},
		{"stalled: the Stalled Event says it", fakePS(), outcome(invalidSpec("buckets: out of range")), observed(healthy(csvOld)), health.Approval{},
			metav1.ConditionFalse, psv1alpha1.ReasonInvalidTektonConfig, "buckets: out of range", []string{}},
		{"refused: the ApplyRejected Event says it", fakePS(), outcome(rejectedWith("denied")), observed(healthy(csvOld)), health.Approval{},
			metav1.ConditionFalse, psv1alpha1.ReasonApplyRejected, "denied", []string{}},
		{"an optional API missing", fakePS(exporterOn), outcome(missingKinds("ServiceMonitor")), observed(healthy(csvOld)), health.Approval{},
			metav1.ConditionFalse, psv1alpha1.ReasonAPIsMissing, "ServiceMonitor", []string{psv1alpha1.ReasonAPIsMissing}},
		{"TektonConfig CRD missing is progress", fakePS(), outcome(missingKinds("TektonConfig")), observed(healthy(csvOld), tektonCRDMissing),
			health.Approval{}, metav1.ConditionUnknown, psv1alpha1.ReasonTektonConfigCRDMissing, "", []string{}},
		{"an unreadable Subscription is Unknown, not False", fakePS(), outcome(), observed(healthy(csvOld), subscriptionUnreadable),
			health.Approval{}, metav1.ConditionUnknown, "", "connection refused", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			checks := partChecks(tc.ps, tc.out, tc.obs, tc.approval)
			events := setReadyCondition(tc.ps, tc.ps.Status.DeepCopy(), tc.out, stalledBy(tc.out, tc.approval), checks)
			g.Expect(reasons(events)).To(Equal(tc.wantEvents))
			c := meta.FindStatusCondition(tc.ps.Status.Conditions, psv1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(tc.wantStatus))
			if tc.wantReason != "" {
				g.Expect(c.Reason).To(Equal(tc.wantReason))
			}
			g.Expect(c.Message).To(ContainSubstring(tc.wantMessage))
			g.Expect(c.ObservedGeneration).To(Equal(tc.ps.Generation))
		})
	}
}
