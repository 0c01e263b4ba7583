package health

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/blang/semver/v4"
	. "github.com/onsi/gomega"
	"github.com/operator-framework/api/pkg/lib/version"
	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// want is the part of a Check a test pins: status, reason, progress and words of the message.
type want struct {
	status      metav1.ConditionStatus
	reason      string
	progressing bool
	says        []string
}

func expectCheck(t *testing.T, got Check, w want) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(got.Condition.Status).To(Equal(w.status), "message: %s", got.Condition.Message)
	g.Expect(got.Condition.Reason).To(Equal(w.reason), "message: %s", got.Condition.Message)
	if w.status != metav1.ConditionTrue {
		g.Expect(got.Progressing).To(Equal(w.progressing), "progressing")
	}
	for _, s := range w.says {
		g.Expect(got.Condition.Message).To(ContainSubstring(s))
	}
}

var errRead = errors.New("connection refused")

// --- CatalogSource ---

func catalog(state string) *olmv1alpha1.CatalogSource {
	cs := &olmv1alpha1.CatalogSource{}
	cs.Name, cs.Namespace = "pipeline-service-catalog", "openshift-marketplace"
	cs.Spec.Image = "quay.io/example/index@sha256:abc"
	if state != "-" {
		cs.Status.GRPCConnectionState = &olmv1alpha1.GRPCConnectionState{LastObservedState: state}
	}
	return cs
}

func TestCatalogSourceReady(t *testing.T) {
	for name, tc := range map[string]struct {
		cs   *olmv1alpha1.CatalogSource
		err  error
		want want
	}{
		"ready":             {cs: catalog("READY"), want: want{status: metav1.ConditionTrue, reason: psv1alpha1.ReasonCatalogSourceReady}},
		"connecting":        {cs: catalog("CONNECTING"), want: want{metav1.ConditionFalse, psv1alpha1.ReasonCatalogSourceConnecting, true, []string{"CONNECTING"}}},
		"idle":              {cs: catalog("IDLE"), want: want{metav1.ConditionFalse, psv1alpha1.ReasonCatalogSourceConnecting, true, []string{"IDLE"}}},
		"transient failure": {cs: catalog("TRANSIENT_FAILURE"), want: want{metav1.ConditionFalse, psv1alpha1.ReasonCatalogSourceUnhealthy, false, []string{"TRANSIENT_FAILURE", "can be pulled"}}},
		"no state yet":      {cs: catalog("-"), want: want{metav1.ConditionUnknown, psv1alpha1.ReasonCatalogSourceNotObserved, true, nil}},
		"empty state":       {cs: catalog(""), want: want{metav1.ConditionUnknown, psv1alpha1.ReasonCatalogSourceNotObserved, true, nil}},
		"not created yet":   {want: want{metav1.ConditionUnknown, psv1alpha1.ReasonCatalogSourceNotObserved, true, nil}},
		"read error":        {err: errRead, want: want{metav1.ConditionUnknown, psv1alpha1.ReasonReadFailed, true, []string{"connection refused"}}},
	} {
		t.Run(name, func(t *testing.T) { expectCheck(t, CatalogSourceReady(tc.cs, tc.err), tc.want) })
	}
	NewWithT(t).Expect(CatalogState(catalog("READY"))).To(Equal("READY"))
	NewWithT(t).Expect(CatalogState(nil)).To(BeEmpty())
}

// --- Subscription, InstallPlans, CSV ---

const (
	csv504 = "openshift-pipelines-operator-rh.v5.0.4"
	csv505 = "openshift-pipelines-operator-rh.v5.0.5"
	csv506 = "openshift-pipelines-operator-rh.v5.0.6"
)

type subOpt func(*olmv1alpha1.Subscription)

func sub(opts ...subOpt) *olmv1alpha1.Subscription {
	s := &olmv1alpha1.Subscription{}
	s.Name, s.Namespace = "openshift-pipelines-operator", "openshift-operators"
	for _, o := range opts {
		o(s)
	}
	return s
}

func installed(csv string) subOpt {
	return func(s *olmv1alpha1.Subscription) {
		s.Status.InstalledCSV, s.Status.CurrentCSV, s.Status.State = csv, csv, olmv1alpha1.SubscriptionStateAtLatest
	}
}

func current(csv string) subOpt {
	return func(s *olmv1alpha1.Subscription) { s.Status.CurrentCSV = csv }
}

