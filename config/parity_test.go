package config_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// allowed is a way a rendered child may differ from the production file: every difference
// whose path starts with Path, in the objects of Kind (and Namespace and Name, when set).
type allowed struct {
	Kind, Namespace, Name, Path string
	Reason                      string
	// DefaultedByOSP says the rendered TektonConfig leaves the field out and OSP's webhook
	// writes production's value into it; the test checks that it does.
	DefaultedByOSP bool
}

const (
	reasonLabels    = "the operator labels what it manages (managed-by, part-of) and records the hash of what it applied"
	reasonArgoCD    = "ArgoCD's own annotations: the operator does not render them, and server-side apply leaves them with their manager"
	reasonOSP       = "left out of overrides, as import leaves it out, because OSP's webhook defaults it to production's value"
	reasonServer    = "the API server defaults it to production's value"
	reasonProbes    = "the operator probes the exporter on 8081 (/healthz, /readyz), which the exporter serves (its controller-runtime manager's health probe address)"
	reasonHardening = "the operator runs the exporter under the restricted pod security profile; production already sets runAsNonRoot and readOnlyRootFilesystem"
)

// parityAllowed lists every difference between the production overlay's children and
// stone-prod-p01's files. Anything else fails, and so does an entry no difference uses.
var parityAllowed = []allowed{
	{Kind: "*", Path: "metadata.labels", Reason: reasonLabels},
	{Kind: "*", Path: `metadata.annotations["pipelineservice.appstudio.io/applied-hash"]`, Reason: reasonLabels},
	{Kind: "*", Path: `metadata.annotations["argocd.argoproj.io/sync-options"]`, Reason: reasonArgoCD},
	{Kind: "*", Path: `metadata.annotations["argocd.argoproj.io/sync-wave"]`, Reason: reasonArgoCD},

	{Kind: "CatalogSource", Path: "spec.publisher", Reason: "the publisher the OpenShift console shows for the catalog; production sets none"},
	{Kind: "Subscription", Path: "spec.installPlanApproval",
		Reason: "Automatic, which OLM does when none is set; written so that a Manual left by an earlier pin cannot stay behind"},

	{Kind: "TektonConfig", Path: `spec.chain["artifacts.oci.storage"]`, Reason: reasonOSP, DefaultedByOSP: true},
	{Kind: "TektonConfig", Path: `spec.chain["artifacts.pipelinerun.format"]`, Reason: reasonOSP, DefaultedByOSP: true},
	{Kind: "TektonConfig", Path: `spec.chain["artifacts.pipelinerun.storage"]`, Reason: reasonOSP, DefaultedByOSP: true},
	{Kind: "TektonConfig", Path: `spec.chain["artifacts.taskrun.format"]`, Reason: reasonOSP, DefaultedByOSP: true},
	{Kind: "TektonConfig", Path: "spec.pipeline.enable-bundles-resolver", Reason: reasonOSP, DefaultedByOSP: true},
	{Kind: "TektonConfig", Path: "spec.pipeline.enable-cluster-resolver", Reason: reasonOSP, DefaultedByOSP: true},
	{Kind: "TektonConfig", Path: "spec.pipeline.enable-git-resolver", Reason: reasonOSP, DefaultedByOSP: true},
	{Kind: "TektonConfig", Path: "spec.pipeline.enable-hub-resolver", Reason: reasonOSP, DefaultedByOSP: true},
	{Kind: "TektonConfig", Path: "spec.platforms.openshift.pipelinesAsCode.settings.remember-ok-to-test", Reason: reasonOSP, DefaultedByOSP: true},

	{Kind: "Deployment", Name: "pipeline-metrics-exporter", Path: `spec.template.metadata.annotations["argocd.argoproj.io/sync-options"]`, Reason: reasonArgoCD},
	{Kind: "Deployment", Name: "pipeline-metrics-exporter", Path: "spec.template.spec.restartPolicy", Reason: reasonServer},
	{Kind: "Deployment", Name: "pipeline-metrics-exporter", Path: "spec.template.spec.containers[0].ports[0].protocol", Reason: reasonServer},
	{Kind: "Deployment", Name: "pipeline-metrics-exporter", Path: "spec.template.spec.containers[0].ports[1]", Reason: reasonProbes},
	{Kind: "Deployment", Name: "pipeline-metrics-exporter", Path: "spec.template.spec.containers[0].livenessProbe", Reason: reasonProbes},
	{Kind: "Deployment", Name: "pipeline-metrics-exporter", Path: "spec.template.spec.containers[0].readinessProbe", Reason: reasonProbes},
	{Kind: "Deployment", Name: "pipeline-metrics-exporter", Path: "spec.template.spec.containers[0].securityContext", Reason: reasonHardening},
	{Kind: "Deployment", Name: "pipeline-metrics-exporter", Path: "spec.template.spec.securityContext", Reason: reasonHardening},

	{Kind: "TektonConfig", Path: "spec.pipeline.options.configMaps.config-leader-election-resolvers.data.buckets",
		Reason: "production's later value, 4 (testdata/production/README.md): the snapshot's 8 buckets against 4 ordinal replicas leave 4 buckets unowned, which OSP's reconciler refuses and so does the operator (tektoncd/operator#3957)"},

	{Kind: "Deployment", Namespace: "tekton-results", Path: "",
		Reason: "not a child: Tekton Results runs outside OSP in production, from its own manifests"},
}

