// Package apply is the operator's resource manager: it server-side applies rendered objects in
// parallel, each after the Namespace it lives in (a binding after its ClusterRole), skips objects that are already up to date,
// deletes what is no longer wanted, and lists what carries the operator's label. It knows
// nothing of PipelineService: what to apply comes from the caller.
package apply

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
)

// Engine applies and deletes objects for one field manager.
type Engine struct {
	client client.Client
	owner  string
	// hashAnnotation holds the hash of what was last applied: an equal hash, with every
	// rendered field still holding its value, means there is nothing to write.
	hashAnnotation string
	workers        int
	adopt          func(desired, live *unstructured.Unstructured) error
	uncached       client.Reader
}

// Options configure an Engine.
type Options struct {
	// FieldManager owns the applied fields; ownership is forced.
	FieldManager string
	// HashAnnotation is the annotation the renderer stamps with each object's content hash.
	HashAnnotation string
	// Workers bounds the objects applied at once.
	Workers int
	// Adopt, when set, is asked before an existing object that does not yet hold what was
	// rendered is written: an error refuses the write (an *OwnedElsewhereError, for an object
	// another controller owns) and is the object's result.
	Adopt func(desired, live *unstructured.Unstructured) error
	// Uncached reads, for Adopt, an object the client's cache does not hold: a cache that sees
	// only the operator's labelled objects does not see an unlabelled one of the same name
	// (another controller's, or one GitOps applied), which must be read before it is written
	// over.
	Uncached client.Reader
}

// OwnedElsewhereError is the refusal to write over an object that another controller owns.
type OwnedElsewhereError struct {
	// Object is the refused object (Describe), Owner who owns it.
	Object, Owner string
}

func (e *OwnedElsewhereError) Error() string {
	return fmt.Sprintf("%s is owned by %s, and the operator adopts only objects no other controller owns: name another object in the spec, or remove that owner", e.Object, e.Owner)
}

// New returns an Engine that reads and writes through c.
func New(c client.Client, opts Options) *Engine {
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	return &Engine{client: c, owner: opts.FieldManager, hashAnnotation: opts.HashAnnotation, workers: opts.Workers, adopt: opts.Adopt, uncached: opts.Uncached}
}

// Result is what applying one object did.
type Result struct {
	Object *unstructured.Unstructured
	// Changed: the object was created or changed (a write was made).
	Changed bool
	Err     error
}

// Apply applies objs, in parallel up to the worker bound, and returns one Result per object
// in the order given. An object waits only for what it needs, when that is among objs: the
// Namespace it lives in, and for a binding the ClusterRole it grants (an API server checks
// that whoever binds a role holds what it grants, and a role that does not exist yet fails
// that check). Everything else starts at once, so the first apply takes as long as its slowest
// chain rather than a round trip per tier. Each object is read before the wait, so that the
// read that Adopt may need costs nothing on that chain. A failure does not stop the others:
// each object that can be applied is, and the caller sees every error.
//
// known, when not nil, says which objects are the caller's already (its inventory): those are
// not read past the cache, as nobody else's can hide behind their names.
func (e *Engine) Apply(ctx context.Context, objs []*unstructured.Unstructured, known func(*unstructured.Unstructured) bool) []Result {
	results := make([]Result, len(objs))
	done := map[string]chan struct{}{}
	for _, o := range objs {
		if gk := o.GroupVersionKind().GroupKind(); gk == namespaceKind || gk == clusterRoleKind {
			done[prerequisite(gk.Kind, o.GetName())] = make(chan struct{})
		}
	}
	sem := make(chan struct{}, e.workers)
	var wg sync.WaitGroup
	for i, o := range objs {
		results[i].Object = o
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ch, ok := done[prerequisite(o.GetKind(), o.GetName())]; ok && o.GetNamespace() == "" {
				defer close(ch)
			}
			sem <- struct{}{}
			live, err := e.read(ctx, o, known == nil || !known(o))
			<-sem
			if err != nil {
				results[i].Err = err
				return
			}
			for _, need := range prerequisites(o) {
				if ready, ok := done[need]; ok {
					select {
					case <-ready:
					case <-ctx.Done():
					}
				}
			}
			// A prerequisite that ended because the context did (both cases of the select
			// ready at once, select picks either) must not be followed by a write.
			if err := ctx.Err(); err != nil {
				results[i].Err = fmt.Errorf("apply %s: %w", Describe(o), err)
				return
			}
			// The slot is taken after the wait, so that a waiting object never holds one
			// what it waits for needs.
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i].Changed, results[i].Err = e.write(ctx, o, live)
		}()
	}
	wg.Wait()
	return results
}

var (
	namespaceKind   = schema.GroupKind{Kind: "Namespace"}
	clusterRoleKind = schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}
)

