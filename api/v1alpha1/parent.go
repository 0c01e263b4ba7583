package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ParentStatus is the status every parent kind carries, inlined in each kind's status as Flux
// inlines meta.ReconcileRequestStatus: one declaration, through which the one parent
// reconciler (internal/parent) keeps the generations, the conditions it owns, readySince and
// the inventory whatever the kind.
type ParentStatus struct {
	// ObservedGeneration is the generation the operator last acted on: applied, refused
	// (Stalled names the field), or failed and retried (Reconciling says why). kstatus and
	// tools built on it (Flux, kpt, Config Sync) read a parent whose observedGeneration is its
	// generation as reported on. While spec.suspend is true the operator does not act, so a
	// suspension and every change made during it leave observedGeneration where it was:
	// kstatus reads InProgress (the spec in the object is not what runs) until the parent is
	// resumed, and ArgoCD's health check reads Suspended.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// LastAppliedGeneration is the last generation whose every child was applied.
	// +optional
	LastAppliedGeneration int64 `json:"lastAppliedGeneration,omitempty"`

	// Conditions: Ready (the summary), the kstatus conditions Reconciling and Stalled (present
	// only while True), Suspended (present only while spec.suspend is true), and one per
	// part of the kind, which the kind's API reference lists.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ReadySince is when Ready last became True; absent while it is not True. With the
	// upgrade's completion and the components' restarts, it is the soak evidence for
	// promoting a build to the next ring.
	// +optional
	ReadySince *metav1.Time `json:"readySince,omitempty"`

	// Inventory lists every object the operator applied, so that pruning and deletionPolicy
	// Delete walk what was really created rather than what the current spec renders.
	// +optional
	// +listType=atomic
	Inventory []InventoryEntry `json:"inventory,omitempty"`
}

// InventoryEntry names one object the operator applied.
type InventoryEntry struct {
	// APIVersion of the object as applied.
	APIVersion string `json:"apiVersion"`
	// Kind of the object.
	Kind string `json:"kind"`
	// Namespace of the object; empty when cluster-scoped.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	Name string `json:"name"`
}

// GetParentStatus is the PipelineService's share of the status every parent carries.
func (ps *PipelineService) GetParentStatus() *ParentStatus { return &ps.Status.ParentStatus }

// Deletion is what deleting the PipelineService does to its children.
func (ps *PipelineService) Deletion() DeletionPolicy { return ps.Spec.DeletionPolicy }

// Suspended is whether the PipelineService's children are left alone (spec.suspend).
func (ps *PipelineService) Suspended() bool { return ps.Spec.Suspend }

// GetParentStatus is the PipelineServiceHost's share of the status every parent carries.
func (h *PipelineServiceHost) GetParentStatus() *ParentStatus { return &h.Status.ParentStatus }

// Deletion is what deleting the PipelineServiceHost does to its children.
func (h *PipelineServiceHost) Deletion() DeletionPolicy { return h.Spec.DeletionPolicy }

// Suspended is whether the PipelineServiceHost's children are left alone (spec.suspend).
func (h *PipelineServiceHost) Suspended() bool { return h.Spec.Suspend }
