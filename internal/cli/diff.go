package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pmezard/go-difflib/difflib"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/inventory"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
)

// Diff is `manager diff`: it shows what the operator would change on the cluster
// $KUBECONFIG names if the parents in the input were applied. Each child goes to the API
// server as a server-side apply with the operator's field manager, in dry run, so that the
// answer carries the server's defaults and admission (OSP's webhook included); nothing is
// written, and no Secret is read. It exits 0 with no difference and 1 with differences, as
// kubectl diff does, and 2 when it cannot tell.
func (c *Commands) Diff(args []string) int {
	stdin, stdout, stderr := c.Stdin, c.Stdout, c.Stderr
	fs := newFlagSet("diff", "Usage: manager diff [flags] [FILE|-]\n\n"+
		"Shows what the operator would change on the cluster $KUBECONFIG names for the PipelineServices\n"+
		"and PipelineServiceHosts in the input (standard input when none is given): a unified diff per\n"+
		"object that would change, and the objects that would be created or pruned. Each child is sent\n"+
		"as a server-side apply in dry run with the operator's field manager; nothing is written and no\n"+
		"Secret is read. Exit status: 0 no difference, 1 differences, 2 an error.", stderr)
	timeout := fs.Duration("timeout", time.Minute, "How long the requests may take.")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	input, err := oneInput(fs)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitError
	}
	cfg := c.Config
	if cfg == nil {
		var err error
		if cfg, err = config.GetConfig(); err != nil {
			fmt.Fprintln(stderr, "diff:", err)
			return ExitError
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	changed, err := c.diffInput(ctx, cfg, input, stdin, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "diff:", err)
		return ExitError
	}
	if changed {
		return ExitProblems
	}
	return ExitOK
}

// diffInput diffs every parent of the input against the cluster cfg reaches, and says whether
// anything would change.
func (c *Commands) diffInput(ctx context.Context, cfg *rest.Config, input string, stdin io.Reader, out io.Writer) (bool, error) {
	docs, err := readInputs([]string{input}, stdin)
	if err != nil {
		return false, err
	}
	cl, err := client.New(cfg, client.Options{})
	if err != nil {
		return false, err
	}
	d := &differ{client: cl, cluster: parent.NewCluster(cl), out: out}
	changed := false
	for _, doc := range docs {
		if doc.Object == nil {
			return false, fmt.Errorf("%s: %w", doc.where(), doc.Err)
		}
		kind, ok := c.kindOf(doc.Object)
		if !ok {
			continue
		}
		ch, err := d.diffParent(ctx, doc, kind)
		if err != nil {
			return false, fmt.Errorf("%s: %w", doc.where(), err)
		}
		changed = changed || ch
	}
	return changed, nil
}

// differ compares the operator's children with the cluster.
type differ struct {
	client  client.Client
	cluster *parent.Cluster
	out     io.Writer
}

// diffParent prints what applying one parent would change, and says whether anything would.
// The change is admitted as an update of the live parent (transition rules included), and
// planned as the reconciler plans it: with the live parent's status (the build a revert
// returns to, the inventory it prunes from) and the live objects its review reads.
func (d *differ) diffParent(ctx context.Context, doc document, kind parent.Registration) (bool, error) {
	live, err := d.get(ctx, kind.GVK, "", doc.Object.GetName())
	if err != nil {
		return false, err
	}
	served := children.ServedOf(kind.Profile, func(gvk schema.GroupVersionKind) bool {
		_, err := d.client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		return err == nil
	})
	plan, err := planParent(ctx, doc.Object, kind, live, served, d.cluster)
	if err != nil {
		return false, err
	}
	for _, gvk := range plan.Missing {
		fmt.Fprintf(d.out, "# not served, would not be applied: %s\n", gvk.Kind)
	}
	changed := false
	for _, o := range plan.Apply {
		ch, err := d.diffChild(ctx, o)
		if err != nil {
			return false, err
		}
		changed = changed || ch
	}
	for _, e := range plan.Prune {
		fmt.Fprintf(d.out, "# would prune %s\n", apply.Describe(inventory.Ref(e)))
		changed = true
	}
	return changed, nil
}

// diffChild prints the diff of one child, or that it would be created.
func (d *differ) diffChild(ctx context.Context, desired *unstructured.Unstructured) (bool, error) {
	live, err := d.get(ctx, desired.GroupVersionKind(), desired.GetNamespace(), desired.GetName())
	if err != nil {
		return false, err
	}
	if live == nil {
		fmt.Fprintf(d.out, "# would create %s\n", apply.Describe(desired))
		return true, nil
	}
	merged := desired.DeepCopy()
	if err := d.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(merged),
		client.FieldOwner(parent.FieldManager), client.ForceOwnership, client.DryRunAll); err != nil {
		return false, fmt.Errorf("dry-run apply %s: %w", apply.Describe(desired), err)
	}
	a, err := diffable(live)
	if err != nil {
		return false, err
	}
	b, err := diffable(merged)
	if err != nil {
		return false, err
	}
	if a == b {
		return false, nil
	}
	name := strings.ToLower(desired.GetKind()) + "/" + strings.TrimPrefix(desired.GetNamespace()+"/"+desired.GetName(), "/")
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(a), B: difflib.SplitLines(b),
		FromFile: "live/" + name, ToFile: "applied/" + name, Context: 3,
	})
	if err != nil {
		return false, err
	}
	_, err = io.WriteString(d.out, text)
	return true, err
}

// diffable is obj as YAML without what every write changes and nobody reads in a diff: the
// managed fields, the resourceVersion and the generation (as kubectl diff hides managed fields).
func diffable(obj *unstructured.Unstructured) (string, error) {
	obj = obj.DeepCopy()
	for _, f := range []string{"managedFields", "resourceVersion", "generation"} {
		unstructured.RemoveNestedField(obj.Object, "metadata", f)
	}
	data, err := yaml.Marshal(obj.Object)
	return string(data), err
}

// get reads one object, nil when it does not exist.
func (d *differ) get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	err := d.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u)
	switch {
	case apierrors.IsNotFound(err), meta.IsNoMatchError(err):
		// No such object, or no such kind served.
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get %s %s: %w", gvk.Kind, strings.TrimPrefix(namespace+"/"+name, "/"), err)
	}
	return u, nil
}
