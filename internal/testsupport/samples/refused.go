package samples

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Refused is a parent the API server refuses at admission: a sample, changed. Both the
// admission tests (a real API server) and validate's tests run every case, from this one
// table, so that a new case covers both.
type Refused struct {
	Name   string
	Sample string
	Mutate Mutation
	// Field is the path the refusal names.
	Field string
}

// Mutation edits a sample's unstructured content.
type Mutation func(obj map[string]any)

// Set puts value at a dotted path, creating maps on the way.
func Set(path string, value any) Mutation {
	return func(obj map[string]any) {
		if err := unstructured.SetNestedField(obj, value, strings.Split(path, ".")...); err != nil {
			panic(err)
		}
	}
}

// Del removes the field at a dotted path.
func Del(path string) Mutation {
	return func(obj map[string]any) { unstructured.RemoveNestedField(obj, strings.Split(path, ".")...) }
}

// Then applies the mutations in order.
func Then(ms ...Mutation) Mutation {
	return func(obj map[string]any) {
		for _, m := range ms {
			m(obj)
		}
	}
}

// firstExternalSecret applies m to the first entry of spec.externalSecrets.
func firstExternalSecret(m Mutation) Mutation {
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

// RefusedMembers are PipelineServices the API server refuses.
var RefusedMembers = []Refused{
	{"name other than cluster", Minimal, Set("metadata.name", "prod"), "metadata.name"},
	{"no spec", Minimal, Del("spec"), "spec"},
	{"no operator", Minimal, Del("spec.operator"), "spec.operator"},
	{"no catalog image", Minimal, Del("spec.operator.catalogSource.image"), "spec.operator.catalogSource"},
	{"catalog image and address", Minimal, Set("spec.operator.catalogSource.address", "catalog.openshift-marketplace.svc:50051"), "spec.operator.catalogSource"},
	{"catalog address without a port", Minimal, Then(Del("spec.operator.catalogSource.image"), Set("spec.operator.catalogSource.address", "catalog.svc")), "spec.operator.catalogSource.address"},
	{"catalog address port out of range", Minimal, Then(Del("spec.operator.catalogSource.image"), Set("spec.operator.catalogSource.address", "catalog.svc:70000")), "spec.operator.catalogSource.address"},
	{"catalog address polled", Full, Then(Del("spec.operator.catalogSource.image"), Set("spec.operator.catalogSource.address", "catalog.svc:50051")), "spec.operator.catalogSource.pollInterval"},
	{"catalog image with spaces", Minimal, Set("spec.operator.catalogSource.image", "quay.io/org/index 4.19"), "spec.operator.catalogSource.image"},
	{"catalog image with upper-case repository", Minimal, Set("spec.operator.catalogSource.image", "quay.io/Org/index:1"), "spec.operator.catalogSource.image"},
	{"catalog image without tag or digest", Minimal, Set("spec.operator.catalogSource.image", "quay.io/org/index"), "spec.operator.catalogSource.image"},
	{"catalog image with a short digest", Minimal, Set("spec.operator.catalogSource.image", "quay.io/org/index@sha256:abc"), "spec.operator.catalogSource.image"},
	{"catalog name not a DNS label", Minimal, Set("spec.operator.catalogSource.name", "Pipeline_Catalog"), "spec.operator.catalogSource.name"},
	{"catalog namespace not a DNS label", Minimal, Set("spec.operator.catalogSource.namespace", "openshift.marketplace"), "spec.operator.catalogSource.namespace"},
	{"pollInterval not a duration", Full, Set("spec.operator.catalogSource.pollInterval", "30 minutes"), "spec.operator.catalogSource.pollInterval"},
	{"pollInterval below a minute", Full, Set("spec.operator.catalogSource.pollInterval", "10s"), "spec.operator.catalogSource.pollInterval"},
	{"empty displayName", Full, Set("spec.operator.catalogSource.displayName", ""), "spec.operator.catalogSource.displayName"},
	{"no subscription", Minimal, Del("spec.operator.subscription"), "spec.operator.subscription"},
	{"no channel", Minimal, Del("spec.operator.subscription.channel"), "spec.operator.subscription.channel"},
	{"empty channel", Minimal, Set("spec.operator.subscription.channel", ""), "spec.operator.subscription.channel"},
	{"subscription namespace not a DNS label", Minimal, Set("spec.operator.subscription.namespace", "Openshift-Operators"), "spec.operator.subscription.namespace"},
	{"package with spaces", Minimal, Set("spec.operator.subscription.package", "openshift pipelines"), "spec.operator.subscription.package"},
	{"csv of another package", Full, Set("spec.operator.subscription.csv", "other-operator.v5.0.5"), "spec.operator.subscription.csv"},
	{"csv without semver", Full, Set("spec.operator.subscription.csv", "openshift-pipelines-operator-rh.v5.0"), "spec.operator.subscription.csv"},
	{"csv without v", Full, Set("spec.operator.subscription.csv", "openshift-pipelines-operator-rh.5.0.5"), "spec.operator.subscription.csv"},
	{"imageOverrides key not an env var name", Full, Set("spec.operator.subscription.imageOverrides", map[string]any{"image-pipelines-controller": "quay.io/a/b:1"}), "spec.operator.subscription.imageOverrides"},
	{"imageOverrides value not an image", Full, Set("spec.operator.subscription.imageOverrides", map[string]any{"IMAGE_PIPELINES_CONTROLLER": "not an image"}), "spec.operator.subscription.imageOverrides[IMAGE_PIPELINES_CONTROLLER]"},
	{"imageOverrides overriding AUTOINSTALL_COMPONENTS", Full, Set("spec.operator.subscription.imageOverrides", map[string]any{"AUTOINSTALL_COMPONENTS": "quay.io/a/b:1"}), "spec.operator.subscription.imageOverrides"},
	{"env setting AUTOINSTALL_COMPONENTS", Full, Set("spec.operator.subscription.env", []any{map[string]any{"name": "AUTOINSTALL_COMPONENTS", "value": "true"}}), "spec.operator.subscription.env"},
	{"env repeating an imageOverrides key", Full, Set("spec.operator.subscription.env", []any{map[string]any{"name": "IMAGE_PIPELINES_CONTROLLER", "value": "x"}}), "spec.operator.subscription.env"},
	{"env value over 8 KiB", Full, Set("spec.operator.subscription.env", []any{map[string]any{"name": "A", "value": strings.Repeat("x", 8193)}}), "spec.operator.subscription.env[0].value"},
	{"exporter argument over 4 KiB", Full, Set("spec.exporter.args", []any{strings.Repeat("x", 4097)}), "spec.exporter.args[0]"},
	{"too many resource names", Full, Set("spec.exporter.resources.requests", func() map[string]any {
		m := map[string]any{}
		for i := range 17 {
			m[fmt.Sprintf("example.com/r%d", i)] = "1"
		}
		return m
	}()), "spec.exporter.resources.requests"},
	{"env with a duplicate name", Full, Set("spec.operator.subscription.env", []any{map[string]any{"name": "A", "value": "1"}, map[string]any{"name": "A", "value": "2"}}), "spec.operator.subscription.env[1]"},
	{"mirror without mirrors", Full, Set("spec.mirrors", []any{map[string]any{"source": "registry.redhat.io/openshift-pipelines"}}), "spec.mirrors[0].mirrors"},
	{"mirror with empty mirrors", Full, Set("spec.mirrors", []any{map[string]any{"source": "registry.redhat.io/openshift-pipelines", "mirrors": []any{}}}), "spec.mirrors[0].mirrors"},
	{"mirror with a duplicate source", Full, Set("spec.mirrors", []any{
		map[string]any{"source": "registry.redhat.io/openshift-pipelines", "mirrors": []any{"quay.io/a"}},
		map[string]any{"source": "registry.redhat.io/openshift-pipelines", "mirrors": []any{"quay.io/b"}},
	}), "spec.mirrors[1]"},
	{"mirror source with a tag", Full, Set("spec.mirrors", []any{map[string]any{"source": "registry.redhat.io/openshift-pipelines:1.0", "mirrors": []any{"quay.io/a"}}}), "spec.mirrors[0].source"},
	{"mirror that is not a repository", Full, Set("spec.mirrors", []any{map[string]any{"source": "registry.redhat.io/openshift-pipelines", "mirrors": []any{"https://quay.io/a"}}}), "spec.mirrors[0].mirrors[0]"},
	{"targetNamespace not a DNS label", Full, Set("spec.tektonConfig.targetNamespace", "openshift_pipelines"), "spec.tektonConfig.targetNamespace"},
	{"unknown profile", Full, Set("spec.tektonConfig.profile", "everything"), "spec.tektonConfig.profile"},
	{"triggers.enabled not a boolean", Full, Set("spec.tektonConfig.triggers.enabled", "no"), "spec.tektonConfig.triggers.enabled"},
	{"unknown pruner mode", Full, Set("spec.tektonConfig.pruner.mode", "Sometimes"), "spec.tektonConfig.pruner.mode"},
	{"keep together with keepSince", Full, Set("spec.tektonConfig.pruner.keep", int64(10)), "spec.tektonConfig.pruner"},
	{"keep zero", Full, Then(Del("spec.tektonConfig.pruner.keepSince"), Set("spec.tektonConfig.pruner.keep", int64(0))), "spec.tektonConfig.pruner.keep"},
	{"keepSince negative", Full, Set("spec.tektonConfig.pruner.keepSince", int64(-5)), "spec.tektonConfig.pruner.keepSince"},
	{"pruner schedule not cron", Full, Set("spec.tektonConfig.pruner.schedule", "every ten minutes"), "spec.tektonConfig.pruner.schedule"},
	{"unknown pruner resource", Full, Set("spec.tektonConfig.pruner.resources", []any{"pods"}), "spec.tektonConfig.pruner.resources[0]"},
	{"empty pruner resources", Full, Set("spec.tektonConfig.pruner.resources", []any{}), "spec.tektonConfig.pruner.resources"},
	{"completedRunGracePeriod not a duration", Full, Set("spec.tektonConfig.results.completedRunGracePeriod", "ten minutes"), "spec.tektonConfig.results.completedRunGracePeriod"},
	{"completedRunGracePeriod negative", Full, Set("spec.tektonConfig.results.completedRunGracePeriod", "-10m"), "spec.tektonConfig.results.completedRunGracePeriod"},
	{"empty applicationName", Full, Set("spec.tektonConfig.pipelinesAsCode.applicationName", ""), "spec.tektonConfig.pipelinesAsCode.applicationName"},
	{"console url over http", Full, Set("spec.tektonConfig.pipelinesAsCode.console.url", "http://console.example.com"), "spec.tektonConfig.pipelinesAsCode.console.url"},
	{"console without url", Full, Del("spec.tektonConfig.pipelinesAsCode.console.url"), "spec.tektonConfig.pipelinesAsCode.console.url"},
	{"prDetailsURL not a URL", Full, Set("spec.tektonConfig.pipelinesAsCode.console.prDetailsURL", "console/ns/{{ namespace }}"), "spec.tektonConfig.pipelinesAsCode.console.prDetailsURL"},
	{"taskLogURL over ftp", Full, Set("spec.tektonConfig.pipelinesAsCode.console.taskLogURL", "ftp://console.example.com/logs"), "spec.tektonConfig.pipelinesAsCode.console.taskLogURL"},
	{"namespaceURL without host", Full, Set("spec.tektonConfig.pipelinesAsCode.console.namespaceURL", "https:///ns"), "spec.tektonConfig.pipelinesAsCode.console.namespaceURL"},
	{"secretStoreRef kind Secret", Full, Set("spec.tektonConfig.pipelinesAsCode.gitHubApp.secretStoreRef.kind", "Secret"), "spec.tektonConfig.pipelinesAsCode.gitHubApp.secretStoreRef.kind"},
	{"secretStoreRef without name", Full, Del("spec.tektonConfig.pipelinesAsCode.gitHubApp.secretStoreRef.name"), "spec.tektonConfig.pipelinesAsCode.gitHubApp.secretStoreRef.name"},
	{"gitHubApp without key", Full, Del("spec.tektonConfig.pipelinesAsCode.gitHubApp.key"), "spec.tektonConfig.pipelinesAsCode.gitHubApp.key"},
	{"refreshInterval not a duration", Full, Set("spec.tektonConfig.pipelinesAsCode.gitHubApp.refreshInterval", "5 min"), "spec.tektonConfig.pipelinesAsCode.gitHubApp.refreshInterval"},
	{"settings setting application-name", Full, Set("spec.tektonConfig.pipelinesAsCode.settings", map[string]any{"application-name": "x"}), "spec.tektonConfig.pipelinesAsCode.settings"},
	{"settings value not a string", Full, Set("spec.tektonConfig.pipelinesAsCode.settings", map[string]any{"secret-auto-create": true}), "spec.tektonConfig.pipelinesAsCode.settings.secret-auto-create"},
	{"zero buckets", Full, Set("spec.tektonConfig.performance.buckets", int64(0)), "spec.tektonConfig.performance.buckets"},
	{"eleven buckets", Full, Set("spec.tektonConfig.performance.buckets", int64(11)), "spec.tektonConfig.performance.buckets"},
	{"zero controller replicas", Full, Set("spec.tektonConfig.performance.replicas", int64(0)), "spec.tektonConfig.performance.replicas"},
	{"zero threadsPerController", Full, Set("spec.tektonConfig.performance.threadsPerController", int64(0)), "spec.tektonConfig.performance.threadsPerController"},
	{"negative kubeAPIQPS", Full, Set("spec.tektonConfig.performance.kubeAPIQPS", int64(-1)), "spec.tektonConfig.performance.kubeAPIQPS"},
	{"zero kubeAPIBurst", Full, Set("spec.tektonConfig.performance.kubeAPIBurst", int64(0)), "spec.tektonConfig.performance.kubeAPIBurst"},
	{"kubeAPIBurst below kubeAPIQPS", Full, Set("spec.tektonConfig.performance.kubeAPIBurst", int64(10)), "spec.tektonConfig.performance.kubeAPIBurst"},
	{"overrides not an object", Full, Set("spec.tektonConfig.overrides", "pipeline: {}"), "spec.tektonConfig.overrides"},
	{"exporter image without tag", Full, Set("spec.exporter.image", "quay.io/konflux-ci/pipeline-service-exporter"), "spec.exporter.image"},
	{"zero exporter replicas", Full, Set("spec.exporter.replicas", int64(0)), "spec.exporter.replicas"},
	{"unknown deletionPolicy", Full, Set("spec.deletionPolicy", "Foreground"), "spec.deletionPolicy"},
	{"externalSecret name twice in a namespace", Full, Set("spec.externalSecrets", []any{
		externalSecret("chains", "tekton-chains"), externalSecret("chains", "tekton-chains")}), "spec.externalSecrets[1]"},
	{"externalSecret naming the target namespace", Full, Set("spec.externalSecrets", []any{
		externalSecret("chains", ""), externalSecret("chains", "openshift-pipelines")}), "spec.externalSecrets"},
	{"externalSecret for the GitHub App's secret", Full, Set("spec.externalSecrets", []any{
		externalSecret("pipelines-as-code-secret", "")}), "spec.externalSecrets"},
	{"gitHubApp deletionPolicy unknown", Full, Set("spec.tektonConfig.pipelinesAsCode.gitHubApp.deletionPolicy", "Purge"), "spec.tektonConfig.pipelinesAsCode.gitHubApp.deletionPolicy"},
	{"externalSecret with neither data nor dataFrom", Full, firstExternalSecret(Del("data")), "spec.externalSecrets[0]"},
	{"externalSecret store of an unknown kind", Full, firstExternalSecret(Set("secretStoreRef.kind", "VaultStore")), "spec.externalSecrets[0].secretStoreRef.kind"},
	{"externalSecret refreshInterval not a duration", Full, firstExternalSecret(Set("refreshInterval", "hourly")), "spec.externalSecrets[0].refreshInterval"},
	{"externalSecret name not a DNS name", Full, firstExternalSecret(Set("name", "Chains_Key")), "spec.externalSecrets[0].name"},
	{"externalSecret target creationPolicy unknown", Full, firstExternalSecret(Set("target.creationPolicy", "Always")), "spec.externalSecrets[0].target.creationPolicy"},
	{"externalSecret data key twice", Full, firstExternalSecret(Set("data", []any{
		map[string]any{"secretKey": "k", "remoteRef": map[string]any{"key": "a"}},
		map[string]any{"secretKey": "k", "remoteRef": map[string]any{"key": "b"}}})), "spec.externalSecrets[0].data[1]"},
}

func backends(b ...any) Mutation { return Set("spec.sprayProxy.backends", b) }

// RefusedHosts are PipelineServiceHosts the API server refuses.
var RefusedHosts = []Refused{
	{"name other than cluster", Host, Set("metadata.name", "host"), "metadata.name"},
	{"neither part", Host, Then(Del("spec.sprayProxy"), Del("spec.resultsProxyPlugin")), "spec"},
	{"backend over http", Host, backends("http://member-1.example.com"), "spec.sprayProxy.backends[0]"},
	{"backend not a URL", Host, backends("https://member-1.example.com", "member 2"), "spec.sprayProxy.backends[1]"},
	{"backend without host", Host, backends("https://"), "spec.sprayProxy.backends[0]"},
	{"duplicate backends", Host, backends("https://member-1.example.com", "https://member-1.example.com"), "spec.sprayProxy.backends[1]"},
	{"no backend and no dynamic backends", Host, Del("spec.sprayProxy.backends"), "spec.sprayProxy.backends"},
	{"registrants without dynamic backends", Host, Set("spec.sprayProxy.dynamicBackends.registrants",
		[]any{map[string]any{"kind": "ServiceAccount", "name": "register", "namespace": "member"}}), "spec.sprayProxy.dynamicBackends.registrants"},
	{"no webhook secret", Host, Del("spec.sprayProxy.webhookSecret"), "spec.sprayProxy.webhookSecret"},
	{"webhook secret without key", Host, Del("spec.sprayProxy.webhookSecret.key"), "spec.sprayProxy.webhookSecret.key"},
	{"webhook secret refresh not a duration", Host, Set("spec.sprayProxy.webhookSecret.refreshInterval", "hourly"), "spec.sprayProxy.webhookSecret.refreshInterval"},
	{"image without tag", Host, Set("spec.sprayProxy.image", "quay.io/konflux-ci/sprayproxy"), "spec.sprayProxy.image"},
	{"zero replicas", Host, Set("spec.sprayProxy.replicas", int64(0)), "spec.sprayProxy.replicas"},
	{"namespace not a DNS label", Host, Set("spec.sprayProxy.namespace", "Spray_Proxy"), "spec.sprayProxy.namespace"},
	{"route host not a DNS name", Host, Set("spec.sprayProxy.route.host", "https://sprayproxy.example.com"), "spec.sprayProxy.route.host"},
	{"proxy plugin name not a DNS name", Host, Set("spec.resultsProxyPlugin.name", "Tekton Results"), "spec.resultsProxyPlugin.name"},
	{"target route namespace not a DNS label", Host, Set("spec.resultsProxyPlugin.targetRoute.namespace", "tekton_results"), "spec.resultsProxyPlugin.targetRoute.namespace"},
	{"unknown deletion policy", Host, Set("spec.deletionPolicy", "Keep"), "spec.deletionPolicy"},
	{"every caller may scrape", Host, Set("spec.sprayProxy.metricsReaders",
		[]any{map[string]any{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}}), "spec.sprayProxy.metricsReaders"},
	{"every service account may register", Host, Then(Set("spec.sprayProxy.dynamicBackends.enabled", true), Set("spec.sprayProxy.dynamicBackends.registrants",
		[]any{map[string]any{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccounts"}})), "spec.sprayProxy.dynamicBackends.registrants"},
	{"anonymous may register", Host, Then(Set("spec.sprayProxy.dynamicBackends.enabled", true), Set("spec.sprayProxy.dynamicBackends.registrants",
		[]any{map[string]any{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "system:anonymous"}})), "spec.sprayProxy.dynamicBackends.registrants"},
	{"two replicas with dynamic backends", Host, Then(Set("spec.sprayProxy.dynamicBackends.enabled", true), Set("spec.sprayProxy.replicas", int64(2))), "spec.sprayProxy.replicas"},
}
