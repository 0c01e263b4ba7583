package parent

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/inventory"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// Plan is what a pass does for one parent: the children it applies, the kinds it cannot apply
// because the cluster does not serve them, and what it prunes. The reconciler, render and diff
// make it with the same Planner and differ only in what they do with it (as flux build and
// flux diff call the controller's own resource manager), so what diff says it would prune is
// what the operator prunes.
type Plan struct {
	// Apply are the rendered and reviewed children whose kind the cluster serves, in apply
	// order.
	Apply []*unstructured.Unstructured
	// Missing are the kinds of the rendered children that the cluster does not serve, in
	// render order.
	Missing []schema.GroupVersionKind
	// Last is what the operator applied before this plan: the parent's inventory, or, when it
	// holds none, the objects that carry the parent's labels; nil offline.
	Last []psv1alpha1.InventoryEntry
	// Prune are the entries of Last that the plan no longer applies: a pass whose applies all
	// succeed deletes them.
	Prune []psv1alpha1.InventoryEntry
}

// Live reads the live object that a rendered one would update; nil, without an error, when
// there is none or its kind is not served.
type Live func(ctx context.Context, desired *unstructured.Unstructured) (*unstructured.Unstructured, error)

// Cluster is what a plan reads of the live cluster. A nil *Cluster is offline (render,
// validate): every child is reviewed as a create, and nothing was applied before.
type Cluster struct {
	// Live reads the objects the review rules on as updates (the member's TektonConfig).
	Live Live
	// Engine lists the labelled children of a parent whose status holds no inventory.
	Engine *apply.Engine
}

// NewCluster is the live state a direct client c reads, for a subcommand.
func NewCluster(c client.Client) *Cluster {
	return &Cluster{Live: LiveReader(c, nil), Engine: apply.New(c, apply.Options{FieldManager: FieldManager, HashAnnotation: render.AnnotationAppliedHash})}
}

// LiveReader reads live objects with c. uncached, when not nil, reads what c's cache does not
// hold: a cache that sees only the operator's labelled objects misses a TektonConfig that OSP,
// ArgoCD or a person made.
func LiveReader(c client.Client, uncached client.Reader) Live {
	return func(ctx context.Context, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
		gvk, key := desired.GroupVersionKind(), client.ObjectKeyFromObject(desired)
		obj, err := apply.Get(ctx, c, gvk, key)
		if obj == nil && err == nil && uncached != nil {
			obj, err = apply.Get(ctx, uncached, gvk, key)
		}
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", apply.Describe(desired), err)
		}
		return obj, nil
	}
}

// Planner makes the plans of one kind, remembering its last render.
type Planner[T Object, O any] struct {
	kind    Kind[T, O]
	renders renderMemo
}

// NewPlanner returns the planner of kind k.
func NewPlanner[T Object, O any](k Kind[T, O]) *Planner[T, O] { return &Planner[T, O]{kind: k} }

// Plan renders and reviews the children of obj for a cluster that serves served, and compares
// them with what was applied before. A spec that the kind refuses is an *Invalid error, and
// nothing is planned.
func (p *Planner[T, O]) Plan(ctx context.Context, obj T, served children.Served, cluster *Cluster) (*Plan, error) {
	desired, err := p.renders.render(obj, p.kind.RenderInputs(obj), served, func() ([]*unstructured.Unstructured, error) { return p.kind.Render(obj, served) })
	if err != nil {
		return nil, err
	}
	var live Live
	if cluster != nil {
		live = cluster.Live
	}
	if err := p.kind.Review(ctx, obj, desired, served, live); err != nil {
		return nil, err
	}
	plan := &Plan{}
	for _, o := range desired {
		if gvk := o.GroupVersionKind(); served[gvk] {
			plan.Apply = append(plan.Apply, o)
		} else {
			plan.Missing = append(plan.Missing, gvk)
		}
	}
	if cluster == nil {
		return plan, nil
	}
	if plan.Last, err = lastInventory(ctx, cluster.Engine, obj, served, p.kind.Profile()); err != nil {
		return nil, err
	}
	plan.Prune = inventory.Stale(plan.Last, plan.Apply)
	return plan, nil
}

