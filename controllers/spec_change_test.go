package controllers_test

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

// TestSpecChangesReachTheChildren walks one object through the settings SREs change: each
// pruner mode, Triggers on and off, overrides, an image override, then the exporter, mirrors
// and GitHub App turned off (their objects are removed).
func TestSpecChangesReachTheChildren(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Full, nil)
	e.waitConverged()
	tektonField := func(path ...string) func() any {
		return func() any { return field(e.object(children.GVKTektonConfig, "", "config"), path...) }
	}

	steps := []struct {
		name   string
		change func(*psv1alpha1.PipelineService)
		path   []string
		want   any
	}{
		{"pruner Enabled", func(ps *psv1alpha1.PipelineService) { ps.Spec.TektonConfig.Pruner.Mode = psv1alpha1.PrunerModeEnabled },
			[]string{"spec", "pruner"}, map[string]any{"disabled": false, "keep-since": int64(60), "resources": []any{"pipelinerun"}, "schedule": "*/10 * * * *"}},
		{"pruner Disabled", func(ps *psv1alpha1.PipelineService) { ps.Spec.TektonConfig.Pruner.Mode = psv1alpha1.PrunerModeDisabled },
			[]string{"spec", "pruner"}, map[string]any{"disabled": true}},
		{"pruner Auto with Results off", func(ps *psv1alpha1.PipelineService) {
			ps.Spec.TektonConfig.Pruner.Mode = psv1alpha1.PrunerModeAuto
			ps.Spec.TektonConfig.Results.Enabled = false
		}, []string{"spec", "pruner", "disabled"}, false},
		{"pruner Auto with Results on", func(ps *psv1alpha1.PipelineService) { ps.Spec.TektonConfig.Results.Enabled = true },
			[]string{"spec", "pruner", "disabled"}, true},
		{"Triggers on", func(ps *psv1alpha1.PipelineService) { ps.Spec.TektonConfig.Triggers.Enabled = true },
			[]string{"spec", "trigger", "disabled"}, false},
		{"Triggers off", func(ps *psv1alpha1.PipelineService) { ps.Spec.TektonConfig.Triggers.Enabled = false },
			[]string{"spec", "trigger", "disabled"}, true},
		{"overrides merged last", samples.Overrides(`{"pipeline": {"performance": {"buckets": 8}}}`),
			[]string{"spec", "pipeline", "performance", "buckets"}, int64(8)},
		{"console URL", func(ps *psv1alpha1.PipelineService) {
			ps.Spec.TektonConfig.PipelinesAsCode.Console.URL = "https://konflux.example.com"
		},
			[]string{"spec", "platforms", "openshift", "pipelinesAsCode", "settings", "custom-console-url"}, "https://konflux.example.com"},
		{"performance replicas", func(ps *psv1alpha1.PipelineService) { ps.Spec.TektonConfig.Performance.Replicas = ptr.To[int32](3) },
			[]string{"spec", "pipeline", "performance", "replicas"}, int64(3)},
	}
	for _, s := range steps {
		e.update(s.change)
		e.Eventually(tektonField(s.path...), timeout, poll).Should(Equal(s.want), s.name)
	}

	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.ImageOverrides["IMAGE_PIPELINES_WEBHOOK"] = "quay.io/openshift-pipeline/webhook:hotfix"
	})
	e.Eventually(func() any {
		env := field(e.object(children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator"), "spec", "config", "env")
		if env == nil {
			return nil
		}
		return env.([]any)[2]
	}, timeout, poll).Should(Equal(map[string]any{"name": "IMAGE_PIPELINES_WEBHOOK", "value": "quay.io/openshift-pipeline/webhook:hotfix"}))

	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Exporter.Enabled = false
		ps.Spec.Mirrors = nil
		ps.Spec.TektonConfig.PipelinesAsCode.GitHubApp = nil
	})
	e.Eventually(func(g Gomega) {
		for _, gvk := range []struct {
			kind     any
			ns, name string
		}{
			{children.GVKDeployment, "openshift-pipelines", render.ExporterName},
			{children.GVKService, "openshift-pipelines", render.ExporterName},
			{children.GVKServiceAccount, "openshift-pipelines", render.ExporterName},
			{children.GVKClusterRoleBinding, "", render.ExporterName},
			{children.GVKServiceMonitor, "openshift-pipelines", render.ExporterName},
			{children.GVKICSP, "", render.MirrorPolicyName},
			{children.GVKExternalSecretV1, "openshift-pipelines", render.GitHubAppSecretName},
		} {
			g.Expect(e.object(gvk.kind.(schemaGVK), gvk.ns, gvk.name)).To(BeNil(), "%v %s", gvk.kind, gvk.name)
		}
	}, timeout, poll).Should(Succeed())
	e.waitConverged()
	e.Expect(e.object(children.GVKTektonConfig, "", "config")).NotTo(BeNil())
	e.Expect(e.object(children.GVKNamespace, "", "openshift-pipelines")).NotTo(BeNil())
}
