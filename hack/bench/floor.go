package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// The floor of each latency figure, measured in the same run around the operator's figures: the
// shortest sequence of API requests that any operator must make for the event, sent by a bare
// client, timed from the same trigger to the same observation (this process's informers).
// On 2 cores the API server alone takes 10-35 ms a request, so a figure is judged by its ratio
// to its floor, not in absolute milliseconds.
//
// The events' other side (OLM reporting a CSV, OSP a TektonConfig, the router a Route) is
// played by internal/testsupport/simulate, as in the operator's figures: OSP's controllers and the router
// cannot run here, and the real OLM's own reaction time would swamp the figures.
//
// The bare client learns of the event as any operator must, from a watch (this process's
// informers), then writes straight to the API server, reading only from its informers, so
// that only its writes cost requests:
//   - a create adds the finalizer that deletionPolicy Delete needs before any child exists
//     (a child made first would outlive a parent deleted meanwhile; an Orphan create adds
//     none), then applies every child in parallel, each read past the informers first (an
//     operator that adopts only unowned objects must see what a label-filtered cache cannot)
//     and waiting only on its own Namespace or ClusterRole, through OSP's webhook, skipping
//     what is already up to date (the apply engine's ordering, on this client);
//   - a drift or a spec change applies the one object that changed;
//   - a status change is one status patch of the parent.

// informerReads reads from the bench's informers and writes with the direct client.
type informerReads struct {
	client.Client
	reader client.Reader
}

func (c informerReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return c.reader.Get(ctx, key, obj, opts...)
}

// floors measures every floor for rounds rounds, then empties the control plane. It runs
// twice, half the rounds before the operator and half after it, so that the floor and the
// operator's figures see the machine over the same stretch of the run: a 2-core machine's
// API server drifts by a few milliseconds a request over minutes, as much as the targets'
// margin.
func (b *bench) floors(ctx context.Context, rounds int, when string) error {
	if b.floor == nil {
		b.floor = map[string][]time.Duration{}
		// Any operator that takes over only what no other controller owns must read an
		// object its cache cannot see before it writes it (a cache of every object of the
		// kinds breaks the memory target): the bare client reads past its informers as the
		// operator's engine does, for the objects a create makes.
		b.bare = apply.New(informerReads{Client: b.c, reader: b.watch}, apply.Options{
			FieldManager: parent.FieldManager, HashAnnotation: render.AnnotationAppliedHash, Workers: 12,
			Adopt: func(_, _ *unstructured.Unstructured) error { return nil }, Uncached: b.c})
	}
	b.floorRounds = rounds
	progress("floors: %d rounds of each event, sent by a bare client %s the operator runs", rounds, when)
	for _, step := range []func(context.Context) error{b.floorCreate, b.floorSpecChange, b.floorDrift, b.floorStatus, b.floorHost} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	if err := testenv.Reset(ctx, b.c); err != nil {
		return fmt.Errorf("empty the control plane after the floors: %w", err)
	}
	return nil
}

// seen waits until the informers see cond hold: the watch event that tells an operator of
// the trigger, before which no operator can answer it.
func (b *bench) seen(ctx context.Context, what string, cond func(context.Context) bool) error {
	_, err := b.waitFor(ctx, time.Now(), what, cond)
	return err
}

// addFinalizer adds the operator's finalizer to obj, once the informers see it.
func (b *bench) addFinalizer(ctx context.Context, obj client.Object) error {
	if err := b.seen(ctx, "the new parent", func(ctx context.Context) bool {
		probe, _ := obj.DeepCopyObject().(client.Object)
		return b.watch.Get(ctx, client.ObjectKeyFromObject(obj), probe) == nil
	}); err != nil {
		return err
	}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":["`+finalizer+`"]}}`))
	return b.c.Patch(ctx, obj, patch)
}

// finalizer is the operator's (internal/parent).
const finalizer = "pipelineservice.appstudio.io/finalizer"

// applyNow server-side applies obj as the operator would, without looking first.
func (b *bench) applyNow(ctx context.Context, obj *unstructured.Unstructured) error {
	return b.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj.DeepCopy()), client.FieldOwner(parent.FieldManager), client.ForceOwnership)
}

