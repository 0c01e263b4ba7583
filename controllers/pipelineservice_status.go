package controllers

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/health"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
)

// applyOutcome is what rendering and applying the children did in one reconcile.
type applyOutcome struct {
	// stalled is the terminal input error that stopped the apply.
	stalled *metav1.Condition
	errs    []error
	// rejected are the errors of errs that are the API server's (or admission's) refusal of
	// an object, each naming the object and the server's message.
	rejected []string
	// missing are the kinds of wanted children whose API is not served.
	missing []string
	// written describes each object created, changed or pruned.
	written []string
	// discoveryLag: a CRD exists whose kind discovery does not serve yet.
	discoveryLag bool
	// mirrorKind is the kind the mirror policy was rendered as.
	mirrorKind string
}

func (o applyOutcome) tektonMissing() bool {
	return slices.Contains(o.missing, render.GVKTektonConfig.Kind)
}

// optionalMissing are the missing kinds other than TektonConfig and the mirror policies,
// which have conditions of their own.
func (o applyOutcome) optionalMissing() []string {
	var out []string
	for _, k := range o.missing {
		if k != render.GVKTektonConfig.Kind && k != render.GVKICSP.Kind && k != render.GVKIDMS.Kind {
			out = append(out, k)
		}
	}
	return out
}

// event is a Kubernetes Event the reconcile emits once its status is stored.
type event struct {
	// done: the event reports something this pass did (a write, an approval), which is
	// announced even when the status cannot be stored, rather than a status transition.
	done    bool
	warning bool
	reason  string
	action  string
	message string
	// upgradeSeconds, when set, is an upgrade's duration for the histogram.
	upgradeSeconds *float64
}

