package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// The namespaces a workload's NetworkPolicy admits, by the labels OpenShift puts on them: its
// Prometheus (openshift-monitoring, openshift-user-workload-monitoring) and its routers
// (openshift-ingress, and the host network where routers run on it).
var (
	fromMonitoring = map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"network.openshift.io/policy-group": "monitoring"}}}
	fromRouters    = map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"policy-group.network.openshift.io/ingress": ""}}}
)

// ingressRule admits TCP on port from the given peers.
func ingressRule(port any, from ...map[string]any) map[string]any {
	peers := make([]any, 0, len(from))
	for _, f := range from {
		peers = append(peers, f)
	}
	return map[string]any{"from": peers, "ports": []any{map[string]any{"protocol": "TCP", "port": port}}}
}

// networkPolicy returns a NetworkPolicy that selects the pods of selector and admits only the
// given ingress rules. Egress is left open: the workloads call the API server and, for
// SprayProxy, the member clusters, whose addresses a policy cannot name in advance.
func networkPolicy(obj *unstructured.Unstructured, selector map[string]any, rules ...map[string]any) *unstructured.Unstructured {
	ingress := make([]any, 0, len(rules))
	for _, r := range rules {
		ingress = append(ingress, r)
	}
	obj.Object["spec"] = map[string]any{
		"podSelector": map[string]any{"matchLabels": selector},
		"policyTypes": []any{"Ingress"},
		"ingress":     ingress,
	}
	return obj
}

// exporterNetworkPolicy admits the monitoring namespaces to the exporter's metrics port and
// nothing else. The exporter at 9d2439c8 serves pprof, when its args ask for it, on every
// interface (collector/controller.go listens on ":" + the port given): no flag makes it listen
// on localhost, so this policy is what keeps other pods from it.
func exporterNetworkPolicy(ns string) *unstructured.Unstructured {
	return networkPolicy(newObject(children.GVKNetworkPolicy, ns, ExporterName), exporterSelector(),
		ingressRule(int64(ExporterMetricsPort), fromMonitoring))
}

// sprayProxyNetworkPolicy admits the routers to SprayProxy's proxy port (GitHub's webhooks and
// the registrants' /backends calls arrive through its Route) and the monitoring namespaces to
// its metrics port. SprayProxy itself listens on localhost behind its kube-rbac-proxy sidecars.
func sprayProxyNetworkPolicy(ns string) *unstructured.Unstructured {
	return networkPolicy(newHostObject(children.GVKNetworkPolicy, ns, SprayProxyName), sprayProxySelector(),
		ingressRule(int64(sprayProxySecurePort), fromRouters),
		ingressRule(int64(sprayProxyMetricsTLS), fromMonitoring))
}