func subCondition(t olmv1alpha1.SubscriptionConditionType, reason, msg string) subOpt {
	return func(s *olmv1alpha1.Subscription) {
		s.Status.Conditions = append(s.Status.Conditions, olmv1alpha1.SubscriptionCondition{
			Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg})
	}
}

func csv(name string, phase olmv1alpha1.ClusterServiceVersionPhase, reason olmv1alpha1.ConditionReason) *olmv1alpha1.ClusterServiceVersion {
	c := &olmv1alpha1.ClusterServiceVersion{}
	c.Name, c.Namespace = name, "openshift-operators"
	c.Spec.Version = version.OperatorVersion{Version: semver.MustParse(VersionFromCSVName(name))}
	c.Status.Phase, c.Status.Reason = phase, reason
	return c
}

func plan(name string, phase olmv1alpha1.InstallPlanPhase, approved bool, csvs ...string) olmv1alpha1.InstallPlan {
	p := olmv1alpha1.InstallPlan{}
	p.Name, p.Namespace = name, "openshift-operators"
	p.Spec.ClusterServiceVersionNames = csvs
	p.Spec.Approved = approved
	p.Spec.Approval = olmv1alpha1.ApprovalManual
	p.Status.Phase = phase
	return p
}

func TestApprovals(t *testing.T) {
	requires := olmv1alpha1.InstallPlanPhaseRequiresApproval
	for name, tc := range map[string]struct {
		op        Operator
		approve   []string
		pending   []string
		downgrade bool
	}{
		"pinned first install, plan requires approval": {
			op:      Operator{Pin: csv505, Subscription: sub(current(csv505)), InstallPlans: []olmv1alpha1.InstallPlan{plan("install-a", requires, false, csv505)}},
			approve: []string{"install-a"},
		},
		"plan still planning is not approved": {
			op: Operator{Pin: csv505, Subscription: sub(), InstallPlans: []olmv1alpha1.InstallPlan{plan("install-a", olmv1alpha1.InstallPlanPhasePlanning, false, csv505)}},
		},
		"plan installing is not touched": {
			op: Operator{Pin: csv505, Subscription: sub(), InstallPlans: []olmv1alpha1.InstallPlan{plan("install-a", olmv1alpha1.InstallPlanPhaseInstalling, true, csv505)}},
		},
		"already approved plan is not approved twice": {
			op: Operator{Pin: csv505, Subscription: sub(), InstallPlans: []olmv1alpha1.InstallPlan{plan("install-a", requires, true, csv505)}},
		},
		"plan with the pin and another operator's CSV is left pending": {
			op:      Operator{Pin: csv505, Subscription: sub(), InstallPlans: []olmv1alpha1.InstallPlan{plan("install-a", requires, false, "other-operator.v1.0.0", csv505)}},
			pending: []string{"install-a"},
		},
		"plan for another CSV is left pending": {
			op:      Operator{Pin: csv505, Subscription: sub(installed(csv505)), CSV: csv(csv505, olmv1alpha1.CSVPhaseSucceeded, ""), InstallPlans: []olmv1alpha1.InstallPlan{plan("install-b", requires, false, csv506)}},
			pending: []string{"install-b"},
		},
		"pin moved forward approves the new plan only": {
			op: Operator{Pin: csv506, Subscription: sub(installed(csv505)), CSV: csv(csv505, olmv1alpha1.CSVPhaseSucceeded, ""), InstallPlans: []olmv1alpha1.InstallPlan{
				plan("install-a", olmv1alpha1.InstallPlanPhaseComplete, true, csv505), plan("install-b", requires, false, csv506)}},
			approve: []string{"install-b"},
		},
		"pin older than installed approves nothing": {
			op:        Operator{Pin: csv504, Subscription: sub(installed(csv505)), CSV: csv(csv505, olmv1alpha1.CSVPhaseSucceeded, ""), InstallPlans: []olmv1alpha1.InstallPlan{plan("install-c", requires, false, csv504)}},
			pending:   []string{"install-c"},
			downgrade: true,
		},
		"unpinned approves nothing": {
			op:      Operator{Subscription: sub(), InstallPlans: []olmv1alpha1.InstallPlan{plan("install-a", requires, false, csv505)}},
			pending: []string{"install-a"},
		},
		"unparsable names never count as a downgrade": {
			op: Operator{Pin: "custom-build", Subscription: sub(installed("other-build")), CSV: &olmv1alpha1.ClusterServiceVersion{}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			a := Approvals(tc.op)
			g.Expect(a.Approve).To(Equal(tc.approve))
			var pending []string
			for _, p := range a.Pending {
				pending = append(pending, p.Name)
			}
			g.Expect(pending).To(Equal(tc.pending))
			g.Expect(a.Downgrade != "").To(Equal(tc.downgrade), a.Downgrade)
		})
	}
}