// lastInventory is what the operator applied for obj before: its status's inventory, or,
// once, when the status holds none, the objects of profile p that carry the operator's labels.
func lastInventory(ctx context.Context, engine *apply.Engine, obj Object, served children.Served, p children.Profile) ([]psv1alpha1.InventoryEntry, error) {
	if inv := obj.GetParentStatus().Inventory; inv != nil {
		return inv, nil
	}
	inv, err := inventory.Recover(ctx, engine, served, p)
	if err != nil {
		return nil, fmt.Errorf("recover the inventory from the labelled children: %w", err)
	}
	return inv, nil
}

// renderMemo remembers the last render: it depends only on the parent's spec (its UID and
// generation), the status fields the kind names (inputs) and the served kinds, and most passes
// (a drift, a status report) change none of them, so the render (a tenth of such a pass's
// time) is left off the path from the event to the write.
type renderMemo struct {
	uid        types.UID
	generation int64
	inputs     string
	served     children.Served
	objs       []*unstructured.Unstructured
	err        error
}

// render returns the memo's render when its inputs are those of obj, inputs and served, else
// renders with the kind and remembers. Only the controller's one worker calls it.
func (m *renderMemo) render(obj Object, inputs string, served children.Served, render func() ([]*unstructured.Unstructured, error)) ([]*unstructured.Unstructured, error) {
	if m.served != nil && m.uid == obj.GetUID() && m.generation == obj.GetGeneration() && m.inputs == inputs && maps.Equal(m.served, served) {
		return m.objs, m.err
	}
	m.objs, m.err = render()
	m.uid, m.generation, m.inputs, m.served = obj.GetUID(), obj.GetGeneration(), inputs, served
	return m.objs, m.err
}

// Registration is one parent kind as main.go runs it: the manager sets its controller up,
// and the subcommands plan its parents, from the same row of the same table.
type Registration struct {
	// GVK is the parent's kind, in the version the CRD serves; Resource its plural, as its
	// CRD names it.
	GVK      schema.GroupVersionKind
	Resource string
	// Profile selects the kind's children in the registry.
	Profile children.Profile
	// Conditions are the condition types a parent of the kind carries: the skeleton's, then
	// one per part in the order Ready ranks them.
	Conditions []ConditionType
	// Setup registers the kind's controller with mgr.
	Setup func(mgr ctrl.Manager) error
	// Plan plans a parent given as an object the API server admitted, its status included
	// (the build a revert returns to), as the reconciler would.
	Plan func(ctx context.Context, obj *unstructured.Unstructured, served children.Served, cluster *Cluster) (*Plan, error)
}

// Register is the registration of the kind newKind makes, whose parents are of kind gvk.
func Register[T Object, O any](gvk schema.GroupVersionKind, newKind func() Kind[T, O]) Registration {
	plural, _ := meta.UnsafeGuessKindToResource(gvk)
	conditions := slices.Clone(SkeletonConditions)
	for _, p := range newKind().Parts() {
		conditions = append(conditions, ConditionType{Type: p.Type, Reports: p.Name})
	}
	return Registration{
		GVK:        gvk,
		Resource:   plural.Resource,
		Profile:    newKind().Profile(),
		Conditions: conditions,
		Setup: func(mgr ctrl.Manager) error {
			return SetupWithManager(mgr, strings.ToLower(gvk.Kind), newKind())
		},
		Plan: func(ctx context.Context, u *unstructured.Unstructured, served children.Served, cluster *Cluster) (*Plan, error) {
			k := newKind()
			obj := k.NewObject()
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
				return nil, fmt.Errorf("decode the %s: %w", gvk.Kind, err)
			}
			return NewPlanner(k).Plan(ctx, obj, served, cluster)
		},
	}
}
