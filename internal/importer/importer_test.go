package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testenv"
)

// production reads the objects of testdata/production, verbatim.
func production(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "testdata", "production", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no production testdata: %v", err)
	}
	var out []*unstructured.Unstructured
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				break
			}
			if len(u.Object) > 0 {
				out = append(out, u)
			}
		}
		f.Close()
	}
	return out
}

// productionCluster is what import would read from stone-prod-p01.
func productionCluster(t *testing.T) *Cluster {
	cl := &Cluster{}
	for _, u := range production(t) {
		switch gvk := u.GroupVersionKind(); {
		case gvk == children.GVKTektonConfig:
			cl.TektonConfig = u
		case gvk == children.GVKSubscription:
			cl.Subscription = u
		case gvk == children.GVKCatalogSource:
			cl.CatalogSource = u
		case gvk == children.GVKDeployment && u.GetName() == "pipeline-metrics-exporter":
			cl.Exporter = u
		case gvk.Kind == "ExternalSecret":
			cl.ExternalSecrets = append(cl.ExternalSecrets, u)
		}
	}
	return cl
}

// TestImportOfProductionIsTheProductionOverlay imports stone-prod-p01's files as they are
// and checks that the result is config/samples/overlays/production, which the parity test
// compares with production child by child.
func TestImportOfProductionIsTheProductionOverlay(t *testing.T) {
	r, err := Convert(productionCluster(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Notes) > 0 {
		t.Errorf("import of production has notes: %v", r.Notes)
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
		t.Errorf("%s: the overlay has %v, import prints %v", d.Path, d.A, d.B)
	}
	if t.Failed() {
		t.Logf("import prints:\n%s", out.String())
	}
}
