package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// The manager's wiring, without an API server: nothing here connects until Start.

// discoveryOnly is an API server that answers discovery, which building a manager reads, and
// nothing else.
func discoveryOnly(t *testing.T) *rest.Config {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api":
			fmt.Fprint(w, `{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]}`)
		case "/apis":
			fmt.Fprint(w, `{"kind":"APIGroupList","apiVersion":"v1","groups":[]}`)
		case "/api/v1":
			fmt.Fprint(w, `{"kind":"APIResourceList","groupVersion":"v1","resources":[]}`)
		default:
			t.Errorf("the manager asked for %s %s before Start", r.Method, r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL}
}

func TestNewSetsUpEveryControllerGiven(t *testing.T) {
	g := NewWithT(t)
	cfg := discoveryOnly(t)
	// The scoped cache asks discovery about each type it scopes; its options are tested below.
	opts := Options{MetricsAddr: "0", ProbeAddr: "0", SkipNameValidation: true, Cache: &cache.Options{}}
	var got []string
	setup := func(name string) Setup {
		return func(mgr ctrl.Manager) error {
			got = append(got, name)
			g.Expect(mgr.GetScheme().Recognizes(psv1alpha1.GroupVersion.WithKind("PipelineService"))).To(BeTrue())
			return nil
		}
	}
	_, err := New(cfg, opts, setup("member"), setup("host"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal([]string{"member", "host"}))

	failing := func(ctrl.Manager) error { return errors.New("no such kind") }
	_, err = New(cfg, opts, setup("member"), failing)
	g.Expect(err).To(MatchError(ContainSubstring("no such kind")))
}

func TestReadyOnlyOnceTheCachesSynced(t *testing.T) {
	g := NewWithT(t)
	c := &cachesSynced{}
	g.Expect(c.check(nil)).To(MatchError(ContainSubstring("not synced")))
	g.Expect(c.NeedLeaderElection()).To(BeFalse(), "a standby replica is ready too")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Start(ctx) }()
	g.Eventually(func() error { return c.check(nil) }).Should(Succeed())
	cancel()
	g.Eventually(done).Should(Receive(BeNil()))
}

func TestMetricsAreAuthenticatedUnlessInsecure(t *testing.T) {
	g := NewWithT(t)
	secure := metricsOptions(Options{MetricsAddr: ":8443"})
	g.Expect(secure.SecureServing).To(BeTrue())
	g.Expect(secure.FilterProvider).NotTo(BeNil(), "each scrape is authenticated and authorized")
	insecure := metricsOptions(Options{MetricsAddr: ":8080", InsecureMetrics: true})
	g.Expect(insecure.SecureServing).To(BeFalse())
	g.Expect(insecure.FilterProvider).To(BeNil())
}

func TestSchemeKnowsTheTypedKinds(t *testing.T) {
	g := NewWithT(t)
	s := NewScheme()
	for _, gvk := range []schema.GroupVersionKind{
		psv1alpha1.GroupVersion.WithKind("PipelineService"), psv1alpha1.GroupVersion.WithKind("PipelineServiceHost"),
		children.GVKCatalogSource, children.GVKSubscription, children.GVKClusterServiceVersion, children.GVKInstallPlan,
		children.GVKICSP, children.GVKIDMS, children.GVKTektonConfig, children.GVKDeployment, children.GVKCustomResourceDefinition,
	} {
		g.Expect(s.Recognizes(gvk)).To(BeTrue(), gvk.String())
	}
}

// TestTheCacheHoldsOnlyWhatTheOperatorManages: by default only labelled objects; the parents
// and CRDs whole; CSVs without OLM's copies, and trimmed to what health reads and a revert
// records.
func TestTheCacheHoldsOnlyWhatTheOperatorManages(t *testing.T) {
	g := NewWithT(t)
	opts := CacheOptions()
	g.Expect(opts.DefaultLabelSelector.Matches(labels.Set{render.LabelManagedBy: render.ManagedByValue})).To(BeTrue())
	g.Expect(opts.DefaultLabelSelector.Matches(labels.Set{})).To(BeFalse())
	byType := map[string]labels.Selector{}
	for obj, by := range opts.ByObject {
		byType[obj.GetObjectKind().GroupVersionKind().Kind] = by.Label
	}
	for _, k := range children.Kinds {
		if k.Observed {
			g.Expect(byType).To(HaveKey(k.GVK.Kind), "an observed kind carries no label of ours, so it is cached only where named")
		}
	}
	g.Expect(byType).To(HaveKey("PipelineService"))
	g.Expect(byType["PipelineService"].Matches(labels.Set{})).To(BeTrue(), "ArgoCD's PipelineService carries no label of ours")
	g.Expect(byType).To(HaveKey("PipelineServiceHost"))
	csv := byType["ClusterServiceVersion"]
	g.Expect(csv).NotTo(BeNil())
	g.Expect(csv.Matches(labels.Set{})).To(BeTrue())
	g.Expect(csv.Matches(labels.Set{olmCopiedFromLabel: "openshift-operators"})).To(BeFalse(), "OLM's copies of a global CSV are not cached")

	in := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
		"metadata": map[string]any{"name": "openshift-pipelines-operator-rh.v5.0.5", "namespace": "openshift-operators",
			"managedFields": []any{map[string]any{"manager": "olm"}}},
		"spec": map[string]any{"version": "5.0.5", "icon": []any{"large"},
			"install": map[string]any{"strategy": "deployment", "spec": map[string]any{
				"permissions": []any{"large"},
				"deployments": []any{map[string]any{"name": "openshift-pipelines-operator", "spec": map[string]any{
					"replicas": int64(1),
					"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
						"name": "lifecycle", "image": "operator", "args": []any{"large"},
						"env": []any{
							map[string]any{"name": "IMAGE_PIPELINES_WEBHOOK", "value": "webhook@sha256:1"},
							map[string]any{"name": "KUBERNETES_MIN_VERSION", "value": "v1.0.0"},
							map[string]any{"name": "IMAGE_FROM_FIELD", "valueFrom": map[string]any{"fieldRef": "large"}},
						}}}}}}}}}},
			"relatedImages": []any{
				map[string]any{"name": "IMAGE_PIPELINES_WEBHOOK", "image": "webhook@sha256:1"},
				map[string]any{"name": "OPENSHIFT_PIPELINES_OPERATOR", "image": "operator"},
			}},
		"status": map[string]any{"phase": "Succeeded", "requirementStatus": []any{"large"}},
	}}
	out, err := keepCSV(in)
	g.Expect(err).NotTo(HaveOccurred())
	u := out.(*unstructured.Unstructured)
	g.Expect(u.Object["spec"]).To(Equal(map[string]any{"version": "5.0.5",
		"install": map[string]any{"spec": map[string]any{"deployments": []any{map[string]any{
			"name": "openshift-pipelines-operator",
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{
				"name": "lifecycle", "env": []any{map[string]any{"name": "IMAGE_PIPELINES_WEBHOOK", "value": "webhook@sha256:1"}},
			}}}}},
		}}}},
		"relatedImages": []any{map[string]any{"name": "IMAGE_PIPELINES_WEBHOOK", "image": "webhook@sha256:1"}},
	}), "the image variables are kept, and nothing else of the install strategy")
	g.Expect(u.Object["status"]).To(Equal(map[string]any{"phase": "Succeeded"}))
	g.Expect(u.GetName()).To(Equal("openshift-pipelines-operator-rh.v5.0.5"))
	g.Expect(u.GetManagedFields()).To(BeEmpty())
}
