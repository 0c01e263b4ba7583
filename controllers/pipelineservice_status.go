package controllers

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// applyOutcome is what rendering and applying the children did in one reconcile.
type applyOutcome struct {
	// invalid is the refusal of the spec (by render or OSP's admission code) that stopped
	// the apply before anything was written.
	invalid *metav1.Condition
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
	// mirrorKind is the kind the mirror policy was applied as, "" when neither is served.
	mirrorKind string
	// inventory is every object applied and not pruned: the status's inventory.
	inventory []psv1alpha1.InventoryEntry
}

func (o applyOutcome) tektonMissing() bool {
	return slices.Contains(o.missing, children.GVKTektonConfig.Kind)
}

// optionalMissing are the missing kinds that the registry marks optional; the others have
// conditions of their own (TektonConfigReady, MirrorsApplied).
func (o applyOutcome) optionalMissing() []string {
	var out []string
	for _, kind := range o.missing {
		for _, k := range children.Kinds {
			if k.GVK.Kind == kind && k.Optional {
				out = append(out, kind)
			}
		}
	}
	return out
}

// generationApplied is whether every object of the current generation was applied.
func (o applyOutcome) generationApplied() bool {
	return o.invalid == nil && len(o.errs) == 0 && !o.tektonMissing()
}

// result is what a reconcile that applied o returns: a conflict (another writer changed an
// object between our read and our write) is retried soon and quietly, as the next pass reads
// the new version; other errors go back to the workqueue, which retries with exponential
// backoff; a CRD that discovery does not serve yet is retried in a moment.
func (o applyOutcome) result() (ctrl.Result, error) {
	switch {
	case len(o.errs) > 0 && allConflicts(o.errs):
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	case len(o.errs) > 0:
		return ctrl.Result{}, errors.Join(o.errs...)
	case o.discoveryLag:
		return ctrl.Result{RequeueAfter: discoveryLagRetry}, nil
	}
	return ctrl.Result{}, nil
}

