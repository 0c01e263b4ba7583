package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/samples"
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

	for _, tc := range []struct {
		name      string
		mutate    func(*psv1alpha1.PipelineService)
		wantField string
	}{
		{"buckets above 10 in overrides", overrides(`{"pipeline": {"performance": {"buckets": 12}}}`),
			"spec.tektonConfig.overrides.pipeline.performance.buckets: expected 1 <= 12 <= 10"},
		{"PaC regexp that does not compile", setting("error-detection-simple-regexp", "(["),
			"spec.tektonConfig.pipelinesAsCode.settings.error-detection-simple-regexp: value \"([\" does not parse"},
		{"PaC boolean that is not one", setting("remember-ok-to-test", "notabool"),
			"spec.tektonConfig.pipelinesAsCode.settings.remember-ok-to-test: value \"notabool\" does not parse"},
		{"PaC key OSP drops", setting("remember-ok-to-tset", "true"),
			"spec.tektonConfig.pipelinesAsCode.settings.remember-ok-to-tset: not a Pipelines-as-Code setting"},
		{"PaC value OSP rewrites", setting("remember-ok-to-test", "True"),
			`spec.tektonConfig.pipelinesAsCode.settings.remember-ok-to-test: OpenShift Pipelines' defaulting changes "True" to "true"`},
		{"pruner schedule that is not cron", func(ps *psv1alpha1.PipelineService) {
			ps.Spec.TektonConfig.Pruner.Mode = psv1alpha1.PrunerModeEnabled
			ps.Spec.TektonConfig.Pruner.Schedule = "61 * * * *"
		}, "spec.tektonConfig.pruner.schedule: not a cron schedule"},
		{"keep 0 in overrides", overrides(`{"pruner": {"disabled": false, "keep": 0, "keep-since": null, "resources": ["pipelinerun"]}}`),
			"spec.tektonConfig.overrides.pruner.keep: invalid value: 0"},
		{"keep with keep-since in overrides", func(ps *psv1alpha1.PipelineService) {
			ps.Spec.TektonConfig.Pruner.Mode = psv1alpha1.PrunerModeEnabled
			ps.Spec.TektonConfig.Pruner.KeepSince = ptr.To[int32](60)
			overrides(`{"pruner": {"keep": 5}}`)(ps)
		}, "spec.tektonConfig.overrides.pruner.keep: expected exactly one, got both"},
		{"unknown pruner resource in overrides", overrides(`{"pruner": {"disabled": false, "keep": 3, "resources": ["pods"]}}`),
			"spec.tektonConfig.overrides.pruner.resources[0]: invalid value: pods"},
		{"statefulset ordinals with buckets unlike replicas", overrides(`{"pipeline": {"performance": {"statefulset-ordinals": true}}}`),
			"spec.tektonConfig.performance.buckets: OpenShift Pipelines' defaulting changes 4 to 2"},
		{"unknown enable-api-fields", overrides(`{"pipeline": {"enable-api-fields": "experimental"}}`),
			"spec.tektonConfig.overrides.pipeline.enable-api-fields: invalid value: experimental"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tektonConfig()
			e.update(func(ps *psv1alpha1.PipelineService) {
				ps.Spec.TektonConfig.Overrides = nil
				ps.Spec.TektonConfig.PipelinesAsCode.Settings = nil
				ps.Spec.Exporter.Replicas = 3 - ps.Spec.Exporter.Replicas // 1 <-> 2: a change the stalled pass must not apply either
				tc.mutate(ps)
			})
			stalled := e.waitCondition(psv1alpha1.ConditionStalled, psv1alpha1.ReasonInvalidTektonConfig, tc.wantField)
			e.Expect(stalled.ObservedGeneration).To(Equal(e.get().Generation))
			e.waitQuiet()
			ps := e.get()
			e.Expect(ps.Status.ObservedGeneration).To(BeNumerically("<", ps.Generation), "a stalled generation is not observed")
			e.Expect(tektonConfig()).To(Equal(before), "nothing is applied while stalled")
			exporter := e.object(children.GVKDeployment, "openshift-pipelines", render.ExporterName)
			replicas, _, _ := unstructured.NestedInt64(exporter.Object, "spec", "replicas")
			e.Expect(replicas).NotTo(Equal(int64(ps.Spec.Exporter.Replicas)), "the exporter change waits for a valid spec")
			e.expectEvent(psv1alpha1.ReasonInvalidTektonConfig, tc.wantField)

			e.update(func(ps *psv1alpha1.PipelineService) {
				ps.Spec.TektonConfig.Overrides = nil
				ps.Spec.TektonConfig.PipelinesAsCode.Settings = nil
				ps.Spec.TektonConfig.Pruner = samplePruner()
			})
			e.waitConverged()
			e.Expect(e.condition(psv1alpha1.ConditionStalled)).To(BeNil())
		})
	}
}

func setting(key, value string) func(*psv1alpha1.PipelineService) {
	return func(ps *psv1alpha1.PipelineService) {
		ps.Spec.TektonConfig.PipelinesAsCode.Settings = map[string]string{key: value}
	}
}

// samplePruner is the full sample's pruner.
func samplePruner() psv1alpha1.PrunerSpec {
	ps, err := samples.Load(samples.Full)
	if err != nil {
		panic(err)
	}
	return ps.Spec.TektonConfig.Pruner
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
