package controllers

import (
	"context"
	"errors"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/log"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
)

// applyWorkers bounds the objects applied at once: enough for every child (about a dozen),
// so that an apply takes as long as its slowest chain (the TektonConfig, through OSP's two
// admission webhooks; the namespace, then the exporter's Deployment).
const applyWorkers = 12

// applyChildren renders and applies every child and prunes what is no longer rendered. An
// invalid spec stops it before anything is applied.
func (r *PipelineServiceReconciler) applyChildren(ctx context.Context, ps *psv1alpha1.PipelineService, served children.Served) applyOutcome {
	out := applyOutcome{inventory: ps.Status.Inventory}
	desired, err := render.Render(ps, served)
	if err != nil {
		var invalid *render.InvalidTektonConfigError
		if errors.As(err, &invalid) {
			out.invalid = invalidTektonConfig(ps, []osp.FieldError{{Path: invalid.Field, Message: invalid.Problem}})
			return out
		}
		out.errs = append(out.errs, err)
		return out
	}
	refusals, err := r.reviewTektonConfig(ctx, desired, served)
	if err != nil {
		out.errs = append(out.errs, err)
		return out
	}
	if len(refusals) > 0 {
		out.invalid = invalidTektonConfig(ps, refusals)
		return out
	}
	last, err := r.lastInventory(ctx, ps)
	if err != nil {
		out.errs = append(out.errs, err)
		return out
	}

	wanted := servedObjects(ctx, r.watches, desired.Objects, served, &out)
	for _, obj := range wanted {
		if gvk := obj.GroupVersionKind(); gvk == children.GVKICSP || gvk == children.GVKIDMS {
			out.mirrorKind = gvk.Kind
		}
	}
	applyAndPrune(ctx, r.engine, wanted, last, &out)
	return out
}

// servedObjects are the desired objects whose kind the cluster serves; the others are
// recorded as missing in out, with whether discovery is only catching up with a new CRD.
func servedObjects(ctx context.Context, w *childWatches, desired []*unstructured.Unstructured, served children.Served, out *applyOutcome) []*unstructured.Unstructured {
	var wanted []*unstructured.Unstructured
	for _, obj := range desired {
		gvk := obj.GroupVersionKind()
		if !served[gvk] {
			out.missing = append(out.missing, gvk.Kind)
			out.discoveryLag = out.discoveryLag || w.crdExists(ctx, gvk.GroupKind())
			continue
		}
		wanted = append(wanted, obj)
	}
	return wanted
}

// applyAndPrune applies the wanted objects and deletes those of the last inventory that are no
// longer wanted, recording in out what it wrote, what failed and the new inventory. Nothing is
// pruned in a pass where an apply failed.
func applyAndPrune(ctx context.Context, engine *apply.Engine, wanted []*unstructured.Unstructured, last []psv1alpha1.InventoryEntry, out *applyOutcome) {
	logger := log.FromContext(ctx)
	// Everything wanted is recorded before it is applied, with what the last pass applied
	// that is not pruned yet, so that an object created in a pass whose status write fails
	// is still in the next pass's inventory.
	inventory := append([]psv1alpha1.InventoryEntry(nil), last...)
	for _, obj := range wanted {
		inventory = append(inventory, inventoryEntry(obj))
	}
	out.inventory = sortInventory(inventory)

	for _, res := range engine.Apply(ctx, wanted) {
		switch {
		case res.Err != nil:
			if rejectedByServer(res.Err) {
				out.rejected = append(out.rejected, res.Err.Error())
			}
			out.errs = append(out.errs, res.Err)
		case res.Changed:
			out.written = append(out.written, apply.Describe(res.Object))
			logger.Info("applied", "kind", res.Object.GetKind(), "namespace", res.Object.GetNamespace(), "name", res.Object.GetName())
		}
	}
	if len(out.errs) > 0 {
		return
	}

	stale := staleEntries(out.inventory, wanted)
	if len(stale) == 0 {
		return
	}
	refs := make([]*unstructured.Unstructured, 0, len(stale))
	for _, e := range stale {
		refs = append(refs, entryRef(e))
	}
	deleted, err := engine.Delete(ctx, refs)
	var names []string
	for _, d := range deleted {
		names = append(names, apply.Describe(d))
		out.written = append(out.written, "deleted "+apply.Describe(d))
	}
	if len(names) > 0 {
		logger.Info("pruned children the spec no longer renders", "objects", names)
	}
	if err != nil {
		out.errs = append(out.errs, err)
		return
	}
	out.inventory = slices.DeleteFunc(out.inventory, func(e psv1alpha1.InventoryEntry) bool { return slices.Contains(stale, e) })
}
