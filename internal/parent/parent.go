// Package parent is the one reconciler both kinds run on. A parent (the PipelineService or the
// PipelineServiceHost, each a cluster-scoped singleton named cluster) goes through the same
// steps whatever its kind: get, finalizer or deletion, served kinds, render, apply and prune,
// observe, the kind's own steps, one status patch, then Events and metrics. While a parent is
// suspended, every step that writes a child (apply, prune, the kind's own, deletion's) is
// skipped and the rest runs. A kind gives its
// render, its observe, its parts (one condition each) and its setters; the skeleton, the
// conditions every parent carries (SkeletonConditions), the inventory, pruning and
// deletionPolicy are written here once, as Flux runs every kind on its runtime helpers.
package parent

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
)

const (
	// FieldManager is the one server-side apply field manager the operator writes with.
	FieldManager = "pipeline-service-operator"
	// finalizer holds a parent until its deletionPolicy has been carried out.
	finalizer = "pipelineservice.appstudio.io/finalizer"
	// deletionPollInterval paces a deletion that waits for a child with finalizers of its own.
	deletionPollInterval = 2 * time.Second
	// discoveryLagRetry paces the retry while a new CRD exists but discovery does not serve
	// its kind yet, which takes a moment after the CRD is created.
	discoveryLagRetry = time.Second
	// conflictRetry paces the retry after an optimistic-lock conflict.
	conflictRetry = 100 * time.Millisecond
	// retryBaseDelay and retryMaxDelay bound the exponential backoff of failed reconciles: an
	// apply that admission refuses is retried a handful of times a minute at first, then
	// every five minutes, never hammered.
	retryBaseDelay = 250 * time.Millisecond
	retryMaxDelay  = 5 * time.Minute
	// applyWorkers bounds the objects applied at once: enough for every child (about a
	// dozen), so that an apply takes as long as its slowest chain (the TektonConfig, through
	// OSP's two admission webhooks; the namespace, then the exporter's Deployment).
	applyWorkers = 12
)

// Object is a parent: the fields of its status and spec that the skeleton keeps.
type Object interface {
	client.Object
	// GetParentStatus is the part of the status every parent carries.
	GetParentStatus() *psv1alpha1.ParentStatus
	Deletion() psv1alpha1.DeletionPolicy
	// Suspended: the operator writes no child (spec.suspend).
	Suspended() bool
}

// Kind is what one kind of parent gives the skeleton. O is what its Observe reads, from which
// its parts and setters compute the status.
type Kind[T Object, O any] interface {
	// Profile selects the kind's children in the registry.
	Profile() children.Profile
	// NewObject returns an empty parent, for Get.
	NewObject() T
	// Setup is called once the controller is built: the kind takes its clients from mgr and
	// starts watches of its own on c. It returns the handler of the registry's Observed kinds
	// (nil when the profile has none).
	Setup(mgr ctrl.Manager, c controller.Controller) (observed handler.EventHandler, err error)
	// Render returns the children the spec asks for, in the served versions. An *Invalid
	// error refuses the spec: the parent is Stalled and nothing is applied. It reads nothing
	// but the spec, the status fields RenderInputs names, and served, so the skeleton renders
	// once per generation, inputs and served set, and never changes what it returns.
	Render(parent T, served children.Served) ([]*unstructured.Unstructured, error)
	// RenderInputs identifies what Render reads of the parent's status (the member's recorded
	// previous build, while its spec reverts to it); "" when it reads none.
	RenderInputs(parent T) string
	// Review checks the rendered children against what only the cluster knows (the member
	// runs OSP's admission code on its TektonConfig, as an update of the live one), on every
	// pass; an *Invalid error refuses the spec as Render's does. live reads the objects the
	// children would update; nil offline, where every child is reviewed as a create.
	Review(ctx context.Context, parent T, desired []*unstructured.Unstructured, served children.Served, live Live) error
	// Observe reads what the status is computed from; it never writes. Read errors are kept
	// beside each object, and end up as Unknown conditions.
	Observe(ctx context.Context, parent T, served children.Served, out *Outcome) O
	// Act runs the kind's own writes after Observe, for a spec that was not refused (the
	// member approves the InstallPlan of its pinned CSV); its Events go out with the others.
	Act(ctx context.Context, parent T, out *Outcome, obs O) ([]Event, []error)
	// Parts are the conditions of the parts the kind checks, in the order Ready ranks them.
	Parts() []Part[O]
	// SetFields sets the status fields of the kind's own, one setter each, and returns the
	// Events their changes are worth.
	SetFields(parent T, out *Outcome, obs O, now metav1.Time) []Event
	// Stalled is a terminal error found by observing (a pin below the installed CSV), nil
	// when there is none.
	Stalled(obs O) *metav1.Condition
	// Working is the Reconciling condition for work left once everything is applied (an
	// upgrade running), nil when there is none.
	Working(parent T) *metav1.Condition
	// Metrics are the kind's gauges, set from the status just stored.
	Metrics() Metrics[T]
	// DeletionExtras are objects outside the inventory that deletionPolicy Delete removes too
	// (the CSV the member's Subscription installed).
	DeletionExtras(parent T) []psv1alpha1.InventoryEntry
}

// ConditionType is one condition type a parent carries, and what it reports.
type ConditionType struct {
	Type    string
	Reports string
}

// SkeletonConditions are the conditions every parent carries, whatever its kind, written here
// once: the metrics, the API reference and the bundle list them from this declaration.
var SkeletonConditions = []ConditionType{
	{psv1alpha1.ConditionReady, "the summary: True only when every part is healthy and the current generation is wholly applied; Unknown while something is on its way, False on a failure someone must act on"},
	{psv1alpha1.ConditionReconciling, "present only while True (kstatus): the operator has work left (an apply retried, a CRD awaited, an upgrade running, a part on its way)"},
	{psv1alpha1.ConditionStalled, "present only while True (kstatus): the spec is refused, and nothing of it was applied; the message names the field"},
	{psv1alpha1.ConditionSuspended, "present only while spec.suspend is true: the operator writes no child and keeps observing"},
}

// Part is one part of a parent, reported by one condition.
type Part[O any] struct {
	// Type is the condition type.
	Type string
	// Name says what the part is, for Ready's message: "the catalog".
	Name string
	// Check observes the part; false when the spec does not ask for it, and its condition
	// is then removed.
	Check func(obs O) (health.Check, bool)
}

// Metrics are the gauges of one kind.
type Metrics[T Object] interface {
	Record(parent T)
	Forget()
}

// Hooks gives a kind the hooks it does not need, each doing nothing.
type Hooks[T Object, O any] struct{}

// Review finds nothing to refuse.
func (Hooks[T, O]) Review(context.Context, T, []*unstructured.Unstructured, children.Served, Live) error {
	return nil
}

// RenderInputs are none: Render reads the spec alone.
func (Hooks[T, O]) RenderInputs(T) string { return "" }

// Act does nothing.
func (Hooks[T, O]) Act(context.Context, T, *Outcome, O) ([]Event, []error) { return nil, nil }

// Stalled finds no terminal error.
func (Hooks[T, O]) Stalled(O) *metav1.Condition { return nil }

// Working finds no work left.
func (Hooks[T, O]) Working(T) *metav1.Condition { return nil }

// DeletionExtras are none.
func (Hooks[T, O]) DeletionExtras(T) []psv1alpha1.InventoryEntry { return nil }
