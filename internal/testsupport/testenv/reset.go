package testenv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// systemNamespaces hold what the API server itself makes (the kubernetes Service); Reset
// leaves them alone.
var systemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// resetKinds are what tests create besides the children: Events, the admission policies a
// test installs to refuse an apply, and leader-election Leases.
var resetKinds = []schema.GroupVersionKind{
	{Group: "events.k8s.io", Version: "v1", Kind: "Event"},
	{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingAdmissionPolicyBinding"},
	{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingAdmissionPolicy"},
	{Group: "coordination.k8s.io", Version: "v1", Kind: "Lease"},
	// The ClusterRoles that ship with the operator (config/rbac), which tests install.
	children.GVKClusterRole,
}

// Reset empties a control plane for the next test that shares it: the PipelineService and
// PipelineServiceHost, every
// object of the registered kinds (what the operator made, and what tests made in OLM's and
// OSP's place), Events, admission policies and Leases, finalizers and all. Namespaces stay
// (no namespace controller runs to finish deleting them), as do the API server's own objects
// and the bootstrap cluster RBAC.
func Reset(ctx context.Context, c client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	kinds := []schema.GroupVersionKind{psv1alpha1.GroupVersion.WithKind("PipelineService"), psv1alpha1.GroupVersion.WithKind("PipelineServiceHost")}
	for _, k := range children.Kinds {
		if k.GVK != children.GVKNamespace {
			kinds = append(kinds, k.GVK)
		}
	}
	kinds = append(kinds, resetKinds...)
	for {
		left := 0
		for _, gvk := range kinds {
			n, err := deleteAllOf(ctx, c, gvk)
			if err != nil {
				return err
			}
			left += n
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d objects still exist: %w", left, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// deleteAllOf deletes the objects of gvk that Reset empties, after clearing their finalizers,
// and says how many it found.
func deleteAllOf(ctx context.Context, c client.Client, gvk schema.GroupVersionKind) (int, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	var opts []client.ListOption
	if gvk == children.GVKClusterRole || gvk == children.GVKClusterRoleBinding {
		// The API server's bootstrap policy stays.
		notBootstrap, err := labels.Parse("!kubernetes.io/bootstrapping")
		if err != nil {
			return 0, err
		}
		opts = append(opts, client.MatchingLabelsSelector{Selector: notBootstrap})
	}
	if err := c.List(ctx, list, opts...); err != nil {
		if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("list %s: %w", gvk.Kind, err)
	}
	n := 0
	for i := range list.Items {
		o := &list.Items[i]
		if slices.Contains(systemNamespaces, o.GetNamespace()) {
			continue
		}
		n++
		if len(o.GetFinalizers()) > 0 {
			patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))
			if err := c.Patch(ctx, o, patch); client.IgnoreNotFound(err) != nil {
				return 0, fmt.Errorf("clear the finalizers of %s %s: %w", gvk.Kind, o.GetName(), err)
			}
		}
		if err := c.Delete(ctx, o); client.IgnoreNotFound(err) != nil && !errors.Is(err, context.Canceled) {
			return 0, fmt.Errorf("delete %s %s: %w", gvk.Kind, o.GetName(), err)
		}
	}
	return n, nil
}
