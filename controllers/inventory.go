package controllers

import (
	"context"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// inventoryEntry names obj in the inventory.
func inventoryEntry(obj *unstructured.Unstructured) psv1alpha1.InventoryEntry {
	return psv1alpha1.InventoryEntry{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// entryID identifies an entry whatever the version it was applied as.
func entryID(e psv1alpha1.InventoryEntry) string {
	return schema.FromAPIVersionAndKind(e.APIVersion, e.Kind).GroupKind().String() + "/" + e.Namespace + "/" + e.Name
}

// entryRef is a reference to the object e names, for Get and Delete.
func entryRef(e psv1alpha1.InventoryEntry) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(e.APIVersion)
	u.SetKind(e.Kind)
	u.SetNamespace(e.Namespace)
	u.SetName(e.Name)
	return u
}

// sortInventory orders entries by kind, namespace and name, so that the status does not
// change with apply order.
func sortInventory(inv []psv1alpha1.InventoryEntry) []psv1alpha1.InventoryEntry {
	slices.SortFunc(inv, func(a, b psv1alpha1.InventoryEntry) int { return strings.Compare(entryID(a), entryID(b)) })
	return slices.CompactFunc(inv, func(a, b psv1alpha1.InventoryEntry) bool { return entryID(a) == entryID(b) })
}

// staleEntries are the entries of prunable kinds that the desired objects no longer hold.
func staleEntries(inv []psv1alpha1.InventoryEntry, desired []*unstructured.Unstructured) []psv1alpha1.InventoryEntry {
	keep := map[string]bool{}
	for _, o := range desired {
		keep[entryID(inventoryEntry(o))] = true
	}
	var stale []psv1alpha1.InventoryEntry
	for _, e := range inv {
		k, ok := children.Lookup(schema.FromAPIVersionAndKind(e.APIVersion, e.Kind).GroupKind())
		if ok && k.Prune && !keep[entryID(e)] {
			stale = append(stale, e)
		}
	}
	return stale
}

// lastInventory is what the operator applied before this pass. A PipelineService whose status
// holds no inventory yet (reconciled by a version of the operator without one, or whose
// status was lost) gets it from the objects carrying the operator's labels, once.
func (r *PipelineServiceReconciler) lastInventory(ctx context.Context, ps *psv1alpha1.PipelineService) ([]psv1alpha1.InventoryEntry, error) {
	if ps.Status.Inventory != nil {
		return ps.Status.Inventory, nil
	}
	return recoverInventory(ctx, r.engine, r.watches.servedKinds(), children.Member)
}

// recoverInventory lists the objects of profile p that carry the operator's labels; only
// then is discovery asked which kinds to list. Kinds that are neither pruned nor deleted
// (namespaces) are left out: the inventory holds them only to prune or delete them, the pass
// adds those it renders anyway, and a namespace both kinds label alike, left by a host that
// is gone, is not the PipelineService's to list.
func recoverInventory(ctx context.Context, engine *apply.Engine, served children.Served, p children.Profile) ([]psv1alpha1.InventoryEntry, error) {
	var inv []psv1alpha1.InventoryEntry
	for _, k := range children.Rendered(p) {
		if !k.Prune && k.DeleteStep == 0 {
			continue
		}
		gvk := served.Version(k.GVK.GroupKind())
		if !served[gvk] {
			continue
		}
		objs, err := engine.List(ctx, gvk, profileSelector(p))
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			inv = append(inv, inventoryEntry(o))
		}
	}
	return sortInventory(inv), nil
}
