package v1alpha1_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

const host = "pipelineservicehost.yaml"

// TestHostSampleGetsDefaults: the host sample is accepted, and what it leaves out is in force
// and visible.
func TestHostSampleGetsDefaults(t *testing.T) {
	g := NewWithT(t)
	obj := loadSample(t, host)
	g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed())
	var h psv1alpha1.PipelineServiceHost
	g.Expect(runtimeFromUnstructured(obj, &h)).To(Succeed())
	sp := h.Spec.SprayProxy
	g.Expect(sp.Namespace).To(Equal("sprayproxy"))
	g.Expect(string(sp.Image)).To(HavePrefix("quay.io/konflux-ci/sprayproxy:"))
	g.Expect(sp.Replicas).To(Equal(int32(1)))
	g.Expect(sp.DynamicBackends.Enabled).To(BeFalse())
	g.Expect(sp.ServiceMonitor).To(BeTrue())
	g.Expect(sp.MetricsReaders).To(HaveLen(1))
	g.Expect(sp.MetricsReaders[0].Name).To(Equal("prometheus-k8s"))
	g.Expect(sp.Resources.Limits.Memory().String()).To(Equal("384Mi"))
	pp := h.Spec.ResultsProxyPlugin
	g.Expect(pp.Namespace).To(Equal("toolchain-host-operator"))
	g.Expect(pp.Name).To(Equal("tekton-results"))
	g.Expect(pp.TargetRoute).To(Equal(psv1alpha1.RouteReference{Namespace: "tekton-results", Name: "tekton-results"}))
	g.Expect(h.Spec.DeletionPolicy).To(Equal(psv1alpha1.DeletionPolicyOrphan))
}

// TestBadHostInputIsRefusedAtAdmission: each invalid PipelineServiceHost is refused with a
// message naming the field (samples.RefusedHosts, which validate's tests run too).
func TestBadHostInputIsRefusedAtAdmission(t *testing.T) {
	expectRefused(t, samples.RefusedHosts)
}

// TestDynamicBackendsAloneAreAccepted: with dynamic backends on, member clusters may register
// themselves, so no static backend is needed.
func TestDynamicBackendsAloneAreAccepted(t *testing.T) {
	g := NewWithT(t)
	obj := loadSample(t, host)
	samples.Then(samples.Del("spec.sprayProxy.backends"), samples.Set("spec.sprayProxy.dynamicBackends.enabled", true),
		samples.Set("spec.sprayProxy.dynamicBackends.registrants", []any{map[string]any{"kind": "ServiceAccount", "name": "register", "namespace": "member"}}))(obj.Object)
	g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed())
}
