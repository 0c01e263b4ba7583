package pipelineservice

import (
	"context"
	"fmt"
	"slices"
	"sync"

	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
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

// The component workloads are read, never written.
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch

// componentWatch caches the workloads OSP runs: the Deployments and StatefulSets of the
// target namespace, where it runs Tekton's controllers and webhooks, and the OSP operator's
// own Deployment, which OLM makes in the Subscription's namespace. Those carry OSP's and OLM's
// labels, not ours, so the manager's label-scoped cache does not hold them; caching every
// Deployment in the cluster instead would make memory grow with the cluster. The namespaces
// come from the spec, so a cache is made on first use and added to the manager, and a watch
// on it reconciles when a workload changes.
type componentWatch struct {
	mu     sync.Mutex
	cfg    *rest.Config
	opts   cache.Options
	add    func(manager.Runnable) error
	ctrl   controller.Controller
	caches map[string]cache.Cache
	// chain is the cache of OSP's component CRs and installer sets (tektonchain.go), nil
	// until a TektonConfig is seen not ready; chainKinds are the component kinds it holds.
	chain      cache.Cache
	chainKinds []schema.GroupVersionKind
}

// olmOperatorSelector selects the Deployments OLM makes for a CSV, as the operator's own
// Deployment is: the Subscription's namespace (openshift-operators) holds every global
// operator's, and only theirs are cached.
var olmOperatorSelector = labels.SelectorFromSet(labels.Set{"olm.owner.kind": olmv1alpha1.ClusterServiceVersionKind})

// workloads lists the Deployments and StatefulSets in namespace, the operator's own (the
// exporter) left out. Right after the namespace's cache is made the lists may be empty; the
// watch reconciles again once the cache has synced.
func (w *componentWatch) workloads(ctx context.Context, namespace string) ([]appsv1.Deployment, []appsv1.StatefulSet, error) {
	c, err := w.cacheFor(namespace, labels.Everything())
	if err != nil {
		return nil, nil, err
	}
	deployments := &appsv1.DeploymentList{}
	if err := c.List(ctx, deployments, client.InNamespace(namespace)); err != nil {
		return nil, nil, fmt.Errorf("list Deployments in %s: %w", namespace, err)
	}
	sets := &appsv1.StatefulSetList{}
	if err := c.List(ctx, sets, client.InNamespace(namespace)); err != nil {
		return nil, nil, fmt.Errorf("list StatefulSets in %s: %w", namespace, err)
	}
	ours := func(o client.Object) bool { return o.GetLabels()[render.LabelManagedBy] == render.ManagedByValue }
	return slices.DeleteFunc(deployments.Items, func(d appsv1.Deployment) bool { return ours(&d) }),
		slices.DeleteFunc(sets.Items, func(s appsv1.StatefulSet) bool { return ours(&s) }), nil
}

// operatorDeployment is the Deployment OLM made in namespace for csv, the OSP operator: its
// environment is what OLM rolled from the CSV and the Subscription's spec.config.env. Nil
// when OLM has not made it (yet).
func (w *componentWatch) operatorDeployment(ctx context.Context, namespace, csv string) (*appsv1.Deployment, error) {
	c, err := w.cacheFor(namespace, olmOperatorSelector)
	if err != nil {
		return nil, err
	}
	list := &appsv1.DeploymentList{}
	if err := c.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels{"olm.owner": csv}); err != nil {
		return nil, fmt.Errorf("list the Deployments of %s in %s: %w", csv, namespace, err)
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	return &list.Items[0], nil
}

// cacheFor returns the cache of the workloads in namespace that selector selects, making and
// starting it the first time. A cache for a namespace the spec no longer names stays until the
// operator restarts: the namespaces change about never, and a cache of one namespace's
// workloads is small. A namespace cached whole also answers for the selected part of it.
func (w *componentWatch) cacheFor(namespace string, selector labels.Selector) (cache.Cache, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := namespace
	if !selector.Empty() {
		key += "?" + selector.String()
	}
	for _, k := range []string{namespace, key} {
		if c, ok := w.caches[k]; ok {
			return c, nil
		}
	}
	opts := w.opts
	opts.DefaultNamespaces = map[string]cache.Config{namespace: {LabelSelector: selector}}
	opts.ByObject = map[client.Object]cache.ByObject{
		&appsv1.Deployment{}:  {Transform: trimWorkload},
		&appsv1.StatefulSet{}: {Transform: trimWorkload},
	}
	c, err := cache.New(w.cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("make the workload cache of %s: %w", namespace, err)
	}
	if err := w.add(c); err != nil {
		return nil, fmt.Errorf("start the workload cache of %s: %w", namespace, err)
	}
	// The operator's own Deployments (the exporter) are watched through the manager's cache,
	// which the apply reads: an event from this cache first would reconcile before that one
	// knows of the change.
	notOurs := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetLabels()[render.LabelManagedBy] != render.ManagedByValue
	})
	for _, kind := range []client.Object{&appsv1.Deployment{}, &appsv1.StatefulSet{}} {
		if err := w.ctrl.Watch(source.Kind[client.Object](c, kind, watches.EnqueueCluster, notOurs)); err != nil {
			return nil, fmt.Errorf("watch %T in %s: %w", kind, namespace, err)
		}
	}
	w.caches[key] = c
	return c, nil
}

// trimWorkload keeps what health reads of a Deployment or StatefulSet (replicas, generation,
// conditions, and each container's name, image, args and environment) and drops the rest of
// the pod template, the bulk of the object.
func trimWorkload(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.ManagedFields, o.Annotations = nil, nil
		o.Spec.Template = trimTemplate(o.Spec.Template)
	case *appsv1.StatefulSet:
		o.ManagedFields, o.Annotations = nil, nil
		o.Spec.Template = trimTemplate(o.Spec.Template)
		o.Spec.VolumeClaimTemplates = nil
	}
	return obj, nil
}

func trimTemplate(t corev1.PodTemplateSpec) corev1.PodTemplateSpec {
	trim := func(cs []corev1.Container) []corev1.Container {
		out := make([]corev1.Container, 0, len(cs))
		for _, c := range cs {
			out = append(out, corev1.Container{Name: c.Name, Image: c.Image, Args: c.Args, Env: c.Env})
		}
		return out
	}
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: trim(t.Spec.Containers), InitContainers: trim(t.Spec.InitContainers)}}
}
