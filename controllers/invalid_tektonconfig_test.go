package controllers_test

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

// TestTyposInOverridesStallWithNothingApplied: the production typo `disable:` for `disabled:`
// stops the reconcile with Stalled naming the field, an Event, and no child changed; fixing the
// spec clears it.
func TestTyposInOverridesStallWithNothingApplied(t *testing.T) {
	e := startOperator(t, nil)

	// Created broken: nothing at all is applied.
	e.create(samples.Full, samples.StallNamed(samples.StallPrunerTypo).Mutate)
	e.Eventually(func(g Gomega) {
		stalled := e.condition(psv1alpha1.ConditionStalled)
		g.Expect(stalled).NotTo(BeNil())
		g.Expect(stalled.Reason).To(Equal(psv1alpha1.ReasonInvalidTektonConfig))
		g.Expect(stalled.Message).To(ContainSubstring(samples.StallNamed(samples.StallPrunerTypo).Want))
		ready := e.condition(psv1alpha1.ConditionReady)
		g.Expect(ready.Status).To(BeEquivalentTo("False"))
	}, timeout, poll).Should(Succeed())
	e.Expect(e.object(children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator")).To(BeNil())
	e.Expect(e.object(children.GVKTektonConfig, "", "config")).To(BeNil())
	e.Expect(e.object(children.GVKDeployment, "openshift-pipelines", render.ExporterName)).To(BeNil())
	e.expectEvent(psv1alpha1.ReasonInvalidTektonConfig, "spec.pruner.disable")

	// Fixed: everything converges and Stalled goes.
	e.update(samples.Overrides(`{"pipeline": {"enable-step-actions": true}}`))
	e.waitConverged()
	e.Expect(e.condition(psv1alpha1.ConditionStalled)).To(BeNil())
	e.Expect(e.object(children.GVKTektonConfig, "", "config")).NotTo(BeNil())

	// Broken again after it was applied: no child changes in the stalled passes.
	versions := map[string]string{}
	for _, w := range goldenObjects(t, "full.yaml") {
		versions[w.GetKind()+"/"+w.GetName()] = e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName()).GetResourceVersion()
	}
	e.update(func(ps *psv1alpha1.PipelineService) {
		samples.StallNamed(samples.StallPrunerKeepText).Mutate(ps)
		ps.Spec.Operator.Subscription.Channel = "pipelines-5.1"
		ps.Spec.Exporter.Replicas = 3
	})
	e.Eventually(func(g Gomega) {
		stalled := e.condition(psv1alpha1.ConditionStalled)
		g.Expect(stalled).NotTo(BeNil())
		g.Expect(stalled.Message).To(ContainSubstring(samples.StallNamed(samples.StallPrunerKeepText).Want))
		g.Expect(stalled.ObservedGeneration).To(Equal(e.get().Generation))
	}, timeout, poll).Should(Succeed())
	e.waitQuiet()
	for _, w := range goldenObjects(t, "full.yaml") {
		live := e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName())
		e.Expect(live.GetResourceVersion()).To(Equal(versions[w.GetKind()+"/"+w.GetName()]), "%s %s changed while stalled", w.GetKind(), w.GetName())
	}
	ps := e.get()
	e.Expect(ps.Status.LastAppliedGeneration).To(BeNumerically("<", ps.Generation), "a stalled generation is not applied")
	e.Expect(ps.Status.ObservedGeneration).To(Equal(ps.Generation), "a stalled generation is acted on, as kstatus reads it")
	e.Expect(meta.IsStatusConditionTrue(ps.Status.Conditions, psv1alpha1.ConditionReady)).To(BeFalse())
}

// TestReconcileOnlyOSPRuleStalls: production's resolvers (8 leader-election buckets through
// the options, for 4 ordinal replicas) pass OSP's webhook, and OSP's reconciler refuses them
// (tektoncd/operator#3957): the operator stalls naming the PipelineService field, applies
// nothing, and converges once the buckets match.
func TestReconcileOnlyOSPRuleStalls(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Full, samples.OrdinalResolvers("8"))
	const field = "spec.tektonConfig.overrides.pipeline.options.configMaps.config-leader-election-resolvers.data.buckets"
	e.Eventually(func(g Gomega) {
		stalled := e.condition(psv1alpha1.ConditionStalled)
		g.Expect(stalled).NotTo(BeNil())
		g.Expect(stalled.Reason).To(Equal(psv1alpha1.ReasonInvalidTektonConfig))
		g.Expect(stalled.Message).To(And(ContainSubstring(samples.StallNamed(samples.StallOrdinalResolvers).Want), ContainSubstring("replicas (4,")))
	}, timeout, poll).Should(Succeed())
	e.expectEvent(psv1alpha1.ReasonInvalidTektonConfig, field)
	e.Expect(e.object(children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator")).To(BeNil())
	e.Expect(e.object(children.GVKTektonConfig, "", "config")).To(BeNil())

	e.update(samples.OrdinalResolvers("4"))
	e.waitConverged()
	e.Expect(e.condition(psv1alpha1.ConditionStalled)).To(BeNil())
	e.Expect(e.object(children.GVKTektonConfig, "", "config")).NotTo(BeNil())
}
