package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/simulate"
)

// entries names objects as the inventory does.
func entries(objs []*unstructured.Unstructured) []psv1alpha1.InventoryEntry {
	out := make([]psv1alpha1.InventoryEntry, 0, len(objs))
	for _, o := range objs {
		out = append(out, psv1alpha1.InventoryEntry{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()})
	}
	return out
}

// TestHostChildrenAndStatus creates the host sample on a cluster that serves every kind: every
// child is applied as rendered and listed in the inventory; the status follows SprayProxy's
// rollout, the router's verdict on its Route and the ProxyPlugin's condition, and names the
// webhook URL and the deployed backends once it can.
func TestHostChildrenAndStatus(t *testing.T) {
	e := startOperator(t, nil)
	h := e.createHost(nil)
	want := e.waitForGolden("host.yaml")
	e.Eventually(func(g Gomega) {
		g.Expect(e.getHost().Status.Inventory).To(ConsistOf(entries(want)))
	}, timeout, poll).Should(Succeed())

	// Nothing has run yet: progress, not failure.
	e.waitHostCondition(psv1alpha1.ConditionSprayProxyAvailable, metav1.ConditionFalse, psv1alpha1.ReasonSprayProxyRollingOut, "0/1 replicas ready")
	e.waitHostCondition(psv1alpha1.ConditionRouteAdmitted, metav1.ConditionFalse, psv1alpha1.ReasonRoutePending, "no router has admitted Route sprayproxy/sprayproxy")
	e.waitHostCondition(psv1alpha1.ConditionProxyPluginReady, metav1.ConditionTrue, psv1alpha1.ReasonApplied,
		"/plugins/tekton-results goes to Route tekton-results/tekton-results of each member cluster")
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionUnknown, psv1alpha1.ReasonSprayProxyRollingOut, "")
	e.Expect(e.getHost().Status.Backends).To(Equal(h.Spec.SprayProxy.Backends), "the backends the Deployment runs with")
	e.Expect(e.getHost().Status.WebhookURL).To(BeEmpty(), "no router admitted the Route yet")

	e.hostHealthy()
	ready := e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "")
	e.Expect(ready.Message).To(Equal("SprayProxy, its Route and the Results proxy plugin are healthy"))
	e.Expect(e.getHost().Status.WebhookURL).To(Equal("https://" + sprayProxyHost + "/proxy"))
	e.Expect(e.getHost().Status.ObservedGeneration).To(Equal(e.getHost().Generation))
	e.Expect(meta.FindStatusCondition(e.getHost().Status.Conditions, psv1alpha1.ConditionReconciling)).To(BeNil())
	e.expectEvent(psv1alpha1.ReasonHealthy, "SprayProxy, its Route and the Results proxy plugin are healthy")

	// A pass with nothing to do writes nothing.
	e.waitHostQuiet()
	mark := e.writeMark()
	e.updateHost(func(h *psv1alpha1.PipelineServiceHost) { h.Annotations = map[string]string{"touched": "yes"} })
	e.waitNoWrites()
	e.Expect(e.writesSince(mark)).To(BeEmpty())

	// The router refuses the Route: a failure with its reason, and no webhook URL.
	e.Expect(simulate.RouteAdmitted(t.Context(), e.c, sprayProxyNamespace, render.SprayProxyName, "default", sprayProxyHost, false,
		"HostAlreadyClaimed", "route sprayproxy already exposes sprayproxy.apps.host.example.com")).To(Succeed())
	e.waitHostCondition(psv1alpha1.ConditionRouteAdmitted, metav1.ConditionFalse, psv1alpha1.ReasonRouteNotAdmitted,
		"router default refuses Route sprayproxy/sprayproxy (HostAlreadyClaimed)")
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionFalse, psv1alpha1.ReasonRouteNotAdmitted, "RouteAdmitted: router default refuses")
	e.Expect(e.getHost().Status.WebhookURL).To(BeEmpty())
	e.expectEvent(psv1alpha1.ReasonRouteNotAdmitted, "HostAlreadyClaimed")

	// A ProxyPlugin that reports a condition is read by it.
	e.Expect(simulate.RouteAdmitted(t.Context(), e.c, sprayProxyNamespace, render.SprayProxyName, "default", sprayProxyHost, true, "", "")).To(Succeed())
	e.Expect(simulate.ProxyPluginCondition(t.Context(), e.c, proxyPluginNamespace, "tekton-results", "False", "RouteNotFound",
		"no route tekton-results/tekton-results on member-2")).To(Succeed())
	e.waitHostCondition(psv1alpha1.ConditionProxyPluginReady, metav1.ConditionFalse, psv1alpha1.ReasonProxyPluginNotReady,
		"ProxyPlugin toolchain-host-operator/tekton-results is not ready (RouteNotFound): no route tekton-results/tekton-results on member-2")
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionFalse, psv1alpha1.ReasonProxyPluginNotReady, "")
	e.Expect(simulate.ProxyPluginCondition(t.Context(), e.c, proxyPluginNamespace, "tekton-results", "True", "Ready", "")).To(Succeed())
	e.waitHostCondition(psv1alpha1.ConditionProxyPluginReady, metav1.ConditionTrue, psv1alpha1.ReasonProxyPluginReady, "is ready")
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "")
}

