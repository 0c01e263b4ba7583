package pipelineservice

import (
	"encoding/json"
	"errors"
	"slices"
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
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
)

// Tiny builders for the setters' table tests, after Cluster API's: a PipelineService, an
// Outcome and an observation, each from options that say only what a case needs. The setters
// every parent shares are tested in internal/parent; these are the PipelineService's own.

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

func installedCSV(name string) func(*psv1alpha1.PipelineService) {
	return func(ps *psv1alpha1.PipelineService) { ps.Status.InstalledCSV = name }
}

func outcome(opts ...func(*parent.Outcome)) *parent.Outcome {
	o := &parent.Outcome{}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

func observed(opts ...func(*observation)) *observation {
	o := &observation{tektonServed: true}
	for _, opt := range opts {
		opt(o)
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
		componentsCurrent(o)
	}
}

// componentsCurrent: OLM rolled the OSP operator and every component runs its wanted image.
func componentsCurrent(o *observation) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-operators", Name: "openshift-pipelines-operator", Generation: 1}}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, UpdatedReplicas: 1, AvailableReplicas: 1}
	o.overridesObserved, o.overrides = true, health.Overrides{Operator: d}
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

func reasons(events []parent.Event) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.Reason)
	}
	return out
}

var now = metav1.NewTime(time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC))

func TestSetUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ps         *psv1alpha1.PipelineService
		obs        *observation
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

// TestRecordPrevious: an upgrade records the build it replaces, with the images read from
// the outgoing CSV, or none when it could not be read, which a later pass fills in; an upgrade
// that replaces one that never completed keeps the build that ran before it.
func TestRecordPrevious(t *testing.T) {
	const csvNext = "openshift-pipelines-operator-rh.v5.0.7"
	old := &psv1alpha1.BuildImages{CSV: csvOld, Images: []psv1alpha1.ImageVariable{{Name: "IMAGE_A", Image: "a:5"}}}
	outgoing := func(b *psv1alpha1.BuildImages) func(*observation) {
		return func(o *observation) { o.outgoingName, o.outgoing = b.CSV, b }
	}
	upgrade := func(u psv1alpha1.UpgradeStatus) func(*psv1alpha1.PipelineService) {
		return func(ps *psv1alpha1.PipelineService) { ps.Status.Upgrade = &u }
	}
	for _, tc := range []struct {
		name string
		ps   *psv1alpha1.PipelineService
		obs  *observation
		want *psv1alpha1.BuildImages
	}{
		{"the first install records none", fakePS(), observed(operatorAt(csvOld, olmv1alpha1.CSVPhaseSucceeded)), nil},
		{"an upgrade records the outgoing CSV's images", fakePS(installedCSV(csvOld)),
			observed(operatorAt(csvNew, olmv1alpha1.CSVPhaseInstalling), outgoing(old)), old},
		{"an outgoing CSV already gone: its name alone", fakePS(installedCSV(csvOld)),
			observed(operatorAt(csvNew, olmv1alpha1.CSVPhaseInstalling)), &psv1alpha1.BuildImages{CSV: csvOld}},
		{"a later pass fills the images in", fakePS(installedCSV(csvNew), upgrade(psv1alpha1.UpgradeStatus{From: csvOld, To: csvNew, Previous: &psv1alpha1.BuildImages{CSV: csvOld}})),
			observed(operatorAt(csvNew, olmv1alpha1.CSVPhaseInstalling), outgoing(old)), old},
		{"an upgrade over an uncompleted one keeps the build that ran", fakePS(installedCSV(csvNew), upgrade(psv1alpha1.UpgradeStatus{From: csvOld, To: csvNew, Previous: old})),
			observed(operatorAt(csvNext, olmv1alpha1.CSVPhaseInstalling), outgoing(&psv1alpha1.BuildImages{CSV: csvNew})), old},
		{"an upgrade over a completed one records the build it replaces", fakePS(installedCSV(csvNew),
			upgrade(psv1alpha1.UpgradeStatus{From: csvOld, To: csvNew, CompletedAt: &now, Previous: old})),
			observed(operatorAt(csvNext, olmv1alpha1.CSVPhaseInstalling), outgoing(&psv1alpha1.BuildImages{CSV: csvNew})), &psv1alpha1.BuildImages{CSV: csvNew}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			before := tc.ps.Status.Upgrade.DeepCopy()
			setUpgrade(tc.ps, tc.obs, now)
			if tc.want == nil {
				g.Expect(tc.ps.Status.Upgrade.Previous).To(BeNil())
				return
			}
			g.Expect(tc.ps.Status.Upgrade.Previous).To(Equal(tc.want))
			g.Expect(tc.ps.Status.Upgrade.Previous).NotTo(BeIdenticalTo(tc.obs.outgoing), "the status owns its copy")
			if before != nil {
				g.Expect(before.Previous).NotTo(BeIdenticalTo(tc.ps.Status.Upgrade.Previous), "the last status is not written through")
			}
		})
	}
}

