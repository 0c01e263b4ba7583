// Package osp runs OpenShift Pipelines' own admission code in this process: tektoncd/operator's
// TektonConfig SetDefaults and Validate, and Pipelines-as-Code's settings parser, at the
// versions go.mod builds against. The operator reviews every TektonConfig with it before
// applying one, and the tests' stand-in for OSP's webhook (internal/testsupport/testenv) serves it, so
// both rule exactly as OSP's webhook does on a cluster.
//
// Three things in the upstream code are not fit to run here as they are, and each is guarded:
//   - Pipelines-as-Code asks the hub's HTTP API for the catalog type whenever hub-catalog-type
//     (or catalog-N-type) is unset: a network call from inside defaulting and validation.
//     Reviews fill the type in first (preventHubLookups); the type never decides validity.
//   - Validate asks the cluster whether a non-default SCC exists and compares SCC priorities
//     (an in-cluster client it builds itself). Reviews leave those checks to OSP's webhook on
//     the cluster, whose refusal the operator then reports as ApplyRejected (withoutSCCLookups).
//   - Both can panic (nil maps, nil pointers on paths OSP does not exercise); a panic becomes a
//     FieldError, never a crash (guard).
package osp

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"

	pacsettings "github.com/openshift-pipelines/pipelines-as-code/pkg/params/settings"
	"github.com/robfig/cron/v3"
	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/utils/ptr"
	"knative.dev/pkg/apis"
	"knative.dev/pkg/logging"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
)

func init() {
	// tektoncd/operator picks its platform from the PLATFORM variable (IsOpenShiftPlatform).
	// OSP's webhook runs with PLATFORM=openshift, and this operator targets OpenShift only, so
	// the process plays that platform for every review.
	_ = os.Setenv("PLATFORM", "openshift")
}