// TestHostDrift: children edited or deleted by someone else are restored, and spec changes
// roll forward, removing what the spec no longer asks for.
func TestHostDrift(t *testing.T) {
	e := startOperator(t, nil)
	e.createHost(nil)
	e.waitForGolden("host.yaml")
	e.hostHealthy()

	deployment := e.object(children.GVKDeployment, sprayProxyNamespace, render.SprayProxyName)
	e.Expect(e.c.Delete(t.Context(), deployment)).To(Succeed())
	route := e.object(children.GVKRoute, sprayProxyNamespace, render.SprayProxyName)
	e.Expect(unstructured.SetNestedField(route.Object, "elsewhere.example.com", "spec", "host")).To(Succeed())
	e.Expect(e.c.Update(t.Context(), route, client.FieldOwner("someone"))).To(Succeed())
	plugin := e.object(children.GVKProxyPlugin, proxyPluginNamespace, "tekton-results")
	e.Expect(unstructured.SetNestedField(plugin.Object, "somewhere", "spec", "openShiftRouteTargetEndpoint", "name")).To(Succeed())
	e.Expect(e.c.Update(t.Context(), plugin, client.FieldOwner("someone"))).To(Succeed())

	e.waitForGolden("host.yaml")
	e.Expect(e.object(children.GVKDeployment, sprayProxyNamespace, render.SprayProxyName).GetUID()).NotTo(Equal(deployment.GetUID()))
	e.expectEvent(psv1alpha1.ReasonDriftHealed, "restored")

	// One backend fewer: the Deployment rolls, and the status lists what it runs with.
	member1 := "https://pipelines-as-code-controller-openshift-pipelines.apps.member-1.example.com"
	e.updateHost(func(h *psv1alpha1.PipelineServiceHost) { h.Spec.SprayProxy.Backends = []string{member1} })
	e.Eventually(func(g Gomega) {
		d := e.object(children.GVKDeployment, sprayProxyNamespace, render.SprayProxyName)
		containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		g.Expect(containers[0].(map[string]any)["env"]).To(ContainElement(HaveKeyWithValue("value", member1)))
		g.Expect(e.getHost().Status.Backends).To(Equal([]string{member1}))
	}, timeout, poll).Should(Succeed())

	// Parts turned off are removed, with their conditions.
	e.updateHost(func(h *psv1alpha1.PipelineServiceHost) {
		h.Spec.ResultsProxyPlugin.Enabled = false
		h.Spec.SprayProxy.ServiceMonitor = false
	})
	e.Eventually(func(g Gomega) {
		g.Expect(e.object(children.GVKProxyPlugin, proxyPluginNamespace, "tekton-results")).To(BeNil())
		g.Expect(e.object(children.GVKServiceMonitor, sprayProxyNamespace, render.SprayProxyName)).To(BeNil())
		g.Expect(meta.FindStatusCondition(e.getHost().Status.Conditions, psv1alpha1.ConditionProxyPluginReady)).To(BeNil())
	}, timeout, poll).Should(Succeed())
	e.expectEvent(psv1alpha1.ReasonApplied, "deleted ProxyPlugin toolchain-host-operator/tekton-results")

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
		g.Expect(e.object(children.GVKClusterRole, "", "sprayproxy-kube-rbac-proxy")).To(BeNil())
		g.Expect(e.object(children.GVKNamespace, "", sprayProxyNamespace)).NotTo(BeNil(), "namespaces are never pruned")
	}, timeout, poll).Should(Succeed())
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "the Results proxy plugin is healthy")
}

