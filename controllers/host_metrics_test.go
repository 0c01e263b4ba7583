package controllers_test

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
)

// TestHostMetricsEndpoint scrapes the host's metrics through a rollout, a refused Route and
// the host's deletion, after which its series are gone.
func TestHostMetricsEndpoint(t *testing.T) {
	alone(t) // the metrics registry is the process's, shared by every manager in it
	addr := freeAddr(t)
	e := startOperatorWith(t, nil, manager.Options{MetricsAddr: addr, ProbeAddr: "0", InsecureMetrics: true})
	url := "http://" + addr + "/metrics"
	e.createHost(nil)
	e.waitForGolden("host.yaml")
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).To(HaveKeyWithValue("pipelineservicehost_ready", 0.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservicehost_condition{status="Unknown",type="Ready"}`, 1.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservicehost_condition{status="False",type="SprayProxyAvailable"}`, 1.0))
		g.Expect(m).To(HaveKeyWithValue("pipelineservicehost_backends", 2.0))
	}, timeout, poll).Should(Succeed())

	e.hostHealthy()
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).To(HaveKeyWithValue("pipelineservicehost_ready", 1.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservicehost_condition{status="True",type="RouteAdmitted"}`, 1.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservicehost_condition{status="True",type="ProxyPluginReady"}`, 1.0))
		g.Expect(m).NotTo(HaveKey(`pipelineservicehost_condition{status="True",type="Reconciling"}`))
	}, timeout, poll).Should(Succeed())

	e.updateHost(func(h *psv1alpha1.PipelineServiceHost) { h.Spec.ResultsProxyPlugin.Enabled = false })
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "SprayProxy and its Route are healthy")
	e.Eventually(func(g Gomega) {
		g.Expect(scrape(g, url)).NotTo(HaveKey(`pipelineservicehost_condition{status="True",type="ProxyPluginReady"}`))
	}, timeout, poll).Should(Succeed())

	e.Expect(e.c.Delete(t.Context(), e.getHost())).To(Succeed())
	e.Eventually(func() bool {
		return e.c.Get(t.Context(), client.ObjectKey{Name: psv1alpha1.Name}, &psv1alpha1.PipelineServiceHost{}) != nil
	}, timeout, poll).Should(BeTrue())
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).NotTo(HaveKey("pipelineservicehost_ready"))
		g.Expect(m).NotTo(HaveKey("pipelineservicehost_backends"))
	}, timeout, poll).Should(Succeed())
}
