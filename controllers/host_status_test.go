package controllers_test

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
)

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
