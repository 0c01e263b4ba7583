// Package controllers reconciles the PipelineService named `cluster` into the objects that run
// Pipeline Service on OpenShift, and reports back in its status.
package controllers

import (
	"context"
	"errors"
	"fmt"
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
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/health"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
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

	watches    *childWatches
	components *componentWatch
	metrics    statusMetrics
}

// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices/finalizers,verbs=update
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch
// +kubebuilder:rbac:groups=operators.coreos.com,resources=catalogsources;subscriptions,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=operators.coreos.com,resources=clusterserviceversions,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=operators.coreos.com,resources=installplans,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=operator.openshift.io,resources=imagecontentsourcepolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=config.openshift.io,resources=imagedigestmirrorsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=operator.tekton.dev,resources=tektonconfigs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=external-secrets.io,resources=externalsecrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=servicemonitors,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=serviceaccounts;services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
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
	if controllerutil.AddFinalizer(ps, Finalizer) {
		if err := r.Patch(ctx, ps, client.MergeFrom(original)); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
		original = ps.DeepCopy()
	}

	served := r.watches.servedOnce()
	out := r.applyChildren(ctx, ps, served)
	obs := r.observe(ctx, ps, served)
	approval := health.Approvals(obs.operator)
	var events []event
	if out.stalled == nil {
		var approved []event
		approval.Approve, approved, out.errs = r.approvePlans(ctx, ps, approval.Approve, out.errs)
		events = append(events, approved...)
	} else {
		approval.Approve = nil
	}

	if len(out.written) > 0 {
		events = append(events, writeEvent(ps, original.Status.ObservedGeneration == ps.Generation, out.written))
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

	switch {
	case len(out.errs) > 0 && allConflicts(out.errs):
		// Another writer changed an object between our read and our write: expected, and
		// the next pass reads the new version. Not a "Reconciler error".
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	case len(out.errs) > 0:
		// The workqueue retries with exponential backoff (see SetupWithManager).
		return ctrl.Result{}, errors.Join(out.errs...)
	case out.discoveryLag:
		return ctrl.Result{RequeueAfter: discoveryLagRetry}, nil
	}
	return ctrl.Result{}, nil
}

// applyChildren renders and applies every child and prunes what is no longer rendered. An
// invalid spec stops it before anything is applied.
func (r *PipelineServiceReconciler) applyChildren(ctx context.Context, ps *psv1alpha1.PipelineService, served func(schema.GroupVersionKind) bool) applyOutcome {
	logger := log.FromContext(ctx)
	var out applyOutcome
	desired, err := render.Render(ps, capabilities(served))
	if err != nil {
		var invalid *render.InvalidTektonConfigError
		if errors.As(err, &invalid) {
			out.stalled = invalidTektonConfig(ps, []osp.FieldError{{Path: invalid.Field, Message: invalid.Problem}})
			return out
		}
		out.errs = append(out.errs, err)
		return out
	}
	refusals, err := r.reviewTektonConfig(ctx, desired, served)
	if err != nil {
		out.errs = append(out.errs, err)
		return out
	}
	if len(refusals) > 0 {
		out.stalled = invalidTektonConfig(ps, refusals)
		return out
	}

	for _, obj := range desired.Objects {
		gvk := obj.GroupVersionKind()
		if gvk == render.GVKICSP || gvk == render.GVKIDMS {
			out.mirrorKind = gvk.Kind
		}
		if !served(gvk) {
			out.missing = append(out.missing, gvk.Kind)
			out.discoveryLag = out.discoveryLag || r.watches.crdExists(ctx, gvk.GroupKind())
			continue
		}
		if err := r.watches.ensure(gvk); err != nil {
			out.errs = append(out.errs, err)
			continue
		}
		res, err := r.applyObject(ctx, obj)
		if err != nil {
			if rejectedByServer(err) {
				out.rejected = append(out.rejected, err.Error())
			}
			out.errs = append(out.errs, err)
			continue
		}
		if res == applied {
			out.written = append(out.written, describe(obj))
			logger.Info("applied", "kind", gvk.Kind, "namespace", obj.GetNamespace(), "name", obj.GetName())
		}
	}
	out.missing = append(out.missing, desired.Missing...)

	if len(out.errs) == 0 {
		deleted, err := r.prune(ctx, desired.Objects, served)
		if err != nil {
			out.errs = append(out.errs, err)
		}
		for _, d := range deleted {
			out.written = append(out.written, "deleted "+d)
		}
		if len(deleted) > 0 {
			logger.Info("pruned children the spec no longer renders", "objects", deleted)
		}
	}
	return out
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

// approvePlans approves the InstallPlans of the pinned CSV and returns those it approved,
// with their Events, which go out with the others once the status is stored.
func (r *PipelineServiceReconciler) approvePlans(ctx context.Context, ps *psv1alpha1.PipelineService, names []string, errs []error) ([]string, []event, []error) {
	var done []string
	var events []event
	ns := ps.Spec.Operator.Subscription.Namespace
	for _, name := range names {
		if err := r.approve(ctx, ns, name); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, name)
		log.FromContext(ctx).Info("approved InstallPlan", "namespace", ns, "name", name, "csv", ps.Spec.Operator.Subscription.CSV)
		events = append(events, event{done: true, reason: psv1alpha1.ReasonInstallPlanApproved, action: "Approve", message: fmt.Sprintf(
			"approved InstallPlan %s/%s: it installs the pinned CSV %s", ns, name, ps.Spec.Operator.Subscription.CSV)})
	}
	return done, events, errs
}

// patchStatus writes the status when it changed, and only then. The patch carries the
// resourceVersion it was computed from, so a status computed from a stale cache is refused
// with a conflict instead of overwriting a newer one (an upgrade recorded twice).
func (r *PipelineServiceReconciler) patchStatus(ctx context.Context, original, ps *psv1alpha1.PipelineService) error {
	if equality.Semantic.DeepEqual(original.Status, ps.Status) {
		return nil
	}
	patch := client.MergeFromWithOptions(original, client.MergeFromWithOptimisticLock{})
	if err := r.Status().Patch(ctx, ps, patch); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("patch status: %w", err)
	}
	return nil
}

// SetupWithManager registers the reconciler. Child kinds are watched from their first
// reconcile on (childWatches), so the operator starts whether or not their CRDs exist.
func (r *PipelineServiceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	c, err := ctrl.NewControllerManagedBy(mgr).
		For(&psv1alpha1.PipelineService{}).
		Watches(crdMetadata(), enqueueCluster, builder.OnlyMetadata,
			builder.WithPredicates(predicate.NewPredicateFuncs(isWatchedCRD))).
		Named("pipelineservice").
		WithOptions(controller.Options{RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](retryBaseDelay, retryMaxDelay)}).
		Build(r)
	if err != nil {
		return err
	}
	r.watches = &childWatches{
		ctrl:    c,
		cache:   mgr.GetCache(),
		mapper:  mgr.GetRESTMapper(),
		started: map[schema.GroupVersionKind]bool{},
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