// FieldError is one refusal: the TektonConfig field, and what is wrong with it.
type FieldError struct {
	// Path is the field's path in the TektonConfig, such as spec.pruner.keep.
	Path string
	// Message says what is wrong.
	Message string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// Review rules on desired, a TektonConfig the operator is about to apply, as OSP's admission
// would: the Pipelines-as-Code settings and the pruner schedule first (defaulting would hide a
// bad setting, and nothing upstream parses the schedule), then SetDefaults on a copy, then
// Validate as an update of live when live is not nil and as a create otherwise. A field that
// defaulting would change from what desired says is refused too: applied as it is, the
// webhook would rewrite it on every apply and the operator would write it back. Last, the
// rules OSP's reconciler alone keeps (ReconcileRules), on the defaulted copy: admitted, they
// would fail or break the installation after the apply succeeded. It returns every refusal,
// sorted by path, or nil when OSP would keep desired as it is.
func Review(desired, live *unstructured.Unstructured) []FieldError {
	tc, err := decode(desired)
	if err != nil {
		return []FieldError{*err}
	}
	var errs []FieldError
	if pac := pipelinesAsCode(&tc.Spec); pac != nil {
		errs = append(errs, CheckPACSettings(pac.path+".settings", pac.Settings)...)
	}
	if p := tc.Spec.Pruner; !p.Disabled && p.Schedule != "" {
		if err := CheckSchedule(p.Schedule); err != nil {
			errs = append(errs, FieldError{Path: "spec.pruner.schedule", Message: err.Error()})
		}
	}
	defaulted := tc.DeepCopy()
	if err := Default(context.Background(), defaulted); err != nil {
		return sortErrors(append(errs, *err))
	}
	errs = append(errs, changedByDefaulting(desired.Object["spec"], defaulted.Spec, errs)...)
	var baseline *tektonv1alpha1.TektonConfig
	if live != nil {
		if baseline, err = decode(live); err != nil {
			return sortErrors(append(errs, *err))
		}
	}
	errs = append(errs, Validate(context.Background(), defaulted, baseline)...)
	errs = append(errs, ReconcileRules(defaulted)...)
	return sortErrors(errs)
}

// decode converts u into tektoncd/operator's type. The strict check (unknown fields, wrong
// types) is render's; here a failure only means u is not a TektonConfig at all.
func decode(u *unstructured.Unstructured) (*tektonv1alpha1.TektonConfig, *FieldError) {
	tc := &tektonv1alpha1.TektonConfig{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, tc); err != nil {
		return nil, &FieldError{Path: "spec", Message: "does not decode as a TektonConfig: " + err.Error()}
	}
	return tc, nil
}

// changedByDefaulting compares each field that want sets with the defaulted spec, as OSP's
// webhook would store it (the typed object marshalled, as knative's defaulting webhook
// patches it), and refuses each one defaulting changes or drops. Paths already refused are
// not reported twice.
func changedByDefaulting(want any, defaulted tektonv1alpha1.TektonConfigSpec, refused []FieldError) []FieldError {
	data, err := json.Marshal(defaulted)
	if err != nil {
		return []FieldError{{Path: "spec", Message: "encode the defaulted spec: " + err.Error()}}
	}
	var got map[string]any
	if err := utiljson.Unmarshal(data, &got); err != nil {
		return []FieldError{{Path: "spec", Message: "decode the defaulted spec: " + err.Error()}}
	}
	var out []FieldError
	var walk func(path string, want, got any)
	walk = func(path string, want, got any) {
		if slices.ContainsFunc(refused, func(e FieldError) bool { return e.Path == path }) {
			return
		}
		w, isMap := want.(map[string]any)
		if !isMap {
			// A subset, as the operator's up-to-date check compares: what defaulting adds
			// inside a list item (a container's empty resources) rewrites nothing.
			if !fields.IsSubset(want, got) {
				out = append(out, FieldError{Path: path, Message: fmt.Sprintf(
					"OpenShift Pipelines' defaulting changes %s to %s: write %s, or the webhook and the operator rewrite each other",
					jsonText(want), jsonText(got), jsonText(got))})
			}
			return
		}
		g, ok := got.(map[string]any)
		if !ok {
			if len(w) > 0 || got != nil {
				out = append(out, FieldError{Path: path, Message: "OpenShift Pipelines' defaulting removes it"})
			}
			return
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			gv, ok := g[k]
			if !ok {
				out = append(out, FieldError{Path: path + "." + k, Message: "OpenShift Pipelines' defaulting removes it"})
				continue
			}
			walk(path+"."+k, w[k], gv)
		}
	}
	walk("spec", want, got)
	return out
}

func jsonText(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// Default runs tektoncd/operator's SetDefaults on tc in place, as OSP's mutating webhook does.
func Default(ctx context.Context, tc *tektonv1alpha1.TektonConfig) *FieldError {
	ctx = quietLogger(ctx)
	if pac := pipelinesAsCode(&tc.Spec); pac != nil && pac.Enable != nil && *pac.Enable {
		// Only an enabled PaC is defaulted (setPACDefaults), and only that one looks the hub up.
		preventHubLookups(pac.PipelinesAsCode)
	}
	var err *FieldError
	guard("SetDefaults", &err, func() { tc.SetDefaults(ctx) })
	return err
}

// Validate runs tektoncd/operator's Validate on a copy of tc, in the context OSP's validating
// webhook gives it: within an update of old when old is not nil, else within a create.
func Validate(ctx context.Context, tc, old *tektonv1alpha1.TektonConfig) []FieldError {
	ctx = quietLogger(ctx)
	if old != nil {
		ctx = apis.WithinUpdate(ctx, old)
	} else {
		ctx = apis.WithinCreate(ctx)
	}
	tc = tc.DeepCopy()
	if pac := pipelinesAsCode(&tc.Spec); pac != nil {
		preventHubLookups(pac.PipelinesAsCode)
	}
	withoutSCCLookups(&tc.Spec)
	var fe *apis.FieldError
	var panicked *FieldError
	guard("Validate", &panicked, func() { fe = tc.Validate(ctx) })
	if panicked != nil {
		return []FieldError{*panicked}
	}
	return fieldErrors(fe)
}

// CheckPACSettings checks the Pipelines-as-Code settings a user wrote with Pipelines-as-Code's
// own parser and validators, and names each key OSP's defaulting would silently lose: a key
// Pipelines-as-Code does not know (defaulting drops it) or a value that does not parse for its
// key (defaulting resets it to the default). path is where the settings are, for messages.
func CheckPACSettings(path string, settings map[string]string) []FieldError {
	if len(settings) == 0 {
		return nil
	}
	kept := defaultedPACSettings(settings)
	var errs []FieldError
	for _, key := range slices.Sorted(maps.Keys(settings)) {
		value := settings[key]
		field := path + "." + key
		if err := parsePACSetting(key, value); err != nil {
			errs = append(errs, FieldError{Path: field, Message: fmt.Sprintf("value %q does not parse: %v", value, err)})
			continue
		}
		if _, ok := kept[key]; !ok {
			errs = append(errs, FieldError{Path: field, Message: "not a Pipelines-as-Code setting: OpenShift Pipelines drops it (check the spelling)"})
		}
	}
	return errs
}

// CheckSchedule parses a pruner schedule as Kubernetes parses a CronJob's (robfig/cron's
// standard five fields or a descriptor such as @daily). OSP copies the schedule into a
// CronJob unchecked, so a bad one fails there, long after the TektonConfig was accepted.
func CheckSchedule(schedule string) error {
	if strings.Contains(schedule, "TZ=") {
		return fmt.Errorf("time zones are not supported in the schedule")
	}
	if _, err := cron.ParseStandard(schedule); err != nil {
		return fmt.Errorf("not a cron schedule: %w", err)
	}
	return nil
}

// pacAt is a PipelinesAsCode section with its path in the TektonConfig.
type pacAt struct {
	*tektonv1alpha1.PipelinesAsCode
	path string
}

// pipelinesAsCode returns the PaC section OSP on OpenShift reads: spec.platforms.openshift,
// or spec.platforms.kubernetes, which OpenShift's SetDefaults moves there.
func pipelinesAsCode(spec *tektonv1alpha1.TektonConfigSpec) *pacAt {
	if p := spec.Platforms.OpenShift.PipelinesAsCode; p != nil {
		return &pacAt{p, "spec.platforms.openshift.pipelinesAsCode"}
	}
	if p := spec.Platforms.Kubernetes.PipelinesAsCode; p != nil {
		return &pacAt{p, "spec.platforms.kubernetes.pipelinesAsCode"}
	}
	return nil
}

// defaultedPACSettings is what OSP's SetDefaults stores for settings: the map it writes back.
func defaultedPACSettings(settings map[string]string) map[string]string {
	tc := &tektonv1alpha1.TektonConfig{}
	tc.Spec.Platforms.OpenShift.PipelinesAsCode = &tektonv1alpha1.PipelinesAsCode{
		Enable:      ptr.To(true),
		PACSettings: tektonv1alpha1.PACSettings{Settings: maps.Clone(settings)},
	}
	if err := Default(context.Background(), tc); err != nil {
		return map[string]string{}
	}
	return tc.Spec.Platforms.OpenShift.PipelinesAsCode.Settings
}

// parsePACSetting parses one setting alone with Pipelines-as-Code's own parser and
// validators, so that an error is the key's own.
func parsePACSetting(key, value string) (err error) {
	config := map[string]string{key: value}
	fillHubTypes(config)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("Pipelines-as-Code's parser panicked: %v", r)
		}
	}()
	return pacsettings.SyncConfig(zap.NewNop().Sugar(), &pacsettings.Settings{}, config, pacsettings.DefaultValidators(), offline)
}

