package render

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// SprayProxy's layout follows upstream's config/ (github.com/konflux-ci/sprayproxy): SprayProxy
// listens on loopback only, and two kube-rbac-proxy sidecars terminate TLS in front of it, one
// for webhooks (which pass unauthenticated, as GitHub sends them) and one for metrics.
const (
	// SprayProxyName names SprayProxy's Deployment, ServiceAccount, Service, Route and
	// ServiceMonitor.
	SprayProxyName = "sprayproxy"
	// SprayProxyMetricsName names the metrics Service. Upstream keeps metrics on a Service of
	// their own because a Route to a Service with two TLS ports picks the wrong one
	// (OCPBUGS-5916).
	SprayProxyMetricsName = "sprayproxy-metrics"
	// SprayProxyWebhookSecretName is the Secret (and its ExternalSecret) SprayProxy verifies
	// webhooks with.
	SprayProxyWebhookSecretName = "sprayproxy-webhook-secret"
	// SprayProxyWebhookSecretKey is the Secret's key that holds the webhook secret.
	SprayProxyWebhookSecretKey = "webhook.secret"
	// SprayProxyTLSSecretName is the serving certificate OpenShift's service CA writes for the
	// proxy Service; kube-rbac-proxy serves the Route's re-encrypted traffic with it.
	SprayProxyTLSSecretName = "sprayproxy-tls"
	// EnvSprayProxyBackends lists the backends, separated by spaces.
	EnvSprayProxyBackends = "SPRAYPROXY_SERVER_BACKEND"
	// EnvSprayProxyDynamicBackends turns /backends on.
	EnvSprayProxyDynamicBackends = "SPRAYPROXY_SERVER_ENABLE_DYNAMIC_BACKENDS"
	// SprayProxyPath is where GitHub posts webhooks.
	SprayProxyPath = "/proxy"

	sprayProxyPort          = 8080
	sprayProxyMetricsPort   = 9090
	sprayProxySecurePort    = 8443
	sprayProxyMetricsTLS    = 9443
	sprayProxyComponent     = "app.kubernetes.io/name"
	sprayProxyAuthRole      = "sprayproxy-kube-rbac-proxy"
	sprayProxyMetricsRole   = "sprayproxy-metrics-reader"
	sprayProxyRegistrarRole = "sprayproxy-backend-register"
	// serviceCAAnnotation asks OpenShift's service CA for a serving certificate.
	serviceCAAnnotation = "service.beta.openshift.io/serving-cert-secret-name"
)

// Host returns the desired objects of a PipelineServiceHost on a cluster that serves the given
// kinds (ExternalSecret v1 or v1beta1). Objects of kinds the cluster does not serve are still
// here; the caller reports them missing.
func Host(h *psv1alpha1.PipelineServiceHost, served children.Served) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	if sp := h.Spec.SprayProxy; sp != nil {
		out = append(out, SprayProxy(sp, served.Version(children.GVKExternalSecretV1.GroupKind()).Version)...)
	}
	if pp := h.Spec.ResultsProxyPlugin; pp != nil && pp.Enabled {
		out = append(out, ResultsProxyPlugin(pp))
	}
	for _, o := range out {
		if err := stampHash(o); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// hostLabels are the operator's labels on the host's children.
func hostLabels() map[string]string {
	return map[string]string{LabelManagedBy: ManagedByValue, LabelPartOf: children.Host.Info().PartOf}
}

// newHostObject returns an unstructured object of gvk with the operator's labels for the host.
func newHostObject(gvk schema.GroupVersionKind, namespace, name string) *unstructured.Unstructured {
	u := newObject(gvk, namespace, name)
	u.SetLabels(hostLabels())
	return u
}

// SprayProxy renders SprayProxy and what serves it: namespace, ServiceAccount, the RBAC of
// its kube-rbac-proxy sidecars, the webhook secret's ExternalSecret, Services, Deployment,
// Route, ServiceMonitor and NetworkPolicy.
func SprayProxy(sp *psv1alpha1.SprayProxySpec, externalSecretVersion string) []*unstructured.Unstructured {
	ns := sp.Namespace
	sa := newHostObject(children.GVKServiceAccount, ns, SprayProxyName)
	saSubject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: SprayProxyName, Namespace: ns}}
	out := []*unstructured.Unstructured{
		Namespace(ns),
		sa,
		// kube-rbac-proxy asks the API server who sent each request and whether they may.
		hostClusterRoleBinding(sprayProxyAuthRole, saSubject),
	}
	if len(sp.MetricsReaders) > 0 {
		out = append(out, hostClusterRoleBinding(sprayProxyMetricsRole, sp.MetricsReaders))
	}
	if sp.DynamicBackends.Enabled && len(sp.DynamicBackends.Registrants) > 0 {
		out = append(out, hostClusterRoleBinding(sprayProxyRegistrarRole, sp.DynamicBackends.Registrants))
	}
	es := renderExternalSecret(extractedSecret(SprayProxyWebhookSecretName, ns, sp.WebhookSecret), ns, externalSecretVersion)
	es.SetLabels(hostLabels())
	out = append(out, es,
		sprayProxyService(ns),
		sprayProxyMetricsService(ns),
		sprayProxyDeployment(sp),
		sprayProxyRoute(sp))
	if sp.ServiceMonitor {
		out = append(out, sprayProxyServiceMonitor(ns))
	}
	if sp.NetworkPolicy {
		out = append(out, sprayProxyNetworkPolicy(ns))
	}
	return out
}

