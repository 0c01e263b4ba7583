package importer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// productionCluster is what import would read from stone-prod-p01.
func productionCluster(t *testing.T) *Cluster {
	objs, err := testenv.ProductionObjects()
	if err != nil {
		t.Fatal(err)
	}
	return FromObjects(objs)
}

// resolverBuckets is where the snapshot's one broken value sits in the import: 8
// leader-election buckets for the resolvers' 4 ordinal replicas, which production fixed after
// the snapshot (testdata/production/README.md) and the overlay carries fixed.
const resolverBuckets = "spec.tektonConfig.overrides.pipeline.options.configMaps.config-leader-election-resolvers.data.buckets"

// TestImportOfProductionIsTheProductionOverlay imports stone-prod-p01's files as they are
// and checks that the result is config/samples/overlays/production, which the parity test
// compares with production child by child, but for the resolvers' buckets: the import keeps
// the snapshot's 8 and says why the operator would refuse it.
func TestImportOfProductionIsTheProductionOverlay(t *testing.T) {
	r, err := Convert(productionCluster(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "config-leader-election-resolvers.data.buckets") ||
		!strings.Contains(r.Notes[0], "buckets (8,") || !strings.Contains(r.Notes[0], "replicas (4,") {
		t.Errorf("import of production has notes %v, want one, on the resolvers' 8 buckets for 4 replicas", r.Notes)
	}
	var out bytes.Buffer
	if err := Write(&out, r, "test"); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	if err := yaml.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["spec"] == nil {
		t.Fatalf("import printed no spec:\n%s", out.String())
	}
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", "overlays", "production", "pipelineservice.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{}
	if err := yaml.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	for _, d := range fields.Diff(want, got) {
		if d.Path == resolverBuckets && d.A == "4" && d.B == "8" {
			continue
		}
		t.Errorf("%s: the overlay has %v, import prints %v", d.Path, d.A, d.B)
	}
	if t.Failed() {
		t.Logf("import prints:\n%s", out.String())
	}
}

// TestConvertMapsWhatProductionDoesNotHave covers the shapes stone-prod-p01 lacks: a pinned
// Subscription, hot-fix images and other env, a mirror policy, no exporter, and fields with no
// place in the API, each of which must be named in a note rather than dropped in silence.
func TestConvertMapsWhatProductionDoesNotHave(t *testing.T) {
	cl := productionCluster(t)
	sub := cl.Subscription.DeepCopy()
	_ = unstructured.SetNestedField(sub.Object, "Manual", "spec", "installPlanApproval")
	_ = unstructured.SetNestedField(sub.Object, "openshift-pipelines-operator-rh.v5.0.5", "spec", "startingCSV")
	_ = unstructured.SetNestedSlice(sub.Object, []any{
		map[string]any{"name": "AUTOINSTALL_COMPONENTS", "value": "true"},
		map[string]any{"name": "IMAGE_PIPELINES_CONTROLLER", "value": "quay.io/x/controller@sha256:1"},
		map[string]any{"name": "LOG_LEVEL", "value": "debug"},
	}, "spec", "config", "env")
	_ = unstructured.SetNestedField(sub.Object, map[string]any{"limits": map[string]any{"memory": "1Gi"}}, "spec", "config", "resources")
	cl.Subscription = sub
	cs := cl.CatalogSource.DeepCopy()
	_ = unstructured.SetNestedField(cs.Object, int64(10), "spec", "priority")
	cl.CatalogSource = cs
	cl.Mirrors = &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operator.openshift.io/v1alpha1", "kind": "ImageContentSourcePolicy",
		"metadata": map[string]any{"name": "mirrors"},
		"spec": map[string]any{"repositoryDigestMirrors": []any{
			map[string]any{"source": "registry.redhat.io/openshift-pipelines", "mirrors": []any{"quay.io/openshift-pipeline"}},
		}},
	}}
	cl.Exporter = nil

	r, err := Convert(cl)
	if err != nil {
		t.Fatal(err)
	}
	spec := r.PipelineService.Spec
	s := spec.Operator.Subscription
	if s.CSV != "openshift-pipelines-operator-rh.v5.0.5" {
		t.Errorf("csv = %q, want the startingCSV of a Manual Subscription", s.CSV)
	}
	if s.ImageOverrides["IMAGE_PIPELINES_CONTROLLER"] != "quay.io/x/controller@sha256:1" || len(s.ImageOverrides) != 1 {
		t.Errorf("imageOverrides = %v", s.ImageOverrides)
	}
	if len(s.Env) != 1 || s.Env[0].Name != "LOG_LEVEL" {
		t.Errorf("env = %v, want LOG_LEVEL only", s.Env)
	}
	if len(spec.Mirrors) != 1 || spec.Mirrors[0].Source != "registry.redhat.io/openshift-pipelines" {
		t.Errorf("mirrors = %v", spec.Mirrors)
	}
	for _, want := range []string{"AUTOINSTALL_COMPONENTS", "spec.config.resources", "spec.priority", "ImageContentSourcePolicy mirrors"} {
		found := false
		for _, n := range r.Notes {
			found = found || strings.Contains(n, want)
		}
		if !found {
			t.Errorf("no note names %s; notes: %v", want, r.Notes)
		}
	}
	var out bytes.Buffer
	if err := Write(&out, r, "test"); err != nil {
		t.Fatal(err)
	}
	printed := map[string]any{}
	if err := yaml.Unmarshal(out.Bytes(), &printed); err != nil {
		t.Fatal(err)
	}
	if exporter, _, _ := unstructured.NestedMap(printed, "spec", "exporter"); fmt.Sprint(exporter) != "map[enabled:false]" {
		t.Errorf("a cluster without the exporter prints exporter %v, want only enabled: false", exporter)
	}
	if !strings.Contains(out.String(), "# Review before applying:\n# - ") {
		t.Errorf("the notes are not printed first:\n%s", out.String())
	}
}

