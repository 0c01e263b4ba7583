package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
)

// applyResult says what applying one object did.
type applyResult int

const (
	unchanged applyResult = iota
	applied
)

// applyObject server-side applies desired with the operator's field manager, forcing
// ownership of the fields it renders and nothing else. It skips the write when the live
// object already carries the rendered content: the applied-hash annotation equals the
// rendered one (so no field was added or dropped since) and every rendered field has the
// rendered value (so nobody edited one of ours). A pass with nothing to change writes nothing.
func (r *PipelineServiceReconciler) applyObject(ctx context.Context, desired *unstructured.Unstructured) (applyResult, error) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(desired.GroupVersionKind())
	err := r.Get(ctx, client.ObjectKeyFromObject(desired), live)
	switch {
	case err == nil:
		if upToDate(desired, live) {
			return unchanged, nil
		}
	case !apierrors.IsNotFound(err):
		return unchanged, fmt.Errorf("get %s: %w", describe(desired), err)
	}
	obj := desired.DeepCopy()
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj),
		client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return unchanged, fmt.Errorf("apply %s: %w", describe(desired), err)
	}
	return applied, nil
}

// upToDate is whether live already holds everything desired renders.
func upToDate(desired, live *unstructured.Unstructured) bool {
	if live.GetDeletionTimestamp() != nil {
		return false
	}
	if live.GetAnnotations()[render.AnnotationAppliedHash] != desired.GetAnnotations()[render.AnnotationAppliedHash] {
		return false
	}
	return fields.IsSubset(desired.Object, live.Object)
}

// pruneKinds are the kinds whose objects the operator removes when they are no longer
// rendered (exporter disabled, mirrors emptied, gitHubApp removed, a child renamed). The
// namespace is not pruned (OSP runs in it) and neither is TektonConfig (only deletion with
// deletionPolicy Delete removes it).
var pruneKinds = []schema.GroupVersionKind{
	render.GVKServiceMonitor, render.GVKDeployment, render.GVKService, render.GVKClusterRoleBinding,
	render.GVKClusterRole, render.GVKServiceAccount, render.GVKExternalSecretV1, render.GVKICSP,
	render.GVKIDMS, render.GVKSubscription, render.GVKCatalogSource,
}

// prune deletes, and names, the objects carrying the operator's label that the current spec no longer renders.
func (r *PipelineServiceReconciler) prune(ctx context.Context, desired []*unstructured.Unstructured, served func(schema.GroupVersionKind) bool) ([]string, error) {
	keep := map[string]bool{}
	for _, o := range desired {
		keep[objectID(o.GroupVersionKind().GroupKind(), o.GetNamespace(), o.GetName())] = true
	}
	var deleted []string
	for _, gvk := range pruneKinds {
		if !served(gvk) {
			continue
		}
		objs, err := r.listManaged(ctx, gvk)
		if err != nil {
			return deleted, err
		}
		for _, o := range objs {
			if keep[objectID(gvk.GroupKind(), o.GetNamespace(), o.GetName())] || o.GetDeletionTimestamp() != nil {
				continue
			}
			if err := r.deleteInBackground(ctx, o); err != nil {
				return deleted, err
			}
			deleted = append(deleted, describe(o))
		}
	}
	return deleted, nil
}

// listManaged lists the objects of gvk that carry the operator's label.
func (r *PipelineServiceReconciler) listManaged(ctx context.Context, gvk schema.GroupVersionKind) ([]*unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := r.List(ctx, list, client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue}); err != nil {
		return nil, fmt.Errorf("list %s: %w", gvk.Kind, err)
	}
	out := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out, nil
}

// deleteInBackground deletes o and lets garbage collection remove what it owns (a
// Deployment's ReplicaSets) afterwards; an object already gone is not an error.
func (r *PipelineServiceReconciler) deleteInBackground(ctx context.Context, o *unstructured.Unstructured) error {
	if err := r.Delete(ctx, o, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete %s: %w", describe(o), err)
	}
	return nil
}

func objectID(gk schema.GroupKind, namespace, name string) string {
	return gk.String() + "/" + types.NamespacedName{Namespace: namespace, Name: name}.String()
}

func describe(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return fmt.Sprintf("%s %s", o.GetKind(), o.GetName())
	}
	return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
}
