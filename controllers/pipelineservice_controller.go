// Package controllers reconciles the PipelineService named `cluster` into the objects that run
// Pipeline Service on OpenShift.
package controllers

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// FieldManager is the one server-side apply field manager this operator writes with.
const FieldManager = "pipeline-service-operator"

// PipelineServiceReconciler reconciles the PipelineService named `cluster`.
type PipelineServiceReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices/finalizers,verbs=update

// Reconcile brings the cluster to the state the PipelineService describes.
func (r *PipelineServiceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var ps psv1alpha1.PipelineService
	if err := r.Get(ctx, req.NamespacedName, &ps); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	log.FromContext(ctx).V(1).Info("observed PipelineService", "generation", ps.Generation)
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler with the manager.
func (r *PipelineServiceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&psv1alpha1.PipelineService{}).
		Named("pipelineservice").
		Complete(r)
}
