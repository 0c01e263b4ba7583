package parent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/inventory"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/watches"
)

// Reconciler reconciles the parent of one kind named cluster.
type Reconciler[T Object, O any] struct {
	client   client.Client
	recorder events.EventRecorder
	kind     Kind[T, O]
	engine   *apply.Engine
	watches  *watches.Children
	planner  *Planner[T, O]
	cluster  *Cluster
}

// SetupWithManager registers the controller of kind k, named name, with mgr. Child kinds are
// watched from start-up when served, and from the first reconcile after their CRD arrives, so
// the operator starts whether or not their CRDs exist.
func SetupWithManager[T Object, O any](mgr ctrl.Manager, name string, k Kind[T, O]) error {
	r := &Reconciler[T, O]{client: mgr.GetClient(), recorder: mgr.GetEventRecorder(FieldManager), kind: k, planner: NewPlanner(k)}
	c, err := ctrl.NewControllerManagedBy(mgr).
		For(k.NewObject(), builder.WithPredicates(notStatusOnly)).
		Watches(watches.CRDMetadata(), watches.EnqueueCluster, builder.OnlyMetadata, builder.WithPredicates(watches.CRDs(k.Profile()))).
		Named(name).
		WithOptions(controller.Options{RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](retryBaseDelay, retryMaxDelay)}).
		Build(r)
	if err != nil {
		return err
	}
	r.engine = apply.New(r.client, apply.Options{FieldManager: FieldManager, HashAnnotation: render.AnnotationAppliedHash, Workers: applyWorkers,
		Adopt: adopt, Uncached: mgr.GetAPIReader()})
	r.cluster = &Cluster{Live: LiveReader(r.client, mgr.GetAPIReader()), Engine: r.engine}
	observed, err := k.Setup(mgr, c)
	if err != nil {
		return err
	}
	r.watches = watches.New(k.Profile(), c, mgr.GetCache(), mgr.GetRESTMapper(), observed)
	// Every served kind is watched from the start, so that the informers sync together
	// before the first reconcile rather than one kind at a time during it.
	return r.watches.Start(r.watches.Served())
}

// notStatusOnly drops the updates of a parent that change only its status: the operator's own
// status writes. Each would wake a pass with nothing to do, and an event that matters (a CSV
// Succeeded, a child deleted) would wait behind it. A change of generation, labels,
// annotations, finalizers or deletion passes.
var notStatusOnly = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	o, n := e.ObjectOld, e.ObjectNew
	return o.GetGeneration() != n.GetGeneration() || !maps.Equal(o.GetLabels(), n.GetLabels()) ||
		!maps.Equal(o.GetAnnotations(), n.GetAnnotations()) || !slices.Equal(o.GetFinalizers(), n.GetFinalizers()) ||
		!o.GetDeletionTimestamp().Equal(n.GetDeletionTimestamp())
}}

