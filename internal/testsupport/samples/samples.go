// Package samples loads PipelineService and PipelineServiceHost objects for tests with the CRD schema's defaults
// applied, as the API server would apply them (internal/admission), so that pure tests see what
// a cluster stores; and it holds the bad-input tables the admission, reconcile and validate
// tests share.
package samples

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/admission"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

const (
	// Minimal is the sample with only the required fields.
	Minimal = "pipelineservice_minimal.yaml"
	// Full is the production-like sample.
	Full = "pipelineservice_full.yaml"
	// Host is the PipelineServiceHost sample.
	Host = "pipelineservicehost.yaml"
)

// defaulted applies the CRD's defaults (internal/admission, from the embedded CRDs) to content
// of kind and decodes it into out.
func defaulted[T any](kind string, content map[string]any, out *T) (*T, error) {
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(psv1alpha1.GroupVersion.WithKind(kind))
	if err := admission.Default(u); err != nil {
		return nil, err
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(content, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Defaulted applies the CRD schema's defaults to a PipelineService given as unstructured
// content.
func Defaulted(content map[string]any) (*psv1alpha1.PipelineService, error) {
	return defaulted("PipelineService", content, &psv1alpha1.PipelineService{})
}

// DefaultedHost applies the CRD schema's defaults to a PipelineServiceHost given as
// unstructured content.
func DefaultedHost(content map[string]any) (*psv1alpha1.PipelineServiceHost, error) {
	return defaulted("PipelineServiceHost", content, &psv1alpha1.PipelineServiceHost{})
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