// applyAll applies objs with the engine's ordering on the bare client.
func (b *bench) applyAll(ctx context.Context, objs []*unstructured.Unstructured) error {
	for _, r := range b.bare.Apply(ctx, objs, nil) {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// deleteAll deletes the parent, then its children but the namespaces, and waits until the
// informers see them gone.
func (b *bench) deleteAll(ctx context.Context, parentObj client.Object, objs []*unstructured.Unstructured) error {
	clear := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))
	if err := b.c.Patch(ctx, parentObj, clear); client.IgnoreNotFound(err) != nil {
		return err
	}
	if err := b.c.Delete(ctx, parentObj); client.IgnoreNotFound(err) != nil {
		return err
	}
	// Once the parent is gone, a pass of the operator's still under way (deletionPolicy
	// Orphan lets the parent go at once) may yet apply children: let it end before they
	// are deleted, or it would put back what is deleted here.
	if err := b.seen(ctx, "the parent to be deleted", func(ctx context.Context) bool {
		probe, _ := parentObj.DeepCopyObject().(client.Object)
		return b.watch.Get(ctx, client.ObjectKeyFromObject(parentObj), probe) != nil
	}); err != nil {
		return err
	}
	b.settle(ctx)
	var wait []*unstructured.Unstructured
	for _, o := range objs {
		if o.GroupVersionKind() == children.GVKNamespace {
			continue
		}
		if err := b.c.Delete(ctx, o.DeepCopy()); client.IgnoreNotFound(err) != nil {
			return err
		}
		wait = append(wait, o)
	}
	_, err := b.waitFor(ctx, time.Now(), "the floor's objects to be deleted", func(ctx context.Context) bool {
		for _, o := range wait {
			if b.live(ctx, o) != nil {
				return false
			}
		}
		probe, _ := parentObj.DeepCopyObject().(client.Object)
		return b.watch.Get(ctx, client.ObjectKeyFromObject(parentObj), probe) != nil
	})
	return err
}

func (b *bench) floorCreate(ctx context.Context) error {
	if err := b.floorCreateWith(ctx, psv1alpha1.DeletionPolicyOrphan, figCreateOrphan, false); err != nil {
		return err
	}
	return b.floorCreateWith(ctx, psv1alpha1.DeletionPolicyDelete, figCreate, true)
}

// floorCreateWith is the floor of a create with policy: the finalizer first only where the
// policy is Delete. keepLast leaves the last round's objects for the next figures.
func (b *bench) floorCreateWith(ctx context.Context, policy psv1alpha1.DeletionPolicy, figure string, keepLast bool) error {
	for i := 0; i <= b.floorRounds; i++ {
		ps, err := fullSampleWith(policy)
		if err != nil {
			return err
		}
		desired, err := render.Render(ps, allCaps)
		if err != nil {
			return err
		}
		start := time.Now()
		if err := b.c.Create(ctx, ps); err != nil {
			return err
		}
		if policy == psv1alpha1.DeletionPolicyDelete {
			if err := b.addFinalizer(ctx, ps); err != nil {
				return err
			}
		}
		if err := b.applyAll(ctx, desired.Objects); err != nil {
			return err
		}
		d, err := b.waitFor(ctx, start, "the floor's children of the full sample", b.applied(ps))
		if err != nil {
			return err
		}
		if i > 0 {
			b.floor[figure] = append(b.floor[figure], d)
		}
		if i < b.floorRounds || !keepLast {
			if err := b.deleteAll(ctx, ps, desired.Objects); err != nil {
				return err
			}
		}
	}
	return nil
}

// rendered is the object of ref's kind, namespace and name that ps renders.
func rendered(ps *psv1alpha1.PipelineService, ref *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	desired, err := render.Render(ps, allCaps)
	if err != nil {
		return nil, err
	}
	for _, o := range desired.Objects {
		if o.GetKind() == ref.GetKind() && o.GetNamespace() == ref.GetNamespace() && o.GetName() == ref.GetName() {
			return o, nil
		}
	}
	return nil, fmt.Errorf("the PipelineService renders no %s", apply.Describe(ref))
}

