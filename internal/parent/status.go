package parent

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
)

// Event is a Kubernetes Event a pass emits once its status is stored.
type Event struct {
	// Done: the Event reports something the pass did (a write, an approval), which is
	// announced even when the status cannot be stored, rather than a status transition.
	Done    bool
	Warning bool
	Reason  string
	Action  string
	Message string
	// OnEmit runs when the Event is sent (the member observes an upgrade's duration then).
	OnEmit func()
}

func (e Event) eventType() string {
	if e.Warning {
		return corev1.EventTypeWarning
	}
	return corev1.EventTypeNormal
}

// SetStatus computes the whole status from what was applied and observed, one setter per
// field or condition; it does no I/O. It returns the Events that the changes are worth, to be
// emitted once the status is stored: a pass that read a stale parent must not announce a
// transition twice.
//
// now is cut to the second, as the status stores it: what the pass derives from a time it
// records (the restarts since the upgrade it saw complete) is then what the next pass derives
// from the same time read back, rather than changing with nothing else changed.
func SetStatus[T Object, O any](k Kind[T, O], obj T, out *Outcome, obs O, now metav1.Time) []Event {
	now = now.Rfc3339Copy()
	before := slices.Clone(obj.GetParentStatus().Conditions)
	evs := k.SetFields(obj, out, obs, now)
	setInventory(obj, out)
	setGenerations(obj, out)

	checks := PartChecks(k.Parts(), obs)
	setPartConditions(obj, k.Parts(), checks)
	stalled := out.Invalid
	if stalled == nil {
		stalled = k.Stalled(obs)
	}
	evs = append(evs, setStalledCondition(obj, before, stalled)...)
	evs = append(evs, setSuspendedCondition(obj, before, now)...)
	ready := readyCondition(out, stalled, checks)
	evs = append(evs, setReconcilingCondition(obj, before, out, k.Working(obj), ready)...)
	evs = append(evs, setReadyCondition(obj, before, ready, out, stalled)...)
	setReadySince(obj)
	return evs
}

// setSuspendedCondition sets Suspended while spec.suspend is true, saying since when, with an
// Event when it starts; resuming is announced by the pass's DriftHealed Event (writeEvent).
func setSuspendedCondition(obj Object, before []metav1.Condition, now metav1.Time) []Event {
	if !obj.Suspended() {
		meta.RemoveStatusCondition(&obj.GetParentStatus().Conditions, psv1alpha1.ConditionSuspended)
		return nil
	}
	since, started := now, true
	if prev := meta.FindStatusCondition(before, psv1alpha1.ConditionSuspended); prev != nil && prev.Status == metav1.ConditionTrue {
		since, started = prev.LastTransitionTime, false
	}
	msg := SuspendedMessage(since)
	setCondition(obj, metav1.Condition{Type: psv1alpha1.ConditionSuspended, Status: metav1.ConditionTrue,
		Reason: psv1alpha1.ReasonSuspended, Message: msg, LastTransitionTime: since})
	if !started {
		return nil
	}
	return []Event{{Warning: true, Reason: psv1alpha1.ReasonSuspended, Action: "Reconcile", Message: msg}}
}

// SuspendedMessage is the Suspended condition's message for a suspension that began at since.
func SuspendedMessage(since metav1.Time) string {
	return fmt.Sprintf("suspended since %s (spec.suspend): the operator writes no child (no apply, prune, InstallPlan approval or component refresh) and keeps observing; set spec.suspend to false to resume",
		since.UTC().Format(time.RFC3339))
}