// prerequisite names an object others may wait for.
func prerequisite(kind, name string) string { return kind + "/" + name }

// prerequisites are what o waits for when they are applied with it: its Namespace, and the
// ClusterRole a binding refers to.
func prerequisites(o *unstructured.Unstructured) []string {
	var out []string
	if ns := o.GetNamespace(); ns != "" {
		out = append(out, prerequisite(namespaceKind.Kind, ns))
	}
	if o.GetKind() == "ClusterRoleBinding" || o.GetKind() == "RoleBinding" {
		if kind, _, _ := unstructured.NestedString(o.Object, "roleRef", "kind"); kind == clusterRoleKind.Kind {
			name, _, _ := unstructured.NestedString(o.Object, "roleRef", "name")
			out = append(out, prerequisite(kind, name))
		}
	}
	return out
}

// read returns the live object of desired, nil when it does not exist. A cache miss is read
// again past the cache when Adopt must see what may be there and unseen is true.
func (e *Engine) read(ctx context.Context, desired *unstructured.Unstructured, unseen bool) (*unstructured.Unstructured, error) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(desired.GroupVersionKind())
	err := e.client.Get(ctx, client.ObjectKeyFromObject(desired), live)
	if apierrors.IsNotFound(err) && unseen && e.adopt != nil && e.uncached != nil {
		err = e.uncached.Get(ctx, client.ObjectKeyFromObject(desired), live)
	}
	switch {
	case err == nil:
		return live, nil
	case apierrors.IsNotFound(err):
		return nil, nil
	}
	return nil, fmt.Errorf("get %s: %w", Describe(desired), err)
}

// write server-side applies desired over live (nil: absent), forcing ownership of the fields
// it renders and nothing else, and says whether it wrote. It skips the write when live already
// carries the rendered content (UpToDate), so a pass with nothing to change writes nothing,
// and when Adopt refuses to take live over.
func (e *Engine) write(ctx context.Context, desired, live *unstructured.Unstructured) (bool, error) {
	if live != nil {
		if e.UpToDate(desired, live) {
			return false, nil
		}
		if e.adopt != nil {
			if err := e.adopt(desired, live); err != nil {
				return false, err
			}
		}
	}
	if err := e.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(desired.DeepCopy()),
		client.FieldOwner(e.owner), client.ForceOwnership); err != nil {
		return false, fmt.Errorf("apply %s: %w", Describe(desired), err)
	}
	return true, nil
}

// UpToDate is whether live already holds everything desired renders: the same content hash
// (so no field was added or dropped since the last apply) and every rendered field with its
// rendered value (so nobody edited one of ours).
func (e *Engine) UpToDate(desired, live *unstructured.Unstructured) bool {
	if live.GetDeletionTimestamp() != nil {
		return false
	}
	if live.GetAnnotations()[e.hashAnnotation] != desired.GetAnnotations()[e.hashAnnotation] {
		return false
	}
	return fields.IsSubset(desired.Object, live.Object)
}

// Delete deletes each object that still exists and is not being deleted, in the background
// (garbage collection then removes what it owns, a Deployment's ReplicaSets), and returns
// those it found: deleted now, or still going. An object or kind that is gone is not an
// error; the first other failure stops it.
func (e *Engine) Delete(ctx context.Context, objs []*unstructured.Unstructured) (remaining []*unstructured.Unstructured, err error) {
	for _, ref := range objs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(ref.GroupVersionKind())
		if err := e.client.Get(ctx, client.ObjectKeyFromObject(ref), live); err != nil {
			if gone(err) {
				continue
			}
			return remaining, fmt.Errorf("get %s: %w", Describe(ref), err)
		}
		remaining = append(remaining, live)
		if live.GetDeletionTimestamp() != nil {
			continue
		}
		if err := e.client.Delete(ctx, live, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !gone(err) {
			return remaining, fmt.Errorf("delete %s: %w", Describe(ref), err)
		}
	}
	return remaining, nil
}

// List lists the objects of gvk that selector selects.
func (e *Engine) List(ctx context.Context, gvk schema.GroupVersionKind, selector labels.Selector) ([]*unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := e.client.List(ctx, list, client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return nil, fmt.Errorf("list %s: %w", gvk.Kind, err)
	}
	out := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out, nil
}

// Describe names an object for messages: "Kind name" or "Kind namespace/name".
func Describe(o client.Object) string {
	kind := o.GetObjectKind().GroupVersionKind().Kind
	if o.GetNamespace() == "" {
		return fmt.Sprintf("%s %s", kind, o.GetName())
	}
	return fmt.Sprintf("%s %s/%s", kind, o.GetNamespace(), o.GetName())
}
