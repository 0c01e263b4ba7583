package health

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	mf "github.com/manifestival/manifestival"
	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	"github.com/tektoncd/operator/pkg/reconciler/common"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// Component is one of the Tekton components OSP renders into TektonInstallerSets, with what
// the check needs to know of it.
type Component struct {
	// Kind is the component's kind (TektonPipeline), which names its installer sets.
	Kind string
	// ImagePrefix selects the OSP operator's environment variables that name its images.
	ImagePrefix string
	// OptionsPath is where the TektonConfig holds the component's additional options, which
	// OSP copies into the component's spec; empty when it has none, and then a stale
	// component cannot be refreshed through the TektonConfig.
	OptionsPath []string
}

// components are keyed by the operand-name label OSP's transformers put on every workload
// they render (common.InjectOperandNameLabelOverwriteExisting), and give the prefix each
// component's reconciler reads its images from (common.ImagesFromEnv(<prefix>) in
// tektoncd/operator pkg/reconciler/{kubernetes,openshift}/<component>/transform.go) and the
// TektonConfig field OSP copies into the component's spec (pkg/reconciler/shared/tektonconfig).
var components = map[string]Component{
	tektonv1alpha1.OperandTektoncdPipeline: {Kind: tektonv1alpha1.KindTektonPipeline, ImagePrefix: common.PipelinesImagePrefix, OptionsPath: []string{"spec", "pipeline", "options"}},
	tektonv1alpha1.OperandTektoncdTriggers: {Kind: tektonv1alpha1.KindTektonTrigger, ImagePrefix: common.TriggersImagePrefix, OptionsPath: []string{"spec", "trigger", "options"}},
	tektonv1alpha1.OperandTektoncdChains:   {Kind: tektonv1alpha1.KindTektonChain, ImagePrefix: common.ChainsImagePrefix, OptionsPath: []string{"spec", "chain", "options"}},
	tektonv1alpha1.OperandTektoncdResults:  {Kind: tektonv1alpha1.KindTektonResult, ImagePrefix: common.ResultsImagePrefix, OptionsPath: []string{"spec", "result", "options"}},
	// openshift.OperandOpenShiftPipelineAsCode and OperandOpenShiftPipelinesAddons, in
	// pkg/reconciler/openshift, whose package links OSP's whole OpenShift reconciler.
	"openshift-pipeline-as-code":            {Kind: tektonv1alpha1.KindOpenShiftPipelinesAsCode, ImagePrefix: common.PacImagePrefix, OptionsPath: []string{"spec", "platforms", "openshift", "pipelinesAsCode", "options"}},
	"openshift-pipelines-addons":            {Kind: tektonv1alpha1.KindTektonAddon, ImagePrefix: common.AddonsImagePrefix},
	tektonv1alpha1.ManualApprovalGates:      {Kind: tektonv1alpha1.KindManualApprovalGate, ImagePrefix: common.ManualApprovalGatePrefix},
	tektonv1alpha1.TektonPrunerResourceName: {Kind: tektonv1alpha1.KindTektonPruner, ImagePrefix: common.PrunerImagePrefix},
	tektonv1alpha1.OperandSyncerService:     {Kind: tektonv1alpha1.KindSyncerService, ImagePrefix: common.SyncerServiceImagePrefix},
}

// ComponentOf is the component a workload belongs to, from OSP's operand-name label.
func ComponentOf(labels map[string]string) (Component, bool) {
	c, ok := components[labels[tektonv1alpha1.LabelOperandName]]
	return c, ok
}

// Workload is a Deployment or StatefulSet OSP runs for a component.
type Workload struct {
	Kind, Name string
	Component  Component
	// Object is the workload as its cache holds it.
	Object *unstructured.Unstructured
}

