package pipelineservice

import (
	"context"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/watches"
)

// componentWatch caches the Deployments of the target namespace, where OSP runs Tekton's
// controllers and webhooks. Those carry OSP's labels, not ours, so the manager's label-scoped
// cache does not hold them; caching every Deployment in the cluster instead would make memory
// grow with the cluster. The namespace comes from the spec, so the cache is made on first use
// and added to the manager, and a watch on it reconciles when a replica count changes.
type componentWatch struct {
	mu     sync.Mutex
	cfg    *rest.Config
	opts   cache.Options
	add    func(manager.Runnable) error
	ctrl   controller.Controller
	caches map[string]cache.Cache
}

// deployments lists the Deployments in namespace. Right after the namespace's cache is made
// the list may be empty; the watch reconciles again once the cache has synced.
func (w *componentWatch) deployments(ctx context.Context, namespace string) ([]appsv1.Deployment, error) {
	c, err := w.cacheFor(namespace)
	if err != nil {
		return nil, err
	}
	list := &appsv1.DeploymentList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("list Deployments in %s: %w", namespace, err)
	}
	return list.Items, nil
}

// cacheFor returns the cache of namespace, making and starting it the first time. A cache
// for a namespace the spec no longer names stays until the operator restarts: targetNamespace
// changes about never, and a Deployment cache of one namespace is small.
func (w *componentWatch) cacheFor(namespace string) (cache.Cache, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.caches[namespace]; ok {
		return c, nil
	}
	opts := w.opts
	opts.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	opts.ByObject = map[client.Object]cache.ByObject{&appsv1.Deployment{}: {Transform: trimDeployment}}
	c, err := cache.New(w.cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("make the Deployment cache of %s: %w", namespace, err)
	}
	if err := w.add(c); err != nil {
		return nil, fmt.Errorf("start the Deployment cache of %s: %w", namespace, err)
	}
	// The operator's own Deployments (the exporter) are watched through the manager's cache,
	// which the apply reads: an event from this cache first would reconcile before that one
	// knows of the change.
	notOurs := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetLabels()[render.LabelManagedBy] != render.ManagedByValue
	})
	if err := w.ctrl.Watch(source.Kind[client.Object](c, &appsv1.Deployment{}, watches.EnqueueCluster, notOurs)); err != nil {
		return nil, fmt.Errorf("watch Deployments in %s: %w", namespace, err)
	}
	w.caches[namespace] = c
	return c, nil
}

// trimDeployment keeps what health reads of a Deployment (replicas, generation, conditions) and
// drops the pod template, the bulk of the object.
func trimDeployment(obj any) (any, error) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return obj, nil
	}
	d.ManagedFields = nil
	d.Annotations = nil
	d.Spec.Template = corev1.PodTemplateSpec{}
	return d, nil
}
