package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testenv"
)

var k8sClient client.Client

func TestMain(m *testing.M) {
	env, cfg, err := testenv.Start(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	k8sClient, err = client.New(cfg, client.Options{})
	code := 1
	if err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop envtest:", err)
	}
	os.Exit(code)
}

func loadSample(t *testing.T, file string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", file))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// mutation edits a sample object before it is sent.
type mutation func(obj map[string]any)

// set puts value at a dotted path, creating maps on the way.
func set(path string, value any) mutation {
	return func(obj map[string]any) {
		if err := unstructured.SetNestedField(obj, value, strings.Split(path, ".")...); err != nil {
			panic(err)
		}
	}
}

// del removes the field at a dotted path.
func del(path string) mutation {
	return func(obj map[string]any) { unstructured.RemoveNestedField(obj, strings.Split(path, ".")...) }
}

func both(ms ...mutation) mutation {
	return func(obj map[string]any) {
		for _, m := range ms {
			m(obj)
		}
	}
}

const (
	minimal = "pipelineservice_minimal.yaml"
	full    = "pipelineservice_full.yaml"

	goodDigest = "@sha256:5c1e6ad2e2b1b3c6f0c3a4a5fb1a43c3aa2a6f6b7c2d86c41b0b7b9e5d0e4f11"
)

func TestSamplesAreAccepted(t *testing.T) {
	for _, file := range []string{minimal, full} {
		t.Run(file, func(t *testing.T) {
			g := NewWithT(t)
			obj := loadSample(t, file)
			g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed())
		})
	}
}

func TestMinimalSampleGetsDefaults(t *testing.T) {
	g := NewWithT(t)
	obj := loadSample(t, minimal)
	g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed())

	var ps psv1alpha1.PipelineService
	g.Expect(runtimeFromUnstructured(obj, &ps)).To(Succeed())
	spec := ps.Spec
	g.Expect(spec.Operator.CatalogSource.Name).To(Equal("pipeline-service-catalog"))
	g.Expect(spec.Operator.CatalogSource.Namespace).To(Equal("openshift-marketplace"))
	g.Expect(spec.Operator.Subscription.Name).To(Equal("openshift-pipelines-operator"))
	g.Expect(spec.Operator.Subscription.Namespace).To(Equal("openshift-operators"))
	g.Expect(spec.Operator.Subscription.Package).To(Equal("openshift-pipelines-operator-rh"))
	g.Expect(spec.TektonConfig.TargetNamespace).To(Equal("openshift-pipelines"))
	g.Expect(spec.TektonConfig.Profile).To(Equal("all"))
	g.Expect(spec.TektonConfig.Triggers.Enabled).To(BeFalse())
	g.Expect(spec.TektonConfig.Pruner.Mode).To(Equal(psv1alpha1.PrunerModeAuto))
	g.Expect(spec.TektonConfig.Pruner.Resources).To(Equal([]psv1alpha1.PrunerResource{"pipelinerun"}))
	g.Expect(spec.TektonConfig.Results.Enabled).To(BeTrue())
	g.Expect(spec.TektonConfig.Results.CompletedRunGracePeriod.Duration.String()).To(Equal("10m0s"))
	g.Expect(spec.TektonConfig.PipelinesAsCode.Enabled).To(BeTrue())
	g.Expect(spec.Exporter.Enabled).To(BeTrue())
	g.Expect(spec.Exporter.Replicas).To(Equal(int32(1)))
	g.Expect(string(spec.Exporter.Image)).To(HavePrefix("quay.io/konflux-ci/pipeline-service-exporter:"))
	g.Expect(spec.Exporter.Resources.Requests.Cpu().String()).To(Equal("250m"))
	g.Expect(spec.Exporter.Resources.Limits.Memory().String()).To(Equal("512Mi"))
	g.Expect(spec.Exporter.ServiceMonitor).To(BeTrue())
	g.Expect(spec.DeletionPolicy).To(Equal(psv1alpha1.DeletionPolicyOrphan))
}