// Workloads are the component workloads among deployments and sets: those OSP labelled with
// a component's operand name.
func Workloads(deployments []appsv1.Deployment, sets []appsv1.StatefulSet) ([]Workload, error) {
	var out []Workload
	add := func(kind string, obj runtime.Object, name string, labels map[string]string) error {
		c, ok := ComponentOf(labels)
		if !ok {
			return nil
		}
		content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return fmt.Errorf("convert %s %s: %w", kind, name, err)
		}
		u := &unstructured.Unstructured{Object: content}
		u.SetAPIVersion("apps/v1")
		u.SetKind(kind)
		out = append(out, Workload{Kind: kind, Name: name, Component: c, Object: u})
		return nil
	}
	for i := range deployments {
		if err := add("Deployment", &deployments[i], deployments[i].Name, deployments[i].Labels); err != nil {
			return nil, err
		}
	}
	for i := range sets {
		if err := add("StatefulSet", &sets[i], sets[i].Name, sets[i].Labels); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// StaleContainer is a container that runs another image than the one its component's
// images name.
type StaleContainer struct {
	Workload  Workload
	Container string
	Running   string
	Wanted    string
}

func (s StaleContainer) String() string {
	return fmt.Sprintf("%s/%s container %s runs %s, wants %s", s.Workload.Kind, s.Workload.Name, s.Container, s.Running, s.Wanted)
}

// Images are the images the operator's environment names for the component: its variables
// with the component's prefix, keyed as OSP keys them (common.ImagesFromEnv, then
// common.ToLowerCaseKeys), read from env rather than from this process's own environment.
func Images(env []corev1.EnvVar, c Component) map[string]string {
	raw := map[string]string{}
	for _, e := range env {
		if name, ok := strings.CutPrefix(e.Name, c.ImagePrefix); ok && e.ValueFrom == nil {
			raw[name] = e.Value
		}
	}
	return common.ToLowerCaseKeys(raw)
}

// Stale lists the containers of w whose image, or image argument, differs from what OSP
// renders for images: OSP's own transformer (common.DeploymentImages or
// common.StatefulSetImages) is run on a copy of the workload, and every container it changes
// is stale.
func Stale(w Workload, images map[string]string) ([]StaleContainer, error) {
	wanted := w.Object.DeepCopy()
	transform := common.DeploymentImages(images)
	if w.Kind == "StatefulSet" {
		transform = common.StatefulSetImages(images)
	}
	if err := mf.Transformer(transform)(wanted); err != nil {
		return nil, fmt.Errorf("render the images of %s/%s: %w", w.Kind, w.Name, err)
	}
	var out []StaleContainer
	for _, field := range []string{"initContainers", "containers"} {
		running, _, _ := unstructured.NestedSlice(w.Object.Object, "spec", "template", "spec", field)
		want, _, _ := unstructured.NestedSlice(wanted.Object, "spec", "template", "spec", field)
		for i := range min(len(running), len(want)) {
			r, _ := running[i].(map[string]any)
			x, _ := want[i].(map[string]any)
			name, _ := r["name"].(string)
			ri, _ := r["image"].(string)
			wi, _ := x["image"].(string)
			if ri != wi {
				out = append(out, StaleContainer{Workload: w, Container: name, Running: ri, Wanted: wi})
			}
			ra, _, _ := unstructured.NestedStringSlice(r, "args")
			wa, _, _ := unstructured.NestedStringSlice(x, "args")
			if !slices.Equal(ra, wa) {
				for j := range min(len(ra), len(wa)) {
					if ra[j] != wa[j] {
						out = append(out, StaleContainer{Workload: w, Container: name + " argument", Running: ra[j], Wanted: wa[j]})
					}
				}
			}
		}
	}
	return out, nil
}

// Overrides is what OverridesApplied is computed from.
type Overrides struct {
	// Operator is the OSP operator's Deployment, as OLM rolled it; nil when there is none yet.
	Operator    *appsv1.Deployment
	OperatorErr error
	// Asked are the variables the Subscription asks OLM to set on the operator.
	Asked map[string]string
	// Stale are the containers that do not run their wanted image; StaleErr is the error
	// reading the workloads or computing their images.
	Stale    []StaleContainer
	StaleErr error
	// Mode is spec.operator.subscription.overridesRollout.
	Mode psv1alpha1.OverridesRollout
	// UpgradeRunning: a refresh waits for the upgrade, which re-renders every component.
	UpgradeRunning bool
	// Requested are the stale workloads whose refresh has been asked of OSP.
	Requested []string
	// Redundant are the imageOverrides that name the image the installed CSV ships, and
	// InstalledCSV that CSV.
	Redundant    []string
	InstalledCSV string
	// RevertedTo is the CSV whose images revertImagesTo reverts to; "" when it is not set.
	RevertedTo string
}

// maxListed bounds the stale containers a message names.
const maxListed = 8

// OperatorRolled is whether OLM has rolled the operator Deployment with every variable the
// Subscription asks for, and the rollout has finished: until then the operator's
// environment does not say which images are wanted, and a refresh would re-render the old ones.
func OperatorRolled(d *appsv1.Deployment, asked map[string]string) (bool, string) {
	if d == nil {
		return false, "OLM has not made the OpenShift Pipelines operator Deployment yet"
	}
	name := d.Namespace + "/" + d.Name
	env := map[string]string{}
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
	}
	var missing []string
	for k, v := range asked {
		if env[k] != v {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return false, fmt.Sprintf("OLM has not yet rolled Deployment %s with %s from the Subscription", name, strings.Join(missing, ", "))
	}
	desired := desiredReplicas(d)
	if d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas < desired || d.Status.AvailableReplicas < desired {
		return false, fmt.Sprintf("Deployment %s is rolling out: %d/%d replicas updated", name, d.Status.UpdatedReplicas, desired)
	}
	return true, ""
}

// OverridesApplied reports whether the components run the images the operator's environment
// names: True when they all do; progress while OLM rolls the operator, while a refresh is
// asked of OSP or an upgrade will re-render them; ComponentsStale, a failure, when nothing
// will change them by itself (overridesRollout Report, or a component OSP cannot be asked to
// re-render through the TektonConfig).
func OverridesApplied(o Overrides) Check {
	c := overridesApplied(o)
	if len(o.Redundant) > 0 {
		c.Condition.Message += fmt.Sprintf("; imageOverrides %s name the very images %s ships: they are redundant and can be removed",
			strings.Join(o.Redundant, ", "), o.InstalledCSV)
	}
	if o.RevertedTo != "" {
		c.Note = fmt.Sprintf("the component images are reverted to those of %s (spec.operator.subscription.revertImagesTo)", o.RevertedTo)
	}
	return c
}

func overridesApplied(o Overrides) Check {
	const t = psv1alpha1.ConditionOverridesApplied
	switch {
	case o.OperatorErr != nil:
		return readFailed(t, "the OpenShift Pipelines operator Deployment", o.OperatorErr)
	case o.StaleErr != nil:
		return readFailed(t, "the components' workloads", o.StaleErr)
	}
	if rolled, why := OperatorRolled(o.Operator, o.Asked); !rolled {
		if o.Operator == nil {
			return unknown(t, psv1alpha1.ReasonComponentsNotObserved, why)
		}
		return progressing(t, psv1alpha1.ReasonOperatorRolling, why)
	}
	if len(o.Stale) == 0 {
		images := 0
		for name := range o.Asked {
			if ImageVariable(name) {
				images++
			}
		}
		return healthy(t, psv1alpha1.ReasonComponentsCurrent, fmt.Sprintf(
			"every component container runs the image the OpenShift Pipelines operator names (%d image variables from the Subscription)", images))
	}
	list := staleList(o.Stale)
	switch {
	case o.Mode == psv1alpha1.OverridesReport:
		return failing(t, psv1alpha1.ReasonComponentsStale, list+
			"; overridesRollout is Report: set it to Refresh, or delete the component's TektonInstallerSets, to make OSP re-render them")
	case o.UpgradeRunning:
		return progressing(t, psv1alpha1.ReasonComponentsStale, list+"; an upgrade is running, which re-renders every component")
	}
	var cannot []string
	for _, s := range o.Stale {
		if len(s.Workload.Component.OptionsPath) == 0 && !slices.Contains(cannot, s.Workload.Component.Kind) {
			cannot = append(cannot, s.Workload.Component.Kind)
		}
	}
	if len(cannot) > 0 {
		return failing(t, psv1alpha1.ReasonComponentsStale, fmt.Sprintf(
			"%s; the TektonConfig has no options for %s, so they cannot be refreshed through it: delete their TektonInstallerSets to make OSP re-render them",
			list, strings.Join(cannot, ", ")))
	}
	return progressing(t, psv1alpha1.ReasonComponentsRefreshing, fmt.Sprintf("%s; asked OpenShift Pipelines to re-render %s", list, strings.Join(o.Requested, ", ")))
}

// staleList names the stale containers, at most maxListed of them.
func staleList(stale []StaleContainer) string {
	names := make([]string, 0, maxListed)
	for i, s := range stale {
		if i == maxListed {
			names = append(names, fmt.Sprintf("and %d more", len(stale)-maxListed))
			break
		}
		names = append(names, s.String())
	}
	return fmt.Sprintf("%d component containers do not run their wanted image: %s", len(stale), strings.Join(names, "; "))
}

// ImageVariable is whether name has the form of the OSP operator's image variables: the
// variables overrides set, a bundle ships and the operator's cache keeps.
func ImageVariable(name string) bool { return strings.HasPrefix(name, "IMAGE_") }

// BundleImages are the images csv ships, by variable: the IMAGE_* variables of its install
// strategy's Deployments (the first value of a name wins), then its relatedImages of that
// form, which OSP's bundle generator names after the variables they fill
// (tektoncd/operator operatorhub/tools/bundle.py, image-substitutions in
// operatorhub/openshift/config.yaml). Nil when csv is.
func BundleImages(csv *olmv1alpha1.ClusterServiceVersion) map[string]string {
	if csv == nil {
		return nil
	}
	out := map[string]string{}
	for _, d := range csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs {
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if _, seen := out[e.Name]; !seen && ImageVariable(e.Name) && e.ValueFrom == nil {
					out[e.Name] = e.Value
				}
			}
		}
	}
	for _, r := range csv.Spec.RelatedImages {
		if _, seen := out[r.Name]; !seen && ImageVariable(r.Name) {
			out[r.Name] = r.Image
		}
	}
	return out
}

