// Package watches starts the watches of a parent's children: every registered kind the API
// server serves, started at start-up or as soon as its CRD arrives, each event mapped to the
// one parent named cluster.
package watches

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// ClusterRequest is the one request every event maps to: there is one PipelineService, and
// one PipelineServiceHost, each named cluster.
var ClusterRequest = reconcile.Request{NamespacedName: types.NamespacedName{Name: psv1alpha1.Name}}

// EnqueueCluster maps any event to the object named cluster.
var EnqueueCluster = handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
	return []reconcile.Request{ClusterRequest}
})

// enqueueChildOf maps an event of a child of profile p to its parent's reconcile, so that
// SprayProxy's rollout does not wake the PipelineService and the other way round.
func enqueueChildOf(p children.Profile) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		if !render.ChildOf(p, o.GetLabels()) {
			return nil
		}
		return []reconcile.Request{ClusterRequest}
	})
}

// Children watches every registered kind of one profile that the API server serves, so that
// the operator neither fails to start when a CRD is missing (TektonConfig appears only once
// OSP is installed; ServiceMonitor or ExternalSecret may never) nor needs a restart when it
// appears: the CRD watch reconciles, and the reconcile starts the new kind's watch.
type Children struct {
	mu      sync.Mutex
	profile children.Profile
	ctrl    controller.Controller
	cache   cache.Cache
	mapper  meta.RESTMapper
	started map[schema.GroupVersionKind]bool
	// observed maps events of the kinds OLM writes (CSV, InstallPlan) to a reconcile.
	observed handler.EventHandler
}

// New returns the watches of profile p's children on c. observed handles the events of the
// registry's Observed kinds, which carry no label of ours; nil when p has none.
func New(p children.Profile, c controller.Controller, ca cache.Cache, mapper meta.RESTMapper, observed handler.EventHandler) *Children {
	return &Children{profile: p, ctrl: c, cache: ca, mapper: mapper, started: map[schema.GroupVersionKind]bool{}, observed: observed}
}

// served is whether the API server serves gvk. The RESTMapper re-reads discovery for a group
// it has not found, so a CRD installed after start is seen on the next reconcile.
func (w *Children) served(gvk schema.GroupVersionKind) bool {
	_, err := w.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	return err == nil
}

// Served asks the RESTMapper, once per reconcile, which versions of the profile's kinds are
// served: a missing group costs a discovery request each time it is asked.
func (w *Children) Served() children.Served {
	return children.ServedOf(w.profile, w.served)
}

// syncTimeout bounds the wait for a watch started during a reconcile. A watch that has not
// synced by then (an informer that cannot list: its RBAC missing) fails the pass once, naming
// the kind, and keeps trying; one that has failed is started afresh by the next pass.
const syncTimeout = time.Minute

// Start registers the watch on every served kind. It runs before the manager starts, so that
// the first reconcile finds every informer started and the caches sync together.
func (w *Children) Start(served children.Served) error {
	_, err := w.ensure(served)
	return err
}

// Ensure starts the watch on every served kind that has none yet, for kinds whose CRD arrived
// since start-up, and returns once each new watch has synced. The pass goes on to apply the
// new kind's objects: were the watch still listing then, an object applied and deleted before
// the list would never be seen, and its deletion never healed. Only a reconcile calls it: the
// controller runs, so each new watch starts at once.
func (w *Children) Ensure(ctx context.Context, served children.Served) error {
	started, err := w.ensure(served)
	if err != nil || len(started) == 0 {
		return err
	}
	synced := map[schema.GroupVersionKind]<-chan error{}
	for gvk, src := range started {
		synced[gvk] = w.synced(gvk, src)
	}
	timeout := time.NewTimer(syncTimeout)
	defer timeout.Stop()
	for gvk, done := range synced {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("watch %s: %w", gvk.Kind, err)
			}
		case <-timeout.C:
			return fmt.Errorf("watch %s: not synced after %s", gvk.Kind, syncTimeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// synced reports, on the channel it returns, how the watch src on gvk started: nil once it has
// synced, or the error that stopped it, and then forgets it, so that the next pass starts
// another. The wait is not bounded by a pass: it ends when the source does.
func (w *Children) synced(gvk schema.GroupVersionKind, src source.SyncingSource) <-chan error {
	out := make(chan error, 1)
	go func() {
		err := src.WaitForSync(context.Background())
		if err != nil {
			w.mu.Lock()
			delete(w.started, gvk)
			w.mu.Unlock()
		}
		out <- err
	}()
	return out
}

// ensure starts the watches not running yet and returns those it started.
func (w *Children) ensure(served children.Served) (map[schema.GroupVersionKind]source.SyncingSource, error) {
	started := map[schema.GroupVersionKind]source.SyncingSource{}
	for _, k := range children.Of(w.profile) {
		gvk := served.Version(k.GVK.GroupKind())
		if !served[gvk] {
			continue
		}
		h := enqueueChildOf(w.profile)
		if k.Observed {
			if w.observed == nil {
				return nil, fmt.Errorf("watch %s: the kind is observed and no handler was given for it", gvk.Kind)
			}
			h = w.observed
		}
		src, err := w.ensureWith(gvk, h)
		if err != nil {
			return nil, err
		}
		if src != nil {
			started[gvk] = src
		}
	}
	return started, nil
}

// ensureWith starts the watch on gvk with handler h if it is not running yet, and returns its
// source; nil when it was running.
func (w *Children) ensureWith(gvk schema.GroupVersionKind, h handler.EventHandler) (source.SyncingSource, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started[gvk] {
		return nil, nil
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(gvk)
	src := source.Kind[client.Object](w.cache, obj, h)
	if err := w.ctrl.Watch(src); err != nil {
		return nil, fmt.Errorf("watch %s: %w", gvk.Kind, err)
	}
	w.started[gvk] = true
	return src, nil
}

// CRDExists is whether the CRD of gk exists, from the metadata-only CRD cache. A CRD that
// exists while its kind is not served yet is discovery catching up: worth a quick retry,
// unlike a CRD that is absent, which the CRD watch will announce.
func (w *Children) CRDExists(ctx context.Context, gk schema.GroupKind) bool {
	k, ok := children.Lookup(gk)
	if !ok || k.BuiltIn {
		return false
	}
	return w.cache.Get(ctx, client.ObjectKey{Name: k.CRD()}, CRDMetadata()) == nil
}

// CRDs keeps events of the CRDs that serve the kinds of profile p.
func CRDs(p children.Profile) predicate.Predicate {
	crds := children.CRDKinds(p)
	return predicate.NewPredicateFuncs(func(o client.Object) bool {
		_, ok := crds[o.GetName()]
		return ok
	})
}

// CRDMetadata is the metadata-only CRD type the operator watches: CRDs are large, and only
// their names matter here.
func CRDMetadata() client.Object {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(children.GVKCustomResourceDefinition)
	return m
}
