package main

import (
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// bound sets the bounds of kind's fields under s, at path, that psv1alpha1.Bounds names, recording each
// suffix that names a field.
func bound(kind string, s *apiextensionsv1.JSONSchemaProps, path string, used map[string]bool) {
	for _, b := range psv1alpha1.Bounds {
		if b.CRD != kind || !matches(path, b.Suffix) {
			continue
		}
		used[b.Suffix] = true
		n := b.N
		switch {
		case s.Type == "string" && s.MaxLength == nil:
			s.MaxLength = &n
		case s.Type == "array" && s.MaxItems == nil:
			s.MaxItems = &n
		case s.Type == "object" && s.MaxProperties == nil:
			s.MaxProperties = &n
		}
	}
	for k, p := range s.Properties {
		bound(kind, &p, strings.TrimPrefix(path+"."+k, "."), used)
		s.Properties[k] = p
	}
	if s.Items != nil && s.Items.Schema != nil {
		bound(kind, s.Items.Schema, path+"[]", used)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		bound(kind, s.AdditionalProperties.Schema, path+"{}", used)
	}
}

// matches is whether path ends in suffix at a field's boundary.
func matches(path, suffix string) bool {
	if strings.HasPrefix(suffix, "[") || strings.HasPrefix(suffix, "{") {
		return strings.HasSuffix(path, suffix)
	}
	return path == suffix || strings.HasSuffix(path, "."+suffix)
}
