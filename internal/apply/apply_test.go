package apply

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// The engine against controller-runtime's fake client, whose interceptors record the order of
// the applies and make one of them slow, fail or wait: the rules here are the engine's own
// (what waits for what, what a failure or a cancel does to the others), not the API server's,
// which the envtest tests cover.

const hashAnnotation = "example.com/hash"

func object(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(namespace)
	u.SetName(name)
	u.SetAnnotations(map[string]string{hashAnnotation: "h1"})
	return u
}

func namespace(name string) *unstructured.Unstructured {
	return object("v1", "Namespace", "", name)
}

func configMap(ns, name string) *unstructured.Unstructured {
	u := object("v1", "ConfigMap", ns, name)
	u.Object["data"] = map[string]any{"k": "v"}
	return u
}

func clusterRole(name string) *unstructured.Unstructured {
	u := object("rbac.authorization.k8s.io/v1", "ClusterRole", "", name)
	u.Object["rules"] = []any{map[string]any{"apiGroups": []any{""}, "resources": []any{"pods"}, "verbs": []any{"get"}}}
	return u
}

func binding(name, role string) *unstructured.Unstructured {
	u := object("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", name)
	u.Object["roleRef"] = map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}
	return u
}

// journal records the start and end of each apply, in order.
type journal struct {
	mu      sync.Mutex
	entries []string
	applies int
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, s)
}

func (j *journal) index(s string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Index(j.entries, s)
}

// engine returns an engine on a fake client whose applies run through before: it may delay
// or refuse an apply by the applied object's name.
func engine(t *testing.T, j *journal, before func(ctx context.Context, name string) error) *Engine {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(s).WithInterceptorFuncs(interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			data, err := json.Marshal(obj)
			if err != nil {
				return err
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(data); err != nil {
				return err
			}
			name := u.GetName()
			j.add("start " + name)
			defer j.add("end " + name)
			j.mu.Lock()
			j.applies++
			j.mu.Unlock()
			if before != nil {
				if err := before(ctx, name); err != nil {
					return err
				}
			}
			return c.Apply(ctx, obj, opts...)
		},
	}).Build()
	return New(c, Options{FieldManager: "test", HashAnnotation: hashAnnotation, Workers: 4})
}

// slow delays the apply of the named object, so that anything that does not wait for it
// would start before it ends.
func slow(names ...string) func(context.Context, string) error {
	return func(_ context.Context, name string) error {
		if slices.Contains(names, name) {
			time.Sleep(100 * time.Millisecond)
		}
		return nil
	}
}

func TestApplyWaitsForTheNamespaceAndTheRole(t *testing.T) {
	g := NewWithT(t)
	j := &journal{}
	e := engine(t, j, slow("team", "reader"))
	objs := []*unstructured.Unstructured{configMap("team", "settings"), binding("readers", "reader"), configMap("other", "free"), namespace("team"), clusterRole("reader")}
	results := e.Apply(context.Background(), objs, nil)
	for i, r := range results {
		g.Expect(r.Err).NotTo(HaveOccurred())
		g.Expect(r.Changed).To(BeTrue())
		g.Expect(r.Object).To(BeIdenticalTo(objs[i]), "results come in the order given")
	}
	g.Expect(j.index("end team")).To(BeNumerically("<", j.index("start settings")), "a namespaced object waits for its Namespace: %v", j.entries)
	g.Expect(j.index("end reader")).To(BeNumerically("<", j.index("start readers")), "a binding waits for its ClusterRole: %v", j.entries)
	g.Expect(j.index("start free")).To(BeNumerically("<", j.index("end team")), "an object whose Namespace is not in the batch does not wait: %v", j.entries)
}

func TestApplyOneFailureLeavesTheOthersApplied(t *testing.T) {
	g := NewWithT(t)
	j := &journal{}
	refused := apierrors.NewBadRequest(`admission webhook "validation.webhook.operator.tekton.dev" denied the request`)
	e := engine(t, j, func(_ context.Context, name string) error {
		if name == "b" {
			return refused
		}
		return nil
	})
	results := e.Apply(context.Background(), []*unstructured.Unstructured{configMap("ns", "a"), configMap("ns", "b"), configMap("ns", "c")}, nil)
	g.Expect(results[0].Err).NotTo(HaveOccurred())
	g.Expect(results[2].Err).NotTo(HaveOccurred())
	g.Expect(results[0].Changed && results[2].Changed).To(BeTrue())
	g.Expect(results[1].Changed).To(BeFalse())
	g.Expect(apierrors.IsBadRequest(results[1].Err)).To(BeTrue(), "the server's refusal is kept: %v", results[1].Err)
	g.Expect(results[1].Err.Error()).To(HavePrefix("apply ConfigMap ns/b: "), "the error names the object")
}

