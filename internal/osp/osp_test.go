package osp_test

import (
	"fmt"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// config is a TektonConfig named config with the given spec, in openshift-pipelines unless the
// spec names a targetNamespace.
func config(t *testing.T, spec string) *unstructured.Unstructured {
	t.Helper()
	s := map[string]any{}
	if err := utiljson.Unmarshal([]byte(spec), &s); err != nil {
		t.Fatal(err)
	}
	if _, ok := s["targetNamespace"]; !ok {
		s["targetNamespace"] = "openshift-pipelines"
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operator.tekton.dev/v1alpha1", "kind": "TektonConfig",
		"metadata": map[string]any{"name": "config"}, "spec": s,
	}}
}

// typed decodes u into tektoncd/operator's type.
func typed(t *testing.T, u *unstructured.Unstructured) *tektonv1alpha1.TektonConfig {
	t.Helper()
	tc := &tektonv1alpha1.TektonConfig{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, tc); err != nil {
		t.Fatal(err)
	}
	return tc
}

// valid is the spec the operator renders for the full sample, in short.
const valid = `{"targetNamespace": "openshift-pipelines", "profile": "all",
	"pruner": {"disabled": false, "keep-since": 60, "schedule": "*/10 * * * *", "resources": ["pipelinerun"]},
	"platforms": {"openshift": {"pipelinesAsCode": {"enable": true, "settings": {"application-name": "Red Hat Konflux"}}}}}`

func TestReviewAcceptsWhatOSPAccepts(t *testing.T) {
	g := NewWithT(t)
	g.Expect(osp.Review(config(t, valid), nil)).To(BeEmpty())
	g.Expect(osp.Review(config(t, valid), config(t, valid))).To(BeEmpty(), "an update with no change")
	g.Expect(osp.Review(config(t, `{"targetNamespace": "openshift-pipelines", "pruner": {"disabled": true}}`), nil)).To(BeEmpty(),
		"PaC and the pruner off, the rest left to OSP's defaults")
}

// TestReviewRefusesWithTheField: each of OSP's rules, found by OSP's own code, names its field.
func TestReviewRefusesWithTheField(t *testing.T) {
	for _, tc := range []struct {
		name, spec, live, wantPath, wantMessage string
	}{
		{"buckets above 10", `{"pipeline": {"performance": {"buckets": 12}}}`, "", "spec.pipeline.performance.buckets", "expected 1 <= 12 <= 10"},
		{"statefulset ordinals: defaulting sets buckets to replicas", `{"pipeline": {"performance": {"statefulset-ordinals": true, "buckets": 2, "replicas": 3}}}`, "",
			"spec.pipeline.performance.buckets", `changes 2 to 3: write 3`},
		{"keep with keep-since", `{"pruner": {"disabled": false, "keep": 5, "keep-since": 60, "resources": ["pipelinerun"]}}`, "", "spec.pruner.keep", "expected exactly one"},
		{"keep 0", `{"pruner": {"disabled": false, "keep": 0, "resources": ["pipelinerun"]}}`, "", "spec.pruner.keep", "invalid value"},
		{"unknown pruner resource", `{"pruner": {"disabled": false, "keep": 3, "resources": ["pipelineruns"]}}`, "", "spec.pruner.resources[0]", "invalid value"},
		{"bad schedule", `{"pruner": {"disabled": false, "keep": 3, "schedule": "every ten minutes"}}`, "", "spec.pruner.schedule", "not a cron schedule"},
		{"bad profile", `{"profile": "everything"}`, "", "spec.profile", "invalid value"},
		{"bad regexp", `{"platforms": {"openshift": {"pipelinesAsCode": {"enable": true, "settings": {"error-detection-simple-regexp": "(["}}}}}`, "",
			"spec.platforms.openshift.pipelinesAsCode.settings.error-detection-simple-regexp", "does not parse"},
		{"not a bool", `{"platforms": {"openshift": {"pipelinesAsCode": {"enable": true, "settings": {"remember-ok-to-test": "notabool"}}}}}`, "",
			"spec.platforms.openshift.pipelinesAsCode.settings.remember-ok-to-test", "does not parse"},
		{"unknown PaC key", `{"platforms": {"openshift": {"pipelinesAsCode": {"enable": true, "settings": {"remember-ok-to-tset": "true"}}}}}`, "",
			"spec.platforms.openshift.pipelinesAsCode.settings.remember-ok-to-tset", "not a Pipelines-as-Code setting"},
		{"PaC value OSP rewrites", `{"platforms": {"openshift": {"pipelinesAsCode": {"enable": true, "settings": {"remember-ok-to-test": "True"}}}}}`, "",
			"spec.platforms.openshift.pipelinesAsCode.settings.remember-ok-to-test", `changes "True" to "true"`},
		{"PaC settings checked while PaC is off", `{"platforms": {"openshift": {"pipelinesAsCode": {"enable": false, "settings": {"secret-auto-creat": "true"}}}}}`, "",
			"spec.platforms.openshift.pipelinesAsCode.settings.secret-auto-creat", "not a Pipelines-as-Code setting"},
		{"targetNamespace changed", `{"targetNamespace": "tekton"}`, `{"targetNamespace": "openshift-pipelines"}`, "spec.targetNamespace", "delete existing TektonConfig"},
		// Upstream SetDefaults dereferences a nil enable here on the Kubernetes path; on OpenShift it
		// moves the section to spec.platforms.openshift, which would undo the operator's write.
		{"kubernetes PaC without enable", `{"platforms": {"kubernetes": {"pipelinesAsCode": {"settings": {"hub-url": "https://hub.example.com"}}}}}`, "",
			"spec.platforms.kubernetes.pipelinesAsCode", "defaulting removes it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var live *unstructured.Unstructured
			if tc.live != "" {
				live = config(t, tc.live)
			}
			errs := osp.Review(config(t, tc.spec), live)
			g.Expect(errs).To(ContainElement(And(
				HaveField("Path", tc.wantPath), HaveField("Message", ContainSubstring(tc.wantMessage)))), "got %v", errs)
		})
	}
}

