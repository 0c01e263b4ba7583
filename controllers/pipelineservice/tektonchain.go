package pipelineservice

import (
	"context"
	"fmt"
	"maps"
	"slices"

	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/watches"
)

// OSP's component CRs and installer sets are read, never written, to find why the
// TektonConfig is not ready.
// +kubebuilder:rbac:groups=operator.tekton.dev,resources=tektonpipelines;tektontriggers;tektonchains;openshiftpipelinesascodes;tektonresults;tektonaddons;tektonpruners;manualapprovalgates;tektoninstallersets,verbs=get;list;watch

// tektonComponents are the CRs OSP's TektonConfig reconciler makes, one per component, each
// by its kind and the one name OSP gives it (tektoncd/operator pkg/apis/operator/v1alpha1
// const.go; pkg/reconciler/shared/tektonconfig and its OpenShift extension).
var tektonComponents = map[string]string{
	tektonv1alpha1.KindTektonPipeline:           tektonv1alpha1.PipelineResourceName,
	tektonv1alpha1.KindTektonTrigger:            tektonv1alpha1.TriggerResourceName,
	tektonv1alpha1.KindTektonChain:              tektonv1alpha1.ChainResourceName,
	tektonv1alpha1.KindOpenShiftPipelinesAsCode: tektonv1alpha1.OpenShiftPipelinesAsCodeName,
	tektonv1alpha1.KindTektonResult:             tektonv1alpha1.ResultResourceName,
	tektonv1alpha1.KindTektonAddon:              tektonv1alpha1.AddonResourceName,
	tektonv1alpha1.KindTektonPruner:             tektonv1alpha1.TektonPrunerResourceName,
	tektonv1alpha1.KindManualApprovalGate:       tektonv1alpha1.ManualApprovalGates,
}

var installerSetGVK = tektonv1alpha1.SchemeGroupVersion.WithKind(tektonv1alpha1.KindTektonInstallerSet)

// tektonChain reads OSP's component CRs and the installer sets they made, for the cause of a
// TektonConfig that is not ready (health.DeepestTektonCause). They are read from a cache of
// their own, made the first time the TektonConfig is not ready: a healthy cluster never pays
// for it. It holds only the one CR OSP names of each served component kind (by name) and the
// installer sets OSP labels with their maker, each trimmed to its name, labels and conditions (an installer set's spec holds
// whole manifests), so its memory stays small and flat. A component kind whose CRD is served
// only after the cache was made is not read until the operator restarts: OSP installs all its
// CRDs with its CSV, before it reports on a TektonConfig.
func (w *componentWatch) tektonChain(ctx context.Context) (components, sets []*unstructured.Unstructured, err error) {
	c, kinds, err := w.tektonCache()
	if err != nil {
		return nil, nil, err
	}
	for _, gvk := range append(kinds, installerSetGVK) {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := c.List(ctx, list); err != nil {
			return nil, nil, fmt.Errorf("list %s: %w", gvk.Kind, err)
		}
		for i := range list.Items {
			u := &list.Items[i]
			u.SetGroupVersionKind(gvk)
			if gvk == installerSetGVK {
				sets = append(sets, u)
			} else {
				components = append(components, u)
			}
		}
	}
	return components, sets, nil
}

// tektonCache makes the chain's cache on first use, with a watch that reconciles when one of
// its objects changes, and returns it with the component kinds it holds.
func (w *componentWatch) tektonCache() (cache.Cache, []schema.GroupVersionKind, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.chain != nil {
		return w.chain, w.chainKinds, w.watchChain()
	}
	var kinds []schema.GroupVersionKind
	for _, k := range slices.Sorted(maps.Keys(tektonComponents)) {
		gvk := tektonv1alpha1.SchemeGroupVersion.WithKind(k)
		if _, err := w.opts.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
			kinds = append(kinds, gvk)
		} else if !meta.IsNoMatchError(err) {
			return nil, nil, fmt.Errorf("is %s served: %w", k, err)
		}
	}
	madeByOSP, err := labels.NewRequirement(health.CreatedByLabel, selection.Exists, nil)
	if err != nil {
		return nil, nil, err
	}
	opts := w.opts
	opts.DefaultNamespaces = nil
	opts.ByObject = map[client.Object]cache.ByObject{
		chainObject(installerSetGVK): {Label: labels.NewSelector().Add(*madeByOSP), Transform: trimToConditions},
	}
	for _, gvk := range kinds {
		// Scoped by name: the one component CR OSP makes of the kind.
		opts.ByObject[chainObject(gvk)] = cache.ByObject{Field: fields.OneTermEqualSelector("metadata.name", tektonComponents[gvk.Kind]),
			Transform: trimToConditions}
	}
	c, err := cache.New(w.cfg, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("make the cache of OSP's components: %w", err)
	}
	if err := w.add(c); err != nil {
		return nil, nil, fmt.Errorf("start the cache of OSP's components: %w", err)
	}
	// Remembered once started, before its watches: a watch that fails is registered on the
	// next pass (watchChain), rather than a second cache started.
	w.chain, w.chainKinds = c, kinds
	return c, kinds, w.watchChain()
}

// watchChain registers the watches of the chain's cache that are not registered yet. Called
// with w.mu held.
func (w *componentWatch) watchChain() error {
	for _, gvk := range append(slices.Clone(w.chainKinds), installerSetGVK) {
		id := "chain/" + gvk.String()
		if w.watching[id] {
			continue
		}
		if err := w.ctrl.Watch(source.Kind[client.Object](w.chain, chainObject(gvk), watches.EnqueueCluster)); err != nil {
			return fmt.Errorf("watch %s: %w", gvk.Kind, err)
		}
		w.watching[id] = true
	}
	return nil
}

func chainObject(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

// trimToConditions keeps what the walk reads of an OSP object: its name, kind, labels and
// status conditions.
func trimToConditions(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	trimmed := map[string]any{"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(), "metadata": map[string]any{
		"name": u.GetName(), "resourceVersion": u.GetResourceVersion(), "uid": string(u.GetUID()),
	}}
	if l := u.GetLabels(); len(l) > 0 {
		labelsCopy := map[string]any{}
		for k, v := range l {
			labelsCopy[k] = v
		}
		trimmed["metadata"].(map[string]any)["labels"] = labelsCopy
	}
	if conds, found, _ := unstructured.NestedSlice(u.Object, "status", "conditions"); found {
		trimmed["status"] = map[string]any{"conditions": conds}
	}
	u.Object = trimmed
	return u, nil
}