// Reconcile brings the cluster to the state the parent describes: get, finalizer or deletion,
// render and apply, observe, the kind's own steps, then one status patch, Events and metrics.
func (r *Reconciler[T, O]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if req.Name != psv1alpha1.Name {
		return ctrl.Result{}, nil
	}
	obj := r.kind.NewObject()
	if err := r.client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.kind.Metrics().Forget()
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	original := copyOf(obj)
	if !obj.GetDeletionTimestamp().IsZero() {
		return r.reconcileDelete(ctx, obj, original)
	}
	if changed, err := keepFinalizer(ctx, r.client, obj); err != nil {
		return ctrl.Result{}, err
	} else if changed {
		original = copyOf(obj)
	}

	served := r.watches.Served()
	if err := r.watches.Ensure(ctx, served); err != nil {
		return ctrl.Result{}, err
	}
	out := r.applyChildren(ctx, obj, served)
	obs := r.kind.Observe(ctx, obj, served, out)
	var evs []Event
	if out.Invalid == nil && !out.Suspended {
		done, errs := r.kind.Act(ctx, obj, out, obs)
		evs = append(evs, done...)
		out.Errs = append(out.Errs, errs...)
	}
	if len(out.Written) > 0 {
		evs = append(evs, writeEvent(obj.GetGeneration(), original.GetParentStatus().LastAppliedGeneration == obj.GetGeneration(),
			meta.IsStatusConditionTrue(original.GetParentStatus().Conditions, psv1alpha1.ConditionSuspended), out.Written))
	}
	evs = append(evs, SetStatus(r.kind, obj, out, obs, metav1.Now())...)
	if err := patchStatus(ctx, r.client, original, obj); err != nil {
		// The status was not stored, so its transitions are not announced; what this pass
		// did (writes, approvals) happened all the same and is.
		r.emit(obj, slices.DeleteFunc(evs, func(e Event) bool { return !e.Done }))
		if apierrors.IsConflict(err) {
			// The cache held an older parent: decide again in a moment, from the newer one.
			// Its event may not come (notStatusOnly drops a status-only change), so the
			// retry is asked for, quietly, rather than awaited.
			if err := out.Err(); err != nil {
				return ctrl.Result{}, err
			}
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, errors.Join(append(out.Errs, err)...)
	}
	r.emit(obj, evs)
	r.kind.Metrics().Record(obj)
	return out.result()
}

// applyChildren plans the children, then applies them and prunes what is no longer rendered. A
// refused spec stops it before anything is applied, and so does a suspended parent, once its
// children are planned: what would be applied is what the kind observes.
func (r *Reconciler[T, O]) applyChildren(ctx context.Context, obj T, served children.Served) *Outcome {
	out := &Outcome{Inventory: obj.GetParentStatus().Inventory, Suspended: obj.Suspended()}
	plan, err := r.planner.Plan(ctx, obj, served, r.cluster)
	if err != nil {
		if invalid, ok := errors.AsType[*Invalid](err); ok {
			out.Invalid = &invalid.Condition
		} else {
			out.Errs = append(out.Errs, err)
		}
		return out
	}
	out.Applied = plan.Apply
	for _, gvk := range plan.Missing {
		out.Missing = append(out.Missing, gvk.Kind)
		out.DiscoveryLag = out.DiscoveryLag || r.watches.CRDExists(ctx, gvk.GroupKind())
	}
	if out.Suspended {
		return out
	}
	r.applyAndPrune(ctx, plan, out)
	return out
}

// applyAndPrune applies the plan and deletes what it prunes, recording what it wrote, what
// failed and the new inventory. Nothing is pruned in a pass where an apply failed.
func (r *Reconciler[T, O]) applyAndPrune(ctx context.Context, plan *Plan, out *Outcome) {
	logger := log.FromContext(ctx)
	// Everything wanted is recorded before it is applied, with what the last pass applied
	// that is not pruned yet, so that an object created in a pass whose status write fails
	// is still in the next pass's inventory.
	inv := slices.Clone(plan.Last)
	for _, obj := range plan.Apply {
		inv = append(inv, inventory.Entry(obj))
	}
	out.Inventory = inventory.Sort(inv)

	known := map[psv1alpha1.InventoryEntry]bool{}
	for _, e := range plan.Last {
		known[e] = true
	}
	ours := func(o *unstructured.Unstructured) bool { return known[inventory.Entry(o)] }
	for _, res := range r.engine.Apply(ctx, plan.Apply, ours) {
		switch {
		case res.Err != nil:
			if refused, ok := refusal(res.Err); ok {
				out.Rejected = append(out.Rejected, refused)
				if refused.Reason == psv1alpha1.ReasonObjectOwnedElsewhere {
					// Not ours: never pruned or deleted as if it were.
					entry := inventory.Entry(res.Object)
					out.Inventory = slices.DeleteFunc(out.Inventory, func(e psv1alpha1.InventoryEntry) bool { return e == entry })
				}
			}
			out.Errs = append(out.Errs, res.Err)
		case res.Changed:
			out.Written = append(out.Written, apply.Describe(res.Object))
			logger.V(1).Info("applied", "kind", res.Object.GetKind(), "namespace", res.Object.GetNamespace(), "name", res.Object.GetName())
		}
	}
	if len(out.Errs) > 0 || len(plan.Prune) == 0 {
		return
	}
	refs := make([]*unstructured.Unstructured, 0, len(plan.Prune))
	for _, e := range plan.Prune {
		refs = append(refs, inventory.Ref(e))
	}
	deleted, err := r.engine.Delete(ctx, refs)
	var names []string
	for _, d := range deleted {
		names = append(names, apply.Describe(d))
		out.Written = append(out.Written, "deleted "+apply.Describe(d))
	}
	if len(names) > 0 {
		logger.Info("pruned children the spec no longer renders", "objects", names)
	}
	if err != nil {
		out.Errs = append(out.Errs, err)
		return
	}
	out.Inventory = slices.DeleteFunc(out.Inventory, func(e psv1alpha1.InventoryEntry) bool { return slices.Contains(plan.Prune, e) })
}

// reconcileDelete carries out the deletionPolicy, then releases the finalizer. Orphan leaves
// every child, so that a mistaken prune in ArgoCD does not uninstall Tekton.
func (r *Reconciler[T, O]) reconcileDelete(ctx context.Context, obj, original T) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, finalizer) {
		return ctrl.Result{}, nil
	}
	if obj.Deletion() == psv1alpha1.DeletionPolicyDelete && obj.Suspended() {
		// Suspended: no child is written, deletion's deletes included; the children stay, as
		// with Orphan, and the Event says so.
		r.emit(obj, []Event{{Done: true, Reason: psv1alpha1.ReasonSuspended, Action: "Delete",
			Message: "deleted while suspended: deletionPolicy Delete was not carried out, every child is left in place"}})
	} else if obj.Deletion() == psv1alpha1.DeletionPolicyDelete {
		inv, err := lastInventory(ctx, r.engine, obj, r.watches.Served(), r.kind.Profile())
		if err != nil {
			return ctrl.Result{}, err
		}
		inv = append(slices.Clone(inv), r.kind.DeletionExtras(obj)...)
		waiting, err := r.deleteInventory(ctx, inv)
		if err != nil {
			return ctrl.Result{}, err
		}
		if waiting != "" {
			setDeleting(obj, fmt.Sprintf("deletionPolicy Delete: waiting for %s to be deleted", waiting))
			if err := patchStatus(ctx, r.client, original, obj); err != nil && !apierrors.IsConflict(err) {
				return ctrl.Result{}, err
			}
			// A conflict means a newer parent is on its way; the poll below reads it again,
			// quietly. Watches wake the reconcile when a child goes; the poll covers
			// finalizers of children whose removal the operator does not watch (the CSV).
			return ctrl.Result{RequeueAfter: deletionPollInterval}, nil
		}
		r.emit(obj, []Event{{Done: true, Reason: psv1alpha1.ReasonDeleting, Action: "Delete",
			Message: "deletionPolicy Delete: every child is deleted"}})
	}
	log.FromContext(ctx).Info("releasing the finalizer", "deletionPolicy", obj.Deletion())
	return ctrl.Result{}, releaseFinalizer(ctx, r.client, obj)
}

