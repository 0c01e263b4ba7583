package parent

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// TestAdoptOnlyWhatNoOtherControllerOwns: the rule the engine asks before it writes over an
// existing object that does not yet hold what was rendered.
func TestAdoptOnlyWhatNoOtherControllerOwns(t *testing.T) {
	member := map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelPartOf: children.Member.Info().PartOf}
	host := map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelPartOf: children.Host.Info().PartOf}
	argocd := map[string]string{"app.kubernetes.io/instance": "pipeline-service", render.LabelPartOf: "tekton-results"}
	installerSet := metav1.OwnerReference{APIVersion: "operator.tekton.dev/v1alpha1", Kind: "TektonInstallerSet", Name: "pipeline-main-static-x", UID: "1", Controller: ptr.To(true)}
	notController := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "x", UID: "2"}
	object := func(gvk schema.GroupVersionKind, labels map[string]string, refs ...metav1.OwnerReference) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		u.SetNamespace("openshift-pipelines")
		u.SetName("pipeline")
		u.SetLabels(labels)
		u.SetOwnerReferences(refs)
		return u
	}
	sa := children.GVKServiceAccount
	for name, tc := range map[string]struct {
		desired, live *unstructured.Unstructured
		owner         string // "" when adopted
	}{
		"unlabelled, unowned: adopted":                    {object(sa, member), object(sa, nil), ""},
		"ArgoCD's labels and part-of: adopted":            {object(sa, member), object(sa, argocd), ""},
		"our own, from an earlier pass: adopted":          {object(sa, member), object(sa, member), ""},
		"an owner that is not a controller: adopted":      {object(sa, member), object(sa, nil, notController), ""},
		"OSP's, owned by its TektonInstallerSet: refused": {object(sa, member), object(sa, nil, installerSet), "TektonInstallerSet pipeline-main-static-x"},
		"the host's, asked by the member: refused":        {object(sa, member), object(sa, host), "the PipelineServiceHost"},
		"the member's, asked by the host: refused":        {object(sa, host), object(sa, member), "the PipelineService"},
		"a Namespace is shared, whoever owns it":          {object(children.GVKNamespace, member), object(children.GVKNamespace, host, installerSet), ""},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			err := adopt(tc.desired, tc.live)
			if tc.owner == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			var owned *apply.OwnedElsewhereError
			g.Expect(errors.As(err, &owned)).To(BeTrue())
			g.Expect(owned.Owner).To(Equal(tc.owner))
			g.Expect(err.Error()).To(ContainSubstring("ServiceAccount openshift-pipelines/pipeline is owned by " + tc.owner))
			r, ok := refusal(err)
			g.Expect(ok).To(BeTrue())
			g.Expect(r.Reason).To(Equal("ObjectOwnedElsewhere"))
		})
	}
}