// TestAddonParamOrderIsNoOverride: OSP's defaulting appends the missing addon params in Go's
// map order, so a live TektonConfig lists them in any of four rotations, and the import's own
// defaulting in another. Whatever the live order, the import is the same and has no overrides
// for them: this was the difference between the import subcommand and the library that the
// takeover test saw under load.
func TestAddonParamOrderIsNoOverride(t *testing.T) {
	names := []string{"communityResolverTasks", "pipelineTemplates", "resolverTasks", "resolverStepActions"}
	var first string
	for i := range names {
		cl := productionCluster(t)
		var params []any
		for j := range names {
			params = append(params, map[string]any{"name": names[(i+j)%len(names)], "value": "true"})
		}
		if err := unstructured.SetNestedSlice(cl.TektonConfig.Object, params, "spec", "addon", "params"); err != nil {
			t.Fatal(err)
		}
		r, err := Convert(cl)
		if err != nil {
			t.Fatal(err)
		}
		if o := r.PipelineService.Spec.TektonConfig.Overrides; o != nil && strings.Contains(string(o.Raw), "addon") {
			t.Errorf("rotation %d: the addon params' order became an override: %s", i, o.Raw)
		}
		var out bytes.Buffer
		if err := Write(&out, r, "test"); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = out.String()
		} else if out.String() != first {
			t.Errorf("rotation %d imports differently:\n%s\nrotation 0:\n%s", i, out.String(), first)
		}
	}
}

// TestRefreshAnnotationsAreNotImported: the annotations with which the operator asked OSP to
// re-render a component belong to the refresh, not to the spec, so an import of a cluster
// that carries them prints what it prints without them, and leaves no empty options behind.
func TestRefreshAnnotationsAreNotImported(t *testing.T) {
	plain, err := Convert(productionCluster(t))
	if err != nil {
		t.Fatal(err)
	}
	cl := productionCluster(t)
	refresh := map[string]any{render.AnnotationRefreshedImages: "0123456789abcdef"}
	for _, path := range [][]string{
		// Options production sets otherwise, and options it has none of.
		{"spec", "pipeline", "options", "statefulSets", "tekton-pipelines-controller", "metadata", "annotations"},
		{"spec", "pipeline", "options", "deployments", "tekton-pipelines-webhook", "metadata", "annotations"},
		{"spec", "platforms", "openshift", "pipelinesAsCode", "options", "deployments", "pipelines-as-code-controller", "metadata", "annotations"},
	} {
		if err := unstructured.SetNestedMap(cl.TektonConfig.Object, refresh, path...); err != nil {
			t.Fatal(err)
		}
	}
	refreshed, err := Convert(cl)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := Write(&a, plain, "test"); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, refreshed, "test"); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("the refresh annotations changed the import:\n%s\nwant:\n%s", b.String(), a.String())
	}
}
