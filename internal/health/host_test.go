package health

import (
	"testing"

	routev1 "github.com/openshift/api/route/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// The host's health rules, table by table, as the PipelineService's are.

func TestSprayProxyAvailable(t *testing.T) {
	available := deployCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, "MinimumReplicasAvailable")
	for name, tc := range map[string]struct {
		d    *appsv1.Deployment
		err  error
		want want
	}{
		"available": {d: deployment("sprayproxy", replicas(1, 1), available),
			want: want{status: metav1.ConditionTrue, reason: psv1alpha1.ReasonSprayProxyAvailable, says: []string{"1/1"}}},
		"rolling out": {d: deployment("sprayproxy", replicas(0, 1), deployCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, "MinimumReplicasUnavailable")),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonSprayProxyRollingOut, true, []string{"0/1"}}},
		"progress deadline exceeded": {d: deployment("sprayproxy", replicas(0, 1), deployCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, "MinimumReplicasUnavailable"),
			deployCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, "ProgressDeadlineExceeded")),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonSprayProxyUnavailable, false, []string{"ProgressDeadlineExceeded"}}},
		"not there":  {want: want{metav1.ConditionUnknown, psv1alpha1.ReasonSprayProxyNotObserved, true, nil}},
		"read error": {err: errRead, want: want{metav1.ConditionUnknown, psv1alpha1.ReasonReadFailed, true, []string{"connection refused"}}},
	} {
		t.Run(name, func(t *testing.T) { expectCheck(t, SprayProxyAvailable(tc.d, tc.err), tc.want) })
	}
}

// route is SprayProxy's Route with the given routers' verdicts.
func route(ingress ...routev1.RouteIngress) *routev1.Route {
	r := &routev1.Route{}
	r.Namespace, r.Name = "sprayproxy", "sprayproxy"
	r.Status.Ingress = ingress
	return r
}

func verdict(router, host string, status corev1.ConditionStatus, reason, msg string) routev1.RouteIngress {
	return routev1.RouteIngress{RouterName: router, Host: host, Conditions: []routev1.RouteIngressCondition{
		{Type: routev1.RouteAdmitted, Status: status, Reason: reason, Message: msg},
	}}
}

func TestRouteAdmitted(t *testing.T) {
	for name, tc := range map[string]struct {
		r       *routev1.Route
		err     error
		want    want
		webhook string
	}{
		"admitted": {r: route(verdict("default", "sprayproxy.apps.example.com", corev1.ConditionTrue, "", "")),
			want:    want{status: metav1.ConditionTrue, reason: psv1alpha1.ReasonRouteAdmitted, says: []string{"sprayproxy.apps.example.com"}},
			webhook: "https://sprayproxy.apps.example.com/proxy"},
		"no verdict yet": {r: route(),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonRoutePending, true, []string{"no router has admitted"}}},
		"refused by one router, admitted by another": {r: route(
			verdict("default", "sprayproxy.apps.example.com", corev1.ConditionTrue, "", ""),
			verdict("sharded", "sprayproxy.apps.example.com", corev1.ConditionFalse, "HostAlreadyClaimed", "a route in another namespace holds sprayproxy.apps.example.com")),
			want:    want{metav1.ConditionFalse, psv1alpha1.ReasonRouteNotAdmitted, false, []string{"router sharded", "HostAlreadyClaimed", "spec.sprayProxy.route.host"}},
			webhook: "https://sprayproxy.apps.example.com/proxy"},
		"verdict unknown": {r: route(verdict("default", "sprayproxy.apps.example.com", corev1.ConditionUnknown, "", "")),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonRoutePending, true, nil}},
		"not there":  {want: want{metav1.ConditionUnknown, psv1alpha1.ReasonRoutePending, true, []string{"does not exist yet"}}},
		"read error": {err: errRead, want: want{metav1.ConditionUnknown, psv1alpha1.ReasonReadFailed, true, []string{"connection refused"}}},
	} {
		t.Run(name, func(t *testing.T) {
			expectCheck(t, RouteAdmitted(tc.r, tc.err), tc.want)
			if got := WebhookURL(tc.r); got != tc.webhook {
				t.Errorf("webhook URL %q, want %q", got, tc.webhook)
			}
		})
	}
}

// proxyPlugin is the Results ProxyPlugin with the given status conditions.
func proxyPlugin(conditions ...map[string]any) *unstructured.Unstructured {
	pp := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{"openShiftRouteTargetEndpoint": map[string]any{"namespace": "tekton-results", "name": "tekton-results"}},
	}}
	pp.SetNamespace("toolchain-host-operator")
	pp.SetName("tekton-results")
	if len(conditions) > 0 {
		var cs []any
		for _, c := range conditions {
			cs = append(cs, c)
		}
		pp.Object["status"] = map[string]any{"conditions": cs}
	}
	return pp
}

func TestProxyPluginReady(t *testing.T) {
	ready := func(status, reason, msg string) map[string]any {
		return map[string]any{"type": "Ready", "status": status, "reason": reason, "message": msg}
	}
	for name, tc := range map[string]struct {
		pp   *unstructured.Unstructured
		err  error
		want want
	}{
		"no conditions: applied, and says that nothing reports on it": {pp: proxyPlugin(),
			want: want{status: metav1.ConditionTrue, reason: psv1alpha1.ReasonApplied, says: []string{"/plugins/tekton-results", "tekton-results/tekton-results", "reports no conditions"}}},
		"Ready True": {pp: proxyPlugin(ready("True", "Ready", "")),
			want: want{status: metav1.ConditionTrue, reason: psv1alpha1.ReasonProxyPluginReady}},
		"Ready False": {pp: proxyPlugin(ready("False", "RouteMissing", "no Route tekton-results")),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonProxyPluginNotReady, false, []string{"RouteMissing", "no Route tekton-results"}}},
		"Ready Unknown": {pp: proxyPlugin(ready("Unknown", "Provisioning", "")),
			want: want{metav1.ConditionFalse, psv1alpha1.ReasonProxyPluginNotReady, true, []string{"not ready yet"}}},
		"another condition only": {pp: proxyPlugin(map[string]any{"type": "Other", "status": "False"}),
			want: want{status: metav1.ConditionTrue, reason: psv1alpha1.ReasonApplied}},
		"not there":  {want: want{metav1.ConditionUnknown, psv1alpha1.ReasonProxyPluginNotObserved, true, nil}},
		"read error": {err: errRead, want: want{metav1.ConditionUnknown, psv1alpha1.ReasonReadFailed, true, []string{"connection refused"}}},
	} {
		t.Run(name, func(t *testing.T) { expectCheck(t, ProxyPluginReady(tc.pp, tc.err), tc.want) })
	}
	expectCheck(t, ProxyPluginCRDMissing(), want{metav1.ConditionFalse, psv1alpha1.ReasonProxyPluginCRDMissing, false,
		[]string{"proxyplugins.toolchain.dev.openshift.com", "spec.resultsProxyPlugin.enabled"}})
}
