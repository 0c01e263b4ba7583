package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"

	routev1 "github.com/openshift/api/route/v1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// PipelineServiceHostReconciler reconciles the PipelineServiceHost named `cluster` into
// SprayProxy and the Results proxy plugin, with the same apply engine, registry, inventory,
// pruning and late-CRD handling as the PipelineService.
type PipelineServiceHostReconciler struct {
	client.Client
	Recorder events.EventRecorder

	engine  *apply.Engine
	watches *childWatches
	metrics hostMetrics
}

// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservicehosts,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservicehosts/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservicehosts/finalizers,verbs=update
// SprayProxy's ClusterRoles grant these; RBAC lets a subject grant only what it holds.
// +kubebuilder:rbac:urls=/backends,verbs=get;create;delete

// hostObservation is what the host's status is computed from.
type hostObservation struct {
	sprayProxy    *appsv1.Deployment
	sprayProxyErr error
	route         *routev1.Route
	routeErr      error
	routeServed   bool
	plugin        *unstructured.Unstructured
	pluginErr     error
	pluginServed  bool
}

// Reconcile brings the host cluster to the state the PipelineServiceHost describes: get,
// finalizer or deletion, render and apply, observe, then one status patch.
func (r *PipelineServiceHostReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if req.Name != psv1alpha1.Name {
		return ctrl.Result{}, nil
	}
	h := &psv1alpha1.PipelineServiceHost{}
	if err := r.Get(ctx, req.NamespacedName, h); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics.forget()
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	original := h.DeepCopy()
	if !h.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, h, original)
	}
	if added, err := addFinalizer(ctx, r.Client, h); err != nil {
		return ctrl.Result{}, err
	} else if added {
		original = h.DeepCopy()
	}

	served := r.watches.servedKinds()
	if err := r.watches.ensureServed(served); err != nil {
		return ctrl.Result{}, err
	}
	out := r.applyChildren(ctx, h, served)
	obs := r.observe(ctx, h, served)
	var evs []event
	if len(out.written) > 0 {
		evs = append(evs, writeEvent(h.Generation, original.Status.ObservedGeneration == h.Generation, out.written))
	}
	evs = append(evs, setHostStatus(h, out, obs)...)
	if err := r.patchStatus(ctx, original, h); err != nil {
		r.emit(h, slices.DeleteFunc(evs, func(e event) bool { return !e.done }))
		if apierrors.IsConflict(err) {
			return ctrl.Result{}, errors.Join(out.errs...)
		}
		return ctrl.Result{}, errors.Join(append(out.errs, err)...)
	}
	r.emit(h, evs)
	r.metrics.record(h)

	return out.result()
}

// applyChildren renders and applies the host's children and prunes what is no longer
// rendered.
func (r *PipelineServiceHostReconciler) applyChildren(ctx context.Context, h *psv1alpha1.PipelineServiceHost, served children.Served) applyOutcome {
	out := applyOutcome{inventory: h.Status.Inventory}
	desired, err := render.Host(h, served)
	if err != nil {
		out.errs = append(out.errs, err)
		return out
	}
	last, err := r.lastInventory(ctx, h, served)
	if err != nil {
		out.errs = append(out.errs, err)
		return out
	}
	applyAndPrune(ctx, r.engine, servedObjects(ctx, r.watches, desired, served, &out), last, &out)
	return out
}

// lastInventory is what the operator applied for the host before this pass, recovered from
// the labelled objects when the status holds none.
func (r *PipelineServiceHostReconciler) lastInventory(ctx context.Context, h *psv1alpha1.PipelineServiceHost, served children.Served) ([]psv1alpha1.InventoryEntry, error) {
	if h.Status.Inventory != nil {
		return h.Status.Inventory, nil
	}
	return recoverInventory(ctx, r.engine, served, children.Host)
}