// floorSpecChange updates a parent that carries the operator's status, as the operator's
// parent does when its spec changes: an update sends and validates the whole object, status
// included, and the watchers receive all of it.
func (b *bench) floorSpecChange(ctx context.Context) error {
	if err := b.seedMemberStatus(ctx); err != nil {
		return err
	}
	for i := 0; i < b.floorRounds; i++ {
		for _, ch := range specChanges(fmt.Sprintf("floor-%d", i)) {
			start, ps, err := b.updated(ctx, ch.mutate)
			if err != nil {
				return err
			}
			d, err := b.applyRendered(ctx, start, b.generationSeen(ps), ps, ch.ref, ch.applied)
			if err != nil {
				return err
			}
			b.floor[ch.figure] = append(b.floor[ch.figure], d)
		}
	}
	return nil
}

// applyRendered applies what ps renders for ref once the informers see the trigger, and times
// from start until they see done hold of ref.
func (b *bench) applyRendered(ctx context.Context, start time.Time, trigger func(context.Context) bool, ps *psv1alpha1.PipelineService, ref *unstructured.Unstructured, done func(*unstructured.Unstructured) bool) (time.Duration, error) {
	obj, err := rendered(ps, ref)
	if err != nil {
		return 0, err
	}
	if err := b.seen(ctx, "the trigger of "+apply.Describe(ref), trigger); err != nil {
		return 0, err
	}
	if err := b.applyNow(ctx, obj); err != nil {
		return 0, err
	}
	return b.waitFor(ctx, start, apply.Describe(ref), func(ctx context.Context) bool {
		l := b.live(ctx, ref)
		return l != nil && done(l)
	})
}

func (b *bench) floorDrift(ctx context.Context) error {
	ps := &psv1alpha1.PipelineService{}
	if err := b.c.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, ps); err != nil {
		return err
	}
	for i := 0; i < b.floorRounds; i++ {
		for _, ev := range b.drifts() {
			start, made, undone, err := ev.make(ctx)
			if err != nil {
				return err
			}
			d, err := b.applyRendered(ctx, start, made, ps, ev.ref, undone)
			if err != nil {
				return err
			}
			b.floor[ev.figure] = append(b.floor[ev.figure], d)
		}
	}
	return nil
}

// generationSeen is whether the informers see ps's generation, just written.
func (b *bench) generationSeen(ps *psv1alpha1.PipelineService) func(context.Context) bool {
	return func(ctx context.Context) bool {
		live := b.pipelineService(ctx)
		return live != nil && live.Generation >= ps.Generation
	}
}

// liveHolds is whether the informers see ref, and cond holds of it.
func (b *bench) liveHolds(ref *unstructured.Unstructured, cond func(*unstructured.Unstructured) bool) func(context.Context) bool {
	return func(ctx context.Context) bool {
		l := b.live(ctx, ref)
		return l != nil && cond(l)
	}
}

// csvRef names a ClusterServiceVersion.
func csvRef(namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(children.GVKClusterServiceVersion)
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

// conditionTrue is whether an object's status (or a Route ingress's) has condition t True.
func conditionTrue(t string) func(*unstructured.Unstructured) bool {
	return func(l *unstructured.Unstructured) bool {
		conditions, _, _ := unstructured.NestedSlice(l.Object, "status", "conditions")
		if conditions == nil {
			conditions, _, _ = unstructured.NestedSlice(l.Object, "conditions")
		}
		for _, c := range conditions {
			if m, ok := c.(map[string]any); ok && m["type"] == t && m["status"] == "True" {
				return true
			}
		}
		return false
	}
}

// otherPrunerWriter is another field manager taking the TektonConfig's pruner over.
func otherPrunerWriter() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operator.tekton.dev/v1alpha1", "kind": "TektonConfig", "metadata": map[string]any{"name": render.TektonConfigName},
		"spec": map[string]any{"pruner": map[string]any{"disabled": false, "keep": int64(3), "schedule": "0 * * * *"}},
	}}
}

