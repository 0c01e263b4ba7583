package parent

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// adopt is the engine's Adopt: the operator takes over an existing object only when no other
// controller owns it. Another controller owns an object that names it in an ownerReference
// with controller: true (OSP's objects name their TektonInstallerSet), or that another parent
// kind applied (the operator's managed-by label with the other kind's part-of). Labels that
// GitOps tooling or manifests write (ArgoCD's tracking label, another part-of alone) mark no
// owner: taking over from ArgoCD and import rely on that. Kinds that are never pruned or
// deleted (the Namespace both kinds may render) stay shared, as adopting them can take nothing
// away from anyone.
func adopt(desired, live *unstructured.Unstructured) error {
	if k, ok := children.Lookup(live.GroupVersionKind().GroupKind()); ok && !k.Prune && k.DeleteStep == 0 {
		return nil
	}
	if ref := metav1.GetControllerOfNoCopy(live); ref != nil {
		return &apply.OwnedElsewhereError{Object: apply.Describe(live), Owner: ref.Kind + " " + ref.Name}
	}
	theirs, ours := live.GetLabels(), desired.GetLabels()
	if theirs[render.LabelManagedBy] == render.ManagedByValue && theirs[render.LabelPartOf] != ours[render.LabelPartOf] {
		if side, ok := children.Claimant(theirs[render.LabelPartOf]); ok {
			return &apply.OwnedElsewhereError{Object: apply.Describe(live), Owner: "the " + side.Parent}
		}
	}
	return nil
}