// offline is the HTTP client handed to Pipelines-as-Code: with the hub types filled in it is
// never used, and if a new PaC release ever calls out anyway, the call fails here at once.
var offline = &http.Client{Transport: refuseNetwork{}}

type refuseNetwork struct{}

func (refuseNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("no network calls from admission review (%s)", r.URL.Host)
}

// preventHubLookups fills in the hub catalog types that Pipelines-as-Code would otherwise
// ask each hub's HTTP API for (getHubCatalogTypeViaAPI). Artifact Hub is PaC's default type;
// the type decides how PaC talks to the hub, never whether the settings are valid.
func preventHubLookups(pac *tektonv1alpha1.PipelinesAsCode) {
	if pac.Settings == nil {
		// Validate hands the map to SyncConfig, which writes into it: a nil map panics.
		pac.Settings = map[string]string{}
	}
	fillHubTypes(pac.Settings)
}

func fillHubTypes(config map[string]string) {
	const artifactHub = "artifacthub"
	if config[pacsettings.HubCatalogTypeKey] == "" {
		config[pacsettings.HubCatalogTypeKey] = artifactHub
	}
	for key := range config {
		if index, ok := strings.CutPrefix(key, "catalog-"); ok {
			if n, _, ok := strings.Cut(index, "-"); ok && config["catalog-"+n+"-type"] == "" {
				config["catalog-"+n+"-type"] = artifactHub
			}
		}
	}
}

// withoutSCCLookups takes out of a copy under review the SCC settings whose checks query the
// cluster (an SCC other than pipelines-scc must exist; maxAllowed is compared with every
// namespace's SCC). OSP's webhook still checks them on the cluster.
func withoutSCCLookups(spec *tektonv1alpha1.TektonConfigSpec) {
	if scc := spec.Platforms.OpenShift.SCC; scc != nil {
		spec.Platforms.OpenShift.SCC = &tektonv1alpha1.SCC{Default: tektonv1alpha1.PipelinesSCC}
	}
}

// guard runs f and turns a panic into a FieldError on spec.
func guard(what string, err **FieldError, f func()) {
	defer func() {
		if r := recover(); r != nil {
			*err = &FieldError{Path: "spec", Message: fmt.Sprintf("OpenShift Pipelines' %s panicked on this TektonConfig: %v", what, r)}
		}
	}()
	f()
}

// fieldErrors flattens knative's FieldError into one FieldError per path.
func fieldErrors(fe *apis.FieldError) []FieldError {
	if fe == nil {
		return nil
	}
	var out []FieldError
	for _, e := range fe.WrappedErrors() {
		msg := e.Message
		if e.Details != "" {
			msg += ": " + e.Details
		}
		paths := e.Paths
		if len(paths) == 0 {
			paths = []string{"spec"}
		}
		for _, p := range paths {
			out = append(out, FieldError{Path: p, Message: msg})
		}
	}
	return out
}

func sortErrors(errs []FieldError) []FieldError {
	slices.SortStableFunc(errs, func(a, b FieldError) int { return strings.Compare(a.Path, b.Path) })
	return slices.Compact(errs)
}

// quietLogger keeps upstream's informational logging (each default it fills) out of the
// operator's log; knative code logs through the context.
func quietLogger(ctx context.Context) context.Context {
	return logging.WithLogger(ctx, zap.NewNop().Sugar())
}
