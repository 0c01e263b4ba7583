package pipelineservice

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/watches"
)

// The component workloads are read, never written; their pods' restarts too, where
// config/rbac/component_pods_role.yaml grants it (a Role, not a marker: the markers make the
// ClusterRole, and pods are read in the target namespace only).
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=selfsubjectaccessreviews,verbs=create

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
	// watching are the workload kinds watched on each cache of caches, by key and kind: a
	// cache is remembered as soon as it is started, and a watch that failed is registered
	// on the next pass, so that no second cache is started for the same namespace.
	watching map[string]bool
	// reviews asks the API server what the operator may do (pods, see mayWatchPods).
	reviews client.Client
	// podAccess and podsWatched are per namespace: may its pods be watched, and are they.
	podAccess   map[string]podAccess
	podsWatched map[string]bool
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

// pods lists the pods in namespace, the component workloads' (the target namespace holds
// OSP's components, not the users' TaskRun pods), each trimmed to what the restart count
// reads; false when the operator may not list them. Pods are read in the target namespace
// only: config/rbac grants that in openshift-pipelines, by a Role, and nowhere else, since a
// pod's spec may carry credentials. The grant is asked of the API server before the pods
// are watched, as an informer without it would fail to sync and stall the reconcile; a denial
// is asked again after podAccessRecheck.
func (w *componentWatch) pods(ctx context.Context, namespace string) ([]corev1.Pod, bool, error) {
	allowed, err := w.mayWatchPods(ctx, namespace)
	if err != nil || !allowed {
		return nil, false, err
	}
	c, err := w.cacheFor(namespace, labels.Everything())
	if err != nil {
		return nil, false, err
	}
	w.mu.Lock()
	watched := w.podsWatched[namespace]
	w.podsWatched[namespace] = true
	w.mu.Unlock()
	if !watched {
		if err := w.ctrl.Watch(source.Kind[client.Object](c, &corev1.Pod{}, watches.EnqueueCluster, restartsChanged)); err != nil {
			return nil, false, fmt.Errorf("watch pods in %s: %w", namespace, err)
		}
	}
	list := &corev1.PodList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, false, fmt.Errorf("list pods in %s: %w", namespace, err)
	}
	return list.Items, true, nil
}

// podAccessRecheck paces asking again whether pods may be watched, after a denial.
const podAccessRecheck = 10 * time.Minute

// mayWatchPods asks the API server (a SelfSubjectAccessReview) whether the operator may list
// and watch pods in namespace; an answer of yes is kept, one of no for podAccessRecheck.
func (w *componentWatch) mayWatchPods(ctx context.Context, namespace string) (bool, error) {
	w.mu.Lock()
	asked, ok := w.podAccess[namespace]
	w.mu.Unlock()
	if ok && (asked.allowed || time.Since(asked.at) < podAccessRecheck) {
		return asked.allowed, nil
	}
	allowed := true
	for _, verb := range []string{"list", "watch"} {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: namespace, Verb: verb, Resource: "pods"}}}
		if err := w.reviews.Create(ctx, review); err != nil {
			return false, fmt.Errorf("may the operator %s pods in %s: %w", verb, namespace, err)
		}
		allowed = allowed && review.Status.Allowed
	}
	w.mu.Lock()
	w.podAccess[namespace] = podAccess{allowed: allowed, at: time.Now()}
	w.mu.Unlock()
	return allowed, nil
}

// podAccess is the answer to whether pods may be watched in a namespace, and when it came.
type podAccess struct {
	allowed bool
	at      time.Time
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
			return c, w.watchWorkloads(k, c)
		}
	}
	opts := w.opts
	opts.DefaultNamespaces = map[string]cache.Config{namespace: {LabelSelector: selector}}
	opts.ByObject = map[client.Object]cache.ByObject{
		&appsv1.Deployment{}:  {Transform: trimWorkload},
		&appsv1.StatefulSet{}: {Transform: trimWorkload},
		&corev1.Pod{}:         {Transform: trimPod},
	}
	c, err := cache.New(w.cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("make the workload cache of %s: %w", namespace, err)
	}
	if err := w.add(c); err != nil {
		return nil, fmt.Errorf("start the workload cache of %s: %w", namespace, err)
	}
	w.caches[key] = c
	return c, w.watchWorkloads(key, c)
}

// notOurs passes the workloads the operator did not make. Its own Deployments (the exporter)
// are watched through the manager's cache, which the apply reads: an event from a component
// cache first would reconcile before that one knows of the change.
var notOurs = predicate.NewPredicateFuncs(func(o client.Object) bool {
	return o.GetLabels()[render.LabelManagedBy] != render.ManagedByValue
})

// watchWorkloads registers the watches of the workloads on the cache c of key that are not
// registered yet. Called with w.mu held.
func (w *componentWatch) watchWorkloads(key string, c cache.Cache) error {
	for _, kind := range []client.Object{&appsv1.Deployment{}, &appsv1.StatefulSet{}} {
		id := fmt.Sprintf("%s/%T", key, kind)
		if w.watching[id] {
			continue
		}
		if err := w.ctrl.Watch(source.Kind[client.Object](c, kind, watches.EnqueueCluster, notOurs)); err != nil {
			return fmt.Errorf("watch %T in %s: %w", kind, key, err)
		}
		w.watching[id] = true
	}
	return nil
}

// restartsChanged passes a pod that came or went, and a pod update that changed a
// container's restart count: readiness flips and other status writes do not wake a pass.
var restartsChanged = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	o, okOld := e.ObjectOld.(*corev1.Pod)
	n, okNew := e.ObjectNew.(*corev1.Pod)
	return !okOld || !okNew || restartCount(o) != restartCount(n)
}}

func restartCount(p *corev1.Pod) int32 {
	var n int32
	for _, c := range append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...) {
		n += c.RestartCount
	}
	return n
}

// trimPod keeps what the restart count reads of a pod: its labels, start and containers'
// restart counts with their last termination.
func trimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	trim := func(cs []corev1.ContainerStatus) []corev1.ContainerStatus {
		out := make([]corev1.ContainerStatus, 0, len(cs))
		for _, c := range cs {
			out = append(out, corev1.ContainerStatus{Name: c.Name, RestartCount: c.RestartCount, LastTerminationState: c.LastTerminationState})
		}
		return out
	}
	return &corev1.Pod{
		TypeMeta: p.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels, UID: p.UID,
			ResourceVersion: p.ResourceVersion, CreationTimestamp: p.CreationTimestamp},
		Status: corev1.PodStatus{ContainerStatuses: trim(p.Status.ContainerStatuses), InitContainerStatuses: trim(p.Status.InitContainerStatuses)},
	}, nil
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
