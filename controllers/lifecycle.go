package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// The steps of a parent's life that the PipelineService and PipelineServiceHost reconcilers
// share: the finalizer that holds it until its deletionPolicy is carried out, and the one
// status write per pass.

// addFinalizer adds the finalizer to obj and writes it; false when obj had it already.
func addFinalizer(ctx context.Context, c client.Client, obj client.Object) (bool, error) {
	base, ok := obj.DeepCopyObject().(client.Object)
	if !ok || !controllerutil.AddFinalizer(obj, Finalizer) {
		return false, nil
	}
	if err := c.Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		return false, fmt.Errorf("add finalizer: %w", err)
	}
	return true, nil
}

// releaseFinalizer removes the finalizer from obj, letting the API server delete it.
func releaseFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	base, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return nil
	}
	controllerutil.RemoveFinalizer(obj, Finalizer)
	if err := c.Patch(ctx, obj, client.MergeFrom(base)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	return nil
}

// patchStatus writes obj's status when it changed since original, and only then. The patch
// carries the resourceVersion it was computed from, so a status computed from a stale cache is
// refused with a conflict instead of overwriting a newer one (an upgrade recorded twice).
func patchStatus(ctx context.Context, c client.Client, original, obj client.Object, changed bool) error {
	if !changed {
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
