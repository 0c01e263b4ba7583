package controllers

import (
	"context"
	"fmt"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
)

// clusterRequest is the one request every event maps to: there is one PipelineService.
var clusterRequest = reconcile.Request{NamespacedName: types.NamespacedName{Name: psv1alpha1.Name}}

// enqueueCluster maps any event to the PipelineService named cluster.
var enqueueCluster = handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
	return []reconcile.Request{clusterRequest}
})

// watchedCRDs are the CRDs of the child kinds, by group and kind: their arrival (or departure)
// changes what the operator can apply. An event on one reconciles, and the reconcile starts the
// watch on the new kind.
var watchedCRDs = map[schema.GroupKind]string{
	render.GVKTektonConfig.GroupKind():     "tektonconfigs.operator.tekton.dev",
	render.GVKExternalSecretV1.GroupKind(): "externalsecrets.external-secrets.io",
	render.GVKServiceMonitor.GroupKind():   "servicemonitors.monitoring.coreos.com",
	render.GVKICSP.GroupKind():             "imagecontentsourcepolicies.operator.openshift.io",
	render.GVKIDMS.GroupKind():             "imagedigestmirrorsets.config.openshift.io",
	render.GVKCatalogSource.GroupKind():    "catalogsources.operators.coreos.com",
	render.GVKSubscription.GroupKind():     "subscriptions.operators.coreos.com",
	GVKClusterServiceVersion.GroupKind():   "clusterserviceversions.operators.coreos.com",
	GVKInstallPlan.GroupKind():             "installplans.operators.coreos.com",
}

// childWatches starts a watch on each child kind the first time it is served, so that the
// operator neither fails to start when a CRD is missing (TektonConfig appears only once OSP is
// installed; ServiceMonitor or ExternalSecret may never) nor needs a restart when it appears.
type childWatches struct {
	mu      sync.Mutex
	ctrl    controller.Controller
	cache   cache.Cache
	mapper  meta.RESTMapper
	started map[schema.GroupVersionKind]bool
}

// served is whether the API server serves gvk. The RESTMapper re-reads discovery for a group
// it has not found, so a CRD installed after start is seen on the next reconcile.
func (w *childWatches) served(gvk schema.GroupVersionKind) bool {
	_, err := w.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	return err == nil
}

// servedOnce returns a served check that asks the RESTMapper once per kind: one reconcile
// looks the same kinds up for render, apply and prune, and a missing group costs a
// discovery request each time it is asked.
func (w *childWatches) servedOnce() func(schema.GroupVersionKind) bool {
	seen := map[schema.GroupVersionKind]bool{}
	return func(gvk schema.GroupVersionKind) bool {
		ok, known := seen[gvk]
		if !known {
			ok = w.served(gvk)
			seen[gvk] = ok
		}
		return ok
	}
}

// ensure starts the watch on gvk if it is not running yet; gvk must be served.
func (w *childWatches) ensure(gvk schema.GroupVersionKind) error {
	return w.ensureWith(gvk, enqueueCluster)
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

// isWatchedCRD keeps events of the CRDs in watchedCRDs.
func isWatchedCRD(o client.Object) bool {
	for _, name := range watchedCRDs {
		if name == o.GetName() {
			return true
		}
	}
	return false
}

// crdExists is whether the CRD of gk exists, from the metadata-only CRD cache. A CRD that
// exists while its kind is not served yet is discovery catching up: worth a quick retry,
// unlike a CRD that is absent, which the CRD watch will announce.
func (w *childWatches) crdExists(ctx context.Context, gk schema.GroupKind) bool {
	name, ok := watchedCRDs[gk]
	if !ok {
		return false
	}
	crd := crdMetadata()
	return w.cache.Get(ctx, client.ObjectKey{Name: name}, crd) == nil
}

// crdMetadata is the metadata-only CRD type the operator watches: CRDs are large, and only
// their names matter here.
func crdMetadata() client.Object {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	return m
}

// externalSecretVersion is the ExternalSecret version the cluster serves, v1 preferred.
func externalSecretVersion(served func(schema.GroupVersionKind) bool) string {
	for _, gvk := range []schema.GroupVersionKind{render.GVKExternalSecretV1, render.GVKExternalSecretBeta} {
		if served(gvk) {
			return gvk.Version
		}
	}
	return ""
}

// capabilities observes which optional APIs are served.
func capabilities(served func(schema.GroupVersionKind) bool) render.Capabilities {
	return render.Capabilities{
		ICSP:                  served(render.GVKICSP),
		IDMS:                  served(render.GVKIDMS),
		ExternalSecretVersion: externalSecretVersion(served),
		ServiceMonitor:        served(render.GVKServiceMonitor),
	}
}
