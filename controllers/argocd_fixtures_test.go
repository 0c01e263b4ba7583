package controllers_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

var updateFixtures = flag.Bool("update-argocd-fixtures", false, "rewrite the live_*.yaml fixtures of the ArgoCD health check")

// healthFixtureDir holds the tests of a kind's health check in ArgoCD's layout.
func healthFixtureDir(kind string) string {
	return filepath.Join("config", "argocd", "resource_customizations", "pipelineservice.appstudio.io", kind, "testdata")
}

// TestArgoCDHealthFixturesAreLive records the PipelineService as the operator really writes it
// while Progressing (just created, the catalog not yet observed), Healthy, Suspended, and Degraded
// (stalled on an invalid TektonConfig), and checks that the live_*.yaml fixtures, which
// hack/argocd-health evaluates with ArgoCD's own Lua engine, are those objects.
func TestArgoCDHealthFixturesAreLive(t *testing.T) {
	// The stand-in plays OLM and OSP (becomeHealthy): the fixtures record what the operator
	// writes, which does not depend on who wrote the CSV, and the real OLM would cost a control
	// plane of its own and about 20 s. Its life cycle runs in olm_test.go.
	e := startOperator(t, nil)
	e.create(samples.Full, nil)
	e.expectReady(metav1.ConditionUnknown, psv1alpha1.ReasonCatalogSourceNotObserved)
	// The exporter is listed once its Deployment is in the cache, a moment after it is applied.
	e.Eventually(func() []psv1alpha1.ComponentStatus { return e.get().Status.Components }, timeout, poll).ShouldNot(BeEmpty())
	e.checkFixture(e.get(), "live_progressing.yaml")

	e.becomeHealthy(stack505)
	e.checkFixture(e.get(), "live_healthy.yaml")

	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Suspend = true })
	e.waitCondition(psv1alpha1.ConditionSuspended, psv1alpha1.ReasonSuspended, "suspended since")
	e.checkFixture(e.get(), "live_suspended.yaml")
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Suspend = false })
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)

	e.update(samples.Overrides(`{"pruner": {"disable": true}}`))
	e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonInvalidTektonConfig)
	e.Eventually(func() *metav1.Condition {
		return meta.FindStatusCondition(e.get().Status.Conditions, psv1alpha1.ConditionStalled)
	}, timeout, poll).ShouldNot(BeNil())
	e.checkFixture(e.get(), "live_degraded.yaml")
}

// TestArgoCDHostHealthFixturesAreLive records the PipelineServiceHost as the operator writes it
// while SprayProxy rolls out, once healthy, and with its Route refused by the router.
func TestArgoCDHostHealthFixturesAreLive(t *testing.T) {
	e := startOperator(t, nil)
	e.createHost(nil)
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionUnknown, psv1alpha1.ReasonSprayProxyRollingOut, "")
	// The Route is reported once it is in the cache, a moment after it is applied.
	e.waitHostCondition(psv1alpha1.ConditionRouteAdmitted, metav1.ConditionFalse, psv1alpha1.ReasonRoutePending, "no router has admitted")
	e.checkFixture(e.getHost(), "live_progressing.yaml")

	e.hostHealthy()
	e.checkFixture(e.getHost(), "live_healthy.yaml")

	e.Expect(simulate.RouteAdmitted(t.Context(), e.c, sprayProxyNamespace, render.SprayProxyName, "default", sprayProxyHost, false,
		"HostAlreadyClaimed", "route other/sprayproxy already exposes sprayproxy.apps.host.example.com")).To(Succeed())
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionFalse, psv1alpha1.ReasonRouteNotAdmitted, "")
	e.checkFixture(e.getHost(), "live_degraded.yaml")
}