func TestOperatorInstalled(t *testing.T) {
	requires := olmv1alpha1.InstallPlanPhaseRequiresApproval
	succeeded := csv(csv505, olmv1alpha1.CSVPhaseSucceeded, olmv1alpha1.CSVReasonInstallSuccessful)
	for name, tc := range map[string]struct {
		op   Operator
		want want
	}{
		"succeeded": {
			op:   Operator{Subscription: sub(installed(csv505)), CSV: succeeded},
			want: want{status: metav1.ConditionTrue, reason: psv1alpha1.ReasonCSVSucceeded, says: []string{csv505, "5.0.5"}},
		},
		"pinned plan that also upgrades another operator": {
			op: Operator{Pin: csv506, Subscription: sub(installed(csv505)), CSV: succeeded,
				InstallPlans: []olmv1alpha1.InstallPlan{plan("install-b", requires, false, csv506, "other-operator.v2.0.0")}},
			want: want{status: metav1.ConditionFalse, reason: psv1alpha1.ReasonInstallPlanPendingApproval,
				says: []string{"install-b", "also other-operator.v2.0.0, which other operators own", "approve it by hand"}},
		},
		"pinned and succeeded, a newer plan held back": {
			op:   Operator{Pin: csv505, Subscription: sub(installed(csv505), current(csv506)), CSV: succeeded, InstallPlans: []olmv1alpha1.InstallPlan{plan("install-b", requires, false, csv506)}},
			want: want{status: metav1.ConditionTrue, reason: psv1alpha1.ReasonCSVSucceeded, says: []string{"held back", "install-b"}},
		},
		"subscription not created yet": {
			want: want{metav1.ConditionUnknown, psv1alpha1.ReasonSubscriptionNotObserved, true, nil},
		},
		"subscription read error": {
			op:   Operator{SubscriptionErr: errRead},
			want: want{metav1.ConditionUnknown, psv1alpha1.ReasonReadFailed, true, []string{"Subscription", "connection refused"}},
		},
		"resolution failed": {
			op:   Operator{Subscription: sub(subCondition(olmv1alpha1.SubscriptionResolutionFailed, "ConstraintsNotSatisfiable", "no operators found in channel latest"))},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonResolutionFailed, false, []string{"ConstraintsNotSatisfiable", "no operators found"}},
		},
		"catalog sources unhealthy": {
			op:   Operator{Subscription: sub(subCondition(olmv1alpha1.SubscriptionCatalogSourcesUnhealthy, "UnhealthyCatalogSourceFound", "targeted catalogsource openshift-marketplace/pipeline-service-catalog unhealthy"))},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonCatalogSourcesUnhealthy, false, []string{"unhealthy"}},
		},
		"install plan failed": {
			op:   Operator{Subscription: sub(subCondition(olmv1alpha1.SubscriptionInstallPlanFailed, "InstallComponentFailed", "bundle unpacking failed"))},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonInstallPlanFailed, false, []string{"bundle unpacking failed"}},
		},
		"pending plan that is not the pin": {
			op:   Operator{Pin: csv505, Subscription: sub(), InstallPlans: []olmv1alpha1.InstallPlan{plan("install-x", requires, false, csv506)}},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonInstallPlanPendingApproval, false, []string{"install-x", csv506, "pinned CSV " + csv505}},
		},
		"installing, plan approved": {
			op:   Operator{Pin: csv505, Subscription: sub(current(csv505)), InstallPlans: []olmv1alpha1.InstallPlan{plan("install-a", requires, false, csv505)}},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonOperatorInstalling, true, []string{"approved InstallPlan install-a"}},
		},
		"installing, unpinned": {
			op:   Operator{Subscription: sub(current(csv505))},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonOperatorInstalling, true, []string{csv505}},
		},
		"csv not in the cache yet": {
			op:   Operator{Subscription: sub(installed(csv505))},
			want: want{metav1.ConditionUnknown, psv1alpha1.ReasonCSVNotFound, true, []string{csv505}},
		},
		"csv read error": {
			op:   Operator{Subscription: sub(installed(csv505)), CSVErr: errRead},
			want: want{metav1.ConditionUnknown, psv1alpha1.ReasonReadFailed, true, []string{csv505}},
		},
		"csv installing": {
			op:   Operator{Subscription: sub(installed(csv505)), CSV: csv(csv505, olmv1alpha1.CSVPhaseInstalling, olmv1alpha1.CSVReasonWaiting)},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonCSVInstalling, true, []string{"Installing", "InstallWaiting"}},
		},
		"csv install ready": {
			op:   Operator{Subscription: sub(installed(csv505)), CSV: csv(csv505, olmv1alpha1.CSVPhaseInstallReady, "")},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonCSVInstalling, true, nil},
		},
		"csv pending, requirements unknown": {
			op:   Operator{Subscription: sub(installed(csv505)), CSV: csv(csv505, olmv1alpha1.CSVPhasePending, olmv1alpha1.CSVReasonRequirementsUnknown)},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonCSVPending, true, nil},
		},
		"csv pending, requirements not met": {
			op:   Operator{Subscription: sub(installed(csv505)), CSV: csv(csv505, olmv1alpha1.CSVPhasePending, olmv1alpha1.CSVReasonRequirementsNotMet)},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonCSVPending, false, []string{"requirementStatus"}},
		},
		"csv replacing": {
			op:   Operator{Subscription: sub(installed(csv505)), CSV: csv(csv505, olmv1alpha1.CSVPhaseReplacing, olmv1alpha1.CSVReasonBeingReplaced)},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonCSVReplacing, true, []string{"Replacing"}},
		},
		"csv failed": {
			op:   Operator{Subscription: sub(installed(csv505)), CSV: csv(csv505, olmv1alpha1.CSVPhaseFailed, olmv1alpha1.CSVReasonComponentFailed)},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonCSVFailed, false, []string{"Failed", "InstallComponentFailed"}},
		},
		"pin moved forward, rolling": {
			op:   Operator{Pin: csv506, Subscription: sub(installed(csv505)), CSV: succeeded},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonUpgradePending, true, []string{"rolling forward to " + csv506}},
		},
		"unpinned, OLM heading to a newer CSV": {
			op:   Operator{Subscription: sub(installed(csv505), current(csv506)), CSV: succeeded},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonUpgradePending, true, []string{csv506}},
		},
		"pin older than installed": {
			op:   Operator{Pin: csv504, Subscription: sub(installed(csv505)), CSV: succeeded},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonDowngradeNotSupported, false, []string{"cannot roll an operator back", csv504}},
		},
	} {
		t.Run(name, func(t *testing.T) { expectCheck(t, OperatorInstalled(tc.op, Approvals(tc.op)), tc.want) })
	}
}

