// Package argocdhealth evaluates the PipelineService health check with ArgoCD's own code: the
// argocd-cm that `kustomize build config/argocd` prints is read by ArgoCD's settings manager,
// and each fixture of health_test.yaml (ArgoCD's upstream layout, live objects from an envtest
// run among them) is judged by the Lua VM the application controller runs
// (github.com/argoproj/argo-cd/v3/util/lua). It is a module of its own because argo-cd pins
// Kubernetes libraries older than the operator's.
package argocdhealth

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/v3/util/lua"
	"github.com/argoproj/argo-cd/v3/util/settings"
	"github.com/argoproj/gitops-engine/pkg/health"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"
)

const (
	repoRoot  = "../.."
	kustomize = "sigs.k8s.io/kustomize/kustomize/v5@v5.7.1"
	// argoCDNamespace is where config/argocd puts argocd-cm (OpenShift GitOps).
	argoCDNamespace = "openshift-gitops"
)

var checkDir = filepath.Join(repoRoot, "config", "argocd", "resource_customizations", "pipelineservice.appstudio.io", "PipelineService")

type healthTests struct {
	Tests []struct {
		InputPath    string              `json:"inputPath"`
		HealthStatus health.HealthStatus `json:"healthStatus"`
	} `json:"tests"`
}

// overridesFromArgoCDCM builds config/argocd with kustomize (from the operator's module, as
// `make` does) and reads the resource overrides from its argocd-cm the way ArgoCD does.
func overridesFromArgoCDCM(t *testing.T) lua.ResourceHealthOverrides {
	t.Helper()
	cmd := exec.Command("go", "run", kustomize, "build", "config/argocd")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build config/argocd: %v", err)
	}
	var cm *corev1.ConfigMap
	for _, doc := range strings.Split(string(out), "\n---\n") {
		c := &corev1.ConfigMap{}
		if err := yaml.Unmarshal([]byte(doc), c); err == nil && c.Kind == "ConfigMap" && c.Name == "argocd-cm" {
			cm = c
		}
	}
	if cm == nil {
		t.Fatalf("config/argocd builds no argocd-cm:\n%s", out)
	}
	cm.Namespace = argoCDNamespace
	// ArgoCD's settings manager also reads argocd-secret.
	secret := &corev1.Secret{}
	secret.Name, secret.Namespace = "argocd-secret", argoCDNamespace
	manager := settings.NewSettingsManager(context.Background(), fake.NewClientset(cm, secret), argoCDNamespace)
	overrides, err := manager.GetResourceOverrides()
	if err != nil {
		t.Fatalf("ArgoCD's settings manager refuses argocd-cm: %v", err)
	}
	if overrides["pipelineservice.appstudio.io/PipelineService"].HealthLua == "" {
		t.Fatalf("argocd-cm carries no health check for pipelineservice.appstudio.io/PipelineService; overrides: %v", overrides)
	}
	return overrides
}

// TestHealthChecksWithArgoCDsEngine evaluates every fixture of health_test.yaml with the health
// check ArgoCD reads from argocd-cm, as the application controller does, and checks that the
// shipped health.lua is the script argocd-cm carries.
func TestHealthChecksWithArgoCDsEngine(t *testing.T) {
	overrides := overridesFromArgoCDCM(t)
	script, err := os.ReadFile(filepath.Join(checkDir, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	if got := overrides["pipelineservice.appstudio.io/PipelineService"].HealthLua; got != string(script) {
		t.Fatalf("argocd-cm's health check is not health.lua")
	}
	data, err := os.ReadFile(filepath.Join(checkDir, "health_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tests healthTests
	if err := yaml.Unmarshal(data, &tests); err != nil {
		t.Fatal(err)
	}
	fixtures, _ := filepath.Glob(filepath.Join(checkDir, "testdata", "*.yaml"))
	if len(tests.Tests) != len(fixtures) {
		t.Errorf("health_test.yaml has %d tests for %d fixtures in testdata/", len(tests.Tests), len(fixtures))
	}
	live := 0
	for _, tc := range tests.Tests {
		t.Run(tc.InputPath, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(checkDir, tc.InputPath))
			if err != nil {
				t.Fatal(err)
			}
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(data, &obj.Object); err != nil {
				t.Fatal(err)
			}
			got, err := overrides.GetResourceHealth(obj)
			if err != nil {
				t.Fatalf("ArgoCD's Lua engine: %v", err)
			}
			if got == nil || *got != tc.HealthStatus {
				t.Errorf("ArgoCD says %+v, want %+v", got, tc.HealthStatus)
			}
		})
		if strings.HasPrefix(filepath.Base(tc.InputPath), "live_") {
			live++
		}
	}
	if live < 3 {
		t.Errorf("want the three live fixtures (Progressing, Healthy, Degraded) among the tests, have %d", live)
	}
}