// checkFixture compares obj (the PipelineService or PipelineServiceHost), with what changes
// from run to run fixed, to the named fixture of its kind, or rewrites the fixture with
// -update-argocd-fixtures.
func (e *operatorEnv) checkFixture(obj client.Object, name string) {
	e.t.Helper()
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	e.Expect(err).NotTo(HaveOccurred())
	kind := "PipelineService"
	if _, ok := obj.(*psv1alpha1.PipelineServiceHost); ok {
		kind = "PipelineServiceHost"
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetAPIVersion(psv1alpha1.GroupVersion.String())
	u.SetKind(kind)
	for _, f := range []string{"managedFields", "uid", "resourceVersion", "creationTimestamp"} {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	fixed := metav1.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conditions {
		m := c.(map[string]any)
		m["lastTransitionTime"] = fixed.Format(time.RFC3339)
		if m["type"] == psv1alpha1.ConditionSuspended {
			// Its message says since when, in the time fixed like the others.
			m["message"] = parent.SuspendedMessage(fixed)
		}
	}
	_ = unstructured.SetNestedSlice(u.Object, conditions, "status", "conditions")
	for _, path := range [][]string{{"status", "upgrade", "startedAt"}, {"status", "upgrade", "completedAt"}, {"status", "readySince"}} {
		if _, found, _ := unstructured.NestedString(u.Object, path...); found {
			_ = unstructured.SetNestedField(u.Object, fixed.Format(time.RFC3339), path...)
		}
	}
	data, err := yaml.Marshal(u.Object)
	e.Expect(err).NotTo(HaveOccurred())
	test := map[string]string{"PipelineService": "TestArgoCDHealthFixturesAreLive", "PipelineServiceHost": "TestArgoCDHostHealthFixturesAreLive"}[kind]
	data = append([]byte(fmt.Sprintf("# The %s as the operator wrote it in %s (controllers/),\n# times fixed. Regenerate: go test ./controllers -run %s -update-argocd-fixtures\n", kind, test, test)), data...)
	file := filepath.Join(testenv.RepoRoot(), healthFixtureDir(kind), name)
	// ArgoCD's health message for a live fixture is the message the operator wrote in Ready,
	// or in Suspended while suspended; health_test.yaml expects it, and is rewritten with the
	// fixture.
	deciding := psv1alpha1.ConditionReady
	if suspended, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend"); suspended {
		deciding = psv1alpha1.ConditionSuspended
	}
	ready := ""
	for _, c := range conditions {
		if m := c.(map[string]any); m["type"] == deciding {
			ready, _ = m["message"].(string)
		}
	}
	testsFile := filepath.Join(testenv.RepoRoot(), filepath.Dir(healthFixtureDir(kind)), "health_test.yaml")
	tests, err := os.ReadFile(testsFile)
	e.Expect(err).NotTo(HaveOccurred())
	expectation := regexp.MustCompile(`(?m)^(    message: )(.*)(\n  inputPath: testdata/` + regexp.QuoteMeta(name) + `)$`)
	e.Expect(expectation.Match(tests)).To(BeTrue(), "health_test.yaml of %s has no test of %s", kind, name)
	rewritten := expectation.ReplaceAll(tests, []byte("${1}"+strings.ReplaceAll(strconv.Quote(ready), "$", "$$")+"${3}"))
	if *updateFixtures {
		e.Expect(os.WriteFile(file, data, 0o644)).To(Succeed())
		e.Expect(os.WriteFile(testsFile, rewritten, 0o644)).To(Succeed())
		return
	}
	want, err := os.ReadFile(file)
	e.Expect(err).NotTo(HaveOccurred())
	e.Expect(string(data)).To(Equal(string(want)), "%s of %s is stale (%s): run go test ./controllers -run %s -update-argocd-fixtures",
		name, kind, firstDifference(string(want), string(data)), test)
	e.Expect(string(rewritten)).To(Equal(string(tests)), "health_test.yaml of %s does not expect Ready's message for %s (%s): run go test ./controllers -run %s -update-argocd-fixtures",
		kind, name, firstDifference(string(tests), string(rewritten)), test)
}

// firstDifference names the first line where got departs from want, for a failure message
// that says what changed rather than printing two whole objects.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d: want %q, got %q", i+1, wl, gl)
		}
	}
	return "no difference"
}