func TestOperatorVersions(t *testing.T) {
	g := NewWithT(t)
	op := Operator{Subscription: sub(installed(csv505), current(csv506)), CSV: csv(csv505, olmv1alpha1.CSVPhaseSucceeded, "")}
	g.Expect(op.InstalledCSV()).To(Equal(csv505))
	g.Expect(op.InstalledVersion()).To(Equal("5.0.5"))
	g.Expect(op.DesiredCSV()).To(Equal(csv506), "unpinned: where OLM is heading")
	g.Expect(op.Succeeded()).To(BeTrue())
	op.Pin = csv505
	g.Expect(op.DesiredCSV()).To(Equal(csv505), "pinned: the pin")
	op.CSV = csv(csv504, olmv1alpha1.CSVPhaseSucceeded, "")
	g.Expect(op.InstalledVersion()).To(BeEmpty(), "a CSV other than the installed one says nothing")
	g.Expect(op.Succeeded()).To(BeFalse())
}

// --- TektonConfig ---

func tektonConfig(version string, conds ...string) *unstructured.Unstructured {
	tc := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "config"}}}
	var list []any
	for _, c := range conds {
		parts := strings.SplitN(c, "=", 3)
		m := map[string]any{"type": parts[0], "status": parts[1]}
		if len(parts) == 3 {
			m["message"] = parts[2]
		}
		list = append(list, m)
	}
	status := map[string]any{}
	if version != "" {
		status["version"] = version
	}
	if list != nil {
		status["conditions"] = list
	}
	tc.Object["status"] = status
	return tc
}

