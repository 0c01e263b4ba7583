package render

import (
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// The sides' children share kinds, informers and the managed-by label; the part-of label tells
// whose each is (children.Profiles). Both the event routing (internal/watches) and the
// inventory's recovery (internal/inventory) read it through these two functions.

// ChildOf is whether an object with these labels is a child of profile p.
func ChildOf(p children.Profile, objLabels map[string]string) bool {
	return objLabels[LabelManagedBy] == ManagedByValue && children.OwnerOf(objLabels[LabelPartOf]).Profile == p
}

// Selector selects the children of profile p: those with its part-of value, or, for the
// default side, with none that another side claims.
func Selector(p children.Profile) labels.Selector {
	managed, err := labels.NewRequirement(LabelManagedBy, selection.Equals, []string{ManagedByValue})
	utilruntime.Must(err)
	op, values := selection.Equals, []string{p.Info().PartOf}
	if p == children.Profiles[0].Profile {
		op, values = selection.NotIn, nil
		for _, i := range children.Profiles[1:] {
			values = append(values, i.PartOf)
		}
	}
	partOf, err := labels.NewRequirement(LabelPartOf, op, values)
	utilruntime.Must(err)
	return labels.NewSelector().Add(*managed, *partOf)
}