// Build is csv's images as status.upgrade.previous records them, sorted by name.
func Build(name string, csv *olmv1alpha1.ClusterServiceVersion) *psv1alpha1.BuildImages {
	b := &psv1alpha1.BuildImages{CSV: name}
	images := BundleImages(csv)
	for _, k := range slices.Sorted(maps.Keys(images)) {
		b.Images = append(b.Images, psv1alpha1.ImageVariable{Name: k, Image: images[k]})
	}
	return b
}

// CompareWithBundle sets each override's bundle image and state against bundle, the images
// the installed CSV ships, and returns them sorted by name. A reverted image that the
// installed CSV ships too changes nothing and is left out.
func CompareWithBundle(overrides []psv1alpha1.ImageOverrideStatus, bundle map[string]string) []psv1alpha1.ImageOverrideStatus {
	out := make([]psv1alpha1.ImageOverrideStatus, 0, len(overrides))
	for _, o := range overrides {
		o.BundleImage = bundle[o.Name]
		switch {
		case o.BundleImage == "":
			o.State = psv1alpha1.ImageOverrideUnknown
		case o.BundleImage != o.Image:
			o.State = psv1alpha1.ImageOverrideHolding
		case o.Source == psv1alpha1.OverrideSourceRevert:
			continue
		default:
			o.State = psv1alpha1.ImageOverrideRedundant
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b psv1alpha1.ImageOverrideStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Redundant names the imageOverrides that name the image the installed CSV ships.
func Redundant(overrides []psv1alpha1.ImageOverrideStatus) []string {
	var out []string
	for _, o := range overrides {
		if o.State == psv1alpha1.ImageOverrideRedundant {
			out = append(out, o.Name)
		}
	}
	return out
}
