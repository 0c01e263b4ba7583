package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// tektonConfig maps the TektonConfig to the dedicated fields, then puts in overrides what
// they and OSP's defaulting would not give.
func (r *Result) tektonConfig(u *unstructured.Unstructured) error {
	live, _, _ := unstructured.NestedMap(u.Object, "spec")
	withoutRefreshes(live)
	tc := &r.PipelineService.Spec.TektonConfig
	str := func(path ...string) string {
		s, _, _ := unstructured.NestedFieldNoCopy(live, path...)
		v, _ := s.(string)
		return v
	}
	flag := func(path ...string) bool {
		b, _, _ := unstructured.NestedFieldNoCopy(live, path...)
		v, _ := b.(bool)
		return v
	}
	tc.TargetNamespace, tc.Profile = str("targetNamespace"), str("profile")
	tc.Triggers.Enabled = !flag("trigger", "disabled")
	r.pruner(live)
	tc.Results.Enabled = !flag("result", "disabled")
	if tc.Results.Enabled {
		grace := time.Duration(0)
		if s := str("result", "watcher", "completed_run_grace_period"); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("TektonConfig spec.result.watcher.completed_run_grace_period %q: %w", s, err)
			}
			grace = d
		}
		// 0s where the live one has none: Results keeps runs, as it does now.
		tc.Results.CompletedRunGracePeriod = &metav1.Duration{Duration: grace}
	}
	pac, _, _ := unstructured.NestedMap(live, "platforms", "openshift", "pipelinesAsCode")
	tc.PipelinesAsCode.Enabled = pac["enable"] == true

	// Settings, performance and overrides are kept to what differs from the render of the
	// fields set so far, defaulted as OSP's webhook defaults it.
	base, err := defaultedSpec(r.PipelineService)
	if err != nil {
		return err
	}
	r.pacSettings(live, base)
	perfLive, _, _ := unstructured.NestedMap(live, "pipeline", "performance")
	perfBase, _, _ := unstructured.NestedMap(base, "pipeline", "performance")
	if len(fields.Diff(perfBase, perfLive)) > 0 {
		tc.Performance = performance(perfLive)
	}
	if base, err = defaultedSpec(r.PipelineService); err != nil {
		return err
	}
	alignParams(base, live)
	if patch := fields.Patch(base, live); patch != nil {
		data, err := json.Marshal(patch)
		if err != nil {
			return err
		}
		tc.Overrides = &apiextensionsv1.JSON{Raw: data}
	}
	// What the operator would apply, checked as OSP would check it against the live object.
	rendered, err := render.TektonConfig(r.PipelineService)
	if err != nil {
		return fmt.Errorf("the imported TektonConfig does not render: %w", err)
	}
	for _, e := range osp.Review(rendered, u) {
		r.note("OpenShift Pipelines would refuse the rendered TektonConfig: %s", e.Error())
	}
	return nil
}

// withoutRefreshes removes from a TektonConfig spec the annotations with which the operator
// asked OSP to re-render a component (render.AnnotationRefreshedImages), and the maps they
// leave empty: they are the refresh's, under its own field manager, not the spec's.
func withoutRefreshes(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	emptied := false
	for k, child := range m {
		switch {
		case k == render.AnnotationRefreshedImages:
			delete(m, k)
			emptied = true
		case withoutRefreshes(child):
			if len(child.(map[string]any)) == 0 {
				delete(m, k)
			}
			emptied = true
		}
	}
	return emptied
}

func (r *Result) pruner(live map[string]any) {
	p := &r.PipelineService.Spec.TektonConfig.Pruner
	pruner, _, _ := unstructured.NestedMap(live, "pruner")
	if pruner["disabled"] == true {
		p.Mode = psv1alpha1.PrunerModeDisabled
		return
	}
	p.Mode = psv1alpha1.PrunerModeEnabled
	p.Schedule, _ = pruner["schedule"].(string)
	p.Keep, p.KeepSince = int32Field(pruner["keep"]), int32Field(pruner["keep-since"])
	list, _ := pruner["resources"].([]any)
	for _, x := range list {
		s, _ := x.(string)
		p.Resources = append(p.Resources, psv1alpha1.PrunerResource(s))
	}
}

