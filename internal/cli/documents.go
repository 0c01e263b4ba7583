package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/admission"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
)

// The subcommands for a GitOps repository (validate, render, diff) read YAML streams, find the
// parents among their documents, and run each through the same plan as the reconciler. This
// file holds what they share.

// document is one YAML document of an input.
type document struct {
	// File names the input ("-" for standard input); Index is the document's place in it,
	// from 1, counting the documents that hold anything.
	File  string
	Index int
	// Object is the document decoded as the API server decodes JSON (whole numbers as int64);
	// nil when it is not YAML.
	Object *unstructured.Unstructured
	// Err says why the document cannot be read (Object is nil) or what is wrong with it (a
	// *duplicateKeyError).
	Err error
}

// where is the FILE:DOC prefix of the document's problems.
func (d document) where() string { return fmt.Sprintf("%s:%d", d.File, d.Index) }

// readInputs reads the documents of every input: a file, every .yaml, .yml and .json file of
// a directory (not its subdirectories: a kustomize tree is built first, see docs/gitops.md), or
// "-" for standard input. An unreadable input is an error; a document that does not decode is
// kept, with its error, for the caller to report.
func readInputs(names []string, stdin io.Reader) ([]document, error) {
	var out []document
	for _, name := range names {
		files, err := inputFiles(name)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			docs, err := readFile(f, stdin)
			if err != nil {
				return nil, err
			}
			out = append(out, docs...)
		}
	}
	return out, nil
}

// inputFiles expands a directory into its manifest files, sorted; a file or "-" is itself.
func inputFiles(name string) ([]string, error) {
	if name == "-" {
		return []string{name}, nil
	}
	info, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{name}, nil
	}
	entries, err := os.ReadDir(name)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && slices.ContainsFunc([]string{".yaml", ".yml", ".json"}, func(ext string) bool { return strings.HasSuffix(e.Name(), ext) }) {
			files = append(files, strings.TrimSuffix(name, "/")+"/"+e.Name())
		}
	}
	return files, nil
}

// readFile splits one input into documents.
func readFile(name string, stdin io.Reader) ([]document, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		r = f
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var out []document
	for {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if isBlank(raw) {
			continue
		}
		d := document{File: name, Index: len(out) + 1}
		d.Object, d.Err = decodeDocument(raw)
		out = append(out, d)
	}
}

// isBlank is whether a document holds nothing but comments and white space.
func isBlank(raw []byte) bool {
	for line := range bytes.SplitSeq(raw, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' && !bytes.Equal(line, []byte("---")) {
			return false
		}
	}
	return true
}

// decodeDocument decodes a YAML or JSON document as the API server decodes a request body:
// whole numbers as int64, so that the schema sees integers. A document that is not YAML is an
// unreadable input; one that gives a key twice decodes, with a *duplicateKeyError: kubectl and
// ArgoCD would keep the last value without a word.
func decodeDocument(raw []byte) (*unstructured.Unstructured, error) {
	data, err := sigsyaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("is not YAML: %w", err)
	}
	var obj map[string]any
	if err := utiljson.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, errors.New("is not a YAML object")
	}
	u := &unstructured.Unstructured{Object: obj}
	if _, err := sigsyaml.YAMLToJSONStrict(raw); err != nil {
		return u, &duplicateKeyError{err}
	}
	return u, nil
}

// duplicateKeyError is a document that gives a key twice.
type duplicateKeyError struct{ err error }

func (e *duplicateKeyError) Error() string {
	return "a key is given twice, and kubectl and ArgoCD would keep the last value without a word: " + e.err.Error()
}

// kindOf is the parent kind of obj among c's kinds, false when obj is not a parent. A parent of
// a version the CRDs do not serve is a parent too: the API server would refuse it, and so does
// validate.
func (c *Commands) kindOf(obj *unstructured.Unstructured) (parent.Registration, bool) {
	gk := obj.GroupVersionKind().GroupKind()
	i := slices.IndexFunc(c.Kinds, func(k parent.Registration) bool { return k.GVK.GroupKind() == gk })
	if i < 0 {
		return parent.Registration{}, false
	}
	return c.Kinds[i], true
}

// servedFlag is --without: the kinds (or versions) the cluster does not serve, every other
// kind the operator writes being served. The default is an OpenShift cluster with the External
// Secrets and Prometheus operators (and, for a host, CodeReadyToolchain).
type servedFlag struct{ without []schema.GroupVersionKind }

// optionalKinds are the kinds --without may name: those a CRD serves, which a cluster may lack.
func optionalKinds() []children.Kind {
	return slices.DeleteFunc(slices.Clone(children.Kinds), func(k children.Kind) bool { return k.BuiltIn || k.Observed })
}

