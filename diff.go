package main

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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/inventory"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// runDiff is `manager diff`: it shows what the operator would change on the cluster
// $KUBECONFIG names if the parents in the input were applied. Each child goes to the API
// server as a server-side apply with the operator's field manager, in dry run, so that the
// answer carries the server's defaults and admission (OSP's webhook included); nothing is
// written, and no Secret is read. It exits 0 with no difference and 1 with differences, as
// kubectl diff does, and 2 when it cannot tell.
func runDiff(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
		return exitError
	}
	cfg, err := config.GetConfig()
	if err != nil {
		fmt.Fprintln(stderr, "diff:", err)
		return exitError
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	changed, err := diffInput(ctx, cfg, input, stdin, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "diff:", err)
		return exitError
	}
	if changed {
		return exitProblems
	}
	return exitOK
}

// diffInput diffs every parent of the input against the cluster cfg reaches, and says whether
// anything would change.
func diffInput(ctx context.Context, cfg *rest.Config, input string, stdin io.Reader, out io.Writer) (bool, error) {
	docs, err := readInputs([]string{input}, stdin)
	if err != nil {
		return false, err
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return false, err
	}
	d := &differ{client: c, out: out}
	changed := false
	for _, doc := range docs {
		if doc.Object == nil {
			return false, fmt.Errorf("%s: %w", doc.where(), doc.Err)
		}
		kind, ok := kindOf(doc.Object)
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
	client client.Client
	out    io.Writer
}

// diffParent prints what applying one parent would change, and says whether anything would.
// The change is admitted as an update of the live parent (transition rules included), whose
// status the render reads as the operator does, and whose inventory says what is pruned.
func (d *differ) diffParent(ctx context.Context, doc document, kind parentKind) (bool, error) {
	live, err := d.get(ctx, kind.gvk, "", doc.Object.GetName())
	if err != nil {
		return false, err
	}
	served := children.ServedOf(kind.profile, func(gvk schema.GroupVersionKind) bool {
		_, err := d.client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		return err == nil
	})
	desired, err := renderParent(ctx, doc.Object, kind, live, served, func(o *unstructured.Unstructured) (*unstructured.Unstructured, error) {
		return d.get(ctx, o.GroupVersionKind(), o.GetNamespace(), o.GetName())
	})
	if err != nil {
		return false, err
	}
	changed := false
	var applied []*unstructured.Unstructured
	for _, o := range desired {
		if !served[o.GroupVersionKind()] {
			fmt.Fprintf(d.out, "# not served, would not be applied: %s\n", apply.Describe(o))
			continue
		}
		applied = append(applied, o)
		ch, err := d.diffChild(ctx, o)
		if err != nil {
			return false, err
		}
		changed = changed || ch
	}
	stale, err := d.stale(ctx, kind, live, applied, served)
	if err != nil {
		return false, err
	}
	for _, e := range stale {
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

// stale are the children the operator would prune: in the live parent's inventory, or
// carrying its labels when there is none yet, and no longer rendered.
func (d *differ) stale(ctx context.Context, kind parentKind, live *unstructured.Unstructured, applied []*unstructured.Unstructured, served children.Served) ([]psv1alpha1.InventoryEntry, error) {
	if live == nil {
		return nil, nil
	}
	var status struct {
		Inventory []psv1alpha1.InventoryEntry `json:"inventory"`
	}
	if s, ok := live.Object["status"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(s, &status); err != nil {
			return nil, fmt.Errorf("the live %s's inventory: %w", kind.gvk.Kind, err)
		}
	}
	inv := status.Inventory
	if inv == nil {
		var err error
		engine := apply.New(d.client, apply.Options{FieldManager: parent.FieldManager, HashAnnotation: render.AnnotationAppliedHash})
		if inv, err = inventory.Recover(ctx, engine, served, kind.profile); err != nil {
			return nil, err
		}
	}
	return inventory.Stale(inv, applied), nil
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