func TestTektonConfigReady(t *testing.T) {
	for name, tc := range map[string]struct {
		tc    *unstructured.Unstructured
		err   error
		cause *TektonCause
		want  want
	}{
		"ready": {
			tc:   tektonConfig("1.21.0", "PreInstall=True", "ComponentsReady=True", "PostInstall=True", "Ready=True"),
			want: want{status: metav1.ConditionTrue, reason: psv1alpha1.ReasonTektonConfigReady, says: []string{"1.21.0"}},
		},
		"components not ready": {
			tc:   tektonConfig("1.21.0", "PreInstall=True", "ComponentsReady=False=TektonPipeline not ready", "PostInstall=Unknown", "Ready=False=Components not ready"),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonTektonConfigNotReady, false, []string{"ComponentsReady is False", "TektonPipeline not ready"}},
		},
		"post install failed": {
			tc:   tektonConfig("1.21.0", "PreInstall=True", "ComponentsReady=True", "PostInstall=False=rbac failed", "Ready=False"),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonTektonConfigNotReady, false, []string{"PostInstall", "rbac failed"}},
		},
		"installing": {
			tc:   tektonConfig("1.21.0", "PreInstall=Unknown=waiting", "Ready=Unknown"),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonTektonConfigInstalling, true, []string{"PreInstall is Unknown"}},
		},
		"ready false without stages": {
			tc:   tektonConfig("", "Ready=False=something broke"),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonTektonConfigNotReady, false, []string{"Ready is False", "something broke"}},
		},
		"version but no conditions": {
			tc:   tektonConfig("1.21.0"),
			want: want{metav1.ConditionUnknown, psv1alpha1.ReasonTektonConfigNotObserved, true, nil},
		},
		"no status":  {tc: &unstructured.Unstructured{Object: map[string]any{}}, want: want{metav1.ConditionUnknown, psv1alpha1.ReasonTektonConfigNotObserved, true, nil}},
		"not there":  {want: want{metav1.ConditionUnknown, psv1alpha1.ReasonTektonConfigNotObserved, true, nil}},
		"read error": {err: errRead, want: want{metav1.ConditionUnknown, psv1alpha1.ReasonReadFailed, true, nil}},
		"the cause OSP's chain holds, first": {
			tc:    tektonConfig("", "ComponentsReady=False=Components not in ready state: TektonPipeline: reconcile again and proceed", "Ready=False=Components not ready"),
			cause: &TektonCause{Kind: "TektonInstallerSet", Name: "pipeline-main-deployment-x7", Condition: "DeploymentsAvailable", Message: "0 of 1 replicas"},
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonTektonConfigNotReady, false, []string{
				"TektonInstallerSet pipeline-main-deployment-x7: DeploymentsAvailable: 0 of 1 replicas; TektonConfig config: ComponentsReady is False: Components not in ready state: TektonPipeline"}},
		},
	} {
		t.Run(name, func(t *testing.T) { expectCheck(t, TektonConfigReady(tc.tc, tc.err, tc.cause), tc.want) })
	}
	NewWithT(t).Expect(TektonVersion(tektonConfig("1.21.0"))).To(Equal("1.21.0"))
	NewWithT(t).Expect(TektonVersion(nil)).To(BeEmpty())
}

// --- exporter and components ---

type deployOpt func(*appsv1.Deployment)

func deployment(name string, opts ...deployOpt) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	d.Name, d.Namespace, d.Generation = name, "openshift-pipelines", 1
	d.Status.ObservedGeneration = 1
	for _, o := range opts {
		o(d)
	}
	return d
}

func replicas(ready, desired int32) deployOpt {
	return func(d *appsv1.Deployment) { d.Spec.Replicas, d.Status.ReadyReplicas = ptr.To(desired), ready }
}

func deployCondition(t appsv1.DeploymentConditionType, s corev1.ConditionStatus, reason string) deployOpt {
	return func(d *appsv1.Deployment) {
		d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{Type: t, Status: s, Reason: reason, Message: reason + " happened"})
	}
}

