package controllers_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// The behaviours every parent has because it runs on internal/parent, tested once, as a table
// run per kind: drift healed, pruning, no writes when nothing changes, both deletion policies,
// and a child whose CRD arrives late. A third kind is a third row.

// ref names one object.
type ref struct {
	gvk             schema.GroupVersionKind
	namespace, name string
}

func (r ref) String() string { return fmt.Sprintf("%s %s/%s", r.gvk.Kind, r.namespace, r.name) }

// parentKind is one kind as the shared behaviours see it.
type parentKind struct {
	name   string
	gvk    schema.GroupVersionKind
	golden string
	create func(e *operatorEnv, policy psv1alpha1.DeletionPolicy)
	// deleted is a child deleted by someone; edited one whose field someone changes with an
	// update (path, to foreign, which the operator sets back to want).
	deleted       ref
	edited        ref
	path          []string
	foreign, want any
	// prune is a spec change (a field path set to a value) after which the spec no longer
	// renders pruned, nor checks prunedCondition.
	prune           []string
	pruneTo         any
	pruned          ref
	prunedCondition string
	// lateCRD serves late, whose object waits with the registry's Awaited reason.
	lateCRD func() (*apiextensionsv1.CustomResourceDefinition, error)
	late    ref
}

var parentKinds = []parentKind{
	{
		name: "PipelineService", gvk: psv1alpha1.GroupVersion.WithKind("PipelineService"), golden: "full.yaml",
		create: func(e *operatorEnv, policy psv1alpha1.DeletionPolicy) {
			e.create(samples.Full, func(ps *psv1alpha1.PipelineService) { ps.Spec.DeletionPolicy = policy })
		},
		deleted: ref{children.GVKDeployment, "openshift-pipelines", render.ExporterName},
		edited:  ref{children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator"},
		path:    []string{"spec", "channel"}, foreign: "stable", want: "latest",
		prune: []string{"spec", "exporter", "enabled"}, pruneTo: false,
		pruned: ref{children.GVKDeployment, "openshift-pipelines", render.ExporterName}, prunedCondition: psv1alpha1.ConditionExporterAvailable,
		lateCRD: testenv.TektonConfigCRD, late: ref{children.GVKTektonConfig, "", render.TektonConfigName},
	},
	{
		name: "PipelineServiceHost", gvk: psv1alpha1.GroupVersion.WithKind("PipelineServiceHost"), golden: "host.yaml",
		create: func(e *operatorEnv, policy psv1alpha1.DeletionPolicy) {
			e.createHost(func(h *psv1alpha1.PipelineServiceHost) { h.Spec.DeletionPolicy = policy })
		},
		deleted: ref{children.GVKDeployment, sprayProxyNamespace, render.SprayProxyName},
		edited:  ref{children.GVKRoute, sprayProxyNamespace, render.SprayProxyName},
		path:    []string{"spec", "host"}, foreign: "elsewhere.example.com", want: sprayProxyHost,
		prune: []string{"spec", "resultsProxyPlugin", "enabled"}, pruneTo: false,
		pruned: ref{children.GVKProxyPlugin, proxyPluginNamespace, "tekton-results"}, prunedCondition: psv1alpha1.ConditionProxyPluginReady,
		lateCRD: testenv.ProxyPluginCRD, late: ref{children.GVKProxyPlugin, proxyPluginNamespace, "tekton-results"},
	},
}

// parentObject reads the kind's parent; nil when it does not exist.
func (e *operatorEnv) parentObject(k parentKind) *unstructured.Unstructured {
	return e.object(k.gvk, "", psv1alpha1.Name)
}

// parentConditions are the parent's conditions.
func parentConditions(u *unstructured.Unstructured) []metav1.Condition {
	var st struct {
		Conditions []metav1.Condition `json:"conditions"`
	}
	raw, _, _ := unstructured.NestedMap(u.Object, "status")
	_ = runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &st)
	return st.Conditions
}

// waitParentConverged waits until the parent's generation is wholly applied and the operator
// has made no write for a second.
func (e *operatorEnv) waitParentConverged(k parentKind) {
	e.t.Helper()
	e.Eventually(func(g Gomega) {
		p := e.parentObject(k)
		g.Expect(p).NotTo(BeNil())
		applied, _, _ := unstructured.NestedInt64(p.Object, "status", "lastAppliedGeneration")
		g.Expect(applied).To(Equal(p.GetGeneration()))
	}, timeout, poll).Should(Succeed())
	e.waitNoWrites()
}

// inventoryHolds is whether the parent's status.inventory lists r.
func inventoryHolds(p *unstructured.Unstructured, r ref) bool {
	inv, _, _ := unstructured.NestedSlice(p.Object, "status", "inventory")
	return slices.ContainsFunc(inv, func(x any) bool {
		m, _ := x.(map[string]any)
		return m["kind"] == r.gvk.Kind && m["name"] == r.name && (m["namespace"] == r.namespace || (m["namespace"] == nil && r.namespace == ""))
	})
}

