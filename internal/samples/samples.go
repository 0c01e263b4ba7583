// Package samples loads PipelineService objects for tests with the CRD schema's defaults
// applied, as the API server would apply them, so that pure tests see what a cluster stores.
package samples

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testenv"
)

const (
	// Minimal is the sample with only the required fields.
	Minimal = "pipelineservice_minimal.yaml"
	// Full is the production-like sample.
	Full = "pipelineservice_full.yaml"
)

var (
	schemaOnce sync.Once
	structural *structuralschema.Structural
	schemaErr  error
)

func loadSchema() (*structuralschema.Structural, error) {
	schemaOnce.Do(func() {
		file := filepath.Join(testenv.OwnCRDDir(), "pipelineservice.appstudio.io_pipelineservices.yaml")
		data, err := os.ReadFile(file)
		if err != nil {
			schemaErr = err
			return
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if schemaErr = yaml.Unmarshal(data, crd); schemaErr != nil {
			return
		}
		internal := &apiextensionsinternal.JSONSchemaProps{}
		if schemaErr = apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(
			crd.Spec.Versions[0].Schema.OpenAPIV3Schema, internal, nil); schemaErr != nil {
			return
		}
		structural, schemaErr = structuralschema.NewStructural(internal)
	})
	return structural, schemaErr
}

// Defaulted applies the CRD schema's defaults to an object given as unstructured content.
func Defaulted(content map[string]any) (*psv1alpha1.PipelineService, error) {
	s, err := loadSchema()
	if err != nil {
		return nil, fmt.Errorf("load the PipelineService schema: %w", err)
	}
	defaulting.Default(content, s)
	ps := &psv1alpha1.PipelineService{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(content, ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// Content reads a sample from config/samples as unstructured content.
func Content(name string) (map[string]any, error) {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", name))
	if err != nil {
		return nil, err
	}
	content := map[string]any{}
	if err := yaml.Unmarshal(data, &content); err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	return content, nil
}

// Load reads a sample and applies the schema's defaults.
func Load(name string) (*psv1alpha1.PipelineService, error) {
	content, err := Content(name)
	if err != nil {
		return nil, err
	}
	return Defaulted(content)
}
