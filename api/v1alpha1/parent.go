package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The status and spec fields that both kinds have, through which one parent reconciler
// (internal/parent) runs either: its finalizer, inventory, observedGeneration and the
// conditions every parent carries (Ready, Reconciling, Stalled).

// StatusConditions are the PipelineService's conditions, for the setters to change.
func (ps *PipelineService) StatusConditions() *[]metav1.Condition { return &ps.Status.Conditions }

// StatusInventory is what the operator applied for the PipelineService.
func (ps *PipelineService) StatusInventory() *[]InventoryEntry { return &ps.Status.Inventory }

// StatusObservedGeneration is the generation that was wholly applied.
func (ps *PipelineService) StatusObservedGeneration() *int64 { return &ps.Status.ObservedGeneration }

// Deletion is what deleting the PipelineService does to its children.
func (ps *PipelineService) Deletion() DeletionPolicy { return ps.Spec.DeletionPolicy }

// StatusConditions are the PipelineServiceHost's conditions, for the setters to change.
func (h *PipelineServiceHost) StatusConditions() *[]metav1.Condition { return &h.Status.Conditions }

// StatusInventory is what the operator applied for the PipelineServiceHost.
func (h *PipelineServiceHost) StatusInventory() *[]InventoryEntry { return &h.Status.Inventory }

// StatusObservedGeneration is the generation that was wholly applied.
func (h *PipelineServiceHost) StatusObservedGeneration() *int64 { return &h.Status.ObservedGeneration }

// Deletion is what deleting the PipelineServiceHost does to its children.
func (h *PipelineServiceHost) Deletion() DeletionPolicy { return h.Spec.DeletionPolicy }

// Suspended is whether the PipelineService's children are left alone (spec.suspend).
func (ps *PipelineService) Suspended() bool { return ps.Spec.Suspend }

// StatusReadySince is when Ready last became True.
func (ps *PipelineService) StatusReadySince() **metav1.Time { return &ps.Status.ReadySince }

// Suspended is whether the PipelineServiceHost's children are left alone (spec.suspend).
func (h *PipelineServiceHost) Suspended() bool { return h.Spec.Suspend }

// StatusReadySince is when Ready last became True.
func (h *PipelineServiceHost) StatusReadySince() **metav1.Time { return &h.Status.ReadySince }
