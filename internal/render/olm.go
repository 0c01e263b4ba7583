package render

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// CatalogPublisher is the publisher the OpenShift console shows for the catalog.
const CatalogPublisher = "Pipeline Service"

// TargetNamespace is the namespace OSP installs Tekton into and where the exporter and the
// GitHub App secret live. The operator creates it so that the secret is there before
// Pipelines-as-Code starts; OSP adopts an existing namespace. It is never deleted by the
// operator: OSP's components run in it.
func TargetNamespace(ps *psv1alpha1.PipelineService) *unstructured.Unstructured {
	return Namespace(ps.Spec.TektonConfig.TargetNamespace)
}

// Namespace renders a namespace the same way for the PipelineService and the
// PipelineServiceHost, with the same labels: where both name one (SprayProxy in the target
// namespace), both apply the same object with the same hash, rather than each rewriting the
// other's labels and hash forever.
func Namespace(name string) *unstructured.Unstructured {
	return newObject(children.GVKNamespace, "", name)
}

// CatalogSource serves the operator's catalog to OLM: the index image, which OLM runs, or the
// address of a catalog server.
func CatalogSource(ps *psv1alpha1.PipelineService) *unstructured.Unstructured {
	cs := ps.Spec.Operator.CatalogSource
	u := newObject(children.GVKCatalogSource, cs.Namespace, cs.Name)
	spec := map[string]any{
		"sourceType":  "grpc",
		"displayName": cs.DisplayName,
		"publisher":   CatalogPublisher,
	}
	if cs.Address != "" {
		spec["address"] = cs.Address
	} else {
		spec["image"] = string(cs.Image)
	}
	if cs.PollInterval != nil {
		spec["updateStrategy"] = map[string]any{
			"registryPoll": map[string]any{"interval": Duration(cs.PollInterval.Duration)},
		}
	}
	u.Object["spec"] = spec
	return u
}

// Subscription subscribes to the operator's package. A pinned CSV gets startingCSV and Manual
// approval, so that only the operator's approval of that exact CSV installs anything.
func Subscription(ps *psv1alpha1.PipelineService) (*unstructured.Unstructured, error) {
	sub := ps.Spec.Operator.Subscription
	cs := ps.Spec.Operator.CatalogSource
	u := newObject(children.GVKSubscription, sub.Namespace, sub.Name)
	spec := map[string]any{
		"channel":             sub.Channel,
		"name":                sub.Package,
		"source":              cs.Name,
		"sourceNamespace":     cs.Namespace,
		"installPlanApproval": "Automatic",
	}
	env, err := subscriptionEnv(ps)
	if err != nil {
		return nil, err
	}
	spec["config"] = map[string]any{"env": env}
	if sub.CSV != "" {
		spec["startingCSV"] = sub.CSV
		spec["installPlanApproval"] = "Manual"
	}
	u.Object["spec"] = spec
	return u, nil
}

// Override is one image variable the Subscription sets, with the spec field it comes from.
type Override struct {
	Image  string
	Source string
}

// RevertField is the field a RevertError refuses.
const RevertField = "spec.operator.subscription.revertImagesTo"

// RevertError refuses a revertImagesTo that names no build whose images are recorded.
type RevertError struct{ Message string }

func (e *RevertError) Error() string { return e.Message }

// ImageOverrides are the image variables the Subscription sets: the images recorded for the
// build revertImagesTo names, then imageOverrides over them. A variable env sets is env's.
// When the revert names no recorded build, it returns imageOverrides alone, with a
// *RevertError.
func ImageOverrides(ps *psv1alpha1.PipelineService) (map[string]Override, error) {
	sub := ps.Spec.Operator.Subscription
	out := map[string]Override{}
	var err error
	if sub.RevertImagesTo != "" {
		var images []psv1alpha1.ImageVariable
		images, err = revertedImages(ps)
		for _, v := range images {
			if !slices.ContainsFunc(sub.Env, func(e corev1.EnvVar) bool { return e.Name == v.Name }) {
				out[v.Name] = Override{Image: v.Image, Source: psv1alpha1.OverrideSourceRevert}
			}
		}
	}
	for name, image := range sub.ImageOverrides {
		out[name] = Override{Image: string(image), Source: psv1alpha1.OverrideSourceImageOverrides}
	}
	return out, err
}

