package controllers

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
)

// GVKClusterServiceVersion is OLM's ClusterServiceVersion.
var GVKClusterServiceVersion = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "ClusterServiceVersion"}

// deletionSteps is the order deletionPolicy Delete removes children in, each step waiting until
// the previous one is gone: the exporter first and the CatalogSource last, so that OSP is
// uninstalled only after its TektonConfig is gone and OLM never reinstalls what was removed.
var deletionSteps = []struct {
	name string
	gvks []schema.GroupVersionKind
}{
	{"exporter", []schema.GroupVersionKind{render.GVKServiceMonitor, render.GVKDeployment, render.GVKService,
		render.GVKClusterRoleBinding, render.GVKClusterRole, render.GVKServiceAccount}},
	{"ExternalSecret", []schema.GroupVersionKind{render.GVKExternalSecretV1, render.GVKExternalSecretBeta}},
	{"mirrors", []schema.GroupVersionKind{render.GVKICSP, render.GVKIDMS}},
	{"TektonConfig", []schema.GroupVersionKind{render.GVKTektonConfig}},
	{"Subscription", []schema.GroupVersionKind{render.GVKSubscription}},
	{"CSV", []schema.GroupVersionKind{GVKClusterServiceVersion}},
	{"CatalogSource", []schema.GroupVersionKind{render.GVKCatalogSource}},
}

// reconcileDelete carries out the deletionPolicy, then releases the finalizer. Orphan leaves
// every child, so that a mistaken prune in ArgoCD does not uninstall Tekton.
func (r *PipelineServiceReconciler) reconcileDelete(ctx context.Context, ps, original *psv1alpha1.PipelineService) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(ps, Finalizer) {
		return ctrl.Result{}, nil
	}
	if ps.Spec.DeletionPolicy == psv1alpha1.DeletionPolicyDelete {
		waiting, err := r.deleteChildren(ctx, ps)
		if err != nil {
			return ctrl.Result{}, err
		}
		if waiting != "" {
			msg := fmt.Sprintf("deletionPolicy Delete: waiting for %s to be deleted", waiting)
			for _, t := range []string{psv1alpha1.ConditionReady, psv1alpha1.ConditionReconciling} {
				status := metav1.ConditionFalse
				if t == psv1alpha1.ConditionReconciling {
					status = metav1.ConditionTrue
				}
				meta.SetStatusCondition(&ps.Status.Conditions, metav1.Condition{
					Type: t, Status: status, Reason: psv1alpha1.ReasonDeleting, Message: msg, ObservedGeneration: ps.Generation,
				})
			}
			if err := r.patchStatus(ctx, original, ps); err != nil && !apierrors.IsConflict(err) {
				return ctrl.Result{}, err
			}
			// A conflict means a newer PipelineService is on its way; the poll below reads
			// it again, quietly. Watches wake the reconcile when a child goes; the poll covers finalizers of
			// children whose removal the operator does not watch (the CSV).
			return ctrl.Result{RequeueAfter: deletionPollInterval}, nil
		}
		r.emit(ps, []event{{done: true, reason: psv1alpha1.ReasonDeleting, action: "Delete",
			message: "deletionPolicy Delete: every child is deleted"}})
	}
	log.FromContext(ctx).Info("releasing the finalizer", "deletionPolicy", ps.Spec.DeletionPolicy)
	base := ps.DeepCopy()
	controllerutil.RemoveFinalizer(ps, Finalizer)
	if err := r.Patch(ctx, ps, client.MergeFrom(base)); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("remove finalizer: %w", err)
	}
	return ctrl.Result{}, nil
}

// deleteChildren deletes the first step's remaining children and names what it waits for;
// "" means every step is done.
func (r *PipelineServiceReconciler) deleteChildren(ctx context.Context, ps *psv1alpha1.PipelineService) (string, error) {
	served := r.watches.servedOnce()
	for _, step := range deletionSteps {
		var remaining []string
		for _, gvk := range step.gvks {
			if !served(gvk) {
				continue
			}
			objs, err := r.childrenOf(ctx, ps, gvk)
			if err != nil {
				return "", err
			}
			for _, o := range objs {
				remaining = append(remaining, describe(o))
				if o.GetDeletionTimestamp() != nil {
					continue
				}
				if err := r.deleteInBackground(ctx, o); err != nil {
					return "", err
				}
			}
		}
		if len(remaining) > 0 {
			return strings.Join(remaining, ", "), nil
		}
	}
	return "", nil
}

// childrenOf lists the objects of gvk that the operator created (by label), or, for the CSV,
// the one the Subscription installed.
func (r *PipelineServiceReconciler) childrenOf(ctx context.Context, ps *psv1alpha1.PipelineService, gvk schema.GroupVersionKind) ([]*unstructured.Unstructured, error) {
	if gvk == GVKClusterServiceVersion {
		name := ps.Status.InstalledCSV
		if name == "" {
			return nil, nil
		}
		csv := &unstructured.Unstructured{}
		csv.SetGroupVersionKind(gvk)
		err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ps.Spec.Operator.Subscription.Namespace, Name: name}, csv)
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("get ClusterServiceVersion %s: %w", name, err)
		}
		return []*unstructured.Unstructured{csv}, nil
	}
	return r.listManaged(ctx, gvk)
}