func TestExporterAvailable(t *testing.T) {
	for name, tc := range map[string]struct {
		d    *appsv1.Deployment
		err  error
		want want
	}{
		"available": {
			d:    deployment("pipeline-metrics-exporter", replicas(1, 1), deployCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, "MinimumReplicasAvailable")),
			want: want{status: metav1.ConditionTrue, reason: psv1alpha1.ReasonExporterAvailable, says: []string{"1/1"}},
		},
		"available but spec not observed": {
			d:    deployment("pipeline-metrics-exporter", replicas(1, 1), deployCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, "MinimumReplicasAvailable"), func(d *appsv1.Deployment) { d.Generation = 2 }),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonExporterRollingOut, true, nil},
		},
		"rolling out": {
			d:    deployment("pipeline-metrics-exporter", replicas(0, 1), deployCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, "MinimumReplicasUnavailable"), deployCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, "ReplicaSetUpdated")),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonExporterRollingOut, true, []string{"0/1"}},
		},
		"no conditions yet": {
			d:    deployment("pipeline-metrics-exporter", replicas(0, 2)),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonExporterRollingOut, true, []string{"0/2"}},
		},
		"progress deadline exceeded": {
			d:    deployment("pipeline-metrics-exporter", replicas(0, 1), deployCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, "MinimumReplicasUnavailable"), deployCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, "ProgressDeadlineExceeded")),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonExporterUnavailable, false, []string{"ProgressDeadlineExceeded happened", "logs"}},
		},
		"not there":  {want: want{metav1.ConditionUnknown, psv1alpha1.ReasonExporterNotObserved, true, nil}},
		"read error": {err: errRead, want: want{metav1.ConditionUnknown, psv1alpha1.ReasonReadFailed, true, nil}},
	} {
		t.Run(name, func(t *testing.T) { expectCheck(t, ExporterAvailable(tc.d, tc.err), tc.want) })
	}
}

func TestComponents(t *testing.T) {
	g := NewWithT(t)
	got := Components([]appsv1.Deployment{
		*deployment("tekton-pipelines-webhook", replicas(1, 2)),
		*deployment("tekton-pipelines-controller", replicas(2, 2)),
		*deployment("tekton-chains-controller"),
	}, nil, false, nil)
	g.Expect(got).To(Equal([]psv1alpha1.ComponentStatus{
		{Name: "tekton-chains-controller", Ready: 0, Desired: 1},
		{Name: "tekton-pipelines-controller", Ready: 2, Desired: 2},
		{Name: "tekton-pipelines-webhook", Ready: 1, Desired: 2},
	}))
	g.Expect(Components(nil, nil, true, nil)).To(BeNil())
	read := Components([]appsv1.Deployment{*deployment("tekton-pipelines-controller")}, nil, true, nil)
	g.Expect(read[0].Restarts).To(HaveValue(BeZero()), "pods read: none restarted")
}

// --- upgrade ---

func TestTrackUpgrade(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(3 * time.Minute))
	running := &psv1alpha1.UpgradeStatus{From: csv505, To: csv506, StartedAt: t0}
	done := &psv1alpha1.UpgradeStatus{From: csv505, To: csv506, StartedAt: t0, CompletedAt: &t1}
	for name, tc := range map[string]struct {
		prev               *psv1alpha1.UpgradeStatus
		last, now          string
		succeeded          bool
		want               *psv1alpha1.UpgradeStatus
		started, completed bool
	}{
		"nothing installed":         {},
		"steady":                    {prev: done, last: csv506, now: csv506, succeeded: true, want: done},
		"first install starts":      {last: "", now: csv505, want: &psv1alpha1.UpgradeStatus{To: csv505, StartedAt: t1}, started: true},
		"upgrade starts":            {prev: done, last: csv505, now: csv506, want: &psv1alpha1.UpgradeStatus{From: csv505, To: csv506, StartedAt: t1}, started: true},
		"upgrade still running":     {prev: running, last: csv506, now: csv506, want: running},
		"upgrade completes":         {prev: running, last: csv506, now: csv506, succeeded: true, want: done, completed: true},
		"start and end in one pass": {last: csv505, now: csv506, succeeded: true, want: &psv1alpha1.UpgradeStatus{From: csv505, To: csv506, StartedAt: t1, CompletedAt: &t1}, started: true, completed: true},
		"a newer CSV restarts it":   {prev: running, last: csv506, now: "openshift-pipelines-operator-rh.v5.0.7", want: &psv1alpha1.UpgradeStatus{From: csv506, To: "openshift-pipelines-operator-rh.v5.0.7", StartedAt: t1}, started: true},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			step := TrackUpgrade(tc.prev, tc.last, tc.now, tc.succeeded, t1)
			g.Expect(step.Upgrade).To(Equal(tc.want))
			g.Expect(step.Started).To(Equal(tc.started))
			g.Expect(step.Completed).To(Equal(tc.completed))
		})
	}
	NewWithT(t).Expect(UpgradeRunning(running)).To(BeTrue())
	NewWithT(t).Expect(UpgradeRunning(done)).To(BeFalse())
	NewWithT(t).Expect(running.CompletedAt).To(BeNil(), "TrackUpgrade must not modify the stored record")
}

