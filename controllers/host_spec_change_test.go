package controllers_test

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// TestHostSpecChanges: the host's spec changes roll forward: the backends reach the
// Deployment and the status lists what it runs with, and SprayProxy removed takes everything
// of it but its namespace. (Drift, pruning one part, deletion and late CRDs are the shared
// behaviours, TestSharedBehaviours.)
func TestHostSpecChanges(t *testing.T) {
	e := startOperator(t, nil)
	e.createHost(nil)
	e.waitForGolden("host.yaml")
	e.hostHealthy()

	// One backend fewer: the Deployment rolls, and the status lists what it runs with.
	member1 := "https://pipelines-as-code-controller-openshift-pipelines.apps.member-1.example.com"
	e.updateHost(func(h *psv1alpha1.PipelineServiceHost) { h.Spec.SprayProxy.Backends = []string{member1} })
	e.Eventually(func(g Gomega) {
		d := e.object(children.GVKDeployment, sprayProxyNamespace, render.SprayProxyName)
		containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		g.Expect(containers[0].(map[string]any)["env"]).To(ContainElement(HaveKeyWithValue("value", member1)))
		g.Expect(e.getHost().Status.Backends).To(Equal([]string{member1}))
	}, timeout, poll).Should(Succeed())

	// SprayProxy removed: everything of it goes but its namespace.
	e.updateHost(func(h *psv1alpha1.PipelineServiceHost) {
		h.Spec.SprayProxy = nil
		h.Spec.ResultsProxyPlugin.Enabled = true
	})
	e.Eventually(func(g Gomega) {
		h := e.getHost()
		// The namespace stays listed: it is never pruned, and deletionPolicy Delete leaves it.
		g.Expect(h.Status.Inventory).To(ConsistOf(
			psv1alpha1.InventoryEntry{APIVersion: "v1", Kind: "Namespace", Name: sprayProxyNamespace},
			psv1alpha1.InventoryEntry{APIVersion: children.GVKProxyPlugin.GroupVersion().String(),
				Kind: "ProxyPlugin", Namespace: proxyPluginNamespace, Name: "tekton-results"}))
		g.Expect(h.Status.Backends).To(BeEmpty())
		for gvk, name := range map[schema.GroupVersionKind]string{
			children.GVKDeployment: render.SprayProxyName, children.GVKRoute: render.SprayProxyName,
			children.GVKService: render.SprayProxyMetricsName, children.GVKServiceAccount: render.SprayProxyName,
			children.GVKExternalSecretV1: render.SprayProxyWebhookSecretName,
		} {
			g.Expect(e.object(gvk, sprayProxyNamespace, name)).To(BeNil(), gvk.Kind)
		}
		g.Expect(e.object(children.GVKClusterRoleBinding, "", "sprayproxy-kube-rbac-proxy")).To(BeNil())
		g.Expect(e.object(children.GVKNamespace, "", sprayProxyNamespace)).NotTo(BeNil(), "namespaces are never pruned")
	}, timeout, poll).Should(Succeed())
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "the Results proxy plugin is healthy")
}