// updateParent sets a field of the parent's spec, retrying on conflicts.
func (e *operatorEnv) updateParent(k parentKind, value any, path ...string) {
	e.t.Helper()
	e.Eventually(func() error {
		p := e.parentObject(k)
		if err := unstructured.SetNestedField(p.Object, value, path...); err != nil {
			return err
		}
		return e.c.Update(context.Background(), p)
	}, timeout, poll).Should(Succeed())
}

func TestSharedBehaviours(t *testing.T) {
	// Parallel, so that its subtests share the parallel phase with every other test rather
	// than hold the sequential one, where no other test runs, for as long as they take.
	t.Parallel()
	for _, k := range parentKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Run("drift is healed", func(t *testing.T) { testDrift(t, k) })
			t.Run("what the spec no longer renders is pruned", func(t *testing.T) { testPruning(t, k) })
			t.Run("a pass with nothing to change writes nothing", func(t *testing.T) { testNoOp(t, k) })
			t.Run("deletion policies", func(t *testing.T) { testDeletionPolicies(t, k) })
			t.Run("a CRD that arrives late", func(t *testing.T) { testLateCRD(t, k) })
		})
	}
}

// startConverged runs the operator with the kind's sample (deletionPolicy Orphan) applied and
// converged: where drift, pruning and no-op writes start from.
func startConverged(t *testing.T, k parentKind) *operatorEnv {
	t.Helper()
	e := startOperator(t, nil)
	k.create(e, psv1alpha1.DeletionPolicyOrphan)
	e.waitForGolden(k.golden)
	e.waitParentConverged(k)
	return e
}

// testDrift: a child deleted is made again, a field of ours edited is set back, and the
// operator says so.
func testDrift(t *testing.T, k parentKind) {
	e := startConverged(t, k)
	ctx := context.Background()

	deleted := e.object(k.deleted.gvk, k.deleted.namespace, k.deleted.name)
	e.Expect(e.c.Delete(ctx, deleted)).To(Succeed())
	edited := e.object(k.edited.gvk, k.edited.namespace, k.edited.name)
	e.Expect(unstructured.SetNestedField(edited.Object, k.foreign, k.path...)).To(Succeed())
	e.Expect(e.c.Update(ctx, edited, client.FieldOwner("someone"))).To(Succeed())

	e.Eventually(func(g Gomega) {
		d := e.object(k.deleted.gvk, k.deleted.namespace, k.deleted.name)
		g.Expect(d).NotTo(BeNil(), "%s is made again", k.deleted)
		g.Expect(d.GetUID()).NotTo(Equal(deleted.GetUID()))
		g.Expect(field(e.object(k.edited.gvk, k.edited.namespace, k.edited.name), k.path...)).To(Equal(k.want), "%s is set back", k.edited)
	}, timeout, poll).Should(Succeed())
	e.expectEvent(psv1alpha1.ReasonDriftHealed, "restored")
	e.waitForGolden(k.golden)
}

// testPruning: a child the spec no longer renders is deleted, leaves the inventory, and its
// part's condition goes.
func testPruning(t *testing.T, k parentKind) {
	e := startConverged(t, k)
	e.Expect(inventoryHolds(e.parentObject(k), k.pruned)).To(BeTrue())

	e.updateParent(k, k.pruneTo, k.prune...)
	e.Eventually(func(g Gomega) {
		g.Expect(e.object(k.pruned.gvk, k.pruned.namespace, k.pruned.name)).To(BeNil(), "%s is pruned", k.pruned)
		p := e.parentObject(k)
		g.Expect(inventoryHolds(p, k.pruned)).To(BeFalse(), "%s leaves the inventory", k.pruned)
		g.Expect(meta.FindStatusCondition(parentConditions(p), k.prunedCondition)).To(BeNil())
	}, timeout, poll).Should(Succeed())
	e.expectEvent(psv1alpha1.ReasonApplied, "deleted "+k.pruned.gvk.Kind+" "+k.pruned.namespace+"/"+k.pruned.name)
	e.waitParentConverged(k)
}

// testNoOp: reconciles with nothing to change (the parent and a child annotated, which wakes
// the operator without changing a spec) make no write, OSP's webhook in the loop.
func testNoOp(t *testing.T, k parentKind) {
	e := startConverged(t, k)
	ctx := context.Background()

	mark := e.writeMark()
	for i := range 10 {
		for _, o := range []*unstructured.Unstructured{e.parentObject(k), e.object(k.deleted.gvk, k.deleted.namespace, k.deleted.name)} {
			patch := client.RawPatch("application/merge-patch+json", fmt.Appendf(nil, `{"metadata":{"annotations":{"test/poke":"%d"}}}`, i))
			e.Expect(e.c.Patch(ctx, o, patch)).To(Succeed())
		}
	}
	e.waitNoWrites()
	e.Expect(e.writesSince(mark)).To(BeEmpty(), "a reconcile with nothing to change must not write")
}

