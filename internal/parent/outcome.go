package parent

import (
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// Outcome is what rendering and applying a parent's children did in one pass.
type Outcome struct {
	// Invalid is the refusal of the spec (a terminal error, such as a TektonConfig OSP would
	// refuse) that stopped the apply before anything was written.
	Invalid *metav1.Condition
	Errs    []error
	// Rejected are the errors of Errs that refuse an object, each naming the object: the API
	// server's (or admission's) refusal, or the operator's own refusal to take over an object
	// another controller owns.
	Rejected []Refusal
	// Missing are the kinds of wanted children whose API is not served.
	Missing []string
	// Written describes each object created, changed or pruned.
	Written []string
	// DiscoveryLag: a CRD exists whose kind discovery does not serve yet.
	DiscoveryLag bool
	// Applied are the wanted objects whose kind is served: those the pass applied, or tried to.
	Applied []*unstructured.Unstructured
	// Inventory is every object applied and not pruned: the status's inventory.
	Inventory []psv1alpha1.InventoryEntry
	// Suspended: the parent is suspended, and nothing was rendered, applied or pruned.
	Suspended bool
	// ReadErrs are the reads the kind's Observe could not make (its conditions say Unknown
	// for them): the pass is retried with the workqueue's backoff, as no watch may fire to
	// read them again.
	ReadErrs []error
}

// Refusal is one refused object: the reason (ApplyRejected or ObjectOwnedElsewhere) and the
// message naming it.
type Refusal struct{ Reason, Message string }

// refusal is the Refusal err is, or false when err is not a refusal of the object itself.
func refusal(err error) (Refusal, bool) {
	var owned *apply.OwnedElsewhereError
	switch {
	case errors.As(err, &owned):
		return Refusal{Reason: psv1alpha1.ReasonObjectOwnedElsewhere, Message: err.Error()}, true
	case rejectedByServer(err):
		return Refusal{Reason: psv1alpha1.ReasonApplyRejected, Message: err.Error()}, true
	}
	return Refusal{}, false
}

// RejectedReason is the reason of the refusals: ObjectOwnedElsewhere when the operator refused
// every one itself, else ApplyRejected; "" when nothing was refused.
func (o *Outcome) RejectedReason() string {
	if len(o.Rejected) == 0 {
		return ""
	}
	for _, r := range o.Rejected {
		if r.Reason != psv1alpha1.ReasonObjectOwnedElsewhere {
			return psv1alpha1.ReasonApplyRejected
		}
	}
	return psv1alpha1.ReasonObjectOwnedElsewhere
}

// Invalid is the error a kind's Render returns to refuse the spec: the parent is Stalled with
// the condition's reason and message, and nothing is applied. Fields are the refused fields
// the message names, each on its own, for `validate` to list as the condition does.
type Invalid struct {
	Condition metav1.Condition
	Fields    []InvalidField
}

// InvalidField is one refused field of a parent's spec: its path in the parent, and why.
type InvalidField struct{ Path, Message string }

func (e *Invalid) Error() string { return e.Condition.Message }

// Err is every error of the pass, joined; nil when there was none.
func (o *Outcome) Err() error { return errors.Join(o.Errs...) }

// OptionalMissing are the missing kinds that the registry marks optional, named in Ready's
// message; the others have conditions of their own.
func (o *Outcome) OptionalMissing() []string {
	var out []string
	for _, kind := range o.Missing {
		if slices.ContainsFunc(children.Kinds, func(k children.Kind) bool { return k.GVK.Kind == kind && k.Optional }) {
			out = append(out, kind)
		}
	}
	return out
}

// Awaited is the first missing kind whose CRD the generation waits for (children.Kind's
// Awaited), nil when none.
func (o *Outcome) Awaited() *children.Kind {
	for _, kind := range o.Missing {
		for _, k := range children.Kinds {
			if k.GVK.Kind == kind && k.Awaited != "" {
				return &k
			}
		}
	}
	return nil
}

// GenerationApplied is whether every object of the current generation was applied.
func (o *Outcome) GenerationApplied() bool {
	return !o.Suspended && o.Invalid == nil && len(o.Errs) == 0 && o.Awaited() == nil
}

// result is what a pass that applied o returns: a conflict (another writer changed an object
// between our read and our write) is retried soon and quietly, as the next pass reads the new
// version; other errors go back to the workqueue, which retries with exponential backoff; a
// CRD that discovery does not serve yet is retried in a moment.
func (o *Outcome) result() (ctrl.Result, error) {
	switch {
	case len(o.Errs) > 0 && allConflicts(o.Errs):
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	case len(o.Errs) > 0:
		return ctrl.Result{}, o.Err()
	case o.DiscoveryLag:
		return ctrl.Result{RequeueAfter: discoveryLagRetry}, nil
	case len(o.ReadErrs) > 0:
		return ctrl.Result{}, fmt.Errorf("observe: %w", errors.Join(o.ReadErrs...))
	}
	return ctrl.Result{}, nil
}

// rejectedByServer is whether the API server, or an admission webhook, policy or quota it
// runs, refused the object itself: retrying the same object cannot succeed until someone
// changes the object or the rule.
func rejectedByServer(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) ||
		apierrors.IsRequestEntityTooLargeError(err)
}

// allConflicts is whether every error is an optimistic-lock conflict.
func allConflicts(errs []error) bool {
	for _, err := range errs {
		if !apierrors.IsConflict(err) {
			return false
		}
	}
	return len(errs) > 0
}
