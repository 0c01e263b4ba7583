package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// Problem is one thing the cluster or the operator would refuse in a document.
type Problem struct {
	File     string `json:"file"`
	Document int    `json:"document"`
	Kind     string `json:"kind,omitempty"`
	Name     string `json:"name,omitempty"`
	// Field is the path in the document, as the API server's error or the Stalled condition
	// names it; empty for the document as a whole.
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	// Source says who refuses: "admission" (the API server: schema, defaults, CEL rules,
	// unknown fields), "operator" (the reconciler would stall: the strict TektonConfig decode,
	// OpenShift Pipelines' admission and reconcile rules), or "input".
	Source string `json:"source"`
	// Reason is the Stalled condition's reason, for the operator's refusals.
	Reason string `json:"reason,omitempty"`
}

func (p Problem) String() string {
	if p.Field == "" {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Document, p.Message)
	}
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Document, p.Field, p.Message)
}

// Report is validate's whole answer, as -o json prints it.
type Report struct {
	Problems []Problem `json:"problems"`
	// Checked counts the parents checked; Skipped the documents of other kinds.
	Checked int `json:"checked"`
	Skipped int `json:"skipped"`
	// Unreadable counts the documents that are not YAML: validate then exits 2.
	Unreadable int `json:"unreadable,omitempty"`
	// Notes are what validate could not check offline, and why.
	Notes []string `json:"notes,omitempty"`
}

// Validate is `manager validate`: it checks every PipelineService and PipelineServiceHost
// in the inputs as the cluster's admission and the operator's reconcile would, with no
// cluster and no network, and exits 0 when both would accept them, 1 when not, 2 when it
// cannot read its inputs.
func (c *Commands) Validate(args []string) int {
	stdin, stdout, stderr := c.Stdin, c.Stdout, c.Stderr
	fs := newFlagSet("validate", "Usage: manager validate [flags] [FILE|DIR|-]...\n\n"+
		"Checks every PipelineService and PipelineServiceHost in the YAML inputs (standard input when\n"+
		"none is given) as the cluster and the operator would: the CRD's schema, defaults and CEL rules,\n"+
		"then the operator's render and OpenShift Pipelines' own admission and reconcile rules. Documents\n"+
		"of other kinds are skipped. Each problem is one line, FILE:DOC: FIELD: MESSAGE.\n"+
		"Exit status: 0 valid, 1 invalid, 2 usage or read error.\n\n"+
		"In CI: kustomize build overlays/prod | manager validate -", stderr)
	output := fs.String("o", "text", "Output format: text or json.")
	oldFile := fs.String("old", "", "The previous version of the inputs (a file, or a directory); a parent found there by kind and name is checked as an update of it, transition rules included.")
	version := fs.Bool("version", false, "Print the versions of the code the checks come from, and exit.")
	served := bindServedFlag(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *version {
		printCheckVersions(stdout)
		return ExitOK
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "validate: -o %s: want text or json\n", *output)
		return ExitError
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	docs, err := readInputs(inputs, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "validate:", err)
		return ExitError
	}
	var old []document
	if *oldFile != "" {
		if old, err = readInputs([]string{*oldFile}, stdin); err != nil {
			fmt.Fprintln(stderr, "validate: --old:", err)
			return ExitError
		}
	}
	r, err := c.validate(context.Background(), docs, old, served.served())
	if err != nil {
		fmt.Fprintln(stderr, "validate:", err)
		return ExitError
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(stderr, "validate:", err)
			return ExitError
		}
	} else {
		for _, p := range r.Problems {
			fmt.Fprintln(stdout, p)
		}
		for _, n := range r.Notes {
			fmt.Fprintln(stderr, "note:", n)
		}
		fmt.Fprintf(stderr, "%d checked, %d skipped (not a PipelineService or PipelineServiceHost), %d %s\n",
			r.Checked, r.Skipped, len(r.Problems), plural(len(r.Problems), "problem"))
	}
	switch {
	case r.Unreadable > 0:
		return ExitError
	case len(r.Problems) > 0:
		return ExitProblems
	}
	return ExitOK
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// validate checks docs, each parent as an update of its namesake in old when there is one.
// An error says the checks themselves cannot run (the embedded CRDs do not load).
func (c *Commands) validate(ctx context.Context, docs, old []document, served children.Served) (*Report, error) {
	r := &Report{Problems: []Problem{}}
	previous := map[string]*unstructured.Unstructured{}
	for _, d := range old {
		if d.Object != nil {
			previous[identity(d.Object)] = d.Object
		}
	}
	for _, d := range docs {
		if d.Err != nil {
			r.Problems = append(r.Problems, Problem{File: d.File, Document: d.Index, Message: d.Err.Error(), Source: "input"})
			if d.Object == nil {
				r.Unreadable++
				continue
			}
		}
		kind, ok := c.kindOf(d.Object)
		if !ok {
			r.Skipped++
			continue
		}
		r.Checked++
		problems, notes, err := check(ctx, d, kind, previous[identity(d.Object)], served)
		if err != nil {
			return nil, err
		}
		r.Problems = append(r.Problems, problems...)
		r.Notes = append(r.Notes, notes...)
	}
	return r, nil
}

