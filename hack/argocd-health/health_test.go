// Package argocdhealth evaluates the health check of the PipelineService and PipelineServiceHost
// with ArgoCD's own code: the argocd-cm that `kustomize build config/argocd` prints is read by
// ArgoCD's settings manager, and each fixture of each kind's health_test.yaml (ArgoCD's upstream
// layout, live objects from an envtest run among them) is judged by the Lua VM the application
// controller runs (github.com/argoproj/argo-cd/v3/util/lua). It is a module of its own because
// argo-cd pins Kubernetes libraries older than the operator's.
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

// checkDir holds a kind's health tests in ArgoCD's layout; the PipelineService's also holds
// health.lua, which argocd-cm installs for both kinds.
func checkDir(kind string) string {
	return filepath.Join(repoRoot, "config", "argocd", "resource_customizations", "pipelineservice.appstudio.io", kind)
}

// kinds are the kinds with a health check.
var kinds = []string{"PipelineService", "PipelineServiceHost"}

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
	for _, kind := range kinds {
		if overrides["pipelineservice.appstudio.io/"+kind].HealthLua == "" {
			t.Fatalf("argocd-cm carries no health check for pipelineservice.appstudio.io/%s; overrides: %v", kind, overrides)
		}
	}
	return overrides
}

// TestHealthChecksWithArgoCDsEngine evaluates every fixture of each kind's health_test.yaml with
// the health check ArgoCD reads from argocd-cm, as the application controller does, and checks
// that the shipped health.lua is the script argocd-cm carries for each kind.
func TestHealthChecksWithArgoCDsEngine(t *testing.T) {
	overrides := overridesFromArgoCDCM(t)
	script, err := os.ReadFile(filepath.Join(checkDir("PipelineService"), "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			if got := overrides["pipelineservice.appstudio.io/"+kind].HealthLua; got != string(script) {
				t.Fatalf("argocd-cm's health check of %s is not health.lua", kind)
			}
			checkFixtures(t, overrides, checkDir(kind))
		})
	}
}

// checkFixtures judges every test of dir's health_test.yaml.
func checkFixtures(t *testing.T, overrides lua.ResourceHealthOverrides, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tests healthTests
	if err := yaml.Unmarshal(data, &tests); err != nil {
		t.Fatal(err)
	}
	fixtures, _ := filepath.Glob(filepath.Join(dir, "testdata", "*.yaml"))
	if len(tests.Tests) != len(fixtures) {
		t.Errorf("health_test.yaml has %d tests for %d fixtures in testdata/", len(tests.Tests), len(fixtures))
	}
	live := 0
	for _, tc := range tests.Tests {
		t.Run(tc.InputPath, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, tc.InputPath))
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
