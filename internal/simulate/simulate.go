// Package simulate plays the part of OLM and OpenShift Pipelines where they do not run (envtest
// and `make run`): it writes the objects and status those controllers would write. Production
// code never calls it.
package simulate

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
)

// EnsureNamespaces creates namespaces that a real cluster already has.
func EnsureNamespaces(ctx context.Context, c client.Client, names ...string) error {
	for _, name := range names {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	return nil
}

// InstallCSV does what OLM does when a Subscription resolves: it creates the CSV with phase
// Succeeded in the Subscription's namespace and records it as installed and current.
func InstallCSV(ctx context.Context, c client.Client, subNamespace, subName, csvName, version string) error {
	csv := &unstructured.Unstructured{}
	csv.SetGroupVersionKind(render.GVKCatalogSource.GroupVersion().WithKind("ClusterServiceVersion"))
	csv.SetNamespace(subNamespace)
	csv.SetName(csvName)
	csv.Object["spec"] = map[string]any{
		"displayName": "Red Hat OpenShift Pipelines",
		"version":     version,
		"install":     map[string]any{"strategy": "deployment"},
	}
	if err := c.Create(ctx, csv); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create CSV %s: %w", csvName, err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(csv), csv); err != nil {
		return err
	}
	csv.Object["status"] = map[string]any{"phase": "Succeeded", "reason": "InstallSucceeded"}
	if err := c.Status().Update(ctx, csv); err != nil {
		return fmt.Errorf("set CSV %s Succeeded: %w", csvName, err)
	}

	sub := &unstructured.Unstructured{}
	sub.SetGroupVersionKind(render.GVKSubscription)
	if err := c.Get(ctx, client.ObjectKey{Namespace: subNamespace, Name: subName}, sub); err != nil {
		return fmt.Errorf("get Subscription %s/%s: %w", subNamespace, subName, err)
	}
	sub.Object["status"] = map[string]any{
		"state": "AtLatestKnown", "installedCSV": csvName, "currentCSV": csvName,
		"lastUpdated": metav1.Now().UTC().Format("2006-01-02T15:04:05Z"),
	}
	if err := c.Status().Update(ctx, sub); err != nil {
		return fmt.Errorf("set Subscription %s/%s installed: %w", subNamespace, subName, err)
	}
	return nil
}
