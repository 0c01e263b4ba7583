package parent

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
)

// Tiny builders for the shared setters' table tests, after Cluster API's: a parent, an
// Outcome and an observation, each from options that say only what a case needs. The parent
// is a PipelineServiceHost; the setters see only what both kinds share.

func fakeParent(opts ...func(*psv1alpha1.PipelineServiceHost)) *psv1alpha1.PipelineServiceHost {
	h := &psv1alpha1.PipelineServiceHost{}
	h.Name = psv1alpha1.Name
	h.Generation = 2
	for _, o := range opts {
		o(h)
	}
	return h
}

func hasCondition(t string, status metav1.ConditionStatus, reason, msg string, generation int64) func(*psv1alpha1.PipelineServiceHost) {
	return func(h *psv1alpha1.PipelineServiceHost) {
		meta.SetStatusCondition(&h.Status.Conditions, metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: generation})
	}
}

func outcome(opts ...func(*Outcome)) *Outcome {
	o := &Outcome{}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

func failedWith(msg string) func(*Outcome) {
	return func(o *Outcome) { o.Errs = append(o.Errs, errors.New(msg)) }
}

func rejectedWith(msg string) func(*Outcome) {
	return func(o *Outcome) {
		o.Errs = append(o.Errs, errors.New(msg))
		o.Rejected = append(o.Rejected, Refusal{Reason: psv1alpha1.ReasonApplyRejected, Message: msg})
	}
}

func ownedElsewhere(msg string) func(*Outcome) {
	return func(o *Outcome) {
		o.Errs = append(o.Errs, errors.New(msg))
		o.Rejected = append(o.Rejected, Refusal{Reason: psv1alpha1.ReasonObjectOwnedElsewhere, Message: msg})
	}
}

func invalidSpec(msg string) func(*Outcome) {
	return func(o *Outcome) {
		o.Invalid = &metav1.Condition{Reason: psv1alpha1.ReasonInvalidTektonConfig, Message: msg}
	}
}

func missingKinds(kinds ...string) func(*Outcome) {
	return func(o *Outcome) { o.Missing = append(o.Missing, kinds...) }
}

// fakeObs is what fakeKind's parts report: A always, B when wanted.
type fakeObs struct {
	a, b    health.Check
	bWanted bool
	stalled *metav1.Condition
}

func observed(opts ...func(*fakeObs)) *fakeObs {
	ok := func(t string) health.Check {
		return health.Check{Condition: metav1.Condition{Type: t, Status: metav1.ConditionTrue, Reason: "Fine", Message: "fine"}}
	}
	o := &fakeObs{a: ok("AReady"), b: ok("BReady")}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

func bWanted(o *fakeObs) { o.bWanted = true }

func aProgressing(o *fakeObs) {
	o.a = health.Check{Condition: metav1.Condition{Type: "AReady", Status: metav1.ConditionFalse, Reason: "Starting", Message: "starting"}, Progressing: true}
}

func aUnknown(o *fakeObs) {
	o.a = health.Check{Condition: metav1.Condition{Type: "AReady", Status: metav1.ConditionUnknown, Reason: psv1alpha1.ReasonReadFailed, Message: "connection refused"}, Progressing: true}
}

func stalledBy(reason, msg string) func(*fakeObs) {
	return func(o *fakeObs) { o.stalled = &metav1.Condition{Reason: reason, Message: msg} }
}

// fakeKind has two parts, A and B (B only while wanted), and works while its parent's
// WebhookURL says "working"; the status step calls nothing else of a kind.
type fakeKind struct {
	Kind[*psv1alpha1.PipelineServiceHost, *fakeObs]
}

var fakeParts = []Part[*fakeObs]{
	{Type: "AReady", Name: "part A", Check: func(o *fakeObs) (health.Check, bool) { return o.a, true }},
	{Type: "BReady", Name: "part B", Check: func(o *fakeObs) (health.Check, bool) { return o.b, o.bWanted }},
}

func (fakeKind) Parts() []Part[*fakeObs] { return fakeParts }

func (fakeKind) SetFields(*psv1alpha1.PipelineServiceHost, *Outcome, *fakeObs, metav1.Time) []Event {
	return nil
}

func (fakeKind) Stalled(o *fakeObs) *metav1.Condition { return o.stalled }

func (fakeKind) Working(h *psv1alpha1.PipelineServiceHost) *metav1.Condition {
	if h.Status.WebhookURL != "working" {
		return nil
	}
	return &metav1.Condition{Reason: "Upgrading", Message: "an upgrade runs"}
}

func working(h *psv1alpha1.PipelineServiceHost) { h.Status.WebhookURL = "working" }

func reasons(evs []Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Reason)
	}
	return out
}

