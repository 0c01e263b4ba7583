package v1alpha1_test

import (
	"os"
	"path/filepath"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// unbounded appends the paths under s that admission does not bound: a string without
// maxLength (or an enum, or a date-time), a list without maxItems, a map without maxProperties.
func unbounded(path string, s apiextensionsv1.JSONSchemaProps, out *[]string) {
	switch s.Type {
	case "string":
		if s.MaxLength == nil && len(s.Enum) == 0 && s.Format != "date-time" {
			*out = append(*out, path)
		}
	case "array":
		if s.MaxItems == nil {
			*out = append(*out, path+" (list)")
		}
		if s.Items != nil && s.Items.Schema != nil {
			unbounded(path+"[]", *s.Items.Schema, out)
		}
	case "object":
		if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
			if s.MaxProperties == nil {
				*out = append(*out, path+" (map)")
			}
			unbounded(path+"{}", *s.AdditionalProperties.Schema, out)
		}
	}
	for k, p := range s.Properties {
		unbounded(path+"."+k, p, out)
	}
}

// TestEverySpecFieldIsBounded: every string, list and map a writer of either kind can set has
// a bound, so that no spec can grow the object, the rendered children or the messages that
// quote it without limit. Markers bound the API's own fields; hack/crd-descriptions bounds
// the embedded Kubernetes types and map values.
func TestEverySpecFieldIsBounded(t *testing.T) {
	for _, f := range []string{"pipelineservice.appstudio.io_pipelineservices.yaml", "pipelineservice.appstudio.io_pipelineservicehosts.yaml"} {
		data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", f))
		if err != nil {
			t.Fatal(err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(data, crd); err != nil {
			t.Fatal(err)
		}
		for _, v := range crd.Spec.Versions {
			var out []string
			unbounded("spec", v.Schema.OpenAPIV3Schema.Properties["spec"], &out)
			for _, path := range out {
				t.Errorf("%s %s: %s has no bound: add a marker, or an entry in hack/crd-descriptions/bounds.go", crd.Spec.Names.Kind, v.Name, path)
			}
		}
	}
}
