// Package health turns observed objects into the PipelineService's conditions. It is pure:
// objects in, conditions out, no client and no clock of its own, so every rule is table-tested.
//
// Each check yields a condition and whether a state that is not True is progress (it clears on
// its own: a catalog connecting, a CSV installing) or a failure someone must act on. The
// summary turns progress into Ready=Unknown and failure into Ready=False, so that kstatus and
// ArgoCD read "still working" and "broken" apart.
package health

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// Check is the outcome of observing one part of the stack.
type Check struct {
	// Condition is the condition to set; ObservedGeneration is filled in by the caller.
	Condition metav1.Condition
	// Progressing says a status that is not True is expected to clear without anyone acting.
	Progressing bool
	// Part names what the check covers, for the Ready=True message ("the catalog"); the
	// parent reconciler fills it in from the kind's declaration of its parts.
	Part string
	// Note is a standing fact that Ready's message carries whatever its status, such as
	// images reverted to a previous build; "" when there is none.
	Note string
}

func healthy(t, reason, msg string) Check {
	return Check{Condition: metav1.Condition{Type: t, Status: metav1.ConditionTrue, Reason: reason, Message: msg}}
}

func progressing(t, reason, msg string) Check {
	return Check{Condition: metav1.Condition{Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: msg}, Progressing: true}
}

func failing(t, reason, msg string) Check {
	return Check{Condition: metav1.Condition{Type: t, Status: metav1.ConditionFalse, Reason: reason, Message: msg}}
}

// unknown is for what could not be observed: the status is Unknown with a reason, never a
// silent False. It counts as progress, because a read that failed is retried.
func unknown(t, reason, msg string) Check {
	return Check{Condition: metav1.Condition{Type: t, Status: metav1.ConditionUnknown, Reason: reason, Message: msg}, Progressing: true}
}

// readFailed reports an object that could not be read.
func readFailed(t, what string, err error) Check {
	return unknown(t, psv1alpha1.ReasonReadFailed, fmt.Sprintf("could not read %s: %v; retrying", what, err))
}

// Apply is how far the reconciler got in applying the spec.
type Apply struct {
	// Stalled is the terminal input error, when there is one.
	Stalled *metav1.Condition
	// Err is the error of the last apply, retried with backoff.
	Err error
	// Rejected is the reason when Err holds the refusal of an object (ApplyRejected: the API
	// server's or admission's; ObjectOwnedElsewhere: the operator's own), "" when it does not.
	Rejected string
	// MissingAPIs are the kinds of optional children whose API is not served (ExternalSecret,
	// ServiceMonitor); the user must install them or turn the feature off.
	MissingAPIs []string
	// GenerationApplied is whether every child of the current generation was applied.
	GenerationApplied bool
	// Suspended: nothing is applied on purpose (spec.suspend), and Ready tells the health of
	// what runs; the Suspended condition says the spec waits.
	Suspended bool
}

// Summary is the Ready condition: True only when every check is True and the current
// generation was wholly applied. Failures come before progress, and the first of each, in the
// order of checks, gives the reason, so the message points at the part to look at first. The
// checks' notes follow the message, unless the spec stalled (nothing of it was applied).
func Summary(apply Apply, checks []Check) metav1.Condition {
	var notes []string
	for _, c := range checks {
		if c.Note != "" {
			notes = append(notes, c.Note)
		}
	}
	ready := func(s metav1.ConditionStatus, reason, msg string) metav1.Condition {
		if len(notes) > 0 {
			msg += "; " + strings.Join(notes, "; ")
		}
		return metav1.Condition{Type: psv1alpha1.ConditionReady, Status: s, Reason: reason, Message: msg}
	}
	switch {
	case apply.Stalled != nil:
		return metav1.Condition{Type: psv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: apply.Stalled.Reason, Message: apply.Stalled.Message}
	case apply.Err != nil && apply.Rejected != "":
		return ready(metav1.ConditionFalse, apply.Rejected, apply.Err.Error()+"; retrying with backoff")
	case apply.Err != nil:
		return ready(metav1.ConditionFalse, psv1alpha1.ReasonApplyFailed, apply.Err.Error()+"; retrying with backoff")
	}
	for _, c := range checks {
		if c.Condition.Status == metav1.ConditionFalse && !c.Progressing {
			return ready(metav1.ConditionFalse, c.Condition.Reason, c.Condition.Type+": "+c.Condition.Message)
		}
	}
	if len(apply.MissingAPIs) > 0 {
		return ready(metav1.ConditionFalse, psv1alpha1.ReasonAPIsMissing, fmt.Sprintf(
			"these APIs are not served, so their objects are not applied: %v; install them or turn the feature off in the spec",
			apply.MissingAPIs))
	}
	for _, c := range checks {
		if c.Condition.Status != metav1.ConditionTrue {
			return ready(metav1.ConditionUnknown, c.Condition.Reason, c.Condition.Type+": "+c.Condition.Message)
		}
	}
	if !apply.GenerationApplied && !apply.Suspended {
		return ready(metav1.ConditionUnknown, psv1alpha1.ReasonProgressing, "the current generation is being applied")
	}
	return ready(metav1.ConditionTrue, psv1alpha1.ReasonHealthy, healthyMessage(checks))
}

// healthyMessage names the parts that were checked, and only those: a disabled exporter or
// absent mirrors have no check, so the message does not claim them.
func healthyMessage(checks []Check) string {
	parts := make([]string, 0, len(checks))
	for _, c := range checks {
		if c.Part != "" {
			parts = append(parts, c.Part)
		}
	}
	switch len(parts) {
	case 0:
		return "every part is healthy"
	case 1:
		return parts[0] + " is healthy"
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1] + " are healthy"
}

// TektonConfigCRDMissing is TektonConfigReady while OSP has not installed the TektonConfig
// CRD: progress, since OSP installs it as soon as it runs.
func TektonConfigCRDMissing() Check {
	return progressing(psv1alpha1.ConditionTektonConfigReady, psv1alpha1.ReasonTektonConfigCRDMissing,
		"waiting for the OpenShift Pipelines operator to install the TektonConfig CRD; the TektonConfig is applied as soon as it is served")
}

// MirrorsApplied reports the mirror policy: applied, or impossible because the cluster serves
// neither ImageContentSourcePolicy nor ImageDigestMirrorSet.
func MirrorsApplied(apiServed bool, kind string) Check {
	const t = psv1alpha1.ConditionMirrorsApplied
	if !apiServed {
		return failing(t, psv1alpha1.ReasonMirrorAPIMissing,
			"neither ImageContentSourcePolicy nor ImageDigestMirrorSet is served: spec.mirrors needs OpenShift; remove spec.mirrors on other clusters")
	}
	return healthy(t, psv1alpha1.ReasonApplied, fmt.Sprintf("%s pipeline-service applied", kind))
}
