package controllers_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
)

// suspendWindow is how long a suspended operator is watched for a write to a child.
const suspendWindow = 30 * time.Second

// suspendChange is a spec change per kind, made while suspended: a field of the edited child
// (parentKind.edited, at parentKind.path) that the spec sets.
var suspendChange = map[string]struct {
	path []string
	to   string
}{
	"PipelineService":     {[]string{"spec", "operator", "subscription", "channel"}, "pipelines-5.1"},
	"PipelineServiceHost": {[]string{"spec", "sprayProxy", "route", "host"}, "sprayproxy.apps.host-2.example.com"},
}

// TestSuspendWritesNoChildAndResumeHealsInOnePass: both kinds on one control plane, suspended
// together. While suspended, a deleted child stays deleted and a spec change is not applied,
// the operator writes no child for 30 s, and the status still follows what OLM and the
// router report (a CSV Succeeded, a Route admitted). Resumed, one pass restores the child and
// applies the change, and one DriftHealed Event lists both. Deleted while suspended, a parent
// leaves every child, even with deletionPolicy Delete.
func TestSuspendWritesNoChildAndResumeHealsInOnePass(t *testing.T) {
	e := startOperator(t, nil)
	ctx := context.Background()
	for _, k := range parentKinds {
		k.create(e, psv1alpha1.DeletionPolicyOrphan)
		e.waitForGolden(k.golden)
		e.waitParentConverged(k)
	}

	for _, k := range parentKinds {
		e.updateParent(k, true, "spec", "suspend")
	}
	for _, k := range parentKinds {
		e.Eventually(func(g Gomega) {
			c := meta.FindStatusCondition(parentConditions(e.parentObject(k)), psv1alpha1.ConditionSuspended)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Message).To(HavePrefix("suspended since " + c.LastTransitionTime.UTC().Format(time.RFC3339)))
			g.Expect(meta.FindStatusCondition(parentConditions(e.parentObject(k)), psv1alpha1.ConditionReconciling)).To(BeNil())
		}, timeout, poll).Should(Succeed(), k.name)
		e.expectEvent(psv1alpha1.ReasonSuspended, "suspended since")
	}
	e.waitNoWrites()

	mark := e.writeMark()
	start := time.Now()
	for _, k := range parentKinds {
		e.Expect(e.c.Delete(ctx, e.object(k.deleted.gvk, k.deleted.namespace, k.deleted.name))).To(Succeed())
		e.updateParent(k, suspendChange[k.name].to, suspendChange[k.name].path...)
	}
	// What OLM and the router report still reaches the status. OLM and OSP are played
	// (simulate.Healthy), not run: the real OLM needs a control plane and processes of its own
	// (about 20 s, olm_test.go), and with the operator suspended it would stop at the
	// InstallPlan that only the operator approves. What is under test is the operator's
	// observing while it writes nothing, which does not depend on who wrote the CSV. The
	// router is OpenShift's ingress, which no API server runs.
	e.playHealthy(stack505)
	e.Eventually(func(g Gomega) {
		ps := e.get()
		g.Expect(ps.Status.InstalledCSV).To(Equal(csv505))
		g.Expect(meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionOperatorInstalled).Reason).To(Equal(psv1alpha1.ReasonCSVSucceeded))
	}, timeout, poll).Should(Succeed())
	e.hostRouteAdmitted()

	writes := e.writesUntil(start.Add(suspendWindow), mark)
	e.Expect(slices.DeleteFunc(writes, parentWrite)).To(BeEmpty(), "a suspended operator writes no child")
	for _, k := range parentKinds {
		e.Expect(e.object(k.deleted.gvk, k.deleted.namespace, k.deleted.name)).To(BeNil(), "%s stays deleted", k.deleted)
		e.Expect(field(e.object(k.edited.gvk, k.edited.namespace, k.edited.name), k.path...)).To(Equal(k.want), "the spec change waits")
		p := e.parentObject(k)
		observed := field(p, "status", "observedGeneration")
		e.Expect(observed).NotTo(Equal(p.GetGeneration()), "a suspended generation is not observed")
	}

	for _, k := range parentKinds {
		e.updateParent(k, false, "spec", "suspend")
	}
	for _, k := range parentKinds {
		e.Eventually(func(g Gomega) {
			g.Expect(e.object(k.deleted.gvk, k.deleted.namespace, k.deleted.name)).NotTo(BeNil(), "%s is restored", k.deleted)
			g.Expect(field(e.object(k.edited.gvk, k.edited.namespace, k.edited.name), k.path...)).To(Equal(suspendChange[k.name].to))
			g.Expect(meta.FindStatusCondition(parentConditions(e.parentObject(k)), psv1alpha1.ConditionSuspended)).To(BeNil())
		}, timeout, poll).Should(Succeed(), k.name)
		e.waitParentConverged(k)
	}
	// One pass each: one DriftHealed Event per kind, naming both children.
	for _, k := range parentKinds {
		var healed []string
		for _, ev := range e.eventsWith(psv1alpha1.ReasonDriftHealed) {
			if ev.Regarding.Kind == k.name {
				healed = append(healed, ev.Note)
			}
		}
		e.Expect(healed).To(HaveLen(1), "%s: %v", k.name, healed)
		e.Expect(healed[0]).To(And(HavePrefix("resumed after a suspension: restored"),
			ContainSubstring(k.deleted.gvk.Kind+" "+k.deleted.namespace+"/"+k.deleted.name),
			ContainSubstring(k.edited.gvk.Kind+" "+k.edited.namespace+"/"+k.edited.name)))
	}

	// deletionPolicy Delete deletes every child, a write a suspended parent does not make: a
	// PipelineService deleted while suspended goes at once and leaves its children.
	k := parentKinds[0]
	e.updateParent(k, string(psv1alpha1.DeletionPolicyDelete), "spec", "deletionPolicy")
	e.updateParent(k, true, "spec", "suspend")
	e.waitCondition(psv1alpha1.ConditionSuspended, psv1alpha1.ReasonSuspended, "suspended since")
	e.Eventually(func() []string { return e.parentObject(k).GetFinalizers() }, timeout, poll).ShouldNot(BeEmpty())
	e.Expect(e.c.Delete(ctx, e.parentObject(k))).To(Succeed())
	e.Eventually(func() bool { return e.parentObject(k) == nil }, timeout, poll).Should(BeTrue(), "the finalizer is released at once")
	for _, w := range goldenObjects(t, k.golden) {
		e.Expect(e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName())).NotTo(BeNil(), "%s %s is left in place", w.GetKind(), w.GetName())
	}
	e.expectEvent(psv1alpha1.ReasonSuspended, "deletionPolicy Delete was not carried out")
}

// parentWrite is whether a logged write ("METHOD path") is to a parent or an Event, not a child.
func parentWrite(w string) bool {
	return strings.Contains(w, "/pipelineservices/") || strings.Contains(w, "/pipelineservicehosts/") || strings.Contains(w, "/events")
}

// hostRouteAdmitted plays OpenShift's router admitting SprayProxy's Route (a stand-in, as in
// hostHealthy) and waits for the host's RouteAdmitted condition to say so.
func (e *operatorEnv) hostRouteAdmitted() {
	e.t.Helper()
	e.Eventually(func() error {
		return simulate.RouteAdmitted(context.Background(), e.c, sprayProxyNamespace, render.SprayProxyName, "default", sprayProxyHost, true, "", "")
	}, timeout, poll).Should(Succeed())
	e.waitHostCondition(psv1alpha1.ConditionRouteAdmitted, metav1.ConditionTrue, psv1alpha1.ReasonRouteAdmitted, "")
}
