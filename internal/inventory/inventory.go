// Package inventory keeps the list of objects the operator applied for a parent, in its status,
// as Flux's inventory does: pruning deletes what the list holds and the spec no longer renders,
// and deletionPolicy Delete deletes what it holds.
package inventory

import (
	"context"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// Entry names obj in the inventory.
func Entry(obj *unstructured.Unstructured) psv1alpha1.InventoryEntry {
	return psv1alpha1.InventoryEntry{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// id identifies an entry whatever the version it was applied as.
func id(e psv1alpha1.InventoryEntry) string {
	return GroupKind(e).String() + "/" + e.Namespace + "/" + e.Name
}

// GroupKind is the group and kind of the object e names.
func GroupKind(e psv1alpha1.InventoryEntry) schema.GroupKind {
	return schema.FromAPIVersionAndKind(e.APIVersion, e.Kind).GroupKind()
}

// Ref is a reference to the object e names, for Get and Delete.
func Ref(e psv1alpha1.InventoryEntry) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(e.APIVersion)
	u.SetKind(e.Kind)
	u.SetNamespace(e.Namespace)
	u.SetName(e.Name)
	return u
}

// Sort orders entries by kind, namespace and name and drops duplicates, so that the status
// does not change with apply order.
func Sort(inv []psv1alpha1.InventoryEntry) []psv1alpha1.InventoryEntry {
	slices.SortFunc(inv, func(a, b psv1alpha1.InventoryEntry) int { return strings.Compare(id(a), id(b)) })
	return slices.CompactFunc(inv, func(a, b psv1alpha1.InventoryEntry) bool { return id(a) == id(b) })
}

// Stale are the entries of prunable kinds that the desired objects no longer hold.
func Stale(inv []psv1alpha1.InventoryEntry, desired []*unstructured.Unstructured) []psv1alpha1.InventoryEntry {
	keep := map[string]bool{}
	for _, o := range desired {
		keep[id(Entry(o))] = true
	}
	var stale []psv1alpha1.InventoryEntry
	for _, e := range inv {
		k, ok := children.Lookup(GroupKind(e))
		if ok && k.Prune && !keep[id(e)] {
			stale = append(stale, e)
		}
	}
	return stale
}

// Recover lists the objects of profile p that carry the operator's labels, for a parent whose
// status holds no inventory yet (reconciled by a version of the operator without one, or whose
// status was lost). Kinds that are neither pruned nor deleted (namespaces) are left out: the
// inventory holds them only to prune or delete them, the pass adds those it renders anyway,
// and a namespace both kinds label alike, left by a host that is gone, is not the
// PipelineService's to list.
func Recover(ctx context.Context, engine *apply.Engine, served children.Served, p children.Profile) ([]psv1alpha1.InventoryEntry, error) {
	var inv []psv1alpha1.InventoryEntry
	for _, k := range children.Rendered(p) {
		if !k.Prune && k.DeleteStep == 0 {
			continue
		}
		gvk := served.Version(k.GVK.GroupKind())
		if !served[gvk] {
			continue
		}
		objs, err := engine.List(ctx, gvk, render.Selector(p))
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			inv = append(inv, Entry(o))
		}
	}
	return Sort(inv), nil
}