// TestReviewMakesNoNetworkCall: with no hub type set, Pipelines-as-Code would ask the hub's
// API; the review must answer without it (the test machine has no route to the hub anyway,
// and this would then take PaC's 5 s timeout).
func TestReviewMakesNoNetworkCall(t *testing.T) {
	g := NewWithT(t)
	// Upstream calls out through http.DefaultClient; count what goes through it.
	calls := 0
	saved := http.DefaultClient.Transport
	http.DefaultClient.Transport = testenv.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		return nil, fmt.Errorf("no network in this test: %s", r.URL)
	})
	t.Cleanup(func() { http.DefaultClient.Transport = saved })
	tc := config(t, `{"platforms": {"openshift": {"pipelinesAsCode": {"enable": true, "settings": {
		"hub-url": "https://hub.invalid/api", "catalog-1-id": "custom", "catalog-1-name": "tekton", "catalog-1-url": "https://catalog.invalid"}}}}}`)
	g.Expect(osp.Review(tc, nil)).To(BeEmpty())
	defaulted := typed(t, tc)
	g.Expect(osp.Default(t.Context(), defaulted)).To(BeNil())
	g.Expect(defaulted.Spec.Platforms.OpenShift.PipelinesAsCode.Settings).To(HaveKeyWithValue("catalog-1-type", "artifacthub"))
	g.Expect(osp.Validate(t.Context(), defaulted, nil)).To(BeEmpty())
	g.Expect(calls).To(BeZero(), "OSP's code called out")
}

func TestCheckSchedule(t *testing.T) {
	g := NewWithT(t)
	for _, ok := range []string{"*/10 * * * *", "0 0 * * 0", "@daily", "30 2 1-15 * MON-FRI"} {
		g.Expect(osp.CheckSchedule(ok)).To(Succeed(), ok)
	}
	for _, bad := range []string{"*/10 * * *", "61 * * * *", "TZ=UTC 0 0 * * *", "@fortnightly"} {
		g.Expect(osp.CheckSchedule(bad)).NotTo(Succeed(), bad)
	}
}
