package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testenv"
)

// productionCluster is what import would read from stone-prod-p01.
func productionCluster(t *testing.T) *Cluster {
	objs, err := testenv.ProductionObjects()
	if err != nil {
		t.Fatal(err)
	}
	cl := &Cluster{}
	for _, u := range objs {
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