func TestProductionParity(t *testing.T) {
	t.Parallel()
	production, err := testenv.ProductionObjects()
	if err != nil {
		t.Fatal(err)
	}
	ps := buildProductionOverlay(t)
	desired, err := render.Render(ps, children.AllServed())
	if err != nil {
		t.Fatal(err)
	}
	rendered := map[string]*unstructured.Unstructured{}
	for _, o := range desired.Objects {
		rendered[objectKey(o)] = o
	}
	used := map[int]bool{}
	for _, want := range production {
		key := objectKey(want)
		got := rendered[key]
		var diffs []fields.Difference
		if got == nil {
			diffs = []fields.Difference{{Path: "", A: "the object", B: nil}}
		} else {
			diffs = fields.Diff(content(want), content(got))
		}
		var defaulted []fields.Difference
		if got != nil && want.GroupVersionKind() == children.GVKTektonConfig {
			defaulted = fields.Diff(content(want), ospDefaulted(t, got))
		}
		for _, d := range diffs {
			i := match(want, d.Path)
			if i < 0 {
				t.Errorf("%s: %s is %s in production and %s rendered; fix the overlay or list it in parityAllowed with its reason",
					key, d.Path, jsonText(d.A), jsonText(d.B))
				continue
			}
			used[i] = true
			if parityAllowed[i].DefaultedByOSP {
				for _, dd := range defaulted {
					if dd.Path == d.Path {
						t.Errorf("%s: %s is said to be defaulted by OSP, but OSP's defaulting writes %s, not production's %s", key, d.Path, jsonText(dd.B), jsonText(dd.A))
					}
				}
			}
		}
	}
	for i, a := range parityAllowed {
		if !used[i] {
			t.Errorf("parityAllowed[%d] (%s %s %s) matches no difference: remove it", i, a.Kind, a.Name, a.Path)
		}
	}
}

func match(u *unstructured.Unstructured, path string) int {
	for i, a := range parityAllowed {
		if (a.Kind == "*" || a.Kind == u.GetKind()) && (a.Name == "" || a.Name == u.GetName()) &&
			(a.Namespace == "" || a.Namespace == u.GetNamespace()) &&
			(path == a.Path || strings.HasPrefix(path, a.Path+".") || strings.HasPrefix(path, a.Path+"[") || a.Path == "") {
			return i
		}
	}
	return -1
}

// content is what an object says, its type aside.
func content(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy().Object
	delete(c, "apiVersion")
	delete(c, "kind")
	return c
}

// ospDefaulted is the rendered TektonConfig after OSP's defaulting, as its webhook stores it.
func ospDefaulted(t *testing.T, u *unstructured.Unstructured) map[string]any {
	t.Helper()
	tc := &tektonv1alpha1.TektonConfig{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, tc); err != nil {
		t.Fatal(err)
	}
	if fe := osp.Default(context.Background(), tc); fe != nil {
		t.Fatal(fe)
	}
	data, err := yaml.Marshal(tc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	// Numbers as the API machinery holds them.
	js, _ := utiljson.Marshal(out)
	out = map[string]any{}
	if err := utiljson.Unmarshal(js, &out); err != nil {
		t.Fatal(err)
	}
	delete(out, "status")
	unstructured.RemoveNestedField(out, "metadata", "creationTimestamp")
	return out
}

func objectKey(u *unstructured.Unstructured) string {
	return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

func jsonText(v any) string {
	if v == nil {
		return "absent"
	}
	data, err := utiljson.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// buildProductionOverlay is the production overlay as kustomize builds it, with the schema's
// defaults, as the API server would store it.
func buildProductionOverlay(t *testing.T) *psv1alpha1.PipelineService {
	t.Helper()
	content := map[string]any{}
	if err := yaml.Unmarshal(build(t, filepath.Join("config", "samples", "overlays", "production")), &content); err != nil {
		t.Fatal(err)
	}
	ps, err := samples.Defaulted(content)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}
