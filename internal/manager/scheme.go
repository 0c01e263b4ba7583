package manager

import (
	"slices"
	"strings"

	configv1 "github.com/openshift/api/config/v1"
	operatorv1alpha1 "github.com/openshift/api/operator/v1alpha1"
	olmv1 "github.com/operator-framework/api/pkg/operators/v1"
	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// NewScheme returns a scheme with every typed API the operator reads or writes: Kubernetes
// built-ins, CRDs, PipelineService, OLM, OpenShift mirrors and TektonConfig. ExternalSecret and
// ServiceMonitor are handled as unstructured objects, so that the operator does not depend on
// those projects' Go modules for two small objects.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	utilruntime.Must(psv1alpha1.AddToScheme(s))
	utilruntime.Must(olmv1alpha1.AddToScheme(s))
	utilruntime.Must(olmv1.AddToScheme(s))
	utilruntime.Must(operatorv1alpha1.AddToScheme(s))
	utilruntime.Must(configv1.AddToScheme(s))
	utilruntime.Must(tektonv1alpha1.AddToScheme(s))
	return s
}

// CacheOptions scope the manager's cache to what the operator manages, so that its memory does
// not grow with the cluster: by default only objects with the operator's managed-by label are
// cached; the parents (created by ArgoCD) are cached whole, and CRDs only as metadata. The kinds
// the operator only observes (children.Kind's Observed: OLM's CSVs and InstallPlans, which carry
// no label of ours) are cached whole too, each trimmed by observedCache to the fields health
// reads: a CSV embeds CRDs, icons and Deployment specs, an InstallPlan every manifest it
// installs. Both lists derive from their declarations (the API group's kinds, the registry),
// so a new parent kind or observed kind is cached without a line here. Managed fields are never
// kept.
func CacheOptions() cache.Options {
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(children.GVKCustomResourceDefinition)
	whole := cache.ByObject{Label: labels.Everything(), Transform: cache.TransformStripManagedFields()}
	byObject := map[client.Object]cache.ByObject{crd: whole}
	for _, gvk := range parentKinds() {
		byObject[unstructuredOf(gvk)] = whole
	}
	trimmed := observedCache()
	for _, k := range children.Kinds {
		if !k.Observed {
			continue
		}
		by, ok := trimmed[k.GVK]
		if !ok {
			by = whole
		}
		byObject[unstructuredOf(k.GVK)] = by
	}
	return cache.Options{
		DefaultLabelSelector: labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedByValue}),
		DefaultTransform:     cache.TransformStripManagedFields(),
		ByObject:             byObject,
	}
}

// parentKinds are the kinds of the operator's API group: the parents.
func parentKinds() []schema.GroupVersionKind {
	s := runtime.NewScheme()
	utilruntime.Must(psv1alpha1.AddToScheme(s))
	var out []schema.GroupVersionKind
	for kind := range s.KnownTypes(psv1alpha1.GroupVersion) {
		gvk := psv1alpha1.GroupVersion.WithKind(kind)
		obj, err := s.New(gvk)
		utilruntime.Must(err)
		if _, isObject := obj.(client.Object); isObject && !apimeta.IsListType(obj) {
			out = append(out, gvk)
		}
	}
	slices.SortFunc(out, func(a, b schema.GroupVersionKind) int { return strings.Compare(a.Kind, b.Kind) })
	return out
}

