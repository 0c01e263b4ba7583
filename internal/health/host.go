package health

import (
	"fmt"
	"strings"

	routev1 "github.com/openshift/api/route/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// SprayProxyAvailable reads the SprayProxy Deployment's Available condition.
func SprayProxyAvailable(d *appsv1.Deployment, err error) Check {
	return deploymentAvailable(d, err, deploymentCheck{
		condition: psv1alpha1.ConditionSprayProxyAvailable, what: "the SprayProxy Deployment",
		available: psv1alpha1.ReasonSprayProxyAvailable, rollingOut: psv1alpha1.ReasonSprayProxyRollingOut,
		unavailable: psv1alpha1.ReasonSprayProxyUnavailable, notObserved: psv1alpha1.ReasonSprayProxyNotObserved,
	})
}

// RouteAdmitted reads the routers' verdicts in the Route's status.ingress. One router that
// refuses it (a host another Route claims, a host outside the allowed domains) is a failure
// someone must fix; none having answered yet is progress.
func RouteAdmitted(r *routev1.Route, err error) Check {
	const t = psv1alpha1.ConditionRouteAdmitted
	if err != nil {
		return readFailed(t, "SprayProxy's Route", err)
	}
	if r == nil {
		return unknown(t, psv1alpha1.ReasonRoutePending, "SprayProxy's Route does not exist yet")
	}
	name := r.Namespace + "/" + r.Name
	var admitted []string
	for _, ing := range r.Status.Ingress {
		for _, c := range ing.Conditions {
			if c.Type != routev1.RouteAdmitted {
				continue
			}
			switch c.Status {
			case corev1.ConditionTrue:
				admitted = append(admitted, ing.Host)
			case corev1.ConditionFalse:
				return failing(t, psv1alpha1.ReasonRouteNotAdmitted, fmt.Sprintf(
					"router %s refuses Route %s (%s): %s; set spec.sprayProxy.route.host to a host the router accepts and no other Route claims",
					ing.RouterName, name, c.Reason, c.Message))
			}
		}
	}
	if len(admitted) == 0 {
		return progressing(t, psv1alpha1.ReasonRoutePending, fmt.Sprintf("no router has admitted Route %s yet", name))
	}
	return healthy(t, psv1alpha1.ReasonRouteAdmitted, fmt.Sprintf("Route %s is admitted at %s", name, strings.Join(admitted, ", ")))
}

// WebhookURL is the URL the GitHub App posts webhooks to, from the first host a router
// admitted; "" until one has.
func WebhookURL(r *routev1.Route) string {
	if r == nil {
		return ""
	}
	for _, ing := range r.Status.Ingress {
		for _, c := range ing.Conditions {
			if c.Type == routev1.RouteAdmitted && c.Status == corev1.ConditionTrue && ing.Host != "" {
				return "https://" + ing.Host + "/proxy"
			}
		}
	}
	return ""
}

// ProxyPluginReady mirrors the ProxyPlugin's Ready condition. CodeReadyToolchain's host
// operator declares that condition but, as of codeready-toolchain/host-operator 318c8e2
// (2026-08), nothing sets it: the registration service reads ProxyPlugins as they are. A
// ProxyPlugin without conditions is therefore reported as applied, and says so, rather than
// waited on forever.
func ProxyPluginReady(pp *unstructured.Unstructured, err error) Check {
	const t = psv1alpha1.ConditionProxyPluginReady
	if err != nil {
		return readFailed(t, "the ProxyPlugin", err)
	}
	if pp == nil {
		return unknown(t, psv1alpha1.ReasonProxyPluginNotObserved, "the ProxyPlugin does not exist yet")
	}
	name := pp.GetNamespace() + "/" + pp.GetName()
	conditions, _, _ := unstructured.NestedSlice(pp.Object, "status", "conditions")
	for _, c := range conditions {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		reason, _ := m["reason"].(string)
		message, _ := m["message"].(string)
		switch m["status"] {
		case string(corev1.ConditionTrue):
			return healthy(t, psv1alpha1.ReasonProxyPluginReady, fmt.Sprintf("ProxyPlugin %s is ready", name))
		case string(corev1.ConditionFalse):
			return failing(t, psv1alpha1.ReasonProxyPluginNotReady, fmt.Sprintf("ProxyPlugin %s is not ready (%s): %s", name, reason, message))
		default:
			return progressing(t, psv1alpha1.ReasonProxyPluginNotReady, fmt.Sprintf("ProxyPlugin %s is not ready yet (%s): %s", name, reason, message))
		}
	}
	target, _, _ := unstructured.NestedStringMap(pp.Object, "spec", "openShiftRouteTargetEndpoint")
	return healthy(t, psv1alpha1.ReasonApplied, fmt.Sprintf(
		"ProxyPlugin %s is applied: /plugins/%s goes to Route %s/%s of each member cluster (CodeReadyToolchain reports no conditions on it)",
		name, pp.GetName(), target["namespace"], target["name"]))
}

// ProxyPluginCRDMissing is ProxyPluginReady while CodeReadyToolchain's ProxyPlugin CRD is not
// served: a failure, since nothing here will install it; the ProxyPlugin is applied as soon as
// it is.
func ProxyPluginCRDMissing() Check {
	return failing(psv1alpha1.ConditionProxyPluginReady, psv1alpha1.ReasonProxyPluginCRDMissing,
		"the ProxyPlugin CRD (proxyplugins.toolchain.dev.openshift.com) is not installed: install the CodeReadyToolchain host operator, or set spec.resultsProxyPlugin.enabled to false; the ProxyPlugin is applied as soon as the CRD is served")
}
