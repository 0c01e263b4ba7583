// Command crd-descriptions finishes the CRDs controller-gen writes; `make manifests` runs it
// over config/crd/bases after controller-gen.
//
//   - It unwraps the descriptions controller-gen copies from doc comments: Go doc comments wrap
//     at about 100 columns, and `kubectl explain` prints each newline as it is, so sentences
//     would break mid-line in a person's terminal. Lines of one paragraph are joined; blank
//     lines between paragraphs, list items and indented lines stay.
//   - It bounds the strings, lists and maps that markers cannot reach: those of the Kubernetes
//     types the API embeds (EnvVar, ResourceRequirements, rbac Subject) and the values of
//     maps (api/v1alpha1/bounds.go). TestEverySpecFieldIsBounded in api/v1alpha1 fails on any left.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

func main() {
	for _, file := range os.Args[1:] {
		if err := rewrite(file); err != nil {
			fmt.Fprintln(os.Stderr, "crd-descriptions:", err)
			os.Exit(1)
		}
	}
	if err := writeKustomization(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "crd-descriptions:", err)
		os.Exit(1)
	}
}

// writeKustomization lists the CRD files in the kustomization of the directory above theirs
// (config/crd), so that a new kind's CRD is installed without a line written by hand.
func writeKustomization(files []string) error {
	if len(files) == 0 {
		return nil
	}
	dir := filepath.Dir(filepath.Dir(files[0]))
	var b strings.Builder
	b.WriteString("# Written by `make manifests` (hack/crd-descriptions): every CRD of bases/.\nresources:\n")
	sorted := slices.Sorted(slices.Values(files))
	for _, f := range sorted {
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			return err
		}
		b.WriteString("  - " + filepath.ToSlash(rel) + "\n")
	}
	return os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(b.String()), 0o644)
}

func rewrite(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, crd); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	used := map[string]bool{}
	for i := range crd.Spec.Versions {
		if s := crd.Spec.Versions[i].Schema; s != nil && s.OpenAPIV3Schema != nil {
			walk(s.OpenAPIV3Schema)
			if spec, ok := s.OpenAPIV3Schema.Properties["spec"]; ok {
				bound(crd.Spec.Names.Kind, &spec, "", used)
				s.OpenAPIV3Schema.Properties["spec"] = spec
			}
		}
	}
	for _, b := range psv1alpha1.Bounds {
		if b.CRD == crd.Spec.Names.Kind && !used[b.Suffix] {
			return fmt.Errorf("%s: no field of %s ends in %q: update api/v1alpha1/bounds.go", file, b.CRD, b.Suffix)
		}
	}
	out, err := yaml.Marshal(crd)
	if err != nil {
		return err
	}
	// As controller-gen writes it: a document marker first, no status.
	out = append([]byte("---\n"), bytes.TrimSuffix(out, []byte("status:\n  acceptedNames:\n    kind: \"\"\n    plural: \"\"\n  conditions: null\n  storedVersions: null\n"))...)
	return os.WriteFile(file, out, 0o644)
}

func walk(s *apiextensionsv1.JSONSchemaProps) {
	s.Description = Unwrap(s.Description)
	for k, p := range s.Properties {
		walk(&p)
		s.Properties[k] = p
	}
	if s.Items != nil && s.Items.Schema != nil {
		walk(s.Items.Schema)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		walk(s.AdditionalProperties.Schema)
	}
}

// Unwrap joins the lines of each paragraph of a doc comment with spaces. A line that starts a
// list item (-, *, or a number and a dot) or is indented starts a line of its own.
func Unwrap(text string) string {
	lines := strings.Split(text, "\n")
	var b strings.Builder
	for i, line := range lines {
		if i > 0 {
			prev := lines[i-1]
			if line == "" || prev == "" || startsOwnLine(line) {
				b.WriteString("\n")
			} else {
				b.WriteString(" ")
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

func startsOwnLine(line string) bool {
	if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") {
		return true
	}
	digits := len(line) - len(strings.TrimLeft(line, "0123456789"))
	return digits > 0 && strings.HasPrefix(line[digits:], ". ")
}
