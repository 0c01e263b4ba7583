package importer

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
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

func TestConvertProduction(t *testing.T) {
	r, err := Convert(productionCluster(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(os.Stdout, r, "test"); err != nil {
		t.Fatal(err)
	}
}
