// Package controllers reconciles the PipelineService named `cluster` into the objects that run
// Pipeline Service on OpenShift, and reports back in its status.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
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
)

// PipelineServiceReconciler reconciles the PipelineService named `cluster`.
type PipelineServiceReconciler struct {
	client.Client
	// APIReader reads around the cache, for objects the cache does not hold (the installed
	// CSV during deletion).
	APIReader client.Reader
	Recorder  events.EventRecorder

	watches *childWatches
}

// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices/finalizers,verbs=update
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch
// +kubebuilder:rbac:groups=operators.coreos.com,resources=catalogsources;subscriptions,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=operators.coreos.com,resources=clusterserviceversions,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=operators.coreos.com,resources=installplans,verbs=get;list;watch
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

// The exporter's ClusterRole grants these; RBAC lets a subject grant only what it holds.
// +kubebuilder:rbac:groups="",resources=pods;endpoints,verbs=get;list;watch
// +kubebuilder:rbac:groups=tekton.dev,resources=pipelineruns;taskruns,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=resolution.tekton.dev,resources=resolutionrequests,verbs=get;list;watch;patch
// +kubebuilder:rbac:urls=/metrics,verbs=get

// Reconcile brings the cluster to the state the PipelineService describes: get, finalizer or
// deletion, render, apply, prune, then one status patch.
func (r *PipelineServiceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if req.Name != psv1alpha1.Name {
		return ctrl.Result{}, nil
	}
	ps := &psv1alpha1.PipelineService{}
	if err := r.Get(ctx, req.NamespacedName, ps); err != nil {
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

	result, applyErr := r.reconcileChildren(ctx, ps)
	if err := r.patchStatus(ctx, original, ps); err != nil {
		return ctrl.Result{}, errors.Join(applyErr, err)
	}
	return result, applyErr
}

// reconcileChildren renders and applies every child, prunes what is no longer rendered, and
// sets the conditions that say how far it got.
func (r *PipelineServiceReconciler) reconcileChildren(ctx context.Context, ps *psv1alpha1.PipelineService) (ctrl.Result, error) {
	logger := log.FromContext(ctx)
	served := r.watches.servedOnce()
	desired, err := render.Render(ps, capabilities(served))
	if err != nil {
		var invalid *render.InvalidTektonConfigError
		if errors.As(err, &invalid) {
			// Terminal: no retry can fix the spec. Nothing is applied in this pass, and the
			// next edit of the PipelineService reconciles again.
			r.markStalled(ps, psv1alpha1.ReasonInvalidTektonConfig,
				invalid.Error()+"; fix spec.tektonConfig (overrides included). Nothing was applied.")
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	meta.RemoveStatusCondition(&ps.Status.Conditions, psv1alpha1.ConditionStalled)

	var missing []string
	var applyErrs []error
	changed := 0
	discoveryLag := false
	for _, obj := range desired.Objects {
		gvk := obj.GroupVersionKind()
		if !served(gvk) {
			missing = append(missing, gvk.Kind)
			discoveryLag = discoveryLag || r.watches.crdExists(ctx, gvk.GroupKind())
			continue
		}
		if err := r.watches.ensure(gvk); err != nil {
			applyErrs = append(applyErrs, err)
			continue
		}
		res, err := r.applyObject(ctx, obj)
		if err != nil {
			applyErrs = append(applyErrs, err)
			continue
		}
		if res == applied {
			changed++
			logger.Info("applied", "kind", gvk.Kind, "namespace", obj.GetNamespace(), "name", obj.GetName())
		}
	}
	missing = append(missing, desired.Missing...)

	if len(applyErrs) == 0 {
		deleted, err := r.prune(ctx, desired.Objects, served)
		if err != nil {
			applyErrs = append(applyErrs, err)
		} else if deleted > 0 {
			logger.Info("pruned children the spec no longer renders", "count", deleted)
			changed += deleted
		}
	}
	if changed > 0 {
		r.Recorder.Eventf(ps, nil, corev1.EventTypeNormal, psv1alpha1.ReasonApplied, "Apply",
			"applied %d change(s) for generation %d", changed, ps.Generation)
	}
	r.observeSubscription(ctx, ps, served)
	setApplyConditions(ps, missing, applyErrs)
	if len(applyErrs) > 0 {
		return ctrl.Result{}, errors.Join(applyErrs...)
	}
	if discoveryLag {
		return ctrl.Result{RequeueAfter: discoveryLagRetry}, nil
	}
	return ctrl.Result{}, nil
}

// observeSubscription records the installed and desired CSV, which deletion needs to find the
// CSV after the Subscription is gone.
func (r *PipelineServiceReconciler) observeSubscription(ctx context.Context, ps *psv1alpha1.PipelineService, served func(schema.GroupVersionKind) bool) {
	ps.Status.DesiredCSV = ps.Spec.Operator.Subscription.CSV
	if !served(render.GVKSubscription) {
		return
	}
	sub := &unstructured.Unstructured{}
	sub.SetGroupVersionKind(render.GVKSubscription)
	key := client.ObjectKey{Namespace: ps.Spec.Operator.Subscription.Namespace, Name: ps.Spec.Operator.Subscription.Name}
	if err := r.Get(ctx, key, sub); err != nil {
		return
	}
	if installed, _, _ := unstructured.NestedString(sub.Object, "status", "installedCSV"); installed != "" {
		ps.Status.InstalledCSV = installed
	}
	if ps.Status.DesiredCSV == "" {
		ps.Status.DesiredCSV, _, _ = unstructured.NestedString(sub.Object, "status", "currentCSV")
	}
}

// setApplyConditions sets Ready, Reconciling and the waits for APIs that are not served.
func setApplyConditions(ps *psv1alpha1.PipelineService, missing []string, applyErrs []error) {
	gen := ps.Generation
	set := func(t string, s metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&ps.Status.Conditions, metav1.Condition{
			Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen,
		})
	}
	tektonMissing := false
	var otherMissing []string
	for _, kind := range missing {
		switch kind {
		case render.GVKTektonConfig.Kind:
			tektonMissing = true
		default:
			otherMissing = append(otherMissing, kind)
		}
	}
	if tektonMissing {
		set(psv1alpha1.ConditionTektonConfigReady, metav1.ConditionFalse, psv1alpha1.ReasonTektonConfigCRDMissing,
			"waiting for the OpenShift Pipelines operator to install the TektonConfig CRD; the TektonConfig is applied as soon as it is served")
	} else {
		meta.RemoveStatusCondition(&ps.Status.Conditions, psv1alpha1.ConditionTektonConfigReady)
	}
	if len(ps.Spec.Mirrors) > 0 {
		if contains(missing, "ImageContentSourcePolicy") {
			set(psv1alpha1.ConditionMirrorsApplied, metav1.ConditionFalse, psv1alpha1.ReasonMirrorAPIMissing,
				"neither ImageContentSourcePolicy nor ImageDigestMirrorSet is served: spec.mirrors needs OpenShift")
		} else {
			set(psv1alpha1.ConditionMirrorsApplied, metav1.ConditionTrue, psv1alpha1.ReasonApplied, "mirror policy pipeline-service applied")
		}
	} else {
		meta.RemoveStatusCondition(&ps.Status.Conditions, psv1alpha1.ConditionMirrorsApplied)
	}

	switch {
	case len(applyErrs) > 0:
		msg := errors.Join(applyErrs...).Error()
		set(psv1alpha1.ConditionReady, metav1.ConditionFalse, psv1alpha1.ReasonApplyFailed, msg+"; retrying with backoff")
		set(psv1alpha1.ConditionReconciling, metav1.ConditionTrue, psv1alpha1.ReasonApplyFailed, msg)
	case tektonMissing:
		set(psv1alpha1.ConditionReady, metav1.ConditionFalse, psv1alpha1.ReasonTektonConfigCRDMissing,
			"waiting for the OpenShift Pipelines operator to install the TektonConfig CRD")
		set(psv1alpha1.ConditionReconciling, metav1.ConditionTrue, psv1alpha1.ReasonTektonConfigCRDMissing,
			"everything else is applied; the TektonConfig waits for its CRD")
	case len(otherMissing) > 0:
		msg := fmt.Sprintf("these APIs are not served, so their objects are not applied: %s; install them or turn the feature off in the spec",
			strings.Join(otherMissing, ", "))
		set(psv1alpha1.ConditionReady, metav1.ConditionFalse, psv1alpha1.ReasonAPIsMissing, msg)
		meta.RemoveStatusCondition(&ps.Status.Conditions, psv1alpha1.ConditionReconciling)
		ps.Status.ObservedGeneration = gen
	default:
		set(psv1alpha1.ConditionReady, metav1.ConditionUnknown, psv1alpha1.ReasonHealthNotObserved,
			"every child is applied; the health of OLM, TektonConfig and the exporter is not observed yet")
		meta.RemoveStatusCondition(&ps.Status.Conditions, psv1alpha1.ConditionReconciling)
		ps.Status.ObservedGeneration = gen
	}
}

// markStalled reports a terminal input error, once: the Event is emitted on the transition
// only, so that a stalled object is not a source of writes.
func (r *PipelineServiceReconciler) markStalled(ps *psv1alpha1.PipelineService, reason, msg string) {
	prev := meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionStalled)
	if prev == nil || prev.Status != metav1.ConditionTrue || prev.Message != msg || prev.ObservedGeneration != ps.Generation {
		r.Recorder.Eventf(ps, nil, corev1.EventTypeWarning, reason, "Render", "%s", msg)
	}
	for _, c := range []metav1.Condition{
		{Type: psv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: reason, Message: msg},
		{Type: psv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: msg},
	} {
		c.ObservedGeneration = ps.Generation
		meta.SetStatusCondition(&ps.Status.Conditions, c)
	}
	meta.RemoveStatusCondition(&ps.Status.Conditions, psv1alpha1.ConditionReconciling)
}

// patchStatus writes the status when it changed, and only then.
func (r *PipelineServiceReconciler) patchStatus(ctx context.Context, original, ps *psv1alpha1.PipelineService) error {
	if equality.Semantic.DeepEqual(original.Status, ps.Status) {
		return nil
	}
	if err := r.Status().Patch(ctx, ps, client.MergeFrom(original)); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("patch status: %w", err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// SetupWithManager registers the reconciler. Child kinds are watched from their first
// reconcile on (childWatches), so the operator starts whether or not their CRDs exist.
func (r *PipelineServiceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	c, err := ctrl.NewControllerManagedBy(mgr).
		For(&psv1alpha1.PipelineService{}).
		Watches(crdMetadata(), enqueueCluster, builder.OnlyMetadata,
			builder.WithPredicates(predicate.NewPredicateFuncs(isWatchedCRD))).
		Named("pipelineservice").
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
	return nil
}
