package controllers_test

import (
	"context"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
)

const (
	// sprayProxyNamespace and proxyPluginNamespace are the host sample's defaults.
	sprayProxyNamespace  = "sprayproxy"
	proxyPluginNamespace = "toolchain-host-operator"
	sprayProxyHost       = "sprayproxy.apps.host.example.com"
)

// createHost creates the PipelineServiceHost from the host sample, with the schema's
// defaults, after mutate. The CodeReadyToolchain host operator's namespace exists on a host
// cluster; envtest has to be given it.
func (e *operatorEnv) createHost(mutate func(*psv1alpha1.PipelineServiceHost)) *psv1alpha1.PipelineServiceHost {
	e.t.Helper()
	e.Expect(simulate.EnsureNamespaces(context.Background(), e.c, proxyPluginNamespace)).To(Succeed())
	h, err := samples.LoadHost(samples.Host)
	e.Expect(err).NotTo(HaveOccurred())
	if mutate != nil {
		mutate(h)
	}
	e.Expect(e.c.Create(context.Background(), h)).To(Succeed())
	return h
}

func (e *operatorEnv) getHost() *psv1alpha1.PipelineServiceHost {
	h := &psv1alpha1.PipelineServiceHost{}
	NewWithT(e.t).Expect(e.c.Get(context.Background(), client.ObjectKey{Name: psv1alpha1.Name}, h)).To(Succeed())
	return h
}

// updateHost changes the PipelineServiceHost, retrying on conflicts.
func (e *operatorEnv) updateHost(mutate func(*psv1alpha1.PipelineServiceHost)) {
	e.t.Helper()
	e.Eventually(func() error {
		h := e.getHost()
		mutate(h)
		return e.c.Update(context.Background(), h)
	}, timeout, poll).Should(Succeed())
}

// waitHostCondition waits until the PipelineServiceHost has a condition of type t with status,
// reason and a message containing text, for its current generation.
func (e *operatorEnv) waitHostCondition(t string, status metav1.ConditionStatus, reason, text string) *metav1.Condition {
	e.t.Helper()
	var c *metav1.Condition
	e.Eventually(func(g Gomega) {
		h := e.getHost()
		c = meta.FindStatusCondition(h.Status.Conditions, t)
		g.Expect(c).NotTo(BeNil(), "no %s condition", t)
		g.Expect(c.ObservedGeneration).To(Equal(h.Generation))
		g.Expect(c.Status).To(Equal(status), "%s: %s", c.Reason, c.Message)
		g.Expect(c.Reason).To(Equal(reason), c.Message)
		g.Expect(c.Message).To(ContainSubstring(text))
	}, timeout, poll).Should(Succeed())
	return c
}

// hostHealthy plays the Deployment controller and OpenShift's router: SprayProxy's replicas
// ready and its Route admitted. A stand-in because neither can run here: envtest has no
// kubelet or controller-manager, and the router is OpenShift's ingress, not part of an API
// server; it writes only the status they would write.
func (e *operatorEnv) hostHealthy() {
	e.t.Helper()
	e.Eventually(func() error {
		if err := simulate.DeploymentReady(context.Background(), e.c, sprayProxyNamespace, render.SprayProxyName, 1); err != nil {
			return err
		}
		return simulate.RouteAdmitted(context.Background(), e.c, sprayProxyNamespace, render.SprayProxyName, "default", sprayProxyHost, true, "", "")
	}, timeout, poll).Should(Succeed())
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "")
}

// waitHostQuiet waits until the operator has reported on the host's current generation and
// then made no write for a second.
func (e *operatorEnv) waitHostQuiet() {
	e.t.Helper()
	e.Eventually(func(g Gomega) {
		h := e.getHost()
		ready := meta.FindStatusCondition(h.Status.Conditions, psv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.ObservedGeneration).To(Equal(h.Generation))
	}, timeout, poll).Should(Succeed())
	e.waitNoWrites()
}

// entries names objects as the inventory does.
func entries(objs []*unstructured.Unstructured) []psv1alpha1.InventoryEntry {
	out := make([]psv1alpha1.InventoryEntry, 0, len(objs))
	for _, o := range objs {
		out = append(out, psv1alpha1.InventoryEntry{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()})
	}
	return out
}