// setStatus computes the whole status from what was applied and observed; it does no I/O.
// It returns the Events that the changes it made are worth, to be emitted once the status is
// stored: a reconcile that read a stale PipelineService must not announce a transition twice.
func setStatus(ps *psv1alpha1.PipelineService, out applyOutcome, obs observation, approval health.Approval, now metav1.Time) []event {
	st := &ps.Status
	before := ps.Status.DeepCopy()
	var events []event

	checks := []health.Check{
		health.CatalogSourceReady(obs.catalog, obs.catalogErr),
		health.OperatorInstalled(obs.operator, approval),
	}
	if obs.tektonServed {
		checks = append(checks, health.TektonConfigReady(obs.tekton, obs.tektonErr))
	} else {
		checks = append(checks, health.TektonConfigCRDMissing())
	}
	// The exporter and the mirrors have a condition only while the spec asks for them.
	if ps.Spec.Exporter.Enabled {
		checks = append(checks, health.ExporterAvailable(obs.exporter, obs.exporterErr))
	} else {
		meta.RemoveStatusCondition(&st.Conditions, psv1alpha1.ConditionExporterAvailable)
	}
	if len(ps.Spec.Mirrors) > 0 {
		checks = append(checks, health.MirrorsApplied(out.mirrorKind != "", out.mirrorKind))
	} else {
		meta.RemoveStatusCondition(&st.Conditions, psv1alpha1.ConditionMirrorsApplied)
	}

	// Versions. The installed CSV is kept when the Subscription cannot be read or is gone:
	// deletion needs it to find the CSV.
	lastInstalled := st.InstalledCSV
	if csv := obs.operator.InstalledCSV(); csv != "" {
		st.InstalledCSV = csv
	}
	if v := obs.operator.InstalledVersion(); v != "" || st.InstalledCSV != lastInstalled {
		st.InstalledVersion = v
	}
	st.DesiredCSV = obs.operator.DesiredCSV()
	st.TektonVersion = health.TektonVersion(obs.tekton)
	st.CatalogState = health.CatalogState(obs.catalog)
	// A failed list keeps the last components rather than reporting none: the status and
	// the component metrics would otherwise say every Deployment is gone.
	if obs.componentsErr == nil {
		st.Components = health.Components(obs.components)
	}

	step := health.TrackUpgrade(st.Upgrade, lastInstalled, st.InstalledCSV, obs.operator.Succeeded(), now)
	st.Upgrade = step.Upgrade
	if step.Started {
		events = append(events, event{reason: psv1alpha1.ReasonUpgrading, action: "Upgrade", message: upgradeMessage(step.Upgrade, "started")})
	}
	if step.Completed {
		e := event{reason: psv1alpha1.ReasonUpgradeCompleted, action: "Upgrade", message: upgradeMessage(step.Upgrade, "completed")}
		if step.Upgrade.From != "" {
			d := step.Upgrade.CompletedAt.Sub(step.Upgrade.StartedAt.Time).Seconds()
			e.upgradeSeconds = &d
		}
		events = append(events, e)
	}

	// A pin below the installed CSV is bad input the schema cannot see: terminal, like an
	// invalid TektonConfig, though everything else is still applied.
	stalled := out.stalled
	if stalled == nil && approval.Downgrade != "" {
		stalled = &metav1.Condition{Reason: psv1alpha1.ReasonDowngradeNotSupported, Message: approval.Downgrade}
	}
	generationApplied := out.stalled == nil && len(out.errs) == 0 && !out.tektonMissing()
	if generationApplied {
		st.ObservedGeneration = ps.Generation
	}

	set := func(c metav1.Condition) {
		c.ObservedGeneration = ps.Generation
		meta.SetStatusCondition(&st.Conditions, c)
	}
	for _, c := range checks {
		set(c.Condition)
	}
	if stalled != nil {
		set(metav1.Condition{Type: psv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: stalled.Reason, Message: stalled.Message})
		if prev := meta.FindStatusCondition(before.Conditions, psv1alpha1.ConditionStalled); prev == nil || prev.Message != stalled.Message || prev.ObservedGeneration != ps.Generation {
			events = append(events, event{warning: true, reason: stalled.Reason, action: "Reconcile", message: stalled.Message})
		}
	} else {
		meta.RemoveStatusCondition(&st.Conditions, psv1alpha1.ConditionStalled)
	}

	switch {
	case out.stalled != nil:
		meta.RemoveStatusCondition(&st.Conditions, psv1alpha1.ConditionReconciling)
	case len(out.rejected) > 0:
		prev := meta.FindStatusCondition(before.Conditions, psv1alpha1.ConditionReconciling)
		msg := errors.Join(out.errs...).Error() + "; the children not named here are applied; retrying with backoff"
		set(metav1.Condition{Type: psv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: psv1alpha1.ReasonApplyRejected, Message: msg})
		// One Event per distinct refusal, not one per retry.
		for _, r := range out.rejected {
			if prev == nil || prev.Reason != psv1alpha1.ReasonApplyRejected || !strings.Contains(prev.Message, r) {
				events = append(events, event{warning: true, reason: psv1alpha1.ReasonApplyRejected, action: "Apply", message: r})
			}
		}
	case len(out.errs) > 0:
		set(metav1.Condition{Type: psv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: psv1alpha1.ReasonApplyFailed,
			Message: errors.Join(out.errs...).Error()})
	case out.tektonMissing():
		set(metav1.Condition{Type: psv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: psv1alpha1.ReasonTektonConfigCRDMissing,
			Message: "everything else is applied; the TektonConfig waits for its CRD"})
	case health.UpgradeRunning(st.Upgrade):
		set(metav1.Condition{Type: psv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: psv1alpha1.ReasonUpgrading,
			Message: upgradeMessage(st.Upgrade, "running")})
	default:
		meta.RemoveStatusCondition(&st.Conditions, psv1alpha1.ConditionReconciling)
	}

	var applyErr error
	if len(out.errs) > 0 {
		applyErr = errors.Join(out.errs...)
	}
	ready := health.Summary(health.Apply{Stalled: stalled, Err: applyErr, Rejected: len(out.rejected) > 0, MissingAPIs: out.optionalMissing(), GenerationApplied: generationApplied}, checks)
	set(ready)
	if prev := meta.FindStatusCondition(before.Conditions, psv1alpha1.ConditionReady); prev == nil || prev.Status != ready.Status {
		switch ready.Status {
		case metav1.ConditionTrue:
			events = append(events, event{reason: psv1alpha1.ReasonHealthy, action: "Observe", message: ready.Message})
		case metav1.ConditionFalse:
			if stalled == nil && len(out.rejected) == 0 { // the Stalled or ApplyRejected event already says it
				events = append(events, event{warning: true, reason: ready.Reason, action: "Observe", message: ready.Message})
			}
		}
	}
	return events
}

func upgradeMessage(u *psv1alpha1.UpgradeStatus, what string) string {
	if u.From == "" {
		return fmt.Sprintf("install of %s %s", u.To, what)
	}
	return fmt.Sprintf("upgrade from %s to %s %s", u.From, u.To, what)
}

// writeEvent is the Event for the children one reconcile wrote: a new generation applied, or
// drift healed when the generation had been applied before and someone changed a child.
func writeEvent(ps *psv1alpha1.PipelineService, generationWasApplied bool, written []string) event {
	if generationWasApplied {
		return event{done: true, reason: psv1alpha1.ReasonDriftHealed, action: "Apply",
			message: "restored " + strings.Join(written, ", ")}
	}
	return event{done: true, reason: psv1alpha1.ReasonApplied, action: "Apply",
		message: fmt.Sprintf("applied %d change(s) for generation %d: %s", len(written), ps.Generation, strings.Join(written, ", "))}
}

func eventType(e event) string {
	if e.warning {
		return corev1.EventTypeWarning
	}
	return corev1.EventTypeNormal
}
