package importer

import (
	"io"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// Write prints the PipelineService as YAML, its notes first as comments. Fields left empty
// are left out, so that the schema's defaults apply; a disabled exporter is only that.
func Write(w io.Writer, r *Result, header string) error {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(r.PipelineService)
	if err != nil {
		return err
	}
	delete(content, "status")
	unstructured.RemoveNestedField(content, "metadata", "creationTimestamp")
	if !r.PipelineService.Spec.Exporter.Enabled {
		_ = unstructured.SetNestedField(content, map[string]any{"enabled": false}, "spec", "exporter")
	}
	content = compact(content).(map[string]any)
	shortDurations(content)
	data, err := yaml.Marshal(content)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		b.WriteString("# " + line + "\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("#\n# Review before applying:\n")
		for _, n := range r.Notes {
			b.WriteString("# - " + n + "\n")
		}
	}
	b.WriteString("---\n")
	b.Write(data)
	_, err = io.WriteString(w, b.String())
	return err
}

// durationFields are the PipelineService's durations, which the API machinery prints as
// Go does (5m0s).
var durationFields = map[string]bool{"pollInterval": true, "refreshInterval": true, "completedRunGracePeriod": true}

// shortDurations prints the durations as a person writes them (5m).
func shortDurations(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "overrides" {
				continue
			}
			if s, ok := e.(string); ok && durationFields[k] {
				if d, err := time.ParseDuration(s); err == nil {
					t[k] = render.Duration(d)
				}
				continue
			}
			shortDurations(e)
		}
	case []any:
		for _, e := range t {
			shortDurations(e)
		}
	}
}

// compact drops nulls, empty strings and empty maps and lists, so that the schema's defaults
// apply; false and 0 stay, since they can differ from a default.
func compact(v any) any { return fields.WithoutEmptyOrBlank(v) }
