// Package samples loads PipelineService and PipelineServiceHost objects for tests with the CRD schema's defaults
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
	// Host is the PipelineServiceHost sample.
	Host = "pipelineservicehost.yaml"
)

// schema is the structural schema of one of the operator's CRDs, read once.
type schema struct {
	file       string
	once       sync.Once
	structural *structuralschema.Structural
	err        error
}

var (
	memberSchema = &schema{file: "pipelineservice.appstudio.io_pipelineservices.yaml"}
	hostSchema   = &schema{file: "pipelineservice.appstudio.io_pipelineservicehosts.yaml"}
)

func (s *schema) load() (*structuralschema.Structural, error) {
	s.once.Do(func() {
		data, err := os.ReadFile(filepath.Join(testenv.OwnCRDDir(), s.file))
		if err != nil {
			s.err = err
			return
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if s.err = yaml.Unmarshal(data, crd); s.err != nil {
			return
		}
		internal := &apiextensionsinternal.JSONSchemaProps{}
		if s.err = apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(
			crd.Spec.Versions[0].Schema.OpenAPIV3Schema, internal, nil); s.err != nil {
			return
		}
		s.structural, s.err = structuralschema.NewStructural(internal)
	})
	return s.structural, s.err
}

// defaulted applies the defaults of schema s to content and decodes it into out.
func defaulted[T any](s *schema, content map[string]any, out *T) (*T, error) {
	st, err := s.load()
	if err != nil {
		return nil, fmt.Errorf("load the schema of %s: %w", s.file, err)
	}
	defaulting.Default(content, st)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(content, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Defaulted applies the CRD schema's defaults to a PipelineService given as unstructured
// content.
func Defaulted(content map[string]any) (*psv1alpha1.PipelineService, error) {
	return defaulted(memberSchema, content, &psv1alpha1.PipelineService{})
}

// DefaultedHost applies the CRD schema's defaults to a PipelineServiceHost given as
// unstructured content.
func DefaultedHost(content map[string]any) (*psv1alpha1.PipelineServiceHost, error) {
	return defaulted(hostSchema, content, &psv1alpha1.PipelineServiceHost{})
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

// LoadHost reads a PipelineServiceHost sample and applies the schema's defaults.
func LoadHost(name string) (*psv1alpha1.PipelineServiceHost, error) {
	content, err := Content(name)
	if err != nil {
		return nil, err
	}
	return DefaultedHost(content)
}

// Load reads a sample and applies the schema's defaults.
func Load(name string) (*psv1alpha1.PipelineService, error) {
	content, err := Content(name)
	if err != nil {
		return nil, err
	}
	return Defaulted(content)
}
