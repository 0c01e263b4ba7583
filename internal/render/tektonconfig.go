package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	kjson "sigs.k8s.io/json"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// PaC settings keys that dedicated fields of the API set.
const (
	PACApplicationName     = "application-name"
	PACConsoleName         = "custom-console-name"
	PACConsoleURL          = "custom-console-url"
	PACConsolePRDetails    = "custom-console-url-pr-details"
	PACConsolePRTaskLog    = "custom-console-url-pr-tasklog"
	PACConsoleNamespaceURL = "custom-console-url-namespace"
)

// InvalidTektonConfigError says that the rendered TektonConfig spec, overrides included, is not
// one OSP accepts. It is terminal: retrying cannot fix it, the PipelineService must change.
type InvalidTektonConfigError struct {
	// Field is the path of the offending field, such as spec.pruner.disable.
	Field string
	// Problem says what is wrong with it.
	Problem string
}

func (e *InvalidTektonConfigError) Error() string {
	return fmt.Sprintf("TektonConfig %s: %s", e.Field, e.Problem)
}

// TektonConfig renders the TektonConfig named "config": the RHTAP settings from the spec, then
// spec.tektonConfig.overrides merged over them (RFC 7386), then checked strictly against the
// tektoncd/operator types. It gets no owner reference: OSP shares the object.
func TektonConfig(ps *psv1alpha1.PipelineService) (*unstructured.Unstructured, error) {
	spec := tektonConfigSpec(ps.Spec.TektonConfig)
	if o := ps.Spec.TektonConfig.Overrides; o != nil && len(o.Raw) > 0 {
		merged, err := mergeOverrides(spec, o.Raw)
		if err != nil {
			return nil, err
		}
		spec = merged
	}
	if err := ValidateTektonConfigSpec(spec); err != nil {
		return nil, err
	}
	u := newObject(children.GVKTektonConfig, "", TektonConfigName)
	u.Object["spec"] = spec
	return u, nil
}

// PrunerEnabled is whether the operator's job pruner runs. In mode Auto it is off when Tekton
// Results is enabled with a positive completedRunGracePeriod: the Results watcher deletes runs
// once they are stored, and a second deleter would remove runs Results has not stored yet.
func PrunerEnabled(tc psv1alpha1.TektonConfigSpec) bool {
	switch tc.Pruner.Mode {
	case psv1alpha1.PrunerModeEnabled:
		return true
	case psv1alpha1.PrunerModeDisabled:
		return false
	default:
		grace := tc.Results.CompletedRunGracePeriod
		return !(tc.Results.Enabled && grace != nil && grace.Duration > 0)
	}
}

// tektonConfigSpec renders the fields the operator owns. Where it renders a parent object it
// also renders the children that TektonConfig's schema (tektoncd/operator v0.80+) requires of
// it, because on a cluster without OSP's mutating webhook (and in tests) nothing else fills them:
// result.is_external_db, tektonpruner.global-config, pipeline.performance.disable-ha.
func tektonConfigSpec(tc psv1alpha1.TektonConfigSpec) map[string]any {
	spec := map[string]any{
		"targetNamespace": tc.TargetNamespace,
		"profile":         tc.Profile,
		"trigger":         map[string]any{"disabled": !tc.Triggers.Enabled},
		"pruner":          prunerSpec(tc),
		// The event-based pruner stays off: with both pruners on, OSP reports ComponentsReady
		// False. Enable it through overrides (and disable spec.pruner) to switch.
		"tektonpruner": map[string]any{"disabled": true, "global-config": map[string]any{}},
		"result":       resultSpec(tc.Results),
		"platforms": map[string]any{"openshift": map[string]any{
			"pipelinesAsCode": pipelinesAsCodeSpec(tc.PipelinesAsCode),
		}},
	}
	if p := tc.Performance; p != nil {
		spec["pipeline"] = map[string]any{"performance": performanceSpec(p)}
	}
	return spec
}

func prunerSpec(tc psv1alpha1.TektonConfigSpec) map[string]any {
	if !PrunerEnabled(tc) {
		return map[string]any{"disabled": true}
	}
	p := tc.Pruner
	out := map[string]any{"disabled": false, "schedule": p.Schedule}
	resources := make([]any, 0, len(p.Resources))
	for _, r := range p.Resources {
		resources = append(resources, string(r))
	}
	out["resources"] = resources
	if p.Keep != nil {
		out["keep"] = int64(*p.Keep)
	}
	if p.KeepSince != nil {
		out["keep-since"] = int64(*p.KeepSince)
	}
	return out
}