func unstructuredOf(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

// observedCache is how each observed kind is cached, where it is not whole: CSVs without the
// copies OLM makes of a global operator's CSV in every namespace, trimmed to csvFields and the
// images; InstallPlans trimmed to installPlanFields.
func observedCache() map[schema.GroupVersionKind]cache.ByObject {
	notCopied, err := labels.Parse("!" + olmCopiedFromLabel)
	utilruntime.Must(err)
	return map[schema.GroupVersionKind]cache.ByObject{
		children.GVKClusterServiceVersion: {Label: notCopied, Transform: keepCSV},
		children.GVKInstallPlan:           {Label: labels.Everything(), Transform: keepFields(installPlanFields)},
	}
}

// olmCopiedFromLabel marks the copies of a CSV that OLM places in every namespace an
// AllNamespaces operator watches.
const olmCopiedFromLabel = "olm.copiedFrom"

// csvFields and installPlanFields are the fields health and approval read.
var (
	csvFields = [][]string{
		{"spec", "version"}, {"spec", "displayName"}, {"spec", "replaces"},
		{"status", "phase"}, {"status", "reason"}, {"status", "message"},
	}
	installPlanFields = [][]string{
		{"spec", "clusterServiceVersionNames"}, {"spec", "approval"}, {"spec", "approved"},
		{"status", "phase"},
	}
)

// keepCSV keeps a CSV's csvFields, and of its images what an image override is compared
// with and a revert records: its Deployments' IMAGE_* variables and its relatedImages of that
// form (OSP's; another operator's CSV keeps few or none).
func keepCSV(in any) (any, error) {
	out, err := keepFields(csvFields)(in)
	u, ok := in.(*unstructured.Unstructured)
	if err != nil || !ok {
		return out, err
	}
	kept := out.(*unstructured.Unstructured)
	image := func(name any) bool { s, _ := name.(string); return health.ImageVariable(s) }
	var deployments []any
	specs, _, _ := unstructured.NestedSlice(u.Object, "spec", "install", "spec", "deployments")
	for _, d := range specs {
		dm, _ := d.(map[string]any)
		containers, _, _ := unstructured.NestedSlice(dm, "spec", "template", "spec", "containers")
		var keptContainers []any
		for _, c := range containers {
			cm, _ := c.(map[string]any)
			env, _ := cm["env"].([]any)
			var keptEnv []any
			for _, e := range env {
				if em, _ := e.(map[string]any); image(em["name"]) && em["valueFrom"] == nil {
					keptEnv = append(keptEnv, map[string]any{"name": em["name"], "value": em["value"]})
				}
			}
			keptContainers = append(keptContainers, map[string]any{"name": cm["name"], "env": keptEnv})
		}
		deployments = append(deployments, map[string]any{"name": dm["name"],
			"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": keptContainers}}}})
	}
	if len(deployments) > 0 {
		if err := unstructured.SetNestedSlice(kept.Object, deployments, "spec", "install", "spec", "deployments"); err != nil {
			return nil, err
		}
	}
	var related []any
	images, _, _ := unstructured.NestedSlice(u.Object, "spec", "relatedImages")
	for _, r := range images {
		if rm, _ := r.(map[string]any); image(rm["name"]) {
			related = append(related, rm)
		}
	}
	if len(related) > 0 {
		if err := unstructured.SetNestedSlice(kept.Object, related, "spec", "relatedImages"); err != nil {
			return nil, err
		}
	}
	return kept, nil
}

// keepFields returns a cache transform that keeps an unstructured object's identity and the
// given fields, and drops the rest.
func keepFields(paths [][]string) toolscache.TransformFunc {
	return func(in any) (any, error) {
		u, ok := in.(*unstructured.Unstructured)
		if !ok {
			return cache.TransformStripManagedFields()(in)
		}
		out := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(),
		}}
		m := &metav1.ObjectMeta{
			Name: u.GetName(), Namespace: u.GetNamespace(), UID: u.GetUID(), ResourceVersion: u.GetResourceVersion(),
			Generation: u.GetGeneration(), Labels: u.GetLabels(), OwnerReferences: u.GetOwnerReferences(),
			CreationTimestamp: u.GetCreationTimestamp(), DeletionTimestamp: u.GetDeletionTimestamp(),
		}
		meta, err := runtime.DefaultUnstructuredConverter.ToUnstructured(m)
		if err != nil {
			return nil, err
		}
		out.Object["metadata"] = meta
		for _, p := range paths {
			if v, found, _ := unstructured.NestedFieldNoCopy(u.Object, p...); found {
				if err := unstructured.SetNestedField(out.Object, v, p...); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	}
}
