package render

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

func loadHost(t *testing.T) *psv1alpha1.PipelineServiceHost {
	t.Helper()
	h, err := samples.LoadHost(samples.Host)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func findObject(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	i := slices.IndexFunc(objs, func(o *unstructured.Unstructured) bool { return o.GetKind() == kind && o.GetName() == name })
	if i < 0 {
		return nil
	}
	return objs[i]
}

// TestRenderHostGolden renders the host sample and compares it with testdata/host.yaml.
func TestRenderHostGolden(t *testing.T) {
	g := NewWithT(t)
	objs, err := Host(loadHost(t), allCaps)
	g.Expect(err).NotTo(HaveOccurred())
	got := toYAML(t, objs)
	file := filepath.Join("testdata", "host.yaml")
	if *update {
		g.Expect(os.WriteFile(file, got, 0o644)).To(Succeed())
	}
	want, err := os.ReadFile(file)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(got)).To(Equal(string(want)), "run 'go test ./internal/render -update' and review the diff")
}

// TestHostChildrenAreTheHosts: every host child but its namespace carries the host's part-of
// label, which routes its events to the PipelineServiceHost and keeps it out of the
// PipelineService's inventory; namespaces are rendered alike for both kinds.
func TestHostChildrenAreTheHosts(t *testing.T) {
	g := NewWithT(t)
	h := loadHost(t)
	h.Spec.SprayProxy.DynamicBackends = psv1alpha1.DynamicBackendsSpec{Enabled: true,
		Registrants: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "register", Namespace: "member-1"}}}
	objs, err := Host(h, allCaps)
	g.Expect(err).NotTo(HaveOccurred())
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			ns := Namespace(o.GetName())
			g.Expect(stampHash(ns)).To(Succeed())
			g.Expect(o.Object).To(Equal(ns.Object), "namespaces are rendered alike for both kinds")
			continue
		}
		g.Expect(o.GetLabels()).To(HaveKeyWithValue(LabelPartOf, children.Host.Info().PartOf), "%s %s", o.GetKind(), o.GetName())
		g.Expect(o.GetLabels()).To(HaveKeyWithValue(LabelManagedBy, ManagedByValue), "%s %s", o.GetKind(), o.GetName())
		k, ok := children.Lookup(o.GroupVersionKind().GroupKind())
		g.Expect(ok && k.In(children.Host)).To(BeTrue(), "%s is not a registered host kind", o.GetKind())
	}
}

// TestSprayProxyBackends: backends go to SprayProxy as one space-separated variable, dynamic
// backends turn /backends on and grant it to the registrants only, through the role that ships
// with the operator.
func TestSprayProxyBackends(t *testing.T) {
	g := NewWithT(t)
	h := loadHost(t)
	env := func(objs []*unstructured.Unstructured) map[string]any {
		d := findObject(objs, "Deployment", SprayProxyName)
		containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		out := map[string]any{}
		for _, e := range containers[0].(map[string]any)["env"].([]any) {
			m := e.(map[string]any)
			out[m["name"].(string)] = m["value"]
		}
		return out
	}
	objs, err := Host(h, allCaps)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env(objs)).To(HaveKeyWithValue(EnvSprayProxyBackends, h.Spec.SprayProxy.Backends[0]+" "+h.Spec.SprayProxy.Backends[1]))
	g.Expect(env(objs)).NotTo(HaveKey(EnvSprayProxyDynamicBackends))
	g.Expect(findObject(objs, "ClusterRoleBinding", sprayProxyRegistrarRole)).To(BeNil())

	h.Spec.SprayProxy.DynamicBackends = psv1alpha1.DynamicBackendsSpec{Enabled: true,
		Registrants: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "register", Namespace: "member-1"}}}
	objs, err = Host(h, allCaps)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env(objs)).To(HaveKeyWithValue(EnvSprayProxyDynamicBackends, "true"))
	g.Expect(findObject(objs, "ClusterRoleBinding", sprayProxyRegistrarRole).Object["subjects"]).To(ConsistOf(
		map[string]any{"kind": "ServiceAccount", "name": "register", "namespace": "member-1"}))
}