func resultSpec(r psv1alpha1.ResultsSpec) map[string]any {
	out := map[string]any{"disabled": !r.Enabled, "is_external_db": false}
	// The watcher's settings only while Results runs: nothing reads them otherwise, and a
	// TektonConfig with Results off (as production has it) carries none.
	if r.Enabled && r.CompletedRunGracePeriod != nil {
		// Go's form (10m0s), not Duration's: the field is a metav1.Duration in tektoncd's type,
		// so OSP's webhook stores what that marshals to.
		out["watcher"] = map[string]any{"completed_run_grace_period": r.CompletedRunGracePeriod.Duration.String()}
	}
	return out
}

// pipelinesAsCodeSpec renders enable and the settings. Values are sent in the canonical form
// OSP's webhook writes back, so that the webhook and the operator do not rewrite each other.
func pipelinesAsCodeSpec(pac psv1alpha1.PipelinesAsCodeSpec) map[string]any {
	settings := map[string]any{}
	for k, v := range pac.Settings {
		settings[k] = v
	}
	if pac.ApplicationName != "" {
		settings[PACApplicationName] = pac.ApplicationName
	}
	if c := pac.Console; c != nil {
		for key, value := range map[string]string{
			PACConsoleName: c.Name, PACConsoleURL: c.URL, PACConsolePRDetails: c.PRDetailsURL,
			PACConsolePRTaskLog: c.TaskLogURL, PACConsoleNamespaceURL: c.NamespaceURL,
		} {
			if value != "" {
				settings[key] = value
			}
		}
	}
	out := map[string]any{"enable": pac.Enabled}
	if len(settings) > 0 {
		out["settings"] = settings
	}
	return out
}

func performanceSpec(p *psv1alpha1.PerformanceSpec) map[string]any {
	out := map[string]any{"disable-ha": p.DisableHA != nil && *p.DisableHA}
	if p.StatefulsetOrdinals != nil {
		out["statefulset-ordinals"] = *p.StatefulsetOrdinals
	}
	for key, value := range map[string]*int32{
		"buckets": p.Buckets, "replicas": p.Replicas, "threads-per-controller": p.ThreadsPerController,
		"kube-api-qps": p.KubeAPIQPS, "kube-api-burst": p.KubeAPIBurst,
	} {
		if value != nil {
			out[key] = int64(*value)
		}
	}
	return out
}

// mergeOverrides applies overrides as an RFC 7386 JSON merge patch over spec.
func mergeOverrides(spec map[string]any, overrides []byte) (map[string]any, error) {
	doc, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode TektonConfig spec: %w", err)
	}
	merged, err := jsonpatch.MergePatch(doc, overrides)
	if err != nil {
		return nil, &InvalidTektonConfigError{Field: "spec", Problem: "spec.tektonConfig.overrides is not a JSON merge patch: " + err.Error()}
	}
	out := map[string]any{}
	// utiljson keeps whole numbers int64, as the API machinery does, so that rendered and
	// observed values compare equal.
	if err := utiljson.Unmarshal(merged, &out); err != nil {
		// A patch that is not an object replaces the whole spec (RFC 7386). The schema
		// refuses one; this is the guard for a schema that did not.
		return nil, &InvalidTektonConfigError{Field: "spec", Problem: "spec.tektonConfig.overrides must be an object of TektonConfig spec fields"}
	}
	return out, nil
}

// ValidateTektonConfigSpec decodes spec strictly into tektoncd/operator's TektonConfigSpec, as
// OSP's webhook decodes it (knative, unknown fields disallowed): an unknown field (such as
// `disable` for `disabled`, which once broke production) or a wrong type is an
// InvalidTektonConfigError naming the field. The rules on values are OSP's own code's, run by
// package osp.
func ValidateTektonConfigSpec(spec map[string]any) error {
	data, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("encode TektonConfig spec: %w", err)
	}
	var typed tektonv1alpha1.TektonConfigSpec
	strictErrs, err := kjson.UnmarshalStrict(data, &typed, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return typeError(err)
	}
	if len(strictErrs) > 0 {
		// Report the first; fixing it reveals the next.
		return strictError(strictErrs[0])
	}
	return nil
}

// strictError turns sigs.k8s.io/json's `unknown field "pruner.disable"` into a field path.
func strictError(err error) error {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, `unknown field "`); ok {
		field, _, _ := strings.Cut(rest, `"`)
		return &InvalidTektonConfigError{Field: "spec." + field, Problem: "unknown field (check the spelling in spec.tektonConfig.overrides)"}
	}
	if _, rest, ok := strings.Cut(msg, `duplicate field "`); ok {
		field, _, _ := strings.Cut(rest, `"`)
		return &InvalidTektonConfigError{Field: "spec." + field, Problem: "duplicate field"}
	}
	return &InvalidTektonConfigError{Field: "spec", Problem: msg}
}

