package v1alpha1_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
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
// message naming the field.
func TestBadHostInputIsRefusedAtAdmission(t *testing.T) {
	backends := func(b ...any) mutation { return set("spec.sprayProxy.backends", b) }
	cases := []struct {
		name     string
		mutate   mutation
		wantPath string
	}{
		{"name other than cluster", set("metadata.name", "host"), "metadata.name"},
		{"neither part", both(del("spec.sprayProxy"), del("spec.resultsProxyPlugin")), "spec"},
		{"backend over http", backends("http://member-1.example.com"), "spec.sprayProxy.backends[0]"},
		{"backend not a URL", backends("https://member-1.example.com", "member 2"), "spec.sprayProxy.backends[1]"},
		{"backend without host", backends("https://"), "spec.sprayProxy.backends[0]"},
		{"duplicate backends", backends("https://member-1.example.com", "https://member-1.example.com"), "spec.sprayProxy.backends[1]"},
		{"no backend and no dynamic backends", del("spec.sprayProxy.backends"), "spec.sprayProxy.backends"},
		{"registrants without dynamic backends", set("spec.sprayProxy.dynamicBackends.registrants",
			[]any{map[string]any{"kind": "ServiceAccount", "name": "register", "namespace": "member"}}), "spec.sprayProxy.dynamicBackends.registrants"},
		{"no webhook secret", del("spec.sprayProxy.webhookSecret"), "spec.sprayProxy.webhookSecret"},
		{"webhook secret without key", del("spec.sprayProxy.webhookSecret.key"), "spec.sprayProxy.webhookSecret.key"},
		{"webhook secret refresh not a duration", set("spec.sprayProxy.webhookSecret.refreshInterval", "hourly"), "spec.sprayProxy.webhookSecret.refreshInterval"},
		{"image without tag", set("spec.sprayProxy.image", "quay.io/konflux-ci/sprayproxy"), "spec.sprayProxy.image"},
		{"zero replicas", set("spec.sprayProxy.replicas", int64(0)), "spec.sprayProxy.replicas"},
		{"namespace not a DNS label", set("spec.sprayProxy.namespace", "Spray_Proxy"), "spec.sprayProxy.namespace"},
		{"route host not a DNS name", set("spec.sprayProxy.route.host", "https://sprayproxy.example.com"), "spec.sprayProxy.route.host"},
		{"proxy plugin name not a DNS name", set("spec.resultsProxyPlugin.name", "Tekton Results"), "spec.resultsProxyPlugin.name"},
		{"target route namespace not a DNS label", set("spec.resultsProxyPlugin.targetRoute.namespace", "tekton_results"), "spec.resultsProxyPlugin.targetRoute.namespace"},
		{"unknown deletion policy", set("spec.deletionPolicy", "Keep"), "spec.deletionPolicy"},
		{"every caller may scrape", set("spec.sprayProxy.metricsReaders",
			[]any{map[string]any{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}}), "spec.sprayProxy.metricsReaders"},
		{"every service account may register", both(set("spec.sprayProxy.dynamicBackends.enabled", true), set("spec.sprayProxy.dynamicBackends.registrants",
			[]any{map[string]any{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccounts"}})), "spec.sprayProxy.dynamicBackends.registrants"},
		{"anonymous may register", both(set("spec.sprayProxy.dynamicBackends.enabled", true), set("spec.sprayProxy.dynamicBackends.registrants",
			[]any{map[string]any{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "system:anonymous"}})), "spec.sprayProxy.dynamicBackends.registrants"},
		{"two replicas with dynamic backends", both(set("spec.sprayProxy.dynamicBackends.enabled", true), set("spec.sprayProxy.replicas", int64(2))), "spec.sprayProxy.replicas"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := loadSample(t, host)
			tc.mutate(obj.Object)
			err := k8sClient.Create(context.Background(), obj, client.DryRunAll)
			g.Expect(err).To(HaveOccurred(), "the API server accepted it")
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want 422 Invalid, got %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.wantPath+":"), "the message must name the field")
		})
	}
}

// TestDynamicBackendsAloneAreAccepted: with dynamic backends on, member clusters may register
// themselves, so no static backend is needed.
func TestDynamicBackendsAloneAreAccepted(t *testing.T) {
	g := NewWithT(t)
	obj := loadSample(t, host)
	both(del("spec.sprayProxy.backends"), set("spec.sprayProxy.dynamicBackends.enabled", true),
		set("spec.sprayProxy.dynamicBackends.registrants", []any{map[string]any{"kind": "ServiceAccount", "name": "register", "namespace": "member"}}))(obj.Object)
	g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed())
}