// observe reads SprayProxy's Deployment and Route and the ProxyPlugin, from the cache.
func (r *PipelineServiceHostReconciler) observe(ctx context.Context, h *psv1alpha1.PipelineServiceHost, served children.Served) hostObservation {
	var o hostObservation
	if sp := h.Spec.SprayProxy; sp != nil {
		key := types.NamespacedName{Namespace: sp.Namespace, Name: render.SprayProxyName}
		o.sprayProxy, o.sprayProxyErr = getTyped(ctx, r, children.GVKDeployment, key, &appsv1.Deployment{})
		if o.routeServed = served[children.GVKRoute]; o.routeServed {
			o.route, o.routeErr = getTyped(ctx, r, children.GVKRoute, key, &routev1.Route{})
		}
	}
	if pp := h.Spec.ResultsProxyPlugin; pp != nil && pp.Enabled {
		if o.pluginServed = served[children.GVKProxyPlugin]; o.pluginServed {
			o.plugin, o.pluginErr = getUnstructured(ctx, r, children.GVKProxyPlugin, types.NamespacedName{Namespace: pp.Namespace, Name: pp.Name})
		}
	}
	return o
}

// reconcileDelete carries out the deletionPolicy, then releases the finalizer.
func (r *PipelineServiceHostReconciler) reconcileDelete(ctx context.Context, h, original *psv1alpha1.PipelineServiceHost) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(h, Finalizer) {
		return ctrl.Result{}, nil
	}
	if h.Spec.DeletionPolicy == psv1alpha1.DeletionPolicyDelete {
		inv, err := r.lastInventory(ctx, h, r.watches.servedKinds())
		if err != nil {
			return ctrl.Result{}, err
		}
		waiting, err := deleteInventory(ctx, r.engine, inv, children.DeleteSteps(children.Host))
		if err != nil {
			return ctrl.Result{}, err
		}
		if waiting != "" {
			msg := fmt.Sprintf("deletionPolicy Delete: waiting for %s to be deleted", waiting)
			setDeleting(&h.Status.Conditions, h.Generation, msg)
			if err := r.patchStatus(ctx, original, h); err != nil && !apierrors.IsConflict(err) {
				return ctrl.Result{}, err
			}
			return ctrl.Result{RequeueAfter: deletionPollInterval}, nil
		}
		r.emit(h, []event{{done: true, reason: psv1alpha1.ReasonDeleting, action: "Delete",
			message: "deletionPolicy Delete: every child is deleted"}})
	}
	log.FromContext(ctx).Info("releasing the finalizer", "deletionPolicy", h.Spec.DeletionPolicy)
	return ctrl.Result{}, releaseFinalizer(ctx, r.Client, h)
}

// patchStatus writes the status when it changed, and only then.
func (r *PipelineServiceHostReconciler) patchStatus(ctx context.Context, original, h *psv1alpha1.PipelineServiceHost) error {
	return patchStatus(ctx, r.Client, original, h, !equality.Semantic.DeepEqual(original.Status, h.Status))
}

// emit sends the Events of one reconcile.
func (r *PipelineServiceHostReconciler) emit(h *psv1alpha1.PipelineServiceHost, evs []event) {
	for _, e := range evs {
		r.Recorder.Eventf(h, nil, eventType(e), e.reason, e.action, "%s", e.message)
	}
}

// SetupWithManager registers the reconciler. It shares the manager's cache with the
// PipelineService controller: the children of both carry the operator's label, and the
// part-of label routes each event to its parent.
func (r *PipelineServiceHostReconciler) SetupWithManager(mgr ctrl.Manager) error {
	c, err := ctrl.NewControllerManagedBy(mgr).
		For(&psv1alpha1.PipelineServiceHost{}).
		Watches(crdMetadata(), enqueueCluster, builder.OnlyMetadata, builder.WithPredicates(watchedCRDs(children.Host))).
		Named("pipelineservicehost").
		WithOptions(controller.Options{RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](retryBaseDelay, retryMaxDelay)}).
		Build(r)
	if err != nil {
		return err
	}
	r.engine = apply.New(r.Client, apply.Options{FieldManager: FieldManager, HashAnnotation: render.AnnotationAppliedHash,
		Workers: applyWorkers})
	r.watches = &childWatches{
		profile: children.Host,
		ctrl:    c,
		cache:   mgr.GetCache(),
		mapper:  mgr.GetRESTMapper(),
		started: map[schema.GroupVersionKind]bool{},
	}
	return r.watches.ensureServed(r.watches.servedKinds())
}
