package apply

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Get reads one object as unstructured (through the operator's unstructured cache, or any
// reader); nil without an error when it does not exist, or its kind is not served.
func Get(ctx context.Context, c client.Reader, gvk schema.GroupVersionKind, key types.NamespacedName) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := c.Get(ctx, key, u); err != nil {
		if gone(err) {
			return nil, nil
		}
		return nil, err
	}
	return u, nil
}

// GetAs is Get, converted to the object's Go type.
func GetAs[T any](ctx context.Context, c client.Reader, gvk schema.GroupVersionKind, key types.NamespacedName, into *T) (*T, error) {
	u, err := Get(ctx, c, gvk, key)
	if u == nil || err != nil {
		return nil, err
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", gvk.Kind, key, err)
	}
	return into, nil
}

// gone is whether err says the object, or its whole kind, does not exist.
func gone(err error) bool {
	return apierrors.IsNotFound(err) || meta.IsNoMatchError(err)
}