// --- summary ---

func TestSummary(t *testing.T) {
	ok := func(typ string) Check { return healthy(typ, "Fine", "fine") }
	allOK := []Check{ok("CatalogSourceReady"), ok("OperatorInstalled"), ok("TektonConfigReady"), ok("ExporterAvailable")}
	with := func(i int, c Check) []Check {
		out := append([]Check(nil), allOK...)
		out[i] = c
		return out
	}
	stalled := &metav1.Condition{Reason: psv1alpha1.ReasonInvalidTektonConfig, Message: "spec.pruner.disable: unknown field"}
	for name, tc := range map[string]struct {
		apply  Apply
		checks []Check
		status metav1.ConditionStatus
		reason string
	}{
		"healthy":           {apply: Apply{GenerationApplied: true}, checks: allOK, status: metav1.ConditionTrue, reason: psv1alpha1.ReasonHealthy},
		"generation behind": {checks: allOK, status: metav1.ConditionUnknown, reason: psv1alpha1.ReasonProgressing},
		"stalled wins":      {apply: Apply{Stalled: stalled, GenerationApplied: true}, checks: allOK, status: metav1.ConditionFalse, reason: psv1alpha1.ReasonInvalidTektonConfig},
		"apply failed":      {apply: Apply{Err: errRead}, checks: allOK, status: metav1.ConditionFalse, reason: psv1alpha1.ReasonApplyFailed},
		"apply rejected":    {apply: Apply{Err: errRead, Rejected: psv1alpha1.ReasonApplyRejected}, checks: allOK, status: metav1.ConditionFalse, reason: psv1alpha1.ReasonApplyRejected},
		"owned elsewhere":   {apply: Apply{Err: errRead, Rejected: psv1alpha1.ReasonObjectOwnedElsewhere}, checks: allOK, status: metav1.ConditionFalse, reason: psv1alpha1.ReasonObjectOwnedElsewhere},
		"failure over progress": {
			apply:  Apply{GenerationApplied: true},
			checks: with(3, failing("ExporterAvailable", "Broken", "x"))[:4:4],
			status: metav1.ConditionFalse, reason: "Broken",
		},
		"failure after progress in order still wins": {
			apply:  Apply{GenerationApplied: true},
			checks: append(with(0, progressing("CatalogSourceReady", "Connecting", "x")), failing("MirrorsApplied", "NoMirrors", "y")),
			status: metav1.ConditionFalse, reason: "NoMirrors",
		},
		"progress is unknown":   {apply: Apply{GenerationApplied: true}, checks: with(1, progressing("OperatorInstalled", "Installing", "x")), status: metav1.ConditionUnknown, reason: "Installing"},
		"read error is unknown": {apply: Apply{GenerationApplied: true}, checks: with(2, readFailed("TektonConfigReady", "x", errRead)), status: metav1.ConditionUnknown, reason: psv1alpha1.ReasonReadFailed},
		"missing APIs":          {apply: Apply{GenerationApplied: true, MissingAPIs: []string{"ServiceMonitor"}}, checks: allOK, status: metav1.ConditionFalse, reason: psv1alpha1.ReasonAPIsMissing},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got := Summary(tc.apply, tc.checks)
			g.Expect(got.Type).To(Equal(psv1alpha1.ConditionReady))
			g.Expect(got.Status).To(Equal(tc.status), got.Message)
			g.Expect(got.Reason).To(Equal(tc.reason), got.Message)
			g.Expect(got.Message).NotTo(BeEmpty())
		})
	}
}