// deleteInventory deletes the remaining objects of inv in the first unfinished deletion step
// and names what it waits for; "" means every step is done.
func (r *Reconciler[T, O]) deleteInventory(ctx context.Context, inv []psv1alpha1.InventoryEntry) (string, error) {
	for _, step := range children.DeleteSteps(r.kind.Profile()) {
		var refs []*unstructured.Unstructured
		for _, e := range inv {
			gk := inventory.GroupKind(e)
			if slices.ContainsFunc(step, func(k children.Kind) bool { return k.GVK.GroupKind() == gk }) {
				refs = append(refs, inventory.Ref(e))
			}
		}
		remaining, err := r.engine.Delete(ctx, refs)
		if err != nil {
			return "", err
		}
		if len(remaining) > 0 {
			names := make([]string, 0, len(remaining))
			for _, o := range remaining {
				names = append(names, apply.Describe(o))
			}
			return strings.Join(names, ", "), nil
		}
	}
	return "", nil
}

// emit sends the Events of one pass.
func (r *Reconciler[T, O]) emit(obj T, evs []Event) {
	for _, e := range evs {
		r.recorder.Eventf(obj, nil, e.eventType(), e.Reason, e.Action, "%s", note(e.Message))
		if e.OnEmit != nil {
			e.OnEmit()
		}
	}
}

// copyOf is a deep copy of obj, as the kind's own type.
// noteLimit is the longest note the API server accepts on an events.k8s.io Event
// (k8s.io/kubernetes pkg/apis/events/validation, NoteLengthLimit); a longer one is refused and
// the Event lost, so a long message (a stall naming many fields) is cut to fit. The condition
// keeps the message up to its own bound (fit).
const noteLimit = 1024

// note is msg cut to noteLimit bytes at a rune boundary, marked as cut.
func note(msg string) string {
	if len(msg) <= noteLimit {
		return msg
	}
	const more = "… (the condition has the whole message)"
	return runePrefix(msg, noteLimit-len(more)) + more
}

func copyOf[T Object](obj T) T {
	c, _ := obj.DeepCopyObject().(T)
	return c
}

// keepFinalizer gives obj the finalizer while its deletionPolicy is Delete, the only policy
// with work to do on deletion, and takes it away otherwise: an Orphan parent is deleted at
// once, and outlives no uninstalled operator as an object that cannot be deleted. It writes
// obj only when that changes, and says whether it did.
func keepFinalizer[T Object](ctx context.Context, c client.Client, obj T) (bool, error) {
	base := copyOf(obj)
	changed := false
	if obj.Deletion() == psv1alpha1.DeletionPolicyDelete {
		changed = controllerutil.AddFinalizer(obj, finalizer)
	} else {
		changed = controllerutil.RemoveFinalizer(obj, finalizer)
	}
	if !changed {
		return false, nil
	}
	if err := c.Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		return false, fmt.Errorf("update the finalizer for deletionPolicy %s: %w", obj.Deletion(), err)
	}
	return true, nil
}

// releaseFinalizer removes the finalizer from obj, letting the API server delete it.
func releaseFinalizer[T Object](ctx context.Context, c client.Client, obj T) error {
	base := copyOf(obj)
	controllerutil.RemoveFinalizer(obj, finalizer)
	if err := c.Patch(ctx, obj, client.MergeFrom(base)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	return nil
}

// patchStatus writes obj's status when it changed since original, and only then. The patch
// carries the resourceVersion it was computed from, so a status computed from a stale cache is
// refused with a conflict instead of overwriting a newer one (an upgrade recorded twice).
func patchStatus[T Object](ctx context.Context, c client.Client, original, obj T) error {
	if equality.Semantic.DeepEqual(original, obj) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFromWithOptions(original, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("patch status: %w", err)
	}
	return nil
}