func hostClusterRoleBinding(role string, subjects []rbacv1.Subject) *unstructured.Unstructured {
	u := newHostObject(children.GVKClusterRoleBinding, "", role)
	u.Object["roleRef"] = map[string]any{"apiGroup": rbacv1.GroupName, "kind": "ClusterRole", "name": role}
	list := make([]any, 0, len(subjects))
	for _, s := range subjects {
		subject := map[string]any{"kind": s.Kind, "name": s.Name}
		if s.Namespace != "" {
			subject["namespace"] = s.Namespace
		}
		if s.APIGroup != "" {
			subject["apiGroup"] = s.APIGroup
		}
		list = append(list, subject)
	}
	u.Object["subjects"] = list
	return u
}

func sprayProxySelector() map[string]any { return map[string]any{sprayProxyComponent: SprayProxyName} }

func sprayProxyService(ns string) *unstructured.Unstructured {
	u := newHostObject(children.GVKService, ns, SprayProxyName)
	u.SetAnnotations(map[string]string{serviceCAAnnotation: SprayProxyTLSSecretName})
	u.Object["spec"] = map[string]any{
		"selector": sprayProxySelector(),
		"ports": []any{map[string]any{
			"name": "proxy", "port": int64(sprayProxySecurePort), "targetPort": "proxy", "protocol": "TCP",
		}},
	}
	return u
}

func sprayProxyMetricsService(ns string) *unstructured.Unstructured {
	u := newHostObject(children.GVKService, ns, SprayProxyMetricsName)
	u.SetLabels(merge(u.GetLabels(), map[string]string{sprayProxyComponent: SprayProxyMetricsName}))
	u.Object["spec"] = map[string]any{
		"selector": sprayProxySelector(),
		"ports": []any{map[string]any{
			"name": "metrics", "port": int64(sprayProxyMetricsTLS), "targetPort": "metrics", "protocol": "TCP",
		}},
	}
	return u
}

// sprayProxyDeployment runs SprayProxy on loopback behind the two kube-rbac-proxy sidecars.
// Upstream lets SprayProxy listen on every interface, which lets any pod reach /backends
// around kube-rbac-proxy; here only the sidecars can reach it. The probes go through the
// proxy sidecar, which lets /healthz through unauthenticated, so they check both.
func sprayProxyDeployment(sp *psv1alpha1.SprayProxySpec) *unstructured.Unstructured {
	u := newHostObject(children.GVKDeployment, sp.Namespace, SprayProxyName)
	env := []any{
		map[string]any{"name": "SPRAYPROXY_SERVER_HOST", "value": "127.0.0.1"},
		map[string]any{"name": "SPRAYPROXY_SERVER_PORT", "value": "8080"},
		map[string]any{"name": "SPRAYPROXY_SERVER_METRICS_PORT", "value": "9090"},
		map[string]any{"name": EnvSprayProxyBackends, "value": strings.Join(sp.Backends, " ")},
	}
	if sp.DynamicBackends.Enabled {
		env = append(env, map[string]any{"name": EnvSprayProxyDynamicBackends, "value": "true"})
	}
	env = append(env, map[string]any{"name": "GH_APP_WEBHOOK_SECRET", "valueFrom": map[string]any{
		"secretKeyRef": map[string]any{"name": SprayProxyWebhookSecretName, "key": SprayProxyWebhookSecretKey},
	}})
	sprayProxy := map[string]any{
		"name":            SprayProxyName,
		"image":           string(sp.Image),
		"args":            []any{"server"},
		"env":             env,
		"securityContext": restrictedContainer(),
	}
	if res := resources(sp.Resources); len(res) > 0 {
		sprayProxy["resources"] = res
	}
	sidecarResources := map[string]any{
		"requests": map[string]any{"cpu": "5m", "memory": "64Mi"},
		"limits":   map[string]any{"cpu": "500m", "memory": "128Mi"},
	}
	probe := map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": "proxy", "scheme": "HTTPS"}}
	proxy := map[string]any{
		"name":  "kube-rbac-proxy",
		"image": string(sp.KubeRBACProxyImage),
		"args": []any{
			"--secure-listen-address=0.0.0.0:8443",
			"--upstream=http://127.0.0.1:8080/",
			"--ignore-paths=" + SprayProxyPath + ",/healthz",
			"--tls-cert-file=/etc/tls/tls.crt",
			"--tls-private-key-file=/etc/tls/tls.key",
			"--logtostderr=true",
		},
		"ports":           []any{map[string]any{"name": "proxy", "containerPort": int64(sprayProxySecurePort), "protocol": "TCP"}},
		"volumeMounts":    []any{map[string]any{"name": "tls", "mountPath": "/etc/tls", "readOnly": true}},
		"livenessProbe":   probe,
		"readinessProbe":  probe,
		"resources":       sidecarResources,
		"securityContext": restrictedContainer(),
	}
	metrics := map[string]any{
		"name":  "kube-rbac-proxy-metrics",
		"image": string(sp.KubeRBACProxyImage),
		"args": []any{
			"--secure-listen-address=0.0.0.0:9443",
			"--upstream=http://127.0.0.1:9090/",
			"--logtostderr=true",
		},
		"ports":           []any{map[string]any{"name": "metrics", "containerPort": int64(sprayProxyMetricsTLS), "protocol": "TCP"}},
		"resources":       sidecarResources,
		"securityContext": restrictedContainer(),
	}
	u.Object["spec"] = map[string]any{
		"replicas": int64(sp.Replicas),
		"selector": map[string]any{"matchLabels": sprayProxySelector()},
		"template": map[string]any{
			"metadata": map[string]any{"labels": sprayProxySelector()},
			"spec": map[string]any{
				"serviceAccountName": SprayProxyName,
				"securityContext":    restrictedPod(),
				"containers":         []any{sprayProxy, proxy, metrics},
				// 0644 as upstream: the pod runs under an arbitrary UID on OpenShift, and the
				// key must be readable by it whatever its group.
				"volumes": []any{map[string]any{"name": "tls", "secret": map[string]any{
					"secretName": SprayProxyTLSSecretName, "defaultMode": int64(0o644),
				}}},
			},
		},
	}
	return u
}