// TestBadInputIsRefusedAtAdmission sends invalid objects and checks that the API server refuses
// each with a message naming the offending field.
func TestBadInputIsRefusedAtAdmission(t *testing.T) {
	cases := []struct {
		name     string
		sample   string
		mutate   mutation
		wantPath string
	}{
		{"name other than cluster", minimal, set("metadata.name", "prod"), "metadata.name"},
		{"no spec", minimal, del("spec"), "spec"},
		{"no operator", minimal, del("spec.operator"), "spec.operator"},
		{"no catalog image", minimal, del("spec.operator.catalogSource.image"), "spec.operator.catalogSource"},
		{"catalog image and address", minimal, set("spec.operator.catalogSource.address", "catalog.openshift-marketplace.svc:50051"), "spec.operator.catalogSource"},
		{"catalog address without a port", minimal, then(del("spec.operator.catalogSource.image"), set("spec.operator.catalogSource.address", "catalog.svc")), "spec.operator.catalogSource.address"},
		{"catalog address port out of range", minimal, then(del("spec.operator.catalogSource.image"), set("spec.operator.catalogSource.address", "catalog.svc:70000")), "spec.operator.catalogSource.address"},
		{"catalog address polled", full, then(del("spec.operator.catalogSource.image"), set("spec.operator.catalogSource.address", "catalog.svc:50051")), "spec.operator.catalogSource.pollInterval"},
		{"catalog image with spaces", minimal, set("spec.operator.catalogSource.image", "quay.io/org/index 4.19"), "spec.operator.catalogSource.image"},
		{"catalog image with upper-case repository", minimal, set("spec.operator.catalogSource.image", "quay.io/Org/index:1"), "spec.operator.catalogSource.image"},
		{"catalog image without tag or digest", minimal, set("spec.operator.catalogSource.image", "quay.io/org/index"), "spec.operator.catalogSource.image"},
		{"catalog image with a short digest", minimal, set("spec.operator.catalogSource.image", "quay.io/org/index@sha256:abc"), "spec.operator.catalogSource.image"},
		{"catalog name not a DNS label", minimal, set("spec.operator.catalogSource.name", "Pipeline_Catalog"), "spec.operator.catalogSource.name"},
		{"catalog namespace not a DNS label", minimal, set("spec.operator.catalogSource.namespace", "openshift.marketplace"), "spec.operator.catalogSource.namespace"},
		{"pollInterval not a duration", full, set("spec.operator.catalogSource.pollInterval", "30 minutes"), "spec.operator.catalogSource.pollInterval"},
		{"pollInterval below a minute", full, set("spec.operator.catalogSource.pollInterval", "10s"), "spec.operator.catalogSource.pollInterval"},
		{"empty displayName", full, set("spec.operator.catalogSource.displayName", ""), "spec.operator.catalogSource.displayName"},
		{"no subscription", minimal, del("spec.operator.subscription"), "spec.operator.subscription"},
		{"no channel", minimal, del("spec.operator.subscription.channel"), "spec.operator.subscription.channel"},
		{"empty channel", minimal, set("spec.operator.subscription.channel", ""), "spec.operator.subscription.channel"},
		{"subscription namespace not a DNS label", minimal, set("spec.operator.subscription.namespace", "Openshift-Operators"), "spec.operator.subscription.namespace"},
		{"package with spaces", minimal, set("spec.operator.subscription.package", "openshift pipelines"), "spec.operator.subscription.package"},
		{"csv of another package", full, set("spec.operator.subscription.csv", "other-operator.v5.0.5"), "spec.operator.subscription.csv"},
		{"csv without semver", full, set("spec.operator.subscription.csv", "openshift-pipelines-operator-rh.v5.0"), "spec.operator.subscription.csv"},
		{"csv without v", full, set("spec.operator.subscription.csv", "openshift-pipelines-operator-rh.5.0.5"), "spec.operator.subscription.csv"},
		{"imageOverrides key not an env var name", full, set("spec.operator.subscription.imageOverrides", map[string]any{"image-pipelines-controller": "quay.io/a/b:1"}), "spec.operator.subscription.imageOverrides"},
		{"imageOverrides value not an image", full, set("spec.operator.subscription.imageOverrides", map[string]any{"IMAGE_PIPELINES_CONTROLLER": "not an image"}), "spec.operator.subscription.imageOverrides[IMAGE_PIPELINES_CONTROLLER]"},
		{"imageOverrides overriding AUTOINSTALL_COMPONENTS", full, set("spec.operator.subscription.imageOverrides", map[string]any{"AUTOINSTALL_COMPONENTS": "quay.io/a/b:1"}), "spec.operator.subscription.imageOverrides"},
		{"env setting AUTOINSTALL_COMPONENTS", full, set("spec.operator.subscription.env", []any{map[string]any{"name": "AUTOINSTALL_COMPONENTS", "value": "true"}}), "spec.operator.subscription.env"},
		{"env repeating an imageOverrides key", full, set("spec.operator.subscription.env", []any{map[string]any{"name": "IMAGE_PIPELINES_CONTROLLER", "value": "x"}}), "spec.operator.subscription.env"},
		{"env value over 8 KiB", full, set("spec.operator.subscription.env", []any{map[string]any{"name": "A", "value": strings.Repeat("x", 8193)}}), "spec.operator.subscription.env[0].value"},
		{"exporter argument over 4 KiB", full, set("spec.exporter.args", []any{strings.Repeat("x", 4097)}), "spec.exporter.args[0]"},
		{"too many resource names", full, set("spec.exporter.resources.requests", func() map[string]any {
			m := map[string]any{}
			for i := range 17 {
				m[fmt.Sprintf("example.com/r%d", i)] = "1"
			}
			return m
		}()), "spec.exporter.resources.requests"},
		{"env with a duplicate name", full, set("spec.operator.subscription.env", []any{map[string]any{"name": "A", "value": "1"}, map[string]any{"name": "A", "value": "2"}}), "spec.operator.subscription.env[1]"},
		{"mirror without mirrors", full, set("spec.mirrors", []any{map[string]any{"source": "registry.redhat.io/openshift-pipelines"}}), "spec.mirrors[0].mirrors"},
		{"mirror with empty mirrors", full, set("spec.mirrors", []any{map[string]any{"source": "registry.redhat.io/openshift-pipelines", "mirrors": []any{}}}), "spec.mirrors[0].mirrors"},
		{"mirror with a duplicate source", full, set("spec.mirrors", []any{
			map[string]any{"source": "registry.redhat.io/openshift-pipelines", "mirrors": []any{"quay.io/a"}},
			map[string]any{"source": "registry.redhat.io/openshift-pipelines", "mirrors": []any{"quay.io/b"}},
		}), "spec.mirrors[1]"},
		{"mirror source with a tag", full, set("spec.mirrors", []any{map[string]any{"source": "registry.redhat.io/openshift-pipelines:1.0", "mirrors": []any{"quay.io/a"}}}), "spec.mirrors[0].source"},
		{"mirror that is not a repository", full, set("spec.mirrors", []any{map[string]any{"source": "registry.redhat.io/openshift-pipelines", "mirrors": []any{"https://quay.io/a"}}}), "spec.mirrors[0].mirrors[0]"},
		{"targetNamespace not a DNS label", full, set("spec.tektonConfig.targetNamespace", "openshift_pipelines"), "spec.tektonConfig.targetNamespace"},
		{"unknown profile", full, set("spec.tektonConfig.profile", "everything"), "spec.tektonConfig.profile"},
		{"triggers.enabled not a boolean", full, set("spec.tektonConfig.triggers.enabled", "no"), "spec.tektonConfig.triggers.enabled"},
		{"unknown pruner mode", full, set("spec.tektonConfig.pruner.mode", "Sometimes"), "spec.tektonConfig.pruner.mode"},
		{"keep together with keepSince", full, set("spec.tektonConfig.pruner.keep", int64(10)), "spec.tektonConfig.pruner"},
		{"keep zero", full, both(del("spec.tektonConfig.pruner.keepSince"), set("spec.tektonConfig.pruner.keep", int64(0))), "spec.tektonConfig.pruner.keep"},
		{"keepSince negative", full, set("spec.tektonConfig.pruner.keepSince", int64(-5)), "spec.tektonConfig.pruner.keepSince"},
		{"pruner schedule not cron", full, set("spec.tektonConfig.pruner.schedule", "every ten minutes"), "spec.tektonConfig.pruner.schedule"},
		{"unknown pruner resource", full, set("spec.tektonConfig.pruner.resources", []any{"pods"}), "spec.tektonConfig.pruner.resources[0]"},
		{"empty pruner resources", full, set("spec.tektonConfig.pruner.resources", []any{}), "spec.tektonConfig.pruner.resources"},
		{"completedRunGracePeriod not a duration", full, set("spec.tektonConfig.results.completedRunGracePeriod", "ten minutes"), "spec.tektonConfig.results.completedRunGracePeriod"},
		{"completedRunGracePeriod negative", full, set("spec.tektonConfig.results.completedRunGracePeriod", "-10m"), "spec.tektonConfig.results.completedRunGracePeriod"},
		{"empty applicationName", full, set("spec.tektonConfig.pipelinesAsCode.applicationName", ""), "spec.tektonConfig.pipelinesAsCode.applicationName"},
		{"console url over http", full, set("spec.tektonConfig.pipelinesAsCode.console.url", "http://console.example.com"), "spec.tektonConfig.pipelinesAsCode.console.url"},
		{"console without url", full, del("spec.tektonConfig.pipelinesAsCode.console.url"), "spec.tektonConfig.pipelinesAsCode.console.url"},
		{"prDetailsURL not a URL", full, set("spec.tektonConfig.pipelinesAsCode.console.prDetailsURL", "console/ns/{{ namespace }}"), "spec.tektonConfig.pipelinesAsCode.console.prDetailsURL"},
		{"taskLogURL over ftp", full, set("spec.tektonConfig.pipelinesAsCode.console.taskLogURL", "ftp://console.example.com/logs"), "spec.tektonConfig.pipelinesAsCode.console.taskLogURL"},
		{"namespaceURL without host", full, set("spec.tektonConfig.pipelinesAsCode.console.namespaceURL", "https:///ns"), "spec.tektonConfig.pipelinesAsCode.console.namespaceURL"},
		{"secretStoreRef kind Secret", full, set("spec.tektonConfig.pipelinesAsCode.gitHubApp.secretStoreRef.kind", "Secret"), "spec.tektonConfig.pipelinesAsCode.gitHubApp.secretStoreRef.kind"},
		{"secretStoreRef without name", full, del("spec.tektonConfig.pipelinesAsCode.gitHubApp.secretStoreRef.name"), "spec.tektonConfig.pipelinesAsCode.gitHubApp.secretStoreRef.name"},
		{"gitHubApp without key", full, del("spec.tektonConfig.pipelinesAsCode.gitHubApp.key"), "spec.tektonConfig.pipelinesAsCode.gitHubApp.key"},
		{"refreshInterval not a duration", full, set("spec.tektonConfig.pipelinesAsCode.gitHubApp.refreshInterval", "5 min"), "spec.tektonConfig.pipelinesAsCode.gitHubApp.refreshInterval"},
		{"settings setting application-name", full, set("spec.tektonConfig.pipelinesAsCode.settings", map[string]any{"application-name": "x"}), "spec.tektonConfig.pipelinesAsCode.settings"},
		{"settings value not a string", full, set("spec.tektonConfig.pipelinesAsCode.settings", map[string]any{"secret-auto-create": true}), "spec.tektonConfig.pipelinesAsCode.settings.secret-auto-create"},
		{"zero buckets", full, set("spec.tektonConfig.performance.buckets", int64(0)), "spec.tektonConfig.performance.buckets"},
		{"eleven buckets", full, set("spec.tektonConfig.performance.buckets", int64(11)), "spec.tektonConfig.performance.buckets"},
		{"zero controller replicas", full, set("spec.tektonConfig.performance.replicas", int64(0)), "spec.tektonConfig.performance.replicas"},
		{"zero threadsPerController", full, set("spec.tektonConfig.performance.threadsPerController", int64(0)), "spec.tektonConfig.performance.threadsPerController"},
		{"negative kubeAPIQPS", full, set("spec.tektonConfig.performance.kubeAPIQPS", int64(-1)), "spec.tektonConfig.performance.kubeAPIQPS"},
		{"zero kubeAPIBurst", full, set("spec.tektonConfig.performance.kubeAPIBurst", int64(0)), "spec.tektonConfig.performance.kubeAPIBurst"},
		{"kubeAPIBurst below kubeAPIQPS", full, set("spec.tektonConfig.performance.kubeAPIBurst", int64(10)), "spec.tektonConfig.performance.kubeAPIBurst"},
		{"overrides not an object", full, set("spec.tektonConfig.overrides", "pipeline: {}"), "spec.tektonConfig.overrides"},
		{"exporter image without tag", full, set("spec.exporter.image", "quay.io/konflux-ci/pipeline-service-exporter"), "spec.exporter.image"},
		{"zero exporter replicas", full, set("spec.exporter.replicas", int64(0)), "spec.exporter.replicas"},
		{"unknown deletionPolicy", full, set("spec.deletionPolicy", "Foreground"), "spec.deletionPolicy"},
		{"externalSecret name twice in a namespace", full, set("spec.externalSecrets", []any{
			externalSecret("chains", "tekton-chains"), externalSecret("chains", "tekton-chains")}), "spec.externalSecrets[1]"},
		{"externalSecret naming the target namespace", full, set("spec.externalSecrets", []any{
			externalSecret("chains", ""), externalSecret("chains", "openshift-pipelines")}), "spec.externalSecrets"},
		{"externalSecret for the GitHub App's secret", full, set("spec.externalSecrets", []any{
			externalSecret("pipelines-as-code-secret", "")}), "spec.externalSecrets"},
		{"gitHubApp deletionPolicy unknown", full, set("spec.tektonConfig.pipelinesAsCode.gitHubApp.deletionPolicy", "Purge"), "spec.tektonConfig.pipelinesAsCode.gitHubApp.deletionPolicy"},
		{"externalSecret with neither data nor dataFrom", full, firstExternalSecret(del("data")), "spec.externalSecrets[0]"},
		{"externalSecret store of an unknown kind", full, firstExternalSecret(set("secretStoreRef.kind", "VaultStore")), "spec.externalSecrets[0].secretStoreRef.kind"},
		{"externalSecret refreshInterval not a duration", full, firstExternalSecret(set("refreshInterval", "hourly")), "spec.externalSecrets[0].refreshInterval"},
		{"externalSecret name not a DNS name", full, firstExternalSecret(set("name", "Chains_Key")), "spec.externalSecrets[0].name"},
		{"externalSecret target creationPolicy unknown", full, firstExternalSecret(set("target.creationPolicy", "Always")), "spec.externalSecrets[0].target.creationPolicy"},
		{"externalSecret data key twice", full, firstExternalSecret(set("data", []any{
			map[string]any{"secretKey": "k", "remoteRef": map[string]any{"key": "a"}},
			map[string]any{"secretKey": "k", "remoteRef": map[string]any{"key": "b"}}})), "spec.externalSecrets[0].data[1]"},
	}
	if len(cases) < 40 {
		t.Fatalf("want at least 40 bad objects, have %d", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := loadSample(t, tc.sample)
			tc.mutate(obj.Object)
			err := k8sClient.Create(context.Background(), obj, client.DryRunAll)
			g.Expect(err).To(HaveOccurred(), "the API server accepted it")
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want 422 Invalid, got %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.wantPath+":"), "the message must name the field")
		})
	}
}