// TestSummaryCarriesNotes: a check's note follows Ready's message whatever its status, but
// not a stall's: nothing of a stalled spec was applied.
func TestSummaryCarriesNotes(t *testing.T) {
	g := NewWithT(t)
	noted := healthy("OverridesApplied", "Fine", "fine")
	noted.Note = "the component images are reverted to those of csv.v1"
	got := Summary(Apply{GenerationApplied: true}, []Check{healthy("CatalogSourceReady", "Fine", "fine"), noted})
	g.Expect(got.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(got.Message).To(HaveSuffix("; the component images are reverted to those of csv.v1"))
	got = Summary(Apply{GenerationApplied: true}, []Check{failing("CatalogSourceReady", "Broken", "x"), noted})
	g.Expect(got.Message).To(Equal("CatalogSourceReady: x; the component images are reverted to those of csv.v1"))
	got = Summary(Apply{Stalled: &metav1.Condition{Reason: "Refused", Message: "spec.x: bad"}}, []Check{noted})
	g.Expect(got.Message).To(Equal("spec.x: bad"))
}

// TestHealthyMessageNamesWhatWasChecked: Ready=True names the parts that were checked, and only
// those (a disabled exporter has no check, so the message does not claim it).
func TestHealthyMessageNamesWhatWasChecked(t *testing.T) {
	g := NewWithT(t)
	ok := func(part string) Check { c := healthy("T", "OK", "x"); c.Part = part; return c }
	core := []Check{ok("the catalog"), ok("the OpenShift Pipelines operator"), ok("the TektonConfig")}
	applied := Apply{GenerationApplied: true}

	g.Expect(Summary(applied, core).Message).To(Equal("the catalog, the OpenShift Pipelines operator and the TektonConfig are healthy"))
	g.Expect(Summary(applied, append(core, ok("the exporter"), ok("the mirrors"))).Message).To(Equal(
		"the catalog, the OpenShift Pipelines operator, the TektonConfig, the exporter and the mirrors are healthy"))
	g.Expect(Summary(applied, core[:1]).Message).To(Equal("the catalog is healthy"))
	g.Expect(Summary(applied, nil).Message).To(Equal("every part is healthy"))
}

func TestCatalogServedByAddressNamesTheServer(t *testing.T) {
	cs := catalog("TRANSIENT_FAILURE")
	cs.Spec.Image, cs.Spec.Address = "", "catalog.openshift-marketplace.svc:50051"
	c := CatalogSourceReady(cs, nil)
	if !strings.Contains(c.Condition.Message, "catalog server at catalog.openshift-marketplace.svc:50051") || strings.Contains(c.Condition.Message, "registry pod") {
		t.Errorf("message %q", c.Condition.Message)
	}
	cs = catalog("CONNECTING")
	cs.Spec.Image, cs.Spec.Address = "", "catalog.openshift-marketplace.svc:50051"
	if c := CatalogSourceReady(cs, nil); !strings.Contains(c.Condition.Message, "connecting to catalog.openshift-marketplace.svc:50051") {
		t.Errorf("message %q", c.Condition.Message)
	}
}

func TestRestarts(t *testing.T) {
	upgraded := metav1.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	before, after := metav1.NewTime(upgraded.Add(-time.Hour)), metav1.NewTime(upgraded.Add(time.Hour))
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "controller"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "controller"}}}}
	pod := func(name string, created metav1.Time, restarts int32, lastEnded *metav1.Time) corev1.Pod {
		st := corev1.ContainerStatus{Name: "main", RestartCount: restarts}
		if lastEnded != nil {
			st.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{FinishedAt: *lastEnded}
		}
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{"app": "controller"}, CreationTimestamp: created},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{st}}}
	}
	other := pod("webhook-0", after, 9, &after)
	other.Labels = map[string]string{"app": "webhook"}
	elsewhere := pod("controller-x", after, 9, &after)
	elsewhere.Namespace = "other"
	for name, tc := range map[string]struct {
		pods  []corev1.Pod
		since *metav1.Time
		want  int32
	}{
		"no upgrade: every restart":                       {[]corev1.Pod{pod("a", before, 3, &before)}, nil, 3},
		"a pod started after the upgrade: all of them":    {[]corev1.Pod{pod("a", after, 2, &after)}, &upgraded, 2},
		"an older pod that restarted since: all of them":  {[]corev1.Pod{pod("a", before, 4, &after)}, &upgraded, 4},
		"an older pod that has not restarted since: none": {[]corev1.Pod{pod("a", before, 4, &before)}, &upgraded, 0},
		"summed over the Deployment's pods":               {[]corev1.Pod{pod("a", after, 1, &after), pod("b", after, 2, &after)}, &upgraded, 3},
		"other Deployments' and namespaces' pods: none":   {[]corev1.Pod{other, elsewhere}, nil, 0},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Restarts(d, tc.pods, tc.since); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}
