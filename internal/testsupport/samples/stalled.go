package samples

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/utils/ptr"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// Stall is a PipelineService the API server admits and the operator refuses before applying
// anything (Stalled, reason InvalidTektonConfig): the full sample, changed. The reconcile tests
// (internal OSP review, envtest) and validate's tests run every case, from this one table.
type Stall struct {
	Name   string
	Mutate func(*psv1alpha1.PipelineService)
	// Want is the start of the refusal of one field, "FIELD: MESSAGE", as the Stalled
	// condition's message and validate's line both give it.
	Want string
}

// Own names the reconcile test that runs the case on its own, through more steps than the
// table's loop takes (controllers/invalid_tektonconfig_test.go), so that the loop skips it;
// "" for the others.
func (s Stall) Own() string { return ownTests[s.Name] }

var ownTests = map[string]string{
	StallPrunerTypo:       "TestTyposInOverridesStallWithNothingApplied",
	StallPrunerKeepText:   "TestTyposInOverridesStallWithNothingApplied",
	StallOrdinalResolvers: "TestReconcileOnlyOSPRuleStalls",
}

// Apply sets back what the cases change (Reset), then changes ps as the case does.
func (s Stall) Apply(ps *psv1alpha1.PipelineService) {
	Reset(ps)
	s.Mutate(ps)
}

// Reset sets ps's TektonConfig settings that the Stalls change back to the full sample's.
func Reset(ps *psv1alpha1.PipelineService) {
	full, err := Load(Full)
	if err != nil {
		panic(err)
	}
	tc := &ps.Spec.TektonConfig
	tc.Overrides, tc.PipelinesAsCode.Settings = nil, nil
	tc.Pruner, tc.Performance = full.Spec.TektonConfig.Pruner, full.Spec.TektonConfig.Performance
}

// Overrides sets spec.tektonConfig.overrides.
func Overrides(raw string) func(*psv1alpha1.PipelineService) {
	return func(ps *psv1alpha1.PipelineService) {
		ps.Spec.TektonConfig.Overrides = &apiextensionsv1.JSON{Raw: []byte(raw)}
	}
}

// setting sets one Pipelines-as-Code setting.
func setting(key, value string) func(*psv1alpha1.PipelineService) {
	return func(ps *psv1alpha1.PipelineService) {
		ps.Spec.TektonConfig.PipelinesAsCode.Settings = map[string]string{key: value}
	}
}

// OrdinalResolvers runs the pipelines controllers in StatefulSet ordinal mode with 4 buckets
// and 4 replicas, and gives the resolvers' leader election buckets through the options, as
// production did (tektoncd/operator#3957).
func OrdinalResolvers(buckets string) func(*psv1alpha1.PipelineService) {
	return func(ps *psv1alpha1.PipelineService) {
		if ps.Spec.TektonConfig.Performance == nil {
			ps.Spec.TektonConfig.Performance = &psv1alpha1.PerformanceSpec{}
		}
		perf := ps.Spec.TektonConfig.Performance
		perf.StatefulsetOrdinals, perf.Buckets, perf.Replicas = ptr.To(true), ptr.To[int32](4), ptr.To[int32](4)
		Overrides(`{"pipeline": {"options": {
			"configMaps": {"config-leader-election-resolvers": {"data": {"buckets": "` + buckets + `"}}},
			"statefulSets": {"tekton-pipelines-remote-resolvers": {"spec": {"replicas": 4}}}}}}`)(ps)
	}
}

// Stall names of the cases other tests take on their own.
const (
	StallPrunerTypo       = "production's pruner typo"
	StallPrunerKeepText   = "pruner keep not a number"
	StallOrdinalResolvers = "resolver buckets unlike replicas in ordinal mode"
)

// Stalls are the PipelineServices the operator refuses, each with the field it names.
var Stalls = []Stall{
	{StallPrunerTypo, Overrides(`{"pruner": {"disable": true}}`),
		"spec.tektonConfig.overrides.pruner.disable: unknown field"},
	{StallPrunerKeepText, Overrides(`{"pruner": {"keep": "ten"}}`),
		"spec.tektonConfig.overrides.pruner.keep: "},
	{StallOrdinalResolvers, OrdinalResolvers("8"),
		"spec.tektonConfig.overrides.pipeline.options.configMaps.config-leader-election-resolvers.data.buckets: in StatefulSet ordinal mode tekton-pipelines-remote-resolvers's leader-election buckets (8,"},
	{"buckets above 10 in overrides", Overrides(`{"pipeline": {"performance": {"buckets": 12}}}`),
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
	{"keep 0 in overrides", Overrides(`{"pruner": {"disabled": false, "keep": 0, "keep-since": null, "resources": ["pipelinerun"]}}`),
		"spec.tektonConfig.overrides.pruner.keep: invalid value: 0"},
	{"keep with keep-since in overrides", func(ps *psv1alpha1.PipelineService) {
		ps.Spec.TektonConfig.Pruner.Mode = psv1alpha1.PrunerModeEnabled
		ps.Spec.TektonConfig.Pruner.KeepSince = ptr.To[int32](60)
		Overrides(`{"pruner": {"keep": 5}}`)(ps)
	}, "spec.tektonConfig.overrides.pruner.keep: expected exactly one, got both"},
	{"unknown pruner resource in overrides", Overrides(`{"pruner": {"disabled": false, "keep": 3, "resources": ["pods"]}}`),
		"spec.tektonConfig.overrides.pruner.resources[0]: invalid value: pods"},
	{"statefulset ordinals with buckets unlike replicas", Overrides(`{"pipeline": {"performance": {"statefulset-ordinals": true}}}`),
		"spec.tektonConfig.performance.buckets: OpenShift Pipelines' defaulting changes 4 to 2"},
	{"unknown enable-api-fields", Overrides(`{"pipeline": {"enable-api-fields": "experimental"}}`),
		"spec.tektonConfig.overrides.pipeline.enable-api-fields: invalid value: experimental"},
}

// StallNamed is the case of that name.
func StallNamed(name string) Stall {
	for _, s := range Stalls {
		if s.Name == name {
			return s
		}
	}
	panic("no stall case " + name)
}