func (o applyOutcome) err() error {
	if len(o.errs) == 0 {
		return nil
	}
	return errors.Join(o.errs...)
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

// setStatus computes the whole status from what was applied and observed, one setter per
// field or condition; it does no I/O. It returns the Events that the changes are worth, to be
// emitted once the status is stored: a reconcile that read a stale PipelineService must not
// announce a transition twice.
func setStatus(ps *psv1alpha1.PipelineService, out applyOutcome, obs observation, approval health.Approval, now metav1.Time) []event {
	before := ps.Status.DeepCopy()
	var events []event
	events = append(events, setUpgrade(ps, obs, now)...)
	setVersions(ps, obs)
	setComponents(ps, obs)
	setInventory(ps, out)
	setObservedGeneration(ps, out)

	checks := partChecks(ps, out, obs, approval)
	setPartConditions(ps, checks)
	stalled := stalledBy(out, approval)
	events = append(events, setStalledCondition(ps, before, stalled)...)
	events = append(events, setReconcilingCondition(ps, before, out)...)
	events = append(events, setReadyCondition(ps, before, out, stalled, checks)...)
	return events
}

// setUpgrade records a change of the installed CSV, and its completion once the new CSV
// has Succeeded. It runs before setVersions, which overwrites the installed CSV it compares.
func setUpgrade(ps *psv1alpha1.PipelineService, obs observation, now metav1.Time) []event {
	st := &ps.Status
	installed := st.InstalledCSV
	if csv := obs.operator.InstalledCSV(); csv != "" {
		installed = csv
	}
	step := health.TrackUpgrade(st.Upgrade, st.InstalledCSV, installed, obs.operator.Succeeded(), now)
	st.Upgrade = step.Upgrade
	var events []event
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
	return events
}

// setVersions sets the installed, desired and Tekton versions and the catalog's state. The
// installed CSV is kept when the Subscription cannot be read or is gone: deletion needs it to
// find the CSV.
func setVersions(ps *psv1alpha1.PipelineService, obs observation) {
	st := &ps.Status
	last := st.InstalledCSV
	if csv := obs.operator.InstalledCSV(); csv != "" {
		st.InstalledCSV = csv
	}
	if v := obs.operator.InstalledVersion(); v != "" || st.InstalledCSV != last {
		st.InstalledVersion = v
	}
	st.DesiredCSV = obs.operator.DesiredCSV()
	st.TektonVersion = health.TektonVersion(obs.tekton)
	st.CatalogState = health.CatalogState(obs.catalog)
}

// setComponents lists the Deployments of the target namespace. A failed list keeps the last
// components rather than reporting none: the status and the component metrics would
// otherwise say every Deployment is gone.
func setComponents(ps *psv1alpha1.PipelineService, obs observation) {
	if obs.componentsErr == nil {
		ps.Status.Components = health.Components(obs.components)
	}
}

// setInventory records what is applied and not pruned.
func setInventory(ps *psv1alpha1.PipelineService, out applyOutcome) {
	ps.Status.Inventory = out.inventory
}

// setObservedGeneration advances observedGeneration once every object of the generation is
// applied.
func setObservedGeneration(ps *psv1alpha1.PipelineService, out applyOutcome) {
	if out.generationApplied() {
		ps.Status.ObservedGeneration = ps.Generation
	}
}

// partChecks are the health checks of the parts the spec asks for: the exporter and the
// mirrors have one only while the spec asks for them.
func partChecks(ps *psv1alpha1.PipelineService, out applyOutcome, obs observation, approval health.Approval) []health.Check {
	checks := []health.Check{
		health.CatalogSourceReady(obs.catalog, obs.catalogErr),
		health.OperatorInstalled(obs.operator, approval),
	}
	if obs.tektonServed {
		checks = append(checks, health.TektonConfigReady(obs.tekton, obs.tektonErr))
	} else {
		checks = append(checks, health.TektonConfigCRDMissing())
	}
	if ps.Spec.Exporter.Enabled {
		checks = append(checks, health.ExporterAvailable(obs.exporter, obs.exporterErr))
	}
	if len(ps.Spec.Mirrors) > 0 {
		checks = append(checks, health.MirrorsApplied(out.mirrorKind != "", out.mirrorKind))
	}
	return checks
}

// partConditions are the condition types partChecks can set.
var partConditions = []string{
	psv1alpha1.ConditionCatalogSourceReady, psv1alpha1.ConditionOperatorInstalled, psv1alpha1.ConditionTektonConfigReady,
	psv1alpha1.ConditionExporterAvailable, psv1alpha1.ConditionMirrorsApplied,
}

// setPartConditions sets the condition of each check and removes those of parts the spec no
// longer asks for.
func setPartConditions(ps *psv1alpha1.PipelineService, checks []health.Check) {
	for _, t := range partConditions {
		if !slices.ContainsFunc(checks, func(c health.Check) bool { return c.Condition.Type == t }) {
			meta.RemoveStatusCondition(&ps.Status.Conditions, t)
		}
	}
	for _, c := range checks {
		setCondition(ps, c.Condition)
	}
}

// stalledBy is the terminal input error, if any: a spec OSP would refuse (nothing was
// applied), or a pin below the installed CSV, which the schema cannot see (everything else
// was applied).
func stalledBy(out applyOutcome, approval health.Approval) *metav1.Condition {
	if out.invalid != nil {
		return out.invalid
	}
	if approval.Downgrade != "" {
		return &metav1.Condition{Reason: psv1alpha1.ReasonDowngradeNotSupported, Message: approval.Downgrade}
	}
	return nil
}

// setStalledCondition sets Stalled while the spec has a terminal error, with a Warning the
// first time each message is seen for a generation.
func setStalledCondition(ps *psv1alpha1.PipelineService, before *psv1alpha1.PipelineServiceStatus, stalled *metav1.Condition) []event {
	if stalled == nil {
		meta.RemoveStatusCondition(&ps.Status.Conditions, psv1alpha1.ConditionStalled)
		return nil
	}
	setCondition(ps, metav1.Condition{Type: psv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: stalled.Reason, Message: stalled.Message})
	if prev := meta.FindStatusCondition(before.Conditions, psv1alpha1.ConditionStalled); prev != nil && prev.Message == stalled.Message && prev.ObservedGeneration == ps.Generation {
		return nil
	}
	return []event{{warning: true, reason: stalled.Reason, action: "Reconcile", message: stalled.Message}}
}

// setReconcilingCondition sets Reconciling while the operator has work left: a refused or
// failed apply, a TektonConfig waiting for its CRD, an upgrade running. A spec that stalled
// the apply is not work in progress.
func setReconcilingCondition(ps *psv1alpha1.PipelineService, before *psv1alpha1.PipelineServiceStatus, out applyOutcome) []event {
	reconciling := func(reason, msg string) {
		setCondition(ps, metav1.Condition{Type: psv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: reason, Message: msg})
	}
	switch {
	case out.invalid != nil:
		meta.RemoveStatusCondition(&ps.Status.Conditions, psv1alpha1.ConditionReconciling)
	case len(out.rejected) > 0:
		prev := meta.FindStatusCondition(before.Conditions, psv1alpha1.ConditionReconciling)
		reconciling(psv1alpha1.ReasonApplyRejected, out.err().Error()+"; the children not named here are applied; retrying with backoff")
		// One Event per distinct refusal, not one per retry.
		var events []event
		for _, r := range out.rejected {
			if prev == nil || prev.Reason != psv1alpha1.ReasonApplyRejected || !strings.Contains(prev.Message, r) {
				events = append(events, event{warning: true, reason: psv1alpha1.ReasonApplyRejected, action: "Apply", message: r})
			}
		}
		return events
	case len(out.errs) > 0:
		reconciling(psv1alpha1.ReasonApplyFailed, out.err().Error())
	case out.tektonMissing():
		reconciling(psv1alpha1.ReasonTektonConfigCRDMissing, "everything else is applied; the TektonConfig waits for its CRD")
	case health.UpgradeRunning(ps.Status.Upgrade):
		reconciling(psv1alpha1.ReasonUpgrading, upgradeMessage(ps.Status.Upgrade, "running"))
	default:
		meta.RemoveStatusCondition(&ps.Status.Conditions, psv1alpha1.ConditionReconciling)
	}
	return nil
}

// setReadyCondition sets the summary, with an Event when its status changes; a failure that
// the Stalled or ApplyRejected Event already announces is not announced twice.
func setReadyCondition(ps *psv1alpha1.PipelineService, before *psv1alpha1.PipelineServiceStatus, out applyOutcome, stalled *metav1.Condition, checks []health.Check) []event {
	ready := health.Summary(health.Apply{Stalled: stalled, Err: out.err(), Rejected: len(out.rejected) > 0,
		MissingAPIs: out.optionalMissing(), GenerationApplied: out.generationApplied()}, checks)
	setCondition(ps, ready)
	if prev := meta.FindStatusCondition(before.Conditions, psv1alpha1.ConditionReady); prev != nil && prev.Status == ready.Status {
		return nil
	}
	switch {
	case ready.Status == metav1.ConditionTrue:
		return []event{{reason: psv1alpha1.ReasonHealthy, action: "Observe", message: ready.Message}}
	case ready.Status == metav1.ConditionFalse && stalled == nil && len(out.rejected) == 0:
		return []event{{warning: true, reason: ready.Reason, action: "Observe", message: ready.Message}}
	}
	return nil
}

// setCondition sets c for the current generation.
func setCondition(ps *psv1alpha1.PipelineService, c metav1.Condition) {
	c.ObservedGeneration = ps.Generation
	meta.SetStatusCondition(&ps.Status.Conditions, c)
}

func upgradeMessage(u *psv1alpha1.UpgradeStatus, what string) string {
	if u.From == "" {
		return fmt.Sprintf("install of %s %s", u.To, what)
	}
	return fmt.Sprintf("upgrade from %s to %s %s", u.From, u.To, what)
}

// writeEvent is the Event for the children one reconcile wrote: a new generation applied, or
// drift healed when the generation had been applied before and someone changed a child.
func writeEvent(generation int64, generationWasApplied bool, written []string) event {
	if generationWasApplied {
		return event{done: true, reason: psv1alpha1.ReasonDriftHealed, action: "Apply",
			message: "restored " + strings.Join(written, ", ")}
	}
	return event{done: true, reason: psv1alpha1.ReasonApplied, action: "Apply",
		message: fmt.Sprintf("applied %d change(s) for generation %d: %s", len(written), generation, strings.Join(written, ", "))}
}

func eventType(e event) string {
	if e.warning {
		return corev1.EventTypeWarning
	}
	return corev1.EventTypeNormal
}
