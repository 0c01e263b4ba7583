package controllers_test

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
)

// TestExternalSecretsAreAppliedAndPruned: each spec.externalSecrets entry becomes an
// ExternalSecret in its namespace (the target namespace by default) and is in the inventory;
// an entry taken out of the list is deleted, and leaves the inventory.
func TestExternalSecretsAreAppliedAndPruned(t *testing.T) {
	e := startOperator(t, nil)
	results := psv1alpha1.ExternalSecretSpec{Name: "tekton-results-database", Namespace: "tekton-results",
		SecretStoreRef: psv1alpha1.SecretStoreRef{Kind: "ClusterSecretStore", Name: "appsre-vault"},
		DataFrom:       []psv1alpha1.ExternalSecretDataFrom{{Extract: psv1alpha1.RemoteKey{Key: "rds"}}}}
	e.Expect(simulate.EnsureNamespaces(ctx, e.c, "tekton-results")).To(Succeed())
	e.create(samples.Full, func(ps *psv1alpha1.PipelineService) {
		ps.Spec.ExternalSecrets = append(ps.Spec.ExternalSecrets, results)
	})
	e.waitConverged()

	chains := e.object(children.GVKExternalSecretV1, "openshift-pipelines", "tekton-chains-public-key")
	e.Expect(chains).NotTo(BeNil())
	target, _, _ := unstructured.NestedString(chains.Object, "spec", "target", "name")
	e.Expect(target).To(Equal("public-key"))
	e.Expect(e.object(children.GVKExternalSecretV1, "tekton-results", "tekton-results-database")).NotTo(BeNil())
	e.Expect(e.get().Status.Inventory).To(ContainElement(psv1alpha1.InventoryEntry{
		APIVersion: "external-secrets.io/v1", Kind: "ExternalSecret", Namespace: "tekton-results", Name: "tekton-results-database"}))

	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.ExternalSecrets = ps.Spec.ExternalSecrets[:1] })
	e.Eventually(func() *unstructured.Unstructured {
		return e.object(children.GVKExternalSecretV1, "tekton-results", "tekton-results-database")
	}, timeout, poll).Should(BeNil())
	e.waitConverged()
	e.Expect(e.get().Status.Inventory).NotTo(ContainElement(HaveField("Name", "tekton-results-database")))
	e.Expect(e.object(children.GVKExternalSecretV1, "openshift-pipelines", "tekton-chains-public-key")).NotTo(BeNil(), "the entry kept stays")
}