// pacSettings keeps the Pipelines-as-Code settings whose live values differ from the
// defaulted render's, the application name and console ones in their dedicated fields.
func (r *Result) pacSettings(live, base map[string]any) {
	pac := &r.PipelineService.Spec.TektonConfig.PipelinesAsCode
	settings, _, _ := unstructured.NestedStringMap(live, "platforms", "openshift", "pipelinesAsCode", "settings")
	defaults, _, _ := unstructured.NestedStringMap(base, "platforms", "openshift", "pipelinesAsCode", "settings")
	console := &psv1alpha1.ConsoleSpec{}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		v := settings[k]
		if d, ok := defaults[k]; ok && d == v {
			continue
		}
		switch k {
		case render.PACApplicationName:
			pac.ApplicationName = v
		case render.PACConsoleName:
			console.Name = v
		case render.PACConsoleURL:
			console.URL = v
		case render.PACConsolePRDetails:
			console.PRDetailsURL = v
		case render.PACConsolePRTaskLog:
			console.TaskLogURL = v
		case render.PACConsoleNamespaceURL:
			console.NamespaceURL = v
		default:
			if pac.Settings == nil {
				pac.Settings = map[string]string{}
			}
			pac.Settings[k] = v
		}
	}
	if *console != (psv1alpha1.ConsoleSpec{}) {
		if console.URL == "" {
			// The console's fields hang on its URL: without one, the others stay settings.
			for k, v := range map[string]string{render.PACConsoleName: console.Name, render.PACConsolePRDetails: console.PRDetailsURL,
				render.PACConsolePRTaskLog: console.TaskLogURL, render.PACConsoleNamespaceURL: console.NamespaceURL} {
				if v != "" {
					if pac.Settings == nil {
						pac.Settings = map[string]string{}
					}
					pac.Settings[k] = v
				}
			}
			return
		}
		pac.Console = console
	}
}

func performance(live map[string]any) *psv1alpha1.PerformanceSpec {
	p := &psv1alpha1.PerformanceSpec{
		Buckets: int32Field(live["buckets"]), Replicas: int32Field(live["replicas"]),
		ThreadsPerController: int32Field(live["threads-per-controller"]),
		KubeAPIQPS:           int32Field(live["kube-api-qps"]), KubeAPIBurst: int32Field(live["kube-api-burst"]),
	}
	if b, ok := live["disable-ha"].(bool); ok {
		p.DisableHA = &b
	}
	if b, ok := live["statefulset-ordinals"].(bool); ok {
		p.StatefulsetOrdinals = &b
	}
	return p
}

// defaultedSpec is the TektonConfig spec ps renders, after OSP's SetDefaults, as the webhook
// would store it.
func defaultedSpec(ps *psv1alpha1.PipelineService) (map[string]any, error) {
	u, err := render.TektonConfig(ps)
	if err != nil {
		return nil, fmt.Errorf("render the imported TektonConfig: %w", err)
	}
	tc := &tektonv1alpha1.TektonConfig{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, tc); err != nil {
		return nil, err
	}
	if fe := osp.Default(context.Background(), tc); fe != nil {
		return nil, fe
	}
	data, err := json.Marshal(tc.Spec)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	return out, utiljson.Unmarshal(data, &out)
}

// alignParams orders every list of params ({name, value} items) in base as the same list in
// live orders the names it shares. OSP reads such a list as a map (tektoncd/operator's
// ParseParams), and its SetDefaults appends the missing addon params in Go's map order
// (setAddonDefaults ranges over AddonParams): two defaultings of one spec, in the webhook and
// here or in two processes, list them in different orders. Compared by position, that order
// showed up as overrides now and then; aligned, only a name or a value does, and the overrides
// keep live's order.
func alignParams(base, live any) {
	switch b := base.(type) {
	case map[string]any:
		l, _ := live.(map[string]any)
		for k, e := range b {
			alignParams(e, l[k])
		}
	case []any:
		l, ok := live.([]any)
		if !ok || !isParamList(b) || !isParamList(l) {
			return
		}
		position := map[string]int{}
		for i, e := range l {
			position[e.(map[string]any)["name"].(string)] = i
		}
		at := func(e any) int {
			if i, ok := position[e.(map[string]any)["name"].(string)]; ok {
				return i
			}
			return len(l)
		}
		slices.SortStableFunc(b, func(x, y any) int { return at(x) - at(y) })
	}
}

// isParamList is whether every item of list is a param: a name, and a value at most.
func isParamList(list []any) bool {
	for _, e := range list {
		m, ok := e.(map[string]any)
		if _, named := m["name"].(string); !ok || !named || len(m) > 2 {
			return false
		}
		if _, other := m["value"]; len(m) == 2 && !other {
			return false
		}
	}
	return len(list) > 0
}

func int32Field(v any) *int32 {
	switch n := v.(type) {
	case int64:
		i := int32(n)
		return &i
	case float64:
		i := int32(n)
		return &i
	}
	return nil
}