// setReady patches the Ready condition of obj's status, as one status write of a pass would.
func (b *bench) setReady(ctx context.Context, obj client.Object, conditions *[]metav1.Condition, status metav1.ConditionStatus) error {
	base, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("copy %T", obj)
	}
	meta.SetStatusCondition(conditions, metav1.Condition{Type: psv1alpha1.ConditionReady, Status: status, Reason: "Floor", Message: "floor",
		ObservedGeneration: obj.GetGeneration()})
	return b.c.Status().Patch(ctx, obj, client.MergeFrom(base))
}

// seedStatus gives the floor's parent obj the status the operator writes on a healthy cluster,
// from the ArgoCD fixture that TestArgoCDHealthFixturesAreLive keeps equal to a live run's
// (config/argocd/.../<kind>/testdata/live_healthy.yaml), so that the floor's status patch is
// the operator's: the whole conditions list, which a merge patch replaces, on an object of the
// operator's size. A floor that flipped one condition of an otherwise empty status would
// measure a smaller object than any operator that reports its state writes.
func (b *bench) seedStatus(ctx context.Context, obj client.Object, kind string, status func(fixture []byte) error) error {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "argocd", "resource_customizations",
		psv1alpha1.GroupVersion.Group, kind, "testdata", "live_healthy.yaml"))
	if err != nil {
		return err
	}
	if err := b.c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return err
	}
	base, _ := obj.DeepCopyObject().(client.Object)
	if err := status(data); err != nil {
		return fmt.Errorf("the %s fixture: %w", kind, err)
	}
	return b.c.Status().Patch(ctx, obj, client.MergeFrom(base))
}

// seededStatus is the status of fixture for a parent at generation.
func seededStatus[S any](fixture []byte, generation int64, conditions func(*S) []metav1.Condition) (S, error) {
	var doc struct {
		Status S `json:"status"`
	}
	if err := yaml.Unmarshal(fixture, &doc); err != nil {
		return doc.Status, err
	}
	for i := range conditions(&doc.Status) {
		conditions(&doc.Status)[i].ObservedGeneration = generation
	}
	return doc.Status, nil
}

// seedMemberStatus gives the floor's PipelineService the operator's healthy status.
func (b *bench) seedMemberStatus(ctx context.Context) error {
	ps := &psv1alpha1.PipelineService{}
	ps.Name = psv1alpha1.Name
	return b.seedStatus(ctx, ps, "PipelineService", func(fixture []byte) error {
		status, err := seededStatus(fixture, ps.Generation, func(s *psv1alpha1.PipelineServiceStatus) []metav1.Condition { return s.Conditions })
		status.ObservedGeneration = ps.Generation
		ps.Status = status
		return err
	})
}

func (b *bench) floorStatus(ctx context.Context) error {
	spec, stack := statusStack()
	if err := simulate.Healthy(ctx, b.c, spec, stack); err != nil {
		return err
	}
	if err := b.seedMemberStatus(ctx); err != nil {
		return err
	}
	patch := func(status metav1.ConditionStatus) error {
		ps := &psv1alpha1.PipelineService{}
		if err := b.c.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, ps); err != nil {
			return err
		}
		return b.setReady(ctx, ps, &ps.Status.Conditions, status)
	}
	for i := 0; i < b.floorRounds; i++ {
		for _, ev := range b.statusEvents(ctx, spec, stack) {
			if err := ev.spoil(); err != nil {
				return err
			}
			if err := patch(metav1.ConditionFalse); err != nil {
				return err
			}
			if _, err := b.waitFor(ctx, time.Now(), "Ready=False", b.ready(false)); err != nil {
				return err
			}
			start := time.Now()
			if err := ev.mend(); err != nil {
				return err
			}
			if err := b.seen(ctx, "the mended "+ev.figure, ev.mended); err != nil {
				return err
			}
			if err := patch(metav1.ConditionTrue); err != nil {
				return err
			}
			d, err := b.waitFor(ctx, start, "Ready=True", b.ready(true))
			if err != nil {
				return err
			}
			b.floor[ev.figure] = append(b.floor[ev.figure], d)
		}
	}
	return nil
}