// TestSetImageOverrides: the overrides are stored as compared with the installed CSV, with
// one Event when an override becomes redundant and none while it stays so; they are kept
// while the CSV cannot be read, and cleared while OSP is not installed.
func TestSetImageOverrides(t *testing.T) {
	g := NewWithT(t)
	redundant := psv1alpha1.ImageOverrideStatus{Name: "IMAGE_A", Image: "a:1", Source: psv1alpha1.OverrideSourceImageOverrides,
		BundleImage: "a:1", State: psv1alpha1.ImageOverrideRedundant}
	states := func(s ...psv1alpha1.ImageOverrideStatus) func(*observation) {
		return func(o *observation) { o.overridesObserved, o.overrideStates = true, s }
	}
	ps := fakePS()
	g.Expect(reasons(setImageOverrides(ps, observed(states(redundant))))).To(Equal([]string{psv1alpha1.ReasonOverrideRedundant}))
	g.Expect(ps.Status.ImageOverrides).To(Equal([]psv1alpha1.ImageOverrideStatus{redundant}))
	g.Expect(setImageOverrides(ps, observed(states(redundant)))).To(BeEmpty(), "said once")
	g.Expect(setImageOverrides(ps, observed(func(o *observation) { o.overridesObserved = true }))).To(BeEmpty())
	g.Expect(ps.Status.ImageOverrides).To(HaveLen(1), "kept while the CSV cannot be read")
	setImageOverrides(ps, observed())
	g.Expect(ps.Status.ImageOverrides).To(BeEmpty(), "OSP is not installed")
}

func TestSetVersions(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		ps                       *psv1alpha1.PipelineService
		obs                      *observation
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
		obs  *observation
		want []psv1alpha1.ComponentStatus
	}{
		{"listed", fakePS(withKnown), observed(exporterAvailable), []psv1alpha1.ComponentStatus{{Name: "pipeline-metrics-exporter", Ready: 1, Desired: 1}}},
		{"a failed list keeps the last, exporter on", fakePS(withKnown, func(ps *psv1alpha1.PipelineService) { ps.Spec.Exporter.Enabled = true }), observed(componentsUnlisted), known},
		{"a failed list keeps the last, exporter off", fakePS(withKnown), observed(componentsUnlisted), known},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setComponents(tc.ps, tc.obs)
			NewWithT(t).Expect(tc.ps.Status.Components).To(Equal(tc.want))
		})
	}
}

