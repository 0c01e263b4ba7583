package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

// TestValuesOSPRefusesStall: each value rule of OSP's admission that the PipelineService
// schema cannot express is found by OSP's own code before anything is applied. The reconcile
// stalls with the field named as the PipelineService sets it, an Event, no child written and
// the generation not observed; fixing the spec converges again. The control plane serves OSP's
// webhook too, so a rule the operator missed would show here as ApplyRejected instead.
func TestValuesOSPRefusesStall(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Full, nil)
	e.waitConverged()
	e.waitQuiet()
	tektonConfig := func() string { return e.object(children.GVKTektonConfig, "", "config").GetResourceVersion() }

	for _, tc := range samples.Stalls {
		if tc.Own() != "" {
			continue // run through more steps by a test of its own
		}
		t.Run(tc.Name, func(t *testing.T) {
			before := tektonConfig()
			e.update(func(ps *psv1alpha1.PipelineService) {
				ps.Spec.Exporter.Replicas = 3 - ps.Spec.Exporter.Replicas // 1 <-> 2: a change the stalled pass must not apply either
				tc.Apply(ps)
			})
			stalled := e.waitCondition(psv1alpha1.ConditionStalled, psv1alpha1.ReasonInvalidTektonConfig, tc.Want)
			e.Expect(stalled.ObservedGeneration).To(Equal(e.get().Generation))
			e.waitQuiet()
			ps := e.get()
			e.Expect(ps.Status.LastAppliedGeneration).To(BeNumerically("<", ps.Generation), "a stalled generation is not applied")
			e.Expect(ps.Status.ObservedGeneration).To(Equal(ps.Generation), "a stalled generation is acted on, as kstatus reads it")
			e.Expect(tektonConfig()).To(Equal(before), "nothing is applied while stalled")
			exporter := e.object(children.GVKDeployment, "openshift-pipelines", render.ExporterName)
			replicas, _, _ := unstructured.NestedInt64(exporter.Object, "spec", "replicas")
			e.Expect(replicas).NotTo(Equal(int64(ps.Spec.Exporter.Replicas)), "the exporter change waits for a valid spec")
			e.expectEvent(psv1alpha1.ReasonInvalidTektonConfig, tc.Want)

			e.update(samples.Reset)
			e.waitConverged()
			e.Expect(e.condition(psv1alpha1.ConditionStalled)).To(BeNil())
		})
	}
}

// TestTektonConfigInAnotherNamespaceStalls: a cluster already runs Tekton in another
// namespace (a TektonConfig made before the PipelineService). OSP refuses to move it, so the
// operator reviews its TektonConfig as an update of the live one and stalls, naming
// targetNamespace and how to move, instead of failing the apply on every retry.
func TestTektonConfigInAnotherNamespaceStalls(t *testing.T) {
	e := startOperator(t, nil)
	existing := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operator.tekton.dev/v1alpha1", "kind": "TektonConfig",
		"metadata": map[string]any{"name": "config"},
		"spec":     map[string]any{"targetNamespace": "tekton-pipelines", "profile": "all"},
	}}
	// Through OSP's webhook, which fills the fields the CRD's schema requires.
	e.Expect(e.c.Create(context.Background(), existing)).To(Succeed())

	e.create(samples.Full, nil)
	e.waitCondition(psv1alpha1.ConditionStalled, psv1alpha1.ReasonInvalidTektonConfig,
		"spec.tektonConfig.targetNamespace: Doesn't allow to update targetNamespace, delete existing TektonConfig")
	e.Expect(e.object(children.GVKTektonConfig, "", "config").GetResourceVersion()).To(Equal(existing.GetResourceVersion()))
	e.Expect(e.object(children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator")).To(BeNil(), "nothing is applied")
}