// expectCondition checks that h has condition t with reason, or none when reason is "".
func expectCondition(g Gomega, h *psv1alpha1.PipelineServiceHost, t, reason string) {
	c := meta.FindStatusCondition(h.Status.Conditions, t)
	if reason == "" {
		g.Expect(c).To(BeNil(), t)
		return
	}
	g.Expect(c).NotTo(BeNil(), t)
	g.Expect(c.Reason).To(Equal(reason), t)
	g.Expect(c.ObservedGeneration).To(Equal(h.Generation), t)
}

var now = metav1.Now()

// TestSetGenerations: observedGeneration is the generation acted on, as kstatus reads it (a
// refused or failed generation included), and lastAppliedGeneration the one wholly applied; a
// suspended pass acts on nothing and moves neither.
func TestSetGenerations(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		out                   *Outcome
		observed, lastApplied int64
	}{
		{"every object applied", outcome(), 2, 2},
		{"an optional API missing still applies the generation", outcome(missingKinds("ServiceMonitor")), 2, 2},
		{"a kind that is neither optional nor awaited does not hold it back", outcome(missingKinds("ImageContentSourcePolicy")), 2, 2},
		{"an apply failed", outcome(failedWith("apply Service: boom")), 2, 1},
		{"invalid spec", outcome(invalidSpec("bad")), 2, 1},
		{"TektonConfig waits for its CRD", outcome(missingKinds("TektonConfig")), 2, 1},
		{"ProxyPlugin waits for its CRD", outcome(missingKinds("ProxyPlugin")), 2, 1},
		{"suspended", outcome(func(o *Outcome) { o.Suspended = true }), 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := fakeParent(func(h *psv1alpha1.PipelineServiceHost) {
				h.Status.ObservedGeneration, h.Status.LastAppliedGeneration = 1, 1
			})
			SetStatus[*psv1alpha1.PipelineServiceHost, *fakeObs](fakeKind{}, h, tc.out, observed(), now)
			g := NewWithT(t)
			g.Expect(h.Status.ObservedGeneration).To(Equal(tc.observed), "observedGeneration")
			g.Expect(h.Status.LastAppliedGeneration).To(Equal(tc.lastApplied), "lastAppliedGeneration")
		})
	}
}

func TestSetInventory(t *testing.T) {
	inv := []psv1alpha1.InventoryEntry{{APIVersion: "v1", Kind: "Namespace", Name: "sprayproxy"}}
	h := fakeParent()
	SetStatus[*psv1alpha1.PipelineServiceHost, *fakeObs](fakeKind{}, h, outcome(func(o *Outcome) { o.Inventory = inv }), observed(), now)
	NewWithT(t).Expect(h.Status.Inventory).To(Equal(inv))
}