// TestHostDeletionPolicy: Orphan leaves SprayProxy and the plugin running; Delete removes
// every child but the namespace, then releases the finalizer.
func TestHostDeletionPolicy(t *testing.T) {
	for _, policy := range []psv1alpha1.DeletionPolicy{psv1alpha1.DeletionPolicyOrphan, psv1alpha1.DeletionPolicyDelete} {
		t.Run(string(policy), func(t *testing.T) {
			e := startOperator(t, nil)
			e.createHost(func(h *psv1alpha1.PipelineServiceHost) { h.Spec.DeletionPolicy = policy })
			want := e.waitForGolden("host.yaml")
			e.Eventually(func() []psv1alpha1.InventoryEntry { return e.getHost().Status.Inventory }, timeout, poll).Should(HaveLen(len(want)))
			e.Expect(e.c.Delete(t.Context(), e.getHost())).To(Succeed())
			e.Eventually(func() bool {
				return e.c.Get(t.Context(), client.ObjectKey{Name: psv1alpha1.Name}, &psv1alpha1.PipelineServiceHost{}) != nil
			}, timeout, poll).Should(BeTrue(), "the finalizer is released")
			for _, w := range want {
				live := e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName())
				if policy == psv1alpha1.DeletionPolicyOrphan || w.GetKind() == "Namespace" {
					e.Expect(live).NotTo(BeNil(), "%s %s", w.GetKind(), w.GetName())
				} else {
					e.Expect(live).To(BeNil(), "%s %s", w.GetKind(), w.GetName())
				}
			}
			if policy == psv1alpha1.DeletionPolicyDelete {
				e.expectEvent(psv1alpha1.ReasonDeleting, "every child is deleted")
			}
		})
	}
}

// TestHostAndMemberOnOneCluster: a cluster may run both kinds, here with SprayProxy in the
// PipelineService's target namespace. They share kinds, caches and that namespace but no other
// object: neither lists the other's children, neither rewrites what the other applied, and
// deleting the host with deletionPolicy Delete leaves the PipelineService's objects alone.
func TestHostAndMemberOnOneCluster(t *testing.T) {
	e := startOperator(t, nil)
	shared := stackSpec.TargetNamespace
	// The host first: the PipelineService's first pass recovers its inventory from the labelled
	// objects, and must not take the host's for its own and prune them.
	e.createHost(func(h *psv1alpha1.PipelineServiceHost) {
		h.Spec.DeletionPolicy = psv1alpha1.DeletionPolicyDelete
		h.Spec.SprayProxy.Namespace = shared
	})
	e.Eventually(func() *unstructured.Unstructured {
		return e.object(children.GVKDeployment, shared, render.SprayProxyName)
	}, timeout, poll).ShouldNot(BeNil())
	e.create(samples.Full, nil)
	member := e.waitForGolden("full.yaml")
	e.waitQuiet()
	e.waitHostQuiet()
	host := e.getHost().Status.Inventory
	e.Expect(host).To(HaveLen(13))
	for _, entry := range host {
		e.Expect(e.object(schema.FromAPIVersionAndKind(entry.APIVersion, entry.Kind), entry.Namespace, entry.Name)).NotTo(BeNil(), "%v", entry)
		if entry.Kind != "Namespace" {
			e.Expect(e.get().Status.Inventory).NotTo(ContainElement(entry))
		}
	}

	// Both are reconciled again and neither writes: the shared namespace is rendered alike.
	mark := e.writeMark()
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Annotations = map[string]string{"touched": "yes"} })
	e.updateHost(func(h *psv1alpha1.PipelineServiceHost) { h.Annotations = map[string]string{"touched": "yes"} })
	e.waitNoWrites()
	e.Expect(e.writesSince(mark)).To(BeEmpty())

	e.Expect(e.c.Delete(t.Context(), e.getHost())).To(Succeed())
	e.Eventually(func() bool {
		return e.c.Get(context.Background(), client.ObjectKey{Name: psv1alpha1.Name}, &psv1alpha1.PipelineServiceHost{}) != nil
	}, timeout, poll).Should(BeTrue())
	e.Expect(e.object(children.GVKDeployment, shared, render.SprayProxyName)).To(BeNil())
	for _, w := range member {
		e.Expect(e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName())).NotTo(BeNil(), "%s %s", w.GetKind(), w.GetName())
	}
}
