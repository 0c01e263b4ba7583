package render

import (
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// The member and host children share kinds, informers and the managed-by label; the part-of
// label tells whose each is. Both the event routing (internal/watches) and the inventory's
// recovery (internal/inventory) read it through these two functions.

// ChildOf is whether an object with these labels is a child of profile p.
func ChildOf(p children.Profile, objLabels map[string]string) bool {
	return objLabels[LabelManagedBy] == ManagedByValue && (objLabels[LabelPartOf] == HostPartOfValue) == (p == children.Host)
}

// Selector selects the children of profile p.
func Selector(p children.Profile) labels.Selector {
	op := selection.NotEquals
	if p == children.Host {
		op = selection.Equals
	}
	partOf, err := labels.NewRequirement(LabelPartOf, op, []string{HostPartOfValue})
	utilruntime.Must(err)
	managed, err := labels.NewRequirement(LabelManagedBy, selection.Equals, []string{ManagedByValue})
	utilruntime.Must(err)
	return labels.NewSelector().Add(*managed, *partOf)
}