func TestSetPartConditions(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *psv1alpha1.PipelineServiceHost
		obs  *fakeObs
		want []string
	}{
		{"B not wanted", fakeParent(), observed(), []string{"AReady"}},
		{"B wanted", fakeParent(), observed(bWanted), []string{"AReady", "BReady"}},
		{"no longer wanted: its condition is removed", fakeParent(hasCondition("BReady", metav1.ConditionTrue, "Fine", "", 1)), observed(), []string{"AReady"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			SetStatus[*psv1alpha1.PipelineServiceHost, *fakeObs](fakeKind{}, tc.h, outcome(), tc.obs, now)
			var parts []string
			for _, c := range tc.h.Status.Conditions {
				g.Expect(c.ObservedGeneration).To(Equal(tc.h.Generation), c.Type)
				if c.Type != psv1alpha1.ConditionReady {
					parts = append(parts, c.Type)
				}
			}
			g.Expect(parts).To(ConsistOf(tc.want))
		})
	}
}

func TestSetStalledCondition(t *testing.T) {
	downgrade := stalledBy(psv1alpha1.ReasonDowngradeNotSupported, "pin older than installed")
	for _, tc := range []struct {
		name       string
		h          *psv1alpha1.PipelineServiceHost
		out        *Outcome
		obs        *fakeObs
		wantReason string
		wantEvents []string
	}{
		{"healthy: none", fakeParent(), outcome(), observed(), "", []string{psv1alpha1.ReasonHealthy}},
		{"invalid spec", fakeParent(), outcome(invalidSpec("buckets: out of range")), observed(),
			psv1alpha1.ReasonInvalidTektonConfig, []string{psv1alpha1.ReasonInvalidTektonConfig}},
		{"the kind's own terminal error", fakeParent(), outcome(), observed(downgrade),
			psv1alpha1.ReasonDowngradeNotSupported, []string{psv1alpha1.ReasonDowngradeNotSupported}},
		{"the same refusal again: no second Event",
			fakeParent(hasCondition(psv1alpha1.ConditionStalled, metav1.ConditionTrue, psv1alpha1.ReasonDowngradeNotSupported, "pin older than installed", 2),
				hasCondition(psv1alpha1.ConditionReady, metav1.ConditionFalse, psv1alpha1.ReasonDowngradeNotSupported, "pin older than installed", 2)),
			outcome(), observed(downgrade), psv1alpha1.ReasonDowngradeNotSupported, []string{}},
		{"the same refusal on a new generation: announced",
			fakeParent(hasCondition(psv1alpha1.ConditionStalled, metav1.ConditionTrue, psv1alpha1.ReasonDowngradeNotSupported, "pin older than installed", 1),
				hasCondition(psv1alpha1.ConditionReady, metav1.ConditionFalse, psv1alpha1.ReasonDowngradeNotSupported, "pin older than installed", 1)),
			outcome(), observed(downgrade), psv1alpha1.ReasonDowngradeNotSupported, []string{psv1alpha1.ReasonDowngradeNotSupported}},
		{"fixed: removed",
			fakeParent(hasCondition(psv1alpha1.ConditionStalled, metav1.ConditionTrue, psv1alpha1.ReasonInvalidTektonConfig, "x", 1)),
			outcome(), observed(), "", []string{psv1alpha1.ReasonHealthy}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			evs := SetStatus[*psv1alpha1.PipelineServiceHost, *fakeObs](fakeKind{}, tc.h, tc.out, tc.obs, now)
			g.Expect(reasons(evs)).To(Equal(tc.wantEvents))
			expectCondition(g, tc.h, psv1alpha1.ConditionStalled, tc.wantReason)
		})
	}
}