// typeError turns encoding/json's UnmarshalTypeError into a field path.
func typeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		// te.Field names embedded Go structs too (pipeline.PipelineProperties.performance);
		// JSON names in these types start lower-case, Go type names upper-case.
		var path []string
		for _, seg := range strings.Split(te.Field, ".") {
			if seg != "" && !unicode.IsUpper(rune(seg[0])) {
				path = append(path, seg)
			}
		}
		return &InvalidTektonConfigError{
			Field:   "spec." + strings.Join(path, "."),
			Problem: fmt.Sprintf("a %s cannot be a %s", te.Value, te.Type.String()),
		}
	}
	return &InvalidTektonConfigError{Field: "spec", Problem: err.Error()}
}

// psTektonConfigFields maps TektonConfig fields to the PipelineService fields that render them.
// A path under a key maps under its value (spec.pruner.resources[0] to ...pruner.resources[0]).
var psTektonConfigFields = map[string]string{
	"spec.targetNamespace":                              "targetNamespace",
	"spec.profile":                                      "profile",
	"spec.trigger.disabled":                             "triggers.enabled",
	"spec.pruner":                                       "pruner",
	"spec.pruner.disabled":                              "pruner.mode",
	"spec.pruner.keep":                                  "pruner.keep",
	"spec.pruner.keep-since":                            "pruner.keepSince",
	"spec.pruner.schedule":                              "pruner.schedule",
	"spec.pruner.resources":                             "pruner.resources",
	"spec.result.disabled":                              "results.enabled",
	"spec.result.watcher.completed_run_grace_period":    "results.completedRunGracePeriod",
	"spec.platforms.openshift.pipelinesAsCode.enable":   "pipelinesAsCode.enabled",
	"spec.platforms.openshift.pipelinesAsCode.settings": "pipelinesAsCode.settings",
	pacSettingsPath + PACApplicationName:                "pipelinesAsCode.applicationName",
	pacSettingsPath + PACConsoleName:                    "pipelinesAsCode.console.name",
	pacSettingsPath + PACConsoleURL:                     "pipelinesAsCode.console.url",
	pacSettingsPath + PACConsolePRDetails:               "pipelinesAsCode.console.prDetailsURL",
	pacSettingsPath + PACConsolePRTaskLog:               "pipelinesAsCode.console.taskLogURL",
	pacSettingsPath + PACConsoleNamespaceURL:            "pipelinesAsCode.console.namespaceURL",
	"spec.pipeline.performance":                         "performance",
	"spec.pipeline.performance.buckets":                 "performance.buckets",
	"spec.pipeline.performance.replicas":                "performance.replicas",
	"spec.pipeline.performance.threads-per-controller":  "performance.threadsPerController",
	"spec.pipeline.performance.kube-api-qps":            "performance.kubeAPIQPS",
	"spec.pipeline.performance.kube-api-burst":          "performance.kubeAPIBurst",
	"spec.pipeline.performance.disable-ha":              "performance.disableHA",
	"spec.pipeline.performance.statefulset-ordinals":    "performance.statefulsetOrdinals",
}

const pacSettingsPath = "spec.platforms.openshift.pipelinesAsCode.settings."

// FieldPath names a TektonConfig field (such as spec.pipeline.performance.buckets) by where
// the PipelineService sets it: under spec.tektonConfig.overrides when the overrides set it,
// else the dedicated field that renders it, else "TektonConfig <path>" for a field that only
// OSP's defaulting sets.
func FieldPath(ps *psv1alpha1.PipelineService, tcPath string) string {
	const prefix = "spec.tektonConfig."
	if rest, ok := strings.CutPrefix(tcPath, "spec."); ok && inOverrides(ps.Spec.TektonConfig.Overrides, rest) {
		return prefix + "overrides." + rest
	}
	// The longest mapped prefix wins: settings.application-name before settings.
	best := ""
	for tc := range psTektonConfigFields {
		if (tcPath == tc || strings.HasPrefix(tcPath, tc+".") || strings.HasPrefix(tcPath, tc+"[")) && len(tc) > len(best) {
			best = tc
		}
	}
	if best == "" {
		return "TektonConfig " + tcPath
	}
	return prefix + psTektonConfigFields[best] + strings.TrimPrefix(tcPath, best)
}

// inOverrides is whether the overrides set the field at path (dot-separated, list indexes
// ignored).
func inOverrides(overrides *apiextensionsv1.JSON, path string) bool {
	if overrides == nil || len(overrides.Raw) == 0 {
		return false
	}
	var node any
	if err := json.Unmarshal(overrides.Raw, &node); err != nil {
		return false
	}
	for _, seg := range strings.Split(path, ".") {
		seg, _, _ = strings.Cut(seg, "[")
		m, ok := node.(map[string]any)
		if !ok {
			return false
		}
		if node, ok = m[seg]; !ok {
			return false
		}
	}
	return true
}