func TestApplyKeepsAConflictAConflict(t *testing.T) {
	g := NewWithT(t)
	e := engine(t, &journal{}, func(_ context.Context, name string) error {
		return apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, name, errors.New("the object has been modified"))
	})
	results := e.Apply(context.Background(), []*unstructured.Unstructured{configMap("ns", "a")}, nil)
	g.Expect(apierrors.IsConflict(results[0].Err)).To(BeTrue(), "the caller retries conflicts quietly, so it must see one: %v", results[0].Err)
}

func TestApplyStopsWaitingWhenTheContextEnds(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	e := engine(t, &journal{}, func(ctx context.Context, name string) error {
		if name == "team" {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})
	done := make(chan []Result)
	go func() {
		done <- e.Apply(ctx, []*unstructured.Unstructured{namespace("team"), configMap("team", "settings")}, nil)
	}()
	var results []Result
	g.Eventually(done, 10*time.Second).Should(Receive(&results), "Apply returns once the context ends")
	for _, r := range results {
		g.Expect(errors.Is(r.Err, context.Canceled)).To(BeTrue(), "%s: %v", Describe(r.Object), r.Err)
	}
}

func TestApplyWritesNothingWhenUpToDate(t *testing.T) {
	g := NewWithT(t)
	j := &journal{}
	e := engine(t, j, nil)
	objs := func() []*unstructured.Unstructured {
		return []*unstructured.Unstructured{namespace("team"), configMap("team", "settings")}
	}
	for _, r := range e.Apply(context.Background(), objs(), nil) {
		g.Expect(r.Changed).To(BeTrue())
	}
	g.Expect(j.applies).To(Equal(2))
	for _, r := range e.Apply(context.Background(), objs(), nil) {
		g.Expect(r.Err).NotTo(HaveOccurred())
		g.Expect(r.Changed).To(BeFalse(), Describe(r.Object))
	}
	g.Expect(j.applies).To(Equal(2), "a pass with nothing to change applies nothing")

	changed := objs()
	changed[1].Object["data"] = map[string]any{"k": "w"}
	changed[1].SetAnnotations(map[string]string{hashAnnotation: "h2"})
	results := e.Apply(context.Background(), changed, nil)
	g.Expect(results[0].Changed).To(BeFalse())
	g.Expect(results[1].Changed).To(BeTrue())
	g.Expect(j.applies).To(Equal(3))
}

func TestDeleteReportsWhatRemains(t *testing.T) {
	g := NewWithT(t)
	e := engine(t, &journal{}, nil)
	ctx := context.Background()
	for _, r := range e.Apply(ctx, []*unstructured.Unstructured{configMap("ns", "a")}, nil) {
		g.Expect(r.Err).NotTo(HaveOccurred())
	}
	remaining, err := e.Delete(ctx, []*unstructured.Unstructured{configMap("ns", "a"), configMap("ns", "gone")})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(remaining).To(HaveLen(1), "the object found is reported; the one already gone is not")
	remaining, err = e.Delete(ctx, []*unstructured.Unstructured{configMap("ns", "a")})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(remaining).To(BeEmpty())
}

// TestAdoptRefusesAWriteOverAnotherOwnersObject: an existing object the Adopt rule refuses is
// not written, its error is its result, and the others are applied; one the rule accepts, or
// one that does not exist yet, is applied.
func TestAdoptRefusesAWriteOverAnotherOwnersObject(t *testing.T) {
	g := NewWithT(t)
	j := &journal{}
	e := engine(t, j, nil)
	theirs := configMap("team", "theirs")
	theirs.SetAnnotations(nil)
	e.Apply(context.Background(), []*unstructured.Unstructured{theirs, configMap("team", "adoptable")}, nil)
	asked := map[string]bool{}
	var mu sync.Mutex
	e.adopt = func(desired, live *unstructured.Unstructured) error {
		mu.Lock()
		defer mu.Unlock()
		asked[live.GetName()] = true
		if live.GetName() == "theirs" {
			return &OwnedElsewhereError{Object: Describe(live), Owner: "Thing x"}
		}
		return nil
	}
	j.applies = 0
	adoptable := configMap("team", "adoptable")
	adoptable.SetAnnotations(map[string]string{hashAnnotation: "h2"})
	results := e.Apply(context.Background(), []*unstructured.Unstructured{configMap("team", "theirs"), adoptable, configMap("team", "new")}, nil)
	var owned *OwnedElsewhereError
	g.Expect(errors.As(results[0].Err, &owned)).To(BeTrue())
	g.Expect(results[0].Err.Error()).To(ContainSubstring("ConfigMap team/theirs is owned by Thing x"))
	g.Expect(results[1].Err).NotTo(HaveOccurred())
	g.Expect(results[2].Err).NotTo(HaveOccurred())
	g.Expect(j.applies).To(Equal(2), "the refused object is not written")
	g.Expect(asked).To(Equal(map[string]bool{"theirs": true, "adoptable": true}), "only existing objects are asked about")
}
