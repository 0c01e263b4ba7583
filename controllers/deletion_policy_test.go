package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
)

func (e *operatorEnv) gone() bool {
	ps := &psv1alpha1.PipelineService{}
	return client.IgnoreNotFound(e.c.Get(context.Background(), client.ObjectKey{Name: psv1alpha1.Name}, ps)) == nil && ps.Name == ""
}

// TestDeletionPolicyDeleteOrder: the PipelineService's children go in the registry's order,
// each step waiting for the one before (OSP holds its TektonConfig with a finalizer while it
// uninstalls Tekton), the installed CSV included, then the finalizer. (Both policies on every
// kind are TestSharedBehaviours'.)
func TestDeletionPolicyDeleteOrder(t *testing.T) {
	e := startOperator(t, nil)
	ctx := context.Background()
	e.create(samples.Full, func(ps *psv1alpha1.PipelineService) { ps.Spec.DeletionPolicy = psv1alpha1.DeletionPolicyDelete })
	e.waitConverged()
	const csv = "openshift-pipelines-operator-rh.v5.0.5"
	e.Expect(simulate.InstallCSV(ctx, e.c, "openshift-operators", "openshift-pipelines-operator", csv, "5.0.5")).To(Succeed())
	e.Eventually(func() string { return e.get().Status.InstalledCSV }, timeout, poll).Should(Equal(csv))

	// OSP holds its TektonConfig with a finalizer while it uninstalls Tekton.
	tc := e.object(children.GVKTektonConfig, "", "config")
	tc.SetFinalizers([]string{"tektonconfigs.operator.tekton.dev"})
	e.Expect(e.c.Update(ctx, tc)).To(Succeed())

	e.Expect(e.c.Delete(ctx, e.get())).To(Succeed())
	e.waitCondition(psv1alpha1.ConditionReconciling, psv1alpha1.ReasonDeleting, "TektonConfig config")
	e.Expect(e.object(children.GVKDeployment, "openshift-pipelines", render.ExporterName)).To(BeNil(), "exporter goes first")
	e.Expect(e.object(children.GVKExternalSecretV1, "openshift-pipelines", render.GitHubAppSecretName)).To(BeNil())
	e.Expect(e.object(children.GVKICSP, "", render.MirrorPolicyName)).To(BeNil())
	e.Expect(e.object(children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator")).NotTo(BeNil(), "the Subscription waits for the TektonConfig")
	e.Expect(e.object(children.GVKClusterServiceVersion, "openshift-operators", csv)).NotTo(BeNil())

	tc = e.object(children.GVKTektonConfig, "", "config")
	tc.SetFinalizers(nil)
	e.Expect(e.c.Update(ctx, tc)).To(Succeed())
	e.Eventually(e.gone, timeout, poll).Should(BeTrue())
	for _, w := range goldenObjects(t, "full.yaml") {
		if w.GetKind() == "Namespace" {
			continue // OSP's namespace stays
		}
		e.Expect(e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName())).To(BeNil(), "%s %s", w.GetKind(), w.GetName())
	}
	e.Expect(e.object(children.GVKClusterServiceVersion, "openshift-operators", csv)).To(BeNil())
	e.Expect(e.object(children.GVKNamespace, "", "openshift-pipelines")).NotTo(BeNil())
}