func (b *bench) floorHost(ctx context.Context) error {
	get := func(ctx context.Context) *psv1alpha1.PipelineServiceHost {
		h := &psv1alpha1.PipelineServiceHost{}
		if err := b.watch.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, h); err != nil {
			return nil
		}
		return h
	}
	var h *psv1alpha1.PipelineServiceHost
	var desired []*unstructured.Unstructured
	for i := 0; i <= b.floorRounds; i++ {
		var err error
		if h, err = samples.LoadHost(samples.Host); err != nil {
			return err
		}
		h.Spec.DeletionPolicy = psv1alpha1.DeletionPolicyDelete
		if desired, err = render.Host(h, allCaps); err != nil {
			return err
		}
		start := time.Now()
		if err := b.c.Create(ctx, h); err != nil {
			return err
		}
		if err := b.addFinalizer(ctx, h); err != nil {
			return err
		}
		if err := b.applyAll(ctx, desired); err != nil {
			return err
		}
		d, err := b.waitFor(ctx, start, "the floor's children of the host sample", b.hostApplied(desired))
		if err != nil {
			return err
		}
		if i > 0 {
			b.floor[figHostCreate] = append(b.floor[figHostCreate], d)
		}
		if i < b.floorRounds {
			if err := b.deleteAll(ctx, h, desired); err != nil {
				return err
			}
		}
	}
	ns, name := "sprayproxy", render.SprayProxyName
	dep := objectRef(children.GVKDeployment.Kind, ns, name)
	var depObj *unstructured.Unstructured
	for _, o := range desired {
		if o.GetKind() == dep.GetKind() && o.GetName() == name {
			depObj = o
		}
	}
	ready := func(want bool) func(context.Context) bool {
		return func(ctx context.Context) bool {
			h := get(ctx)
			return h != nil && meta.IsStatusConditionTrue(h.Status.Conditions, psv1alpha1.ConditionReady) == want
		}
	}
	patch := func(status metav1.ConditionStatus) error {
		h := &psv1alpha1.PipelineServiceHost{}
		if err := b.c.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, h); err != nil {
			return err
		}
		return b.setReady(ctx, h, &h.Status.Conditions, status)
	}
	seed := &psv1alpha1.PipelineServiceHost{}
	seed.Name = psv1alpha1.Name
	if err := b.seedStatus(ctx, seed, "PipelineServiceHost", func(fixture []byte) error {
		status, err := seededStatus(fixture, seed.Generation, func(s *psv1alpha1.PipelineServiceHostStatus) []metav1.Condition { return s.Conditions })
		status.ObservedGeneration = seed.Generation
		seed.Status = status
		return err
	}); err != nil {
		return err
	}
	for i := 0; i < b.floorRounds; i++ {
		if err := b.routeAdmitted(ctx, false); err != nil {
			return err
		}
		if err := patch(metav1.ConditionFalse); err != nil {
			return err
		}
		if _, err := b.waitFor(ctx, time.Now(), "host Ready=False", ready(false)); err != nil {
			return err
		}
		start := time.Now()
		if err := b.routeAdmitted(ctx, true); err != nil {
			return err
		}
		route := objectRef(children.GVKRoute.Kind, ns, name)
		if err := b.seen(ctx, "the admitted Route", b.liveHolds(route, func(l *unstructured.Unstructured) bool {
			ingress, _, _ := unstructured.NestedSlice(l.Object, "status", "ingress")
			return len(ingress) > 0 && conditionTrue("Admitted")(&unstructured.Unstructured{Object: ingress[0].(map[string]any)})
		})); err != nil {
			return err
		}
		if err := patch(metav1.ConditionTrue); err != nil {
			return err
		}
		d, err := b.waitFor(ctx, start, "host Ready=True", ready(true))
		if err != nil {
			return err
		}
		b.floor[figHostStatus] = append(b.floor[figHostStatus], d)

		start, made, undone, err := b.deletion(figHostDrift, dep).make(ctx)
		if err != nil {
			return err
		}
		if err := b.seen(ctx, "the deleted SprayProxy Deployment", made); err != nil {
			return err
		}
		if err := b.applyNow(ctx, depObj); err != nil {
			return err
		}
		if d, err = b.waitFor(ctx, start, "the SprayProxy Deployment", b.liveHolds(dep, undone)); err != nil {
			return err
		}
		b.floor[figHostDrift] = append(b.floor[figHostDrift], d)
	}
	return nil
}