func (f *servedFlag) String() string {
	names := make([]string, 0, len(f.without))
	for _, gvk := range f.without {
		names = append(names, gvk.Kind+"/"+gvk.Version)
	}
	return strings.Join(names, ",")
}

// Set takes KIND or KIND/VERSION, comma-separated; KIND alone is every version of it.
func (f *servedFlag) Set(value string) error {
	for item := range strings.SplitSeq(value, ",") {
		kind, version, _ := strings.Cut(strings.TrimSpace(item), "/")
		i := slices.IndexFunc(optionalKinds(), func(k children.Kind) bool { return k.GVK.Kind == kind })
		if i < 0 {
			return fmt.Errorf("%q is not a kind the operator writes that a cluster may lack; one of %s", kind, kindNames())
		}
		k := optionalKinds()[i]
		n := len(f.without)
		for _, gvk := range k.Versions() {
			if version == "" || gvk.Version == version {
				f.without = append(f.without, gvk)
			}
		}
		if len(f.without) == n {
			return fmt.Errorf("%s has no version %q the operator writes", kind, version)
		}
	}
	return nil
}

// served is what the cluster serves under the flag.
func (f *servedFlag) served() children.Served {
	return children.ServedBy(func(gvk schema.GroupVersionKind) bool { return !slices.Contains(f.without, gvk) })
}

func kindNames() string {
	var names []string
	for _, k := range optionalKinds() {
		names = append(names, k.GVK.Kind)
	}
	return strings.Join(names, ", ")
}

// bindServedFlag adds --without to fs.
func bindServedFlag(fs *flag.FlagSet) *servedFlag {
	f := &servedFlag{}
	fs.Var(f, "without", "Kinds the cluster does not serve, as KIND or KIND/VERSION, comma-separated (default: an OpenShift cluster serving every kind: "+kindNames()+").")
	return f
}

// newFlagSet is a subcommand's flag set: errors and usage to stderr, the usage text first.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs: false with the exit code when the command is done (asked for
// help: 0; a usage error: 2).
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, false
		}
		return ExitError, false
	}
	return ExitOK, true
}

// oneInput is the one input render and diff read: the argument, or standard input.
func oneInput(fs *flag.FlagSet) (string, error) {
	switch fs.NArg() {
	case 0:
		return "-", nil
	case 1:
		return fs.Arg(0), nil
	}
	return "", fmt.Errorf("%s: one input at most", fs.Name())
}

// admit rules on one parent as the API server would, on its create or on an update of old: a
// version the CRDs do not serve is refused as the server refuses it, with no kind to decode it
// as; the rest is internal/admission's.
func admit(ctx context.Context, obj *unstructured.Unstructured, kind parent.Registration, old *unstructured.Unstructured) (admission.Verdict, error) {
	if gvk := obj.GroupVersionKind(); gvk != kind.GVK {
		return admission.Verdict{Errs: field.ErrorList{field.Invalid(field.NewPath("apiVersion"), gvk.GroupVersion().String(),
			fmt.Sprintf("the %s CRD serves %s only", kind.GVK.Kind, kind.GVK.GroupVersion()))}}, nil
	}
	return admission.Review(ctx, obj, old)
}

// planParent admits obj and plans it as the reconciler does, for render and diff: as an update
// of old when old is the live parent, whose status the plan then reads as the operator does
// (the build a revert returns to, the inventory it prunes from). cluster is nil offline. A
// refusal, by the API server or by the operator, is an error that names every refused field.
func planParent(ctx context.Context, obj *unstructured.Unstructured, kind parent.Registration, old *unstructured.Unstructured,
	served children.Served, cluster *parent.Cluster) (*parent.Plan, error) {
	v, err := admit(ctx, obj, kind, old)
	if err != nil {
		return nil, err
	}
	if !v.Allowed() {
		var problems []string
		for _, p := range v.Problems() {
			problems = append(problems, p.String())
		}
		return nil, fmt.Errorf("the API server would refuse the %s: %s", kind.GVK.Kind, strings.Join(problems, "; "))
	}
	if old != nil {
		if status, ok := old.Object["status"]; ok {
			v.Object.Object["status"] = status
		}
	}
	plan, err := kind.Plan(ctx, v.Object, served, cluster)
	if invalid, ok := errors.AsType[*parent.Invalid](err); ok {
		return nil, fmt.Errorf("the operator would refuse the %s (%s): %s", kind.GVK.Kind, invalid.Condition.Reason, invalid.Condition.Message)
	}
	return plan, err
}
