package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/admission"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
)

// runRender is `manager render`: it prints every child the operator would apply for the
// parents in the input, in the order it applies them, exactly as it applies them. It needs no
// cluster; what the cluster serves comes from --without.
func runRender(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: manager render [flags] [FILE|-]\n\n"+
			"Prints every object the operator would apply for the PipelineServices and\n"+
			"PipelineServiceHosts in the input (standard input when none is given), in apply order, with\n"+
			"the operator's labels: -o yaml as a YAML stream, -o json one object per line, byte for byte\n"+
			"the body of the operator's server-side apply. A parent the cluster or the operator would\n"+
			"refuse is not rendered: run validate for the reasons.")
		fs.PrintDefaults()
	}
	output := fs.String("o", "yaml", "Output format: yaml or json.")
	served := bindServedFlag(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if *output != "yaml" && *output != "json" {
		fmt.Fprintf(stderr, "render: -o %s: want yaml or json\n", *output)
		return exitError
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "render: one input at most")
		return exitError
	}
	input := "-"
	if fs.NArg() == 1 {
		input = fs.Arg(0)
	}
	docs, err := readInputs([]string{input}, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "render:", err)
		return exitError
	}
	var objs []*unstructured.Unstructured
	refused := false
	for _, d := range docs {
		if d.Object == nil {
			fmt.Fprintf(stderr, "%s: %v\n", d.where(), d.Err)
			return exitError
		}
		kind, ok := kindOf(d.Object)
		if !ok {
			continue
		}
		children, missing, err := renderDocument(d, kind, served.served())
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", d.where(), err)
			refused = true
			continue
		}
		if len(missing) > 0 {
			fmt.Fprintf(stderr, "%s: not rendered, the cluster does not serve them: %s\n", d.where(), sortedKinds(missing))
		}
		objs = append(objs, children...)
	}
	if refused {
		return exitProblems
	}
	if err := printObjects(stdout, objs, *output); err != nil {
		fmt.Fprintln(stderr, "render:", err)
		return exitError
	}
	return exitOK
}

// renderDocument admits one parent as the API server would (its defaults included) and
// renders it as the reconciler would: the children whose kind is served, and the kinds of those
// that are not. A refusal is an error naming every refused field.
func renderDocument(d document, kind parentKind, served children.Served) (objs []*unstructured.Unstructured, missing []schema.GroupVersionKind, err error) {
	if gvk := d.Object.GroupVersionKind(); gvk != kind.gvk {
		return nil, nil, fmt.Errorf("the %s CRD serves %s only", kind.gvk.Kind, kind.gvk.GroupVersion())
	}
	v, err := admission.Review(context.Background(), d.Object, nil)
	if err != nil {
		return nil, nil, err
	}
	if !v.Allowed() {
		return nil, nil, fmt.Errorf("the API server would refuse it (%d %s; run validate)", len(v.Unknown)+len(v.Errs), plural(len(v.Unknown)+len(v.Errs), "problem"))
	}
	desired, err := kind.render(v.Object, served, nil)
	if invalid, ok := errors.AsType[*parent.Invalid](err); ok {
		return nil, nil, fmt.Errorf("the operator would refuse it (%s): %s", invalid.Condition.Reason, invalid.Condition.Message)
	}
	if err != nil {
		return nil, nil, err
	}
	// As the reconciler's keepServed: an object of a kind the cluster does not serve is
	// reported, not applied.
	for _, o := range desired {
		if served[o.GroupVersionKind()] {
			objs = append(objs, o)
		} else {
			missing = append(missing, o.GroupVersionKind())
		}
	}
	return objs, missing, nil
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
