package controllers

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// clusterRequest is the one request every event maps to: there is one PipelineService, and
// one PipelineServiceHost, each named cluster.
var clusterRequest = reconcile.Request{NamespacedName: types.NamespacedName{Name: psv1alpha1.Name}}

// enqueueCluster maps any event to the object named cluster.
var enqueueCluster = handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
	return []reconcile.Request{clusterRequest}
})

// enqueueChildOf maps an event of a child to its parent's reconcile: the member and host
// children share kinds, informers and the managed-by label, and the part-of label tells whose
// each is, so that SprayProxy's rollout does not wake the PipelineService and the other way
// round.
func enqueueChildOf(p children.Profile) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		if (o.GetLabels()[render.LabelPartOf] == render.HostPartOfValue) != (p == children.Host) {
			return nil
		}
		return []reconcile.Request{clusterRequest}
	})
}

// profileSelector selects the children of profile p among the objects with the operator's
// label (the inventory's recovery lists them).
func profileSelector(p children.Profile) labels.Selector {
	op := selection.NotEquals
	if p == children.Host {
		op = selection.Equals
	}
	partOf, err := labels.NewRequirement(render.LabelPartOf, op, []string{render.HostPartOfValue})
	utilruntime.Must(err)
	managed, err := labels.NewRequirement(render.LabelManagedBy, selection.Equals, []string{render.ManagedByValue})
	utilruntime.Must(err)
	return labels.NewSelector().Add(*managed, *partOf)
}

// childWatches watches every registered kind the API server serves, so that the operator
// neither fails to start when a CRD is missing (TektonConfig appears only once OSP is
// installed; ServiceMonitor or ExternalSecret may never) nor needs a restart when it appears:
// the CRD watch reconciles, and the reconcile starts the new kind's watch.
type childWatches struct {
	mu      sync.Mutex
	profile children.Profile
	ctrl    controller.Controller
	cache   cache.Cache
	mapper  meta.RESTMapper
	started map[schema.GroupVersionKind]bool
	// observedHandler maps events of the kinds OLM writes (CSV, InstallPlan) to a reconcile.
	observedHandler handler.EventHandler
}

// served is whether the API server serves gvk. The RESTMapper re-reads discovery for a group
// it has not found, so a CRD installed after start is seen on the next reconcile.
func (w *childWatches) served(gvk schema.GroupVersionKind) bool {
	_, err := w.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	return err == nil
}

// servedKinds asks the RESTMapper, once per reconcile, which versions of the registered kinds
// are served: a missing group costs a discovery request each time it is asked.
func (w *childWatches) servedKinds() children.Served {
	return children.ServedOf(w.profile, w.served)
}

// ensureServed starts the watch on every served kind that has none yet. It runs at start-up,
// so that the first reconcile finds every informer started and the caches sync together,
// and on every reconcile, for kinds whose CRD arrived since.
func (w *childWatches) ensureServed(served children.Served) error {
	for _, k := range children.Of(w.profile) {
		gvk := served.Version(k.GVK.GroupKind())
		if !served[gvk] {
			continue
		}
		h := enqueueChildOf(w.profile)
		if k.Observed {
			h = w.observedHandler
		}
		if err := w.ensureWith(gvk, h); err != nil {
			return err
		}
	}
	return nil
}

// ensureWith starts the watch on gvk with handler h if it is not running yet.
func (w *childWatches) ensureWith(gvk schema.GroupVersionKind, h handler.EventHandler) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started[gvk] {
		return nil
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(gvk)
	if err := w.ctrl.Watch(source.Kind[client.Object](w.cache, obj, h)); err != nil {
		return fmt.Errorf("watch %s: %w", gvk.Kind, err)
	}
	w.started[gvk] = true
	return nil
}

// watchedCRDs keeps events of the CRDs that serve the kinds of profile p.
func watchedCRDs(p children.Profile) predicate.Predicate {
	crds := children.CRDKinds(p)
	return predicate.NewPredicateFuncs(func(o client.Object) bool {
		_, ok := crds[o.GetName()]
		return ok
	})
}

// crdExists is whether the CRD of gk exists, from the metadata-only CRD cache. A CRD that
// exists while its kind is not served yet is discovery catching up: worth a quick retry,
// unlike a CRD that is absent, which the CRD watch will announce.
func (w *childWatches) crdExists(ctx context.Context, gk schema.GroupKind) bool {
	k, ok := children.Lookup(gk)
	if !ok || k.BuiltIn {
		return false
	}
	name := k.CRD()
	crd := crdMetadata()
	return w.cache.Get(ctx, client.ObjectKey{Name: name}, crd) == nil
}

// crdMetadata is the metadata-only CRD type the operator watches: CRDs are large, and only
// their names matter here.
func crdMetadata() client.Object {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(children.GVKCustomResourceDefinition)
	return m
}