// TestSprayProxyListensOnLoopbackBehindKubeRBACProxy: only the sidecars reach SprayProxy, and
// the proxy sidecar lets webhooks and health checks through unauthenticated.
func TestSprayProxyListensOnLoopbackBehindKubeRBACProxy(t *testing.T) {
	g := NewWithT(t)
	objs, err := Host(loadHost(t), allCaps)
	g.Expect(err).NotTo(HaveOccurred())
	d := findObject(objs, "Deployment", SprayProxyName)
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	g.Expect(containers).To(HaveLen(3))
	g.Expect(containers[0].(map[string]any)["env"]).To(ContainElement(map[string]any{"name": "SPRAYPROXY_SERVER_HOST", "value": "127.0.0.1"}))
	g.Expect(containers[0].(map[string]any)).NotTo(HaveKey("ports"), "SprayProxy publishes no port: only the sidecars reach it")
	g.Expect(containers[1].(map[string]any)["args"]).To(ContainElement("--ignore-paths=/proxy,/healthz"))
	for _, c := range containers {
		g.Expect(c.(map[string]any)["securityContext"]).To(Equal(restrictedContainer()))
	}
	webhook, _, _ := unstructured.NestedSlice(containers[0].(map[string]any), "env")
	g.Expect(webhook).To(ContainElement(map[string]any{"name": "GH_APP_WEBHOOK_SECRET", "valueFrom": map[string]any{
		"secretKeyRef": map[string]any{"name": SprayProxyWebhookSecretName, "key": SprayProxyWebhookSecretKey}}}))
	es := findObject(objs, "ExternalSecret", SprayProxyWebhookSecretName)
	g.Expect(es).NotTo(BeNil())
	g.Expect(es.GetNamespace()).To(Equal("sprayproxy"))
}

// TestHostParts: each part is rendered only when asked for.
func TestHostParts(t *testing.T) {
	g := NewWithT(t)
	h := loadHost(t)
	kinds := func(h *psv1alpha1.PipelineServiceHost) []string {
		objs, err := Host(h, allCaps)
		g.Expect(err).NotTo(HaveOccurred())
		var out []string
		for _, o := range objs {
			out = append(out, o.GetKind())
		}
		return out
	}
	g.Expect(kinds(h)).To(ContainElements("Route", "ServiceMonitor", "ProxyPlugin", "Deployment"))
	h.Spec.SprayProxy.ServiceMonitor = false
	g.Expect(kinds(h)).NotTo(ContainElement("ServiceMonitor"))
	h.Spec.ResultsProxyPlugin.Enabled = false
	g.Expect(kinds(h)).NotTo(ContainElement("ProxyPlugin"))
	h.Spec.SprayProxy = nil
	h.Spec.ResultsProxyPlugin.Enabled = true
	g.Expect(kinds(h)).To(Equal([]string{"ProxyPlugin"}))
}

// TestNetworkPoliciesAdmitOnlyWhatIsServed: the exporter takes ingress only on its metrics
// port from the monitoring namespaces; SprayProxy only on its proxy port from the routers and
// on its metrics port from monitoring; turned off, neither is rendered.
func TestNetworkPoliciesAdmitOnlyWhatIsServed(t *testing.T) {
	g := NewWithT(t)
	monitoring := map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"network.openshift.io/policy-group": "monitoring"}}}
	routers := map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"policy-group.network.openshift.io/ingress": ""}}}
	rule := func(port int64, from map[string]any) any {
		return map[string]any{"from": []any{from}, "ports": []any{map[string]any{"protocol": "TCP", "port": port}}}
	}

	ps := load(t, samples.Full)
	np := findObject(Exporter(ps), "NetworkPolicy", ExporterName)
	g.Expect(np).NotTo(BeNil())
	g.Expect(np.Object["spec"]).To(Equal(map[string]any{
		"podSelector": map[string]any{"matchLabels": map[string]any{LabelApp: ExporterName}},
		"policyTypes": []any{"Ingress"},
		"ingress":     []any{rule(ExporterMetricsPort, monitoring)},
	}))
	ps.Spec.Exporter.NetworkPolicy = false
	g.Expect(findObject(Exporter(ps), "NetworkPolicy", ExporterName)).To(BeNil())

	h := loadHost(t)
	objs, err := Host(h, allCaps)
	g.Expect(err).NotTo(HaveOccurred())
	np = findObject(objs, "NetworkPolicy", SprayProxyName)
	g.Expect(np).NotTo(BeNil())
	g.Expect(np.Object["spec"].(map[string]any)["ingress"]).To(Equal([]any{rule(sprayProxySecurePort, routers), rule(sprayProxyMetricsTLS, monitoring)}))
	h.Spec.SprayProxy.NetworkPolicy = false
	objs, err = Host(h, allCaps)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(findObject(objs, "NetworkPolicy", SprayProxyName)).To(BeNil())
}