// testDeletionPolicies: the finalizer is there only while the policy is Delete; Orphan
// leaves every child; a parent made again adopts them; Delete removes every child but the
// namespaces, then releases the finalizer.
func testDeletionPolicies(t *testing.T, k parentKind) {
	e := startOperator(t, nil)
	ctx := context.Background()
	gone := func() bool { return e.parentObject(k) == nil }
	finalizers := func() []string {
		if p := e.parentObject(k); p != nil {
			return p.GetFinalizers()
		}
		return nil
	}
	setPolicy := func(policy psv1alpha1.DeletionPolicy) {
		p := e.parentObject(k)
		e.Expect(e.c.Patch(ctx, p, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"deletionPolicy":"`+string(policy)+`"}}`)))).To(Succeed())
	}
	want := goldenObjects(t, k.golden)

	k.create(e, psv1alpha1.DeletionPolicyOrphan)
	e.waitForGolden(k.golden)
	e.waitParentConverged(k)
	e.Expect(finalizers()).To(BeEmpty(), "Orphan has nothing to do on deletion")
	setPolicy(psv1alpha1.DeletionPolicyDelete)
	e.Eventually(finalizers, timeout, poll).Should(ConsistOf("pipelineservice.appstudio.io/finalizer"))
	setPolicy(psv1alpha1.DeletionPolicyOrphan)
	e.Eventually(finalizers, timeout, poll).Should(BeEmpty(), "the finalizer goes with the Delete policy")
	e.waitParentConverged(k)
	e.Expect(e.c.Delete(ctx, e.parentObject(k))).To(Succeed())
	e.Eventually(gone, timeout, poll).Should(BeTrue(), "an Orphan parent is deleted at once")
	for _, w := range want {
		e.Expect(e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName())).NotTo(BeNil(), "Orphan leaves %s %s", w.GetKind(), w.GetName())
	}

	k.create(e, psv1alpha1.DeletionPolicyDelete)
	e.waitParentConverged(k)
	e.Expect(e.c.Delete(ctx, e.parentObject(k))).To(Succeed())
	e.Eventually(gone, timeout, poll).Should(BeTrue(), "Delete releases the finalizer once every child is gone")
	for _, w := range want {
		live := e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName())
		if w.GetKind() == "Namespace" {
			e.Expect(live).NotTo(BeNil(), "namespaces stay")
			continue
		}
		e.Expect(live).To(BeNil(), "Delete removes %s %s", w.GetKind(), w.GetName())
	}
	e.expectEvent(psv1alpha1.ReasonDeleting, "every child is deleted")
}

// testLateCRD: on a cluster that serves everything but the CRD of one awaited child, the rest
// is applied, the parent waits with the registry's reason and holds its generation back,
// writes nothing while it waits, and applies the child once the CRD arrives, without a
// restart.
func testLateCRD(t *testing.T, k parentKind) {
	late, err := k.lateCRD()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	all, err := testenv.AllThirdPartyCRDs()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	e := startOperator(t, slices.DeleteFunc(all, func(c *apiextensionsv1.CustomResourceDefinition) bool { return c.Name == late.Name }))
	kind, _ := children.Lookup(k.late.gvk.GroupKind())
	e.Expect(kind.Awaited).NotTo(BeEmpty(), "%s is awaited in the registry", k.late.gvk.Kind)

	k.create(e, psv1alpha1.DeletionPolicyOrphan)
	e.Eventually(func(g Gomega) {
		p := e.parentObject(k)
		g.Expect(p).NotTo(BeNil())
		c := meta.FindStatusCondition(parentConditions(p), psv1alpha1.ConditionReconciling)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(kind.Awaited))
		g.Expect(c.Message).To(ContainSubstring("the " + k.late.gvk.Kind + " waits for its CRD"))
		applied, _, _ := unstructured.NestedInt64(p.Object, "status", "lastAppliedGeneration")
		g.Expect(applied).To(BeZero(), "the generation is not wholly applied")
		observed, _, _ := unstructured.NestedInt64(p.Object, "status", "observedGeneration")
		g.Expect(observed).To(Equal(p.GetGeneration()), "the generation is acted on: its CRD is awaited")
		g.Expect(e.object(k.deleted.gvk, k.deleted.namespace, k.deleted.name)).NotTo(BeNil(), "the rest is applied")
	}, timeout, poll).Should(Succeed())
	e.waitNoWrites()
	e.expectNoWritesFor(3*time.Second, "waiting for a CRD is not an error loop")

	e.Expect(testenv.InstallCRDs(e.cfg, late)).To(Succeed())
	e.Eventually(func() *unstructured.Unstructured {
		return e.object(k.late.gvk, k.late.namespace, k.late.name)
	}, timeout, poll).ShouldNot(BeNil(), "%s is applied once its CRD is served", k.late)
	e.waitParentConverged(k)
}
