// Package controllers reconciles the PipelineService named `cluster` into the objects that run
// Pipeline Service on OpenShift, and reports back in its status.
package controllers

import (
	"context"
	"errors"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/health"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

const (
	// FieldManager is the one server-side apply field manager this operator writes with.
	FieldManager = "pipeline-service-operator"
	// Finalizer holds the PipelineService until its deletionPolicy has been carried out.
	Finalizer = "pipelineservice.appstudio.io/finalizer"
	// deletionPollInterval paces a deletion that waits for a child with finalizers of its own.
	deletionPollInterval = 2 * time.Second
	// discoveryLagRetry paces the retry while a new CRD exists but discovery does not serve
	// its kind yet, which takes a moment after the CRD is created.
	discoveryLagRetry = time.Second
	// conflictRetry paces the retry after an optimistic-lock conflict.
	conflictRetry = 100 * time.Millisecond
	// retryBaseDelay and retryMaxDelay bound the exponential backoff of failed reconciles: an
	// apply that admission refuses is retried a handful of times a minute at first, then
	// every five minutes, never hammered.
	retryBaseDelay = 250 * time.Millisecond
	retryMaxDelay  = 5 * time.Minute
)

// PipelineServiceReconciler reconciles the PipelineService named `cluster`.
type PipelineServiceReconciler struct {
	client.Client
	// APIReader reads around the cache, for objects the cache does not hold (the installed
	// CSV during deletion).
	APIReader client.Reader
	Recorder  events.EventRecorder

	engine     *apply.Engine
	reviews    reviewMemo
	watches    *childWatches
	components *componentWatch
	metrics    statusMetrics
}

// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices/finalizers,verbs=update
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch
// The child kinds' rules are declared beside their registry, in internal/children.
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// The metrics endpoint authenticates and authorizes each scrape against the API server.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// The exporter's ClusterRole grants these; RBAC lets a subject grant only what it holds.
// +kubebuilder:rbac:groups="",resources=pods;endpoints,verbs=get;list;watch
// +kubebuilder:rbac:groups=tekton.dev,resources=pipelineruns;taskruns,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=resolution.tekton.dev,resources=resolutionrequests,verbs=get;list;watch;patch
// +kubebuilder:rbac:urls=/metrics,verbs=get

// Reconcile brings the cluster to the state the PipelineService describes: get, finalizer or
// deletion, render and apply, observe, approve, then one status patch.
func (r *PipelineServiceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if req.Name != psv1alpha1.Name {
		return ctrl.Result{}, nil
	}
	ps := &psv1alpha1.PipelineService{}
	if err := r.Get(ctx, req.NamespacedName, ps); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics.forget()
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	original := ps.DeepCopy()

	if !ps.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, ps, original)
	}
	if added, err := addFinalizer(ctx, r.Client, ps); err != nil {
		return ctrl.Result{}, err
	} else if added {
		original = ps.DeepCopy()
	}

	served := r.watches.servedKinds()
	if err := r.watches.ensureServed(served); err != nil {
		return ctrl.Result{}, err
	}
	out := r.applyChildren(ctx, ps, served)
	obs := r.observe(ctx, ps, served)
	approval := health.Approvals(obs.operator)
	var events []event
	if out.invalid == nil {
		var approved []event
		approval.Approve, approved, out.errs = r.approvePlans(ctx, ps, approval.Approve, out.errs)
		events = append(events, approved...)
	} else {
		approval.Approve = nil
	}

	if len(out.written) > 0 {
		events = append(events, writeEvent(ps.Generation, original.Status.ObservedGeneration == ps.Generation, out.written))
	}
	events = append(events, setStatus(ps, out, obs, approval, metav1.Now())...)
	if err := r.patchStatus(ctx, original, ps); err != nil {
		// The status was not stored, so its transitions are not announced; what this pass
		// did (writes, approvals) happened all the same and is.
		r.emit(ps, slices.DeleteFunc(events, func(e event) bool { return !e.done }))
		if apierrors.IsConflict(err) {
			// The cache held an older PipelineService; the newer one is on its way as an
			// event, and that reconcile decides again from it.
			return ctrl.Result{}, errors.Join(out.errs...)
		}
		return ctrl.Result{}, errors.Join(append(out.errs, err)...)
	}
	r.emit(ps, events)
	operator := meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionOperatorInstalled)
	r.metrics.record(ps, operator != nil && operator.Reason == psv1alpha1.ReasonInstallPlanPendingApproval)

	return out.result()
}

// emit sends the Events of one reconcile.
func (r *PipelineServiceReconciler) emit(ps *psv1alpha1.PipelineService, events []event) {
	for _, e := range events {
		r.Recorder.Eventf(ps, nil, eventType(e), e.reason, e.action, "%s", e.message)
		if e.upgradeSeconds != nil {
			upgradeDuration.Observe(*e.upgradeSeconds)
		}
	}
}

// patchStatus writes the status when it changed, and only then.
func (r *PipelineServiceReconciler) patchStatus(ctx context.Context, original, ps *psv1alpha1.PipelineService) error {
	return patchStatus(ctx, r.Client, original, ps, !equality.Semantic.DeepEqual(original.Status, ps.Status))
}

// SetupWithManager registers the reconciler. Child kinds are watched from their first
// reconcile on (childWatches), so the operator starts whether or not their CRDs exist.
func (r *PipelineServiceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	c, err := ctrl.NewControllerManagedBy(mgr).
		For(&psv1alpha1.PipelineService{}).
		Watches(crdMetadata(), enqueueCluster, builder.OnlyMetadata, builder.WithPredicates(watchedCRDs(children.Member))).
		Named("pipelineservice").
		WithOptions(controller.Options{RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](retryBaseDelay, retryMaxDelay)}).
		Build(r)
	if err != nil {
		return err
	}
	r.engine = apply.New(r.Client, apply.Options{FieldManager: FieldManager, HashAnnotation: render.AnnotationAppliedHash,
		Workers: applyWorkers})
	r.watches = &childWatches{
		profile:         children.Member,
		ctrl:            c,
		cache:           mgr.GetCache(),
		mapper:          mgr.GetRESTMapper(),
		started:         map[schema.GroupVersionKind]bool{},
		observedHandler: r.enqueueInSubscriptionNamespace(),
	}
	// Every served kind is watched from the start, so that the informers sync together
	// before the first reconcile rather than one kind at a time during it.
	if err := r.watches.ensureServed(r.watches.servedKinds()); err != nil {
		return err
	}
	r.components = &componentWatch{
		cfg:    mgr.GetConfig(),
		opts:   cache.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), HTTPClient: mgr.GetHTTPClient()},
		add:    mgr.Add,
		ctrl:   c,
		caches: map[string]cache.Cache{},
	}
	return nil
}