// TestRestartsSinceTheUpgradeHoldOnceStored: the pass that sees the upgrade complete counts a
// component's restarts as the next pass does, once the status (its times cut to the second)
// was stored and read back. The kubelet's restart and the pod fall in the completion's second,
// so they count in both (the safe side); counted from an uncut time, the first pass said 0
// and the next 3, with nothing changed.
func TestRestartsSinceTheUpgradeHoldOnceStored(t *testing.T) {
	g := NewWithT(t)
	app := map[string]string{"app": "tekton-pipelines-controller"}
	d := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "openshift-pipelines", Name: "tekton-pipelines-controller"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: app}}}
	pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-0", Labels: app, CreationTimestamp: now}}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", RestartCount: 3,
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: now}}}}
	obs := observed(healthy(csvNew), func(o *observation) {
		o.components = append(o.components, d)
		o.pods, o.podsRead = []corev1.Pod{pod}, true
	})
	restarts := func(ps *psv1alpha1.PipelineService) int32 {
		for _, c := range ps.Status.Components {
			if c.Name == d.Name {
				return *c.Restarts
			}
		}
		return -1
	}

	ps := fakePS(installedCSV(csvOld))
	parent.SetStatus[*psv1alpha1.PipelineService, *observation](&kind{}, ps, outcome(), obs, metav1.NewTime(now.Add(900*time.Millisecond)))
	g.Expect(ps.Status.Upgrade.CompletedAt).NotTo(BeNil())
	first := restarts(ps)

	data, err := json.Marshal(ps)
	g.Expect(err).NotTo(HaveOccurred())
	stored := &psv1alpha1.PipelineService{}
	g.Expect(json.Unmarshal(data, stored)).To(Succeed())
	parent.SetStatus[*psv1alpha1.PipelineService, *observation](&kind{}, stored, outcome(), obs, metav1.NewTime(now.Add(2*time.Second)))
	g.Expect(restarts(stored)).To(Equal(first), "the same restarts once the status is read back")
	g.Expect(first).To(Equal(int32(3)), "a restart in the completion's second counts")
}

// TestComponentsSurviveAFailedList: when the Deployments in targetNamespace cannot be listed,
// the status keeps the components it had (and with them the component metrics) instead of
// reporting none, whether or not the exporter is enabled; a list that works replaces them.
func TestComponentsSurviveAFailedList(t *testing.T) {
	known := []psv1alpha1.ComponentStatus{{Name: "tekton-pipelines-controller", Ready: 2, Desired: 2}}
	for _, exporter := range []bool{true, false} {
		g := NewWithT(t)
		ps := fakePS(func(ps *psv1alpha1.PipelineService) {
			ps.Spec.Exporter.Enabled = exporter
			ps.Status.Components = known
		})
		obs := observed(componentsUnlisted)
		obs.exporterEnabled = exporter
		parent.SetStatus[*psv1alpha1.PipelineService, *observation](&kind{}, ps, outcome(), obs, now)
		g.Expect(ps.Status.Components).To(Equal(known), "exporter enabled: %v", exporter)

		d := appsv1.Deployment{}
		d.Name = "tekton-pipelines-webhook"
		parent.SetStatus[*psv1alpha1.PipelineService, *observation](&kind{}, ps, outcome(), observed(func(o *observation) { o.components = []appsv1.Deployment{d} }), now)
		g.Expect(ps.Status.Components).To(HaveLen(1))
		g.Expect(ps.Status.Components[0].Name).To(Equal("tekton-pipelines-webhook"))
	}
}

// TestParts: the exporter and the mirrors have a condition only while the spec asks for them,
// every other part always; Ready=True names exactly the parts that were checked (the message's
// wording is internal/health's); the TektonConfig's condition says when its CRD is missing, and
// the mirrors' when neither mirror kind is served. The expectations follow the declaration, so
// that a new part is checked here without an edit.
func TestParts(t *testing.T) {
	optional := map[string]func(*observation) bool{
		psv1alpha1.ConditionExporterAvailable: func(o *observation) bool { return o.exporterEnabled },
		psv1alpha1.ConditionMirrorsApplied:    func(o *observation) bool { return o.mirrorsSet },
		psv1alpha1.ConditionOverridesApplied:  func(o *observation) bool { return o.overridesObserved },
	}
	exporterOn := func(o *observation) { o.exporterEnabled = true }
	mirrorsOn := func(o *observation) { o.mirrorsSet, o.mirrorKind = true, "ImageContentSourcePolicy" }
	for name, obs := range map[string]*observation{
		"exporter and mirrors off": observed(healthy(csvOld)),
		"exporter on":              observed(healthy(csvOld), exporterOn),
		"exporter and mirrors on":  observed(healthy(csvOld), exporterOn, mirrorsOn),
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			checks := parent.PartChecks(parts, obs)
			var types []string
			for _, c := range checks {
				types = append(types, c.Condition.Type)
				g.Expect(c.Condition.Status).To(Equal(metav1.ConditionTrue), c.Condition.Type)
			}
			message := health.Summary(health.Apply{GenerationApplied: true}, checks).Message
			var want []string
			for _, p := range parts {
				if asked, ok := optional[p.Type]; ok && !asked(obs) {
					g.Expect(message).NotTo(ContainSubstring(p.Name), "a part the spec leaves out is not named")
					continue
				}
				want = append(want, p.Type)
				g.Expect(message).To(ContainSubstring(p.Name))
			}
			g.Expect(types).To(Equal(want))
			g.Expect(message).To(HavePrefix("the catalog, the OpenShift Pipelines operator"), "in the order of the parts")
		})
	}
	byType := func(checks []health.Check, t string) health.Check {
		i := slices.IndexFunc(checks, func(c health.Check) bool { return c.Condition.Type == t })
		if i < 0 {
			return health.Check{}
		}
		return checks[i]
	}
	g := NewWithT(t)
	checks := parent.PartChecks(parts, observed(healthy(csvOld), tektonCRDMissing))
	g.Expect(byType(checks, psv1alpha1.ConditionTektonConfigReady).Condition.Reason).To(Equal(psv1alpha1.ReasonTektonConfigCRDMissing))
	checks = parent.PartChecks(parts, observed(healthy(csvOld), func(o *observation) { o.mirrorsSet = true }))
	g.Expect(byType(checks, psv1alpha1.ConditionMirrorsApplied).Condition.Reason).To(Equal(psv1alpha1.ReasonMirrorAPIMissing), "mirrors set, neither kind served")
}

