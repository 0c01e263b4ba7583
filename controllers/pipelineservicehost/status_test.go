package pipelineservicehost

import (
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestPartsSetTheirOwnType: each part's check sets the condition type it is declared with,
// whatever it observed, so that the metrics and the removal of a part's condition, both
// derived from the declaration, cannot miss it.
func TestPartsSetTheirOwnType(t *testing.T) {
	failed := errors.New("connection refused")
	for _, obs := range []*observation{{}, {routeServed: true, pluginServed: true}, {sprayProxyErr: failed, routeErr: failed, pluginErr: failed, routeServed: true, pluginServed: true}} {
		obs.sprayProxyWanted, obs.pluginWanted = true, true
		for _, p := range parts {
			c, ok := p.Check(obs)
			if !ok && (p.Type != "RouteAdmitted" || obs.routeServed) {
				t.Errorf("%s: the spec asks for every part, and the check says it does not", p.Type)
			}
			if c.Condition.Type != p.Type {
				t.Errorf("the part declared as %s sets %s", p.Type, c.Condition.Type)
			}
			if p.Name == "" {
				t.Errorf("%s: no name for Ready's message", p.Type)
			}
		}
	}
}

// TestDeployedBackends reads the backends from the running Deployment's SprayProxy container,
// not from another container or an empty value.
func TestDeployedBackends(t *testing.T) {
	d := func(containers ...corev1.Container) *appsv1.Deployment {
		dep := &appsv1.Deployment{}
		dep.Spec.Template.Spec.Containers = containers
		return dep
	}
	env := func(name, value string) []corev1.EnvVar { return []corev1.EnvVar{{Name: name, Value: value}} }
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		want []string
	}{
		{"no Deployment", nil, nil},
		{"two backends", d(corev1.Container{Name: "sprayproxy", Env: env("SPRAYPROXY_SERVER_BACKEND", "https://a https://b")}), []string{"https://a", "https://b"}},
		{"another container's variable", d(corev1.Container{Name: "kube-rbac-proxy", Env: env("SPRAYPROXY_SERVER_BACKEND", "https://a")}), nil},
		{"empty", d(corev1.Container{Name: "sprayproxy", Env: env("SPRAYPROXY_SERVER_BACKEND", " ")}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := deployedBackends(tc.d)
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