// then applies the mutations in order.
func then(ms ...mutation) mutation {
	return func(obj map[string]any) {
		for _, m := range ms {
			m(obj)
		}
	}
}

// firstExternalSecret applies m to the first entry of spec.externalSecrets.
func firstExternalSecret(m mutation) mutation {
	return func(obj map[string]any) {
		list, _, _ := unstructured.NestedSlice(obj, "spec", "externalSecrets")
		m(list[0].(map[string]any))
		_ = unstructured.SetNestedSlice(obj, list, "spec", "externalSecrets")
	}
}

// externalSecret is a valid spec.externalSecrets entry; namespace "" leaves the default.
func externalSecret(name, namespace string) map[string]any {
	es := map[string]any{"name": name, "secretStoreRef": map[string]any{"name": "vault"},
		"dataFrom": []any{map[string]any{"extract": map[string]any{"key": "a/b"}}}}
	if namespace != "" {
		es["namespace"] = namespace
	}
	return es
}

func TestDigestImagesAreAccepted(t *testing.T) {
	for _, image := range []string{
		"quay.io/org/index" + goodDigest,
		"quay.io/org/index:4.19" + goodDigest,
		"localhost:5000/index:next",
		"registry.redhat.io/openshift-pipelines/pipelines-index-rhel9:v5.0",
	} {
		g := NewWithT(t)
		obj := loadSample(t, minimal)
		set("spec.operator.catalogSource.image", image)(obj.Object)
		g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed(), image)
	}
}

func runtimeFromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

// TestTargetNamespaceIsImmutable: OSP refuses to move a TektonConfig to another namespace, so
// the PipelineService refuses the change at admission, with a message that says how to move.
func TestTargetNamespaceIsImmutable(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	obj := loadSample(t, full)
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	defer func() { g.Expect(k8sClient.Delete(ctx, obj)).To(Succeed()) }()

	set("spec.exporter.replicas", int64(2))(obj.Object)
	g.Expect(k8sClient.Update(ctx, obj)).To(Succeed(), "other fields still change")

	set("spec.tektonConfig.targetNamespace", "tekton-pipelines")(obj.Object)
	err := k8sClient.Update(ctx, obj)
	g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want 422 Invalid, got %v", err)
	g.Expect(err.Error()).To(ContainSubstring("spec.tektonConfig.targetNamespace: Invalid value"))
	g.Expect(err.Error()).To(ContainSubstring("deletionPolicy Orphan"))
	g.Expect(err.Error()).To(ContainSubstring("delete TektonConfig 'config'"))
}

func TestCatalogServedByAddressIsAccepted(t *testing.T) {
	for _, address := range []string{"catalog.openshift-marketplace.svc:50051", "127.0.0.1:50051", "opm:1"} {
		g := NewWithT(t)
		obj := loadSample(t, minimal)
		then(del("spec.operator.catalogSource.image"), set("spec.operator.catalogSource.address", address))(obj.Object)
		g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed(), address)
	}
}