func TestSetReconcilingCondition(t *testing.T) {
	for _, tc := range []struct {
		name       string
		h          *psv1alpha1.PipelineServiceHost
		out        *Outcome
		wantReason string
		wantEvents []string
	}{
		{"nothing left to do", fakeParent(), outcome(), "", []string{}},
		{"an invalid spec is not work in progress", fakeParent(), outcome(invalidSpec("bad")), "", []string{}},
		{"refused by admission", fakeParent(), outcome(rejectedWith("apply TektonConfig config: denied")),
			psv1alpha1.ReasonApplyRejected, []string{psv1alpha1.ReasonApplyRejected}},
		{"the same refusal again: no second Event",
			fakeParent(hasCondition(psv1alpha1.ConditionReconciling, metav1.ConditionTrue, psv1alpha1.ReasonApplyRejected, "apply TektonConfig config: denied; retrying", 2)),
			outcome(rejectedWith("apply TektonConfig config: denied")), psv1alpha1.ReasonApplyRejected, []string{}},
		{"owned elsewhere", fakeParent(), outcome(ownedElsewhere("ServiceAccount a/b is owned by X")),
			psv1alpha1.ReasonObjectOwnedElsewhere, []string{psv1alpha1.ReasonObjectOwnedElsewhere}},
		{"owned elsewhere and refused by admission: ApplyRejected, an Event each",
			fakeParent(), outcome(ownedElsewhere("ServiceAccount a/b is owned by X"), rejectedWith("apply TektonConfig config: denied")),
			psv1alpha1.ReasonApplyRejected, []string{psv1alpha1.ReasonObjectOwnedElsewhere, psv1alpha1.ReasonApplyRejected}},
		{"a transient failure", fakeParent(), outcome(failedWith("apply Service: connection refused")), psv1alpha1.ReasonApplyFailed, []string{}},
		{"TektonConfig waits for its CRD", fakeParent(), outcome(missingKinds("TektonConfig")), psv1alpha1.ReasonTektonConfigCRDMissing, []string{}},
		{"ProxyPlugin waits for its CRD", fakeParent(), outcome(missingKinds("ServiceMonitor", "ProxyPlugin")), psv1alpha1.ReasonProxyPluginCRDMissing, []string{}},
		{"the kind's own work", fakeParent(working), outcome(), "Upgrading", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			evs := SetStatus[*psv1alpha1.PipelineServiceHost, *fakeObs](fakeKind{}, tc.h, tc.out, observed(), now)
			// Reconciling's Events are the refusals of an apply; Ready and Stalled have theirs.
			g.Expect(reasons(slices.DeleteFunc(evs, func(e Event) bool { return e.Action != "Apply" }))).To(Equal(tc.wantEvents))
			expectCondition(g, tc.h, psv1alpha1.ConditionReconciling, tc.wantReason)
		})
	}
}

// TestReconcilingWhileAPartIsOnItsWay: a part on its way (Ready Unknown) is work in progress,
// so kstatus reads InProgress rather than Current while a CSV installs; Reconciling says what
// Ready says.
func TestReconcilingWhileAPartIsOnItsWay(t *testing.T) {
	g := NewWithT(t)
	h := fakeParent()
	SetStatus[*psv1alpha1.PipelineServiceHost, *fakeObs](fakeKind{}, h, outcome(), observed(aProgressing), now)
	expectCondition(g, h, psv1alpha1.ConditionReconciling, "Starting")
	reconciling := meta.FindStatusCondition(h.Status.Conditions, psv1alpha1.ConditionReconciling)
	ready := meta.FindStatusCondition(h.Status.Conditions, psv1alpha1.ConditionReady)
	g.Expect(ready.Status).To(Equal(metav1.ConditionUnknown))
	g.Expect(reconciling.Message).To(Equal(ready.Message))
}

