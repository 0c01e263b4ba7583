package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

// TestATypoCannotStealOSPsServiceAccount: spec.exporter.serviceAccountName names OSP's own
// ServiceAccount, which OSP's TektonInstallerSet owns (an ownerReference with controller:
// true, as OSP's installer sets write). The operator refuses to take it over with reason
// ObjectOwnedElsewhere, naming the object and its owner, in one Event; it applies the other
// children, and the refused account is not in the inventory. When the typo is fixed, the
// account is left as it was: neither pruned nor relabelled.
func TestATypoCannotStealOSPsServiceAccount(t *testing.T) {
	e := startOperator(t, nil)
	ctx := context.Background()
	ns := stackSpec.TargetNamespace
	e.Expect(e.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Or(Succeed(), MatchError(ContainSubstring("already exists"))))
	osps := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "pipeline", Namespace: ns,
		Labels: map[string]string{"operator.tekton.dev/operand-name": "tektoncd-pipelines"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "operator.tekton.dev/v1alpha1", Kind: "TektonInstallerSet",
			Name: "pipeline-main-static-abcde", UID: "7e1b0a7e-0000-4000-8000-000000000001", Controller: ptr.To(true)}}}}
	e.Expect(e.c.Create(ctx, osps)).To(Succeed())

	e.create(samples.Full, func(ps *psv1alpha1.PipelineService) { ps.Spec.Exporter.ServiceAccountName = "pipeline" })
	e.Eventually(func(g Gomega) {
		ready := e.condition(psv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Reason).To(Equal(psv1alpha1.ReasonObjectOwnedElsewhere))
		reconciling := e.condition(psv1alpha1.ConditionReconciling)
		g.Expect(reconciling).NotTo(BeNil())
		g.Expect(reconciling.Reason).To(Equal(psv1alpha1.ReasonObjectOwnedElsewhere))
		g.Expect(reconciling.Message).To(ContainSubstring("ServiceAccount " + ns + "/pipeline is owned by TektonInstallerSet pipeline-main-static-abcde"))
	}, timeout, poll).Should(Succeed())
	// The other children are applied; the account is untouched and not ours.
	e.Eventually(func() any { return e.object(children.GVKDeployment, ns, render.ExporterName) }, timeout, poll).ShouldNot(BeNil())
	e.Expect(e.object(children.GVKTektonConfig, "", "config")).NotTo(BeNil())
	sa := &corev1.ServiceAccount{}
	e.Expect(e.c.Get(ctx, client.ObjectKeyFromObject(osps), sa)).To(Succeed())
	e.Expect(sa.Labels).NotTo(HaveKey(render.LabelManagedBy))
	e.Expect(e.get().Status.Inventory).NotTo(ContainElement(HaveField("Name", "pipeline")))
	e.Eventually(func() int { return len(e.eventsWith(psv1alpha1.ReasonObjectOwnedElsewhere)) }, timeout, poll).Should(Equal(1))

	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Exporter.ServiceAccountName = render.ExporterName })
	e.waitConverged()
	e.Expect(e.c.Get(ctx, client.ObjectKeyFromObject(osps), sa)).To(Succeed(), "the account the typo named is not pruned")
	e.Expect(sa.Labels).NotTo(HaveKey(render.LabelManagedBy))
	e.Expect(e.object(children.GVKServiceAccount, ns, render.ExporterName)).NotTo(BeNil())
	e.Expect(e.condition(psv1alpha1.ConditionReady).Reason).NotTo(Equal(psv1alpha1.ReasonObjectOwnedElsewhere))
}