// revertedImages are the images recorded for the build revertImagesTo names.
func revertedImages(ps *psv1alpha1.PipelineService) ([]psv1alpha1.ImageVariable, error) {
	name := ps.Spec.Operator.Subscription.RevertImagesTo
	const field = RevertField
	var prev *psv1alpha1.BuildImages
	if u := ps.Status.Upgrade; u != nil {
		prev = u.Previous
	}
	switch {
	case prev == nil:
		return nil, &RevertError{Message: fmt.Sprintf("%s names %s, but no previous build is recorded: status.upgrade.previous is set when an upgrade starts, and none has been seen", field, name)}
	case prev.CSV != name:
		return nil, &RevertError{Message: fmt.Sprintf("%s names %s, but the recorded previous build is %s (status.upgrade.previous): only the build the last upgrade replaced can be reverted to", field, name, prev.CSV)}
	case len(prev.Images) == 0:
		return nil, &RevertError{Message: fmt.Sprintf("%s names %s, whose images are not recorded: its CSV was gone before the operator could read it; set the images in imageOverrides instead", field, name)}
	}
	return prev.Images, nil
}

// RenderInputs is what the render reads beyond the spec: the recorded previous build, while
// revertImagesTo reverts to it.
func RenderInputs(ps *psv1alpha1.PipelineService) string {
	u := ps.Status.Upgrade
	if ps.Spec.Operator.Subscription.RevertImagesTo == "" || u == nil || u.Previous == nil {
		return ""
	}
	return fmt.Sprintf("%s/%d", u.Previous.CSV, len(u.Previous.Images))
}

// SubscriptionEnv is the environment the Subscription asks OLM to set on the operator:
// AUTOINSTALL_COMPONENTS=false, the image overrides (ImageOverrides) and the extra env,
// sorted by name. Admission forbids a name in both imageOverrides and env.
func SubscriptionEnv(sub psv1alpha1.SubscriptionSpec, overrides map[string]Override) []corev1.EnvVar {
	vars := []corev1.EnvVar{{Name: EnvAutoinstallComponents, Value: "false"}}
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		vars = append(vars, corev1.EnvVar{Name: k, Value: overrides[k].Image})
	}
	vars = append(vars, sub.Env...)
	sort.SliceStable(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return vars
}

// subscriptionEnv is SubscriptionEnv as the Subscription's spec.config.env; a revert that
// names no recorded build refuses the render.
func subscriptionEnv(ps *psv1alpha1.PipelineService) ([]any, error) {
	overrides, err := ImageOverrides(ps)
	if err != nil {
		return nil, err
	}
	vars := SubscriptionEnv(ps.Spec.Operator.Subscription, overrides)
	out := make([]any, 0, len(vars))
	for i := range vars {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&vars[i])
		if err != nil {
			return nil, fmt.Errorf("render Subscription env %s: %w", vars[i].Name, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// ImageContentSourcePolicy redirects pulls of the mirrored repositories (OpenShift < 4.13, and
// later releases that still serve it).
func ImageContentSourcePolicy(ps *psv1alpha1.PipelineService) *unstructured.Unstructured {
	u := newObject(children.GVKICSP, "", MirrorPolicyName)
	u.Object["spec"] = map[string]any{"repositoryDigestMirrors": mirrorList(ps, "source")}
	return u
}

// ImageDigestMirrorSet is ICSP's successor, used where ICSP is not served.
func ImageDigestMirrorSet(ps *psv1alpha1.PipelineService) *unstructured.Unstructured {
	u := newObject(children.GVKIDMS, "", MirrorPolicyName)
	u.Object["spec"] = map[string]any{"imageDigestMirrors": mirrorList(ps, "source")}
	return u
}

func mirrorList(ps *psv1alpha1.PipelineService, sourceKey string) []any {
	out := make([]any, 0, len(ps.Spec.Mirrors))
	for _, m := range ps.Spec.Mirrors {
		mirrors := make([]any, 0, len(m.Mirrors))
		for _, r := range m.Mirrors {
			mirrors = append(mirrors, string(r))
		}
		out = append(out, map[string]any{sourceKey: string(m.Source), "mirrors": mirrors})
	}
	return out
}