func TestSetReadyCondition(t *testing.T) {
	healthy := hasCondition(psv1alpha1.ConditionReady, metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "", 2)
	for _, tc := range []struct {
		name        string
		h           *psv1alpha1.PipelineServiceHost
		out         *Outcome
		obs         *fakeObs
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMessage string
		wantEvents  []string
	}{
		{"healthy, B not wanted: the message does not name it", fakeParent(), outcome(), observed(),
			metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "part A is healthy", []string{psv1alpha1.ReasonHealthy}},
		{"healthy with B: both named", fakeParent(), outcome(), observed(bWanted),
			metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "part A and part B are healthy", []string{psv1alpha1.ReasonHealthy}},
		{"still healthy: no second Event", fakeParent(healthy), outcome(), observed(),
			metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "", []string{}},
		{"stalled: the Stalled Event says it", fakeParent(healthy), outcome(invalidSpec("buckets: out of range")), observed(),
			metav1.ConditionFalse, psv1alpha1.ReasonInvalidTektonConfig, "buckets: out of range", []string{psv1alpha1.ReasonInvalidTektonConfig}},
		{"refused: the ApplyRejected Event says it", fakeParent(healthy), outcome(rejectedWith("denied")), observed(),
			metav1.ConditionFalse, psv1alpha1.ReasonApplyRejected, "denied", []string{psv1alpha1.ReasonApplyRejected}},
		{"failed: a Warning", fakeParent(healthy), outcome(failedWith("connection refused")), observed(),
			metav1.ConditionFalse, psv1alpha1.ReasonApplyFailed, "connection refused", []string{psv1alpha1.ReasonApplyFailed}},
		{"an optional API missing", fakeParent(), outcome(missingKinds("ServiceMonitor")), observed(),
			metav1.ConditionFalse, psv1alpha1.ReasonAPIsMissing, "ServiceMonitor", []string{psv1alpha1.ReasonAPIsMissing}},
		{"a CRD awaited is progress", fakeParent(), outcome(missingKinds("TektonConfig")), observed(),
			metav1.ConditionUnknown, psv1alpha1.ReasonProgressing, "", []string{}},
		{"a part progressing is Unknown", fakeParent(), outcome(), observed(aProgressing),
			metav1.ConditionUnknown, "Starting", "AReady: starting", []string{}},
		{"an unreadable part is Unknown, not False", fakeParent(), outcome(), observed(aUnknown),
			metav1.ConditionUnknown, psv1alpha1.ReasonReadFailed, "connection refused", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			evs := SetStatus[*psv1alpha1.PipelineServiceHost, *fakeObs](fakeKind{}, tc.h, tc.out, tc.obs, now)
			g.Expect(reasons(evs)).To(Equal(tc.wantEvents))
			c := meta.FindStatusCondition(tc.h.Status.Conditions, psv1alpha1.ConditionReady)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(tc.wantStatus))
			g.Expect(c.Reason).To(Equal(tc.wantReason))
			g.Expect(c.Message).To(ContainSubstring(tc.wantMessage))
			g.Expect(c.ObservedGeneration).To(Equal(tc.h.Generation))
		})
	}
}

// TestLongMessagesFitTheCondition: a message over the condition's 32 KiB bound (here 2,000
// joined errors) is cut between its items and says how many it left out, so the status write
// is not refused and Ready never stays stale.
func TestLongMessagesFitTheCondition(t *testing.T) {
	g := NewWithT(t)
	var errs []string
	for i := range 2000 {
		errs = append(errs, fmt.Sprintf("apply ServiceAccount ns/account-%04d: refused by a policy of this cluster", i))
	}
	h := fakeParent()
	setCondition(h, metav1.Condition{Type: psv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: "R", Message: strings.Join(errs, "\n")})
	msg := h.Status.Conditions[0].Message
	g.Expect(len(msg)).To(BeNumerically("<=", maxConditionMessage))
	g.Expect(msg).To(HavePrefix(errs[0] + "\n"))
	lines := strings.Split(msg, "\n")
	kept := len(lines) - 1
	g.Expect(lines[kept-1]).To(Equal(errs[kept-1]), "cut between items")
	g.Expect(lines[kept]).To(Equal(fmt.Sprintf("… (%d more)", 2000-kept)))

	g.Expect(fit("a; b; c", 100)).To(Equal("a; b; c"), "a message that fits is kept whole")
	g.Expect(fit("first part; second part; third part", 30)).To(Equal("first part; … (2 more)"))
	long := fit(strings.Repeat("é", 100), 50)
	g.Expect(len(long)).To(BeNumerically("<=", 50))
	g.Expect(utf8.ValidString(long)).To(BeTrue(), "cut at a rune boundary")
}