// sprayProxyRoute exposes the proxy port with TLS re-encrypted to kube-rbac-proxy, plain HTTP
// redirected, and HSTS as upstream sets it.
func sprayProxyRoute(sp *psv1alpha1.SprayProxySpec) *unstructured.Unstructured {
	u := newHostObject(children.GVKRoute, sp.Namespace, SprayProxyName)
	u.SetAnnotations(map[string]string{"haproxy.router.openshift.io/hsts_header": "max-age=63072000"})
	spec := map[string]any{
		"to":   map[string]any{"kind": "Service", "name": SprayProxyName, "weight": int64(100)},
		"port": map[string]any{"targetPort": "proxy"},
		"tls":  map[string]any{"termination": "reencrypt", "insecureEdgeTerminationPolicy": "Redirect"},
	}
	if sp.Route.Host != "" {
		spec["host"] = sp.Route.Host
	}
	u.Object["spec"] = spec
	return u
}

// sprayProxyServiceMonitor scrapes the metrics sidecar with Prometheus' ServiceAccount token,
// which kube-rbac-proxy checks against the metrics-reader ClusterRole. The sidecar's
// certificate is self-signed, as upstream's.
func sprayProxyServiceMonitor(ns string) *unstructured.Unstructured {
	u := newHostObject(children.GVKServiceMonitor, ns, SprayProxyName)
	u.Object["spec"] = map[string]any{
		"selector": map[string]any{"matchLabels": map[string]any{sprayProxyComponent: SprayProxyMetricsName}},
		"endpoints": []any{map[string]any{
			"port": "metrics", "path": "/metrics", "scheme": "https",
			"bearerTokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token",
			"tlsConfig":       map[string]any{"insecureSkipVerify": true},
		}},
	}
	return u
}

// ResultsProxyPlugin registers Tekton Results with CodeReadyToolchain's proxy.
func ResultsProxyPlugin(pp *psv1alpha1.ResultsProxyPluginSpec) *unstructured.Unstructured {
	u := newHostObject(children.GVKProxyPlugin, pp.Namespace, pp.Name)
	u.Object["spec"] = map[string]any{
		"openShiftRouteTargetEndpoint": map[string]any{"namespace": pp.TargetRoute.Namespace, "name": pp.TargetRoute.Name},
	}
	return u
}

// restrictedContainer is the container securityContext of the restricted Pod Security level.
func restrictedContainer() map[string]any {
	return map[string]any{
		"runAsNonRoot":             true,
		"readOnlyRootFilesystem":   true,
		"allowPrivilegeEscalation": false,
		"capabilities":             map[string]any{"drop": []any{"ALL"}},
		"seccompProfile":           map[string]any{"type": "RuntimeDefault"},
	}
}

// restrictedPod is the pod securityContext of the restricted Pod Security level.
func restrictedPod() map[string]any {
	return map[string]any{
		"runAsNonRoot":   true,
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}
}
