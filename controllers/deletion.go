package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

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
			setDeleting(&ps.Status.Conditions, ps.Generation, fmt.Sprintf("deletionPolicy Delete: waiting for %s to be deleted", waiting))
			if err := r.patchStatus(ctx, original, ps); err != nil && !apierrors.IsConflict(err) {
				return ctrl.Result{}, err
			}
			// A conflict means a newer PipelineService is on its way; the poll below reads
			// it again, quietly. Watches wake the reconcile when a child goes; the poll covers
			// finalizers of children whose removal the operator does not watch (the CSV).
			return ctrl.Result{RequeueAfter: deletionPollInterval}, nil
		}
		r.emit(ps, []event{{done: true, reason: psv1alpha1.ReasonDeleting, action: "Delete",
			message: "deletionPolicy Delete: every child is deleted"}})
	}
	log.FromContext(ctx).Info("releasing the finalizer", "deletionPolicy", ps.Spec.DeletionPolicy)
	return ctrl.Result{}, releaseFinalizer(ctx, r.Client, ps)
}

// deleteChildren deletes the remaining children of the first unfinished deletion step and
// names what it waits for; "" means every step is done. The children are those in the
// inventory, and the CSV the Subscription installed.
func (r *PipelineServiceReconciler) deleteChildren(ctx context.Context, ps *psv1alpha1.PipelineService) (string, error) {
	inv, err := r.lastInventory(ctx, ps)
	if err != nil {
		return "", err
	}
	if csv := ps.Status.InstalledCSV; csv != "" {
		inv = append(inv, psv1alpha1.InventoryEntry{APIVersion: children.GVKClusterServiceVersion.GroupVersion().String(),
			Kind: children.GVKClusterServiceVersion.Kind, Namespace: ps.Spec.Operator.Subscription.Namespace, Name: csv})
	}
	return deleteInventory(ctx, r.engine, inv, children.DeleteSteps(children.Member))
}

// deleteInventory deletes the remaining objects of inv in the first unfinished step and names
// what it waits for; "" means every step is done.
func deleteInventory(ctx context.Context, engine *apply.Engine, inv []psv1alpha1.InventoryEntry, steps [][]children.Kind) (string, error) {
	for _, step := range steps {
		var refs []*unstructured.Unstructured
		for _, e := range inv {
			gk := schema.FromAPIVersionAndKind(e.APIVersion, e.Kind).GroupKind()
			if slices.ContainsFunc(step, func(k children.Kind) bool { return k.GVK.GroupKind() == gk }) {
				refs = append(refs, entryRef(e))
			}
		}
		remaining, err := engine.Delete(ctx, refs)
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

// setDeleting says that deletion is under way and what it waits for.
func setDeleting(conditions *[]metav1.Condition, generation int64, msg string) {
	meta.SetStatusCondition(conditions, metav1.Condition{Type: psv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: psv1alpha1.ReasonDeleting, Message: msg, ObservedGeneration: generation})
	meta.SetStatusCondition(conditions, metav1.Condition{Type: psv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue,
		Reason: psv1alpha1.ReasonDeleting, Message: msg, ObservedGeneration: generation})
}