// identity is how --old finds an object's previous version: its kind and name.
func identity(u *unstructured.Unstructured) string {
	return u.GroupVersionKind().GroupKind().String() + "/" + u.GetName()
}

// check runs one parent through admission and then through the operator's render and review.
func check(ctx context.Context, d document, kind parent.Registration, old *unstructured.Unstructured, served children.Served) ([]Problem, []string, error) {
	at := func(field, message, source, reason string) Problem {
		return Problem{File: d.File, Document: d.Index, Kind: kind.GVK.Kind, Name: d.Object.GetName(),
			Field: field, Message: message, Source: source, Reason: reason}
	}
	v, err := admit(ctx, d.Object, kind, old)
	if err != nil {
		return nil, nil, err
	}
	var out []Problem
	for _, p := range v.Problems() {
		out = append(out, at(p.Field, p.Message, "admission", ""))
	}
	if !v.Allowed() {
		// The API server refuses it: the operator never sees it.
		return out, nil, nil
	}
	obj, notes := offline(v.Object)
	if _, err := kind.Plan(ctx, obj, served, nil); err != nil {
		invalid, ok := errors.AsType[*parent.Invalid](err)
		if !ok {
			return append(out, at("", err.Error(), "operator", "")), notes, nil
		}
		for _, f := range invalid.Fields {
			out = append(out, at(f.Path, f.Message, "operator", invalid.Condition.Reason))
		}
	}
	for i := range notes {
		notes[i] = d.where() + ": " + notes[i]
	}
	return out, notes, nil
}

// offline is obj as validate can check it with no cluster. A revert to the previous build
// (revertImagesTo) is checked on the cluster against the build the operator recorded in the
// status, which a GitOps file does not carry; the rest of the spec is checked without it.
func offline(obj *unstructured.Unstructured) (*unstructured.Unstructured, []string) {
	revert, _, _ := unstructured.NestedString(obj.Object, "spec", "operator", "subscription", "revertImagesTo")
	_, recorded, _ := unstructured.NestedMap(obj.Object, "status", "upgrade", "previous")
	if revert == "" || recorded {
		return obj, nil
	}
	obj = obj.DeepCopy()
	unstructured.RemoveNestedField(obj.Object, "spec", "operator", "subscription", "revertImagesTo")
	return obj, []string{fmt.Sprintf("%s: %s is checked by the operator against the build the cluster recorded (status.upgrade.previous); `diff` checks it against the cluster", render.RevertField, revert)}
}

// checkSources are the modules whose code the checks run, with what each decides.
var checkSources = []struct{ module, decides string }{
	{"k8s.io/apiextensions-apiserver", "the CRD's schema, defaults and CEL rules, as the API server runs them"},
	{"github.com/tektoncd/operator", "OpenShift Pipelines' TektonConfig defaulting, validation and reconcile rules"},
	{"github.com/openshift-pipelines/pipelines-as-code", "the Pipelines-as-Code settings"},
	{"github.com/operator-framework/api", "the OLM API the CatalogSource and Subscription are written in"},
}

// printCheckVersions prints this build's version and those of the modules the checks run.
func printCheckVersions(w io.Writer) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(w, "pipeline-service-operator (no build information)")
		return
	}
	fmt.Fprintf(w, "pipeline-service-operator %s\n", info.Main.Version)
	versions := map[string]string{}
	for _, dep := range info.Deps {
		if dep.Replace != nil {
			dep = dep.Replace
		}
		versions[dep.Path] = dep.Version
	}
	for _, s := range checkSources {
		v := versions[s.module]
		if v == "" {
			v = "(not linked)"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", s.module, v, s.decides)
	}
}
