package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// Render is `manager render`: it prints every child the operator would apply for the
// parents in the input, in the order it applies them, exactly as it applies them. It needs no
// cluster; what the cluster serves comes from --without.
func (c *Commands) Render(args []string) int {
	stdin, stdout, stderr := c.Stdin, c.Stdout, c.Stderr
	fs := newFlagSet("render", "Usage: manager render [flags] [FILE|-]\n\n"+
		"Prints every object the operator would apply for the PipelineServices and\n"+
		"PipelineServiceHosts in the input (standard input when none is given), in apply order, with\n"+
		"the operator's labels: -o yaml as a YAML stream, -o json one object per line, byte for byte\n"+
		"the body of the operator's server-side apply. A parent the cluster or the operator would\n"+
		"refuse is not rendered: run validate for the reasons.", stderr)
	output := fs.String("o", "yaml", "Output format: yaml or json.")
	served := bindServedFlag(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *output != "yaml" && *output != "json" {
		fmt.Fprintf(stderr, "render: -o %s: want yaml or json\n", *output)
		return ExitError
	}
	input, err := oneInput(fs)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitError
	}
	docs, err := readInputs([]string{input}, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "render:", err)
		return ExitError
	}
	var objs []*unstructured.Unstructured
	refused := false
	for _, d := range docs {
		if d.Object == nil {
			fmt.Fprintf(stderr, "%s: %v\n", d.where(), d.Err)
			return ExitError
		}
		kind, ok := c.kindOf(d.Object)
		if !ok {
			continue
		}
		plan, err := planParent(context.Background(), d.Object, kind, nil, served.served(), nil)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", d.where(), err)
			refused = true
			continue
		}
		// As the reconciler: an object of a kind the cluster does not serve is reported, not
		// applied.
		objs = append(objs, plan.Apply...)
		if len(plan.Missing) > 0 {
			fmt.Fprintf(stderr, "%s: not rendered, the cluster does not serve them: %s\n", d.where(), sortedKinds(plan.Missing))
		}
	}
	if refused {
		return ExitProblems
	}
	if err := printObjects(stdout, objs, *output); err != nil {
		fmt.Fprintln(stderr, "render:", err)
		return ExitError
	}
	return ExitOK
}

// printObjects writes objs as a YAML stream, or as JSON one per line, each encoded as the
// operator's client encodes its apply body.
func printObjects(w io.Writer, objs []*unstructured.Unstructured, output string) error {
	for i, o := range objs {
		var body bytes.Buffer
		if err := unstructured.UnstructuredJSONScheme.Encode(o, &body); err != nil {
			return fmt.Errorf("encode %s %s: %w", o.GetKind(), o.GetName(), err)
		}
		if output == "json" {
			if _, err := w.Write(body.Bytes()); err != nil {
				return err
			}
			continue
		}
		data, err := yaml.JSONToYAML(body.Bytes())
		if err != nil {
			return err
		}
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	return nil
}

// sortedKinds lists the kinds of objects, for messages.
func sortedKinds(gvks []schema.GroupVersionKind) string {
	names := make([]string, 0, len(gvks))
	for _, gvk := range gvks {
		names = append(names, gvk.Kind)
	}
	slices.Sort(names)
	return strings.Join(slices.Compact(names), ", ")
}