// TestStalledByADowngrade: a pin below the installed CSV stalls the PipelineService.
func TestStalledByADowngrade(t *testing.T) {
	g := NewWithT(t)
	k := &kind{}
	g.Expect(k.Stalled(observed())).To(BeNil())
	c := k.Stalled(observed(func(o *observation) { o.approval.Downgrade = "pin older than installed" }))
	g.Expect(c).NotTo(BeNil())
	g.Expect(c.Reason).To(Equal(psv1alpha1.ReasonDowngradeNotSupported))
	g.Expect(c.Message).To(Equal("pin older than installed"))
}

// TestReconcilingWhileUpgrading: an upgrade that started and has not completed is work left.
func TestReconcilingWhileUpgrading(t *testing.T) {
	g := NewWithT(t)
	k := &kind{}
	g.Expect(k.Working(fakePS())).To(BeNil())
	running := fakePS(func(ps *psv1alpha1.PipelineService) {
		ps.Status.Upgrade = &psv1alpha1.UpgradeStatus{From: csvOld, To: csvNew, StartedAt: now}
	})
	c := k.Working(running)
	g.Expect(c).NotTo(BeNil())
	g.Expect(c.Reason).To(Equal(psv1alpha1.ReasonUpgrading))
	g.Expect(c.Message).To(Equal("upgrade from " + csvOld + " to " + csvNew + " running"))
	parent.SetStatus[*psv1alpha1.PipelineService, *observation](k, running, outcome(), observed(operatorAt(csvNew, olmv1alpha1.CSVPhaseInstalling)), now)
	g.Expect(meta.FindStatusCondition(running.Status.Conditions, psv1alpha1.ConditionReconciling).Reason).To(Equal(psv1alpha1.ReasonUpgrading))
}

// TestPartsSetTheirOwnType: each part's check sets the condition type it is declared with,
// whatever it observed, so that the metrics and the removal of a part's condition, both
// derived from the declaration, cannot miss it.
func TestPartsSetTheirOwnType(t *testing.T) {
	for _, obs := range []*observation{{}, observed(), observed(healthy(csvOld)), observed(tektonCRDMissing, componentsUnlisted)} {
		obs.exporterEnabled, obs.mirrorsSet, obs.overridesObserved = true, true, true
		for _, p := range parts {
			c, ok := p.Check(obs)
			if !ok {
				t.Errorf("%s: the spec asks for every part, and the check says it does not", p.Type)
			}
			if c.Condition.Type != p.Type {
				t.Errorf("the part declared as %s sets %s", p.Type, c.Condition.Type)
			}
			if p.Name == "" {
				t.Errorf("%s: no name for Ready's message", p.Type)
			}
		}
	}
}
