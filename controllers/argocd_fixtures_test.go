package controllers_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testenv"
)

var updateFixtures = flag.Bool("update-argocd-fixtures", false, "rewrite the live_*.yaml fixtures of the ArgoCD health check")

// healthFixtureDir holds health.lua in ArgoCD's layout, with its tests.
var healthFixtureDir = filepath.Join("config", "argocd", "resource_customizations", "pipelineservice.appstudio.io", "PipelineService", "testdata")

// TestArgoCDHealthFixturesAreLive records the PipelineService as the operator really writes it
// while Progressing (just created, the catalog not yet observed), Healthy, and Degraded
// (stalled on an invalid TektonConfig), and checks that the live_*.yaml fixtures, which
// hack/argocd-health evaluates with ArgoCD's own Lua engine, are those objects.
func TestArgoCDHealthFixturesAreLive(t *testing.T) {
	// The stand-in plays OLM and OSP (becomeHealthy): the fixtures record what the operator
	// writes, which does not depend on who wrote the CSV, and the real OLM would cost a control
	// plane of its own and about 20 s. Its life cycle runs in olm_test.go.
	e := startOperator(t, nil)
	e.create(samples.Full, nil)
	e.expectReady(metav1.ConditionUnknown, psv1alpha1.ReasonCatalogSourceNotObserved)
	e.checkFixture("live_progressing.yaml")

	e.becomeHealthy(stack505)
	e.checkFixture("live_healthy.yaml")

	e.update(overrides(`{"pruner": {"disable": true}}`))
	e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonInvalidTektonConfig)
	e.Eventually(func() *metav1.Condition {
		return meta.FindStatusCondition(e.get().Status.Conditions, psv1alpha1.ConditionStalled)
	}, timeout, poll).ShouldNot(BeNil())
	e.checkFixture("live_degraded.yaml")
}

// checkFixture compares the PipelineService, with what changes from run to run fixed, to the
// named fixture, or rewrites the fixture with -update-argocd-fixtures.
func (e *operatorEnv) checkFixture(name string) {
	e.t.Helper()
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(e.get())
	e.Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{Object: content}
	u.SetAPIVersion(psv1alpha1.GroupVersion.String())
	u.SetKind("PipelineService")
	for _, f := range []string{"managedFields", "uid", "resourceVersion", "creationTimestamp"} {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conditions {
		c.(map[string]any)["lastTransitionTime"] = "2026-01-01T00:00:00Z"
	}
	_ = unstructured.SetNestedSlice(u.Object, conditions, "status", "conditions")
	for _, f := range []string{"startedAt", "completedAt"} {
		if _, found, _ := unstructured.NestedString(u.Object, "status", "upgrade", f); found {
			_ = unstructured.SetNestedField(u.Object, "2026-01-01T00:00:00Z", "status", "upgrade", f)
		}
	}
	data, err := yaml.Marshal(u.Object)
	e.Expect(err).NotTo(HaveOccurred())
	data = append([]byte("# The PipelineService as the operator wrote it in TestArgoCDHealthFixturesAreLive (controllers/),\n# times fixed. Regenerate: go test ./controllers -run TestArgoCDHealthFixturesAreLive -update-argocd-fixtures\n"), data...)
	file := filepath.Join(testenv.RepoRoot(), healthFixtureDir, name)
	if *updateFixtures {
		e.Expect(os.WriteFile(file, data, 0o644)).To(Succeed())
		return
	}
	want, err := os.ReadFile(file)
	e.Expect(err).NotTo(HaveOccurred())
	e.Expect(string(data)).To(Equal(string(want)), "%s is stale: run go test ./controllers -run TestArgoCDHealthFixturesAreLive -update-argocd-fixtures", name)
}