// setReadySince records when Ready last became True: its transition time while it is True,
// nothing while it is not.
func setReadySince(obj Object) {
	ready := meta.FindStatusCondition(obj.GetParentStatus().Conditions, psv1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue {
		obj.GetParentStatus().ReadySince = nil
		return
	}
	since := ready.LastTransitionTime
	obj.GetParentStatus().ReadySince = &since
}

// setInventory records what is applied and not pruned.
func setInventory(obj Object, out *Outcome) {
	obj.GetParentStatus().Inventory = out.Inventory
}

// setGenerations records the generation the pass acted on, as kstatus reads observedGeneration:
// applied, refused (Stalled) or failed and retried (Reconciling) alike; a suspended pass acts
// on nothing and leaves it. lastAppliedGeneration advances once every object of the generation
// is applied.
func setGenerations(obj Object, out *Outcome) {
	st := obj.GetParentStatus()
	if !out.Suspended {
		st.ObservedGeneration = obj.GetGeneration()
	}
	if out.GenerationApplied() {
		st.LastAppliedGeneration = obj.GetGeneration()
	}
}

// PartChecks are the checks of the parts the spec asks for, each named for Ready's message.
func PartChecks[O any](parts []Part[O], obs O) []health.Check {
	var checks []health.Check
	for _, p := range parts {
		if c, ok := p.Check(obs); ok {
			c.Part = p.Name
			checks = append(checks, c)
		}
	}
	return checks
}

// setPartConditions sets the condition of each check and removes those of parts the spec no
// longer asks for.
func setPartConditions[O any](obj Object, parts []Part[O], checks []health.Check) {
	for _, p := range parts {
		if !slices.ContainsFunc(checks, func(c health.Check) bool { return c.Condition.Type == p.Type }) {
			meta.RemoveStatusCondition(&obj.GetParentStatus().Conditions, p.Type)
		}
	}
	for _, c := range checks {
		setCondition(obj, c.Condition)
	}
}

// setStalledCondition sets Stalled while the spec has a terminal error, with a Warning the
// first time each message is seen for a generation.
func setStalledCondition(obj Object, before []metav1.Condition, stalled *metav1.Condition) []Event {
	if stalled == nil {
		meta.RemoveStatusCondition(&obj.GetParentStatus().Conditions, psv1alpha1.ConditionStalled)
		return nil
	}
	setCondition(obj, metav1.Condition{Type: psv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: stalled.Reason, Message: stalled.Message})
	if prev := meta.FindStatusCondition(before, psv1alpha1.ConditionStalled); prev != nil && prev.Message == stalled.Message && prev.ObservedGeneration == obj.GetGeneration() {
		return nil
	}
	return []Event{{Warning: true, Reason: stalled.Reason, Action: "Reconcile", Message: stalled.Message}}
}

// setReconcilingCondition sets Reconciling while the operator has work left: a refused or
// failed apply, a child waiting for its CRD, the kind's own (working: an upgrade running), or
// a part on its way (ready is Unknown: a catalog connecting, a CSV installing), so that kstatus
// reads InProgress until the parent is Ready or has failed. A spec that stalled the apply is
// not work in progress.
func setReconcilingCondition(obj Object, before []metav1.Condition, out *Outcome, working *metav1.Condition, ready metav1.Condition) []Event {
	reconciling := func(reason, msg string) {
		setCondition(obj, metav1.Condition{Type: psv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: reason, Message: msg})
	}
	switch awaited := out.Awaited(); {
	case out.Invalid != nil, out.Suspended:
		// A refused spec, or a suspended parent: nothing is in progress.
		meta.RemoveStatusCondition(&obj.GetParentStatus().Conditions, psv1alpha1.ConditionReconciling)
	case len(out.Rejected) > 0:
		prev := meta.FindStatusCondition(before, psv1alpha1.ConditionReconciling)
		reason := out.RejectedReason()
		reconciling(reason, out.Err().Error()+"; the children not named here are applied; retrying with backoff")
		// One Event per distinct refusal, not one per retry.
		var evs []Event
		for _, r := range out.Rejected {
			if prev == nil || prev.Reason != reason || !strings.Contains(prev.Message, r.Message) {
				evs = append(evs, Event{Warning: true, Reason: r.Reason, Action: "Apply", Message: r.Message})
			}
		}
		return evs
	case len(out.Errs) > 0:
		reconciling(psv1alpha1.ReasonApplyFailed, out.Err().Error())
	case awaited != nil:
		reconciling(awaited.Awaited, fmt.Sprintf("everything else is applied; the %s waits for its CRD", awaited.GVK.Kind))
	case working != nil:
		reconciling(working.Reason, working.Message)
	case ready.Status == metav1.ConditionUnknown:
		reconciling(ready.Reason, ready.Message)
	default:
		meta.RemoveStatusCondition(&obj.GetParentStatus().Conditions, psv1alpha1.ConditionReconciling)
	}
	return nil
}

// readyCondition is the summary of what the pass applied and observed.
func readyCondition(out *Outcome, stalled *metav1.Condition, checks []health.Check) metav1.Condition {
	return health.Summary(health.Apply{Stalled: stalled, Err: out.Err(), Rejected: out.RejectedReason(),
		MissingAPIs: out.OptionalMissing(), GenerationApplied: out.GenerationApplied(), Suspended: out.Suspended}, checks)
}

// setReadyCondition sets the summary, with an Event when its status changes; a failure that
// the Stalled or ApplyRejected Event already announces is not announced twice.
func setReadyCondition(obj Object, before []metav1.Condition, ready metav1.Condition, out *Outcome, stalled *metav1.Condition) []Event {
	setCondition(obj, ready)
	if prev := meta.FindStatusCondition(before, psv1alpha1.ConditionReady); prev != nil && prev.Status == ready.Status {
		return nil
	}
	switch {
	case ready.Status == metav1.ConditionTrue:
		return []Event{{Reason: psv1alpha1.ReasonHealthy, Action: "Observe", Message: ready.Message}}
	case ready.Status == metav1.ConditionFalse && stalled == nil && len(out.Rejected) == 0:
		return []Event{{Warning: true, Reason: ready.Reason, Action: "Observe", Message: ready.Message}}
	}
	return nil
}

// setDeleting says that deletion is under way and what it waits for.
func setDeleting(obj Object, msg string) {
	setCondition(obj, metav1.Condition{Type: psv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: psv1alpha1.ReasonDeleting, Message: msg})
	setCondition(obj, metav1.Condition{Type: psv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: psv1alpha1.ReasonDeleting, Message: msg})
}

// maxConditionMessage is metav1.Condition's bound on its message: a longer one fails the whole
// status write, and a stale Ready would stay.
const maxConditionMessage = 32768

// fit cuts msg to limit bytes between the items it joins (errors.Join puts one error on each
// line; a summary joins its parts with "; "), and says how many items it left out: "… (N
// more)". An item longer than the limit by itself is cut at a rune boundary.
func fit(msg string, limit int) string {
	if len(msg) <= limit {
		return msg
	}
	sep := "\n"
	if !strings.Contains(msg, sep) {
		sep = "; "
	}
	parts := strings.Split(msg, sep)
	var b strings.Builder
	for i, p := range parts {
		more := fmt.Sprintf("… (%d more)", len(parts)-i)
		if b.Len()+len(sep)+len(p)+len(sep)+len(more) > limit {
			if i == 0 {
				b.WriteString(runePrefix(p, limit-len(sep)-len(more)))
				more = fmt.Sprintf("… (%d more)", len(parts)-1)
			}
			b.WriteString(sep)
			b.WriteString(more)
			return b.String()
		}
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}

// runePrefix is the longest prefix of s of at most n bytes that ends at a rune boundary.
func runePrefix(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// setCondition sets c for the current generation, its message cut to fit.
func setCondition(obj Object, c metav1.Condition) {
	c.Message = fit(c.Message, maxConditionMessage)
	c.ObservedGeneration = obj.GetGeneration()
	meta.SetStatusCondition(&obj.GetParentStatus().Conditions, c)
}

// writeEvent is the Event for the children one pass wrote: a new generation applied, or drift
// healed when the generation had been applied before and someone changed a child, or when the
// pass is the first after a suspension.
func writeEvent(generation int64, generationWasApplied, resumed bool, written []string) Event {
	if resumed {
		// The first pass after a suspension: what it writes is the drift the suspension let
		// stand, and the spec changes made meanwhile.
		return Event{Done: true, Reason: psv1alpha1.ReasonDriftHealed, Action: "Apply",
			Message: "resumed after a suspension: restored " + strings.Join(written, ", ")}
	}
	if generationWasApplied {
		return Event{Done: true, Reason: psv1alpha1.ReasonDriftHealed, Action: "Apply",
			Message: "restored " + strings.Join(written, ", ")}
	}
	return Event{Done: true, Reason: psv1alpha1.ReasonApplied, Action: "Apply",
		Message: fmt.Sprintf("applied %d change(s) for generation %d: %s", len(written), generation, strings.Join(written, ", "))}
}
