package importer

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// recordingReader answers Read with a TektonConfig and one Subscription, nothing else, and
// records every kind it was asked for.
type recordingReader struct {
	pkg   string
	asked []schema.GroupKind
}

func (r *recordingReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	gvk := obj.GetObjectKind().GroupVersionKind()
	r.asked = append(r.asked, gvk.GroupKind())
	if gvk == children.GVKTektonConfig {
		obj.(*unstructured.Unstructured).Object["spec"] = map[string]any{"targetNamespace": "openshift-pipelines"}
		return nil
	}
	return apierrors.NewNotFound(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, key.Name)
}

func (r *recordingReader) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	u := list.(*unstructured.UnstructuredList)
	gvk := u.GroupVersionKind()
	gvk.Kind = gvk.Kind[:len(gvk.Kind)-len("List")]
	r.asked = append(r.asked, gvk.GroupKind())
	if gvk == children.GVKSubscription {
		sub := unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"name": r.pkg}}}
		sub.SetGroupVersionKind(gvk)
		u.Items = append(u.Items, sub)
	}
	return nil
}

// TestReadReadsTheImportedKinds: import reads exactly the kinds the registry says it reads
// (children.ImportRead), so a kind declared as imported cannot be left out of Read, nor Read
// read a kind the registry says follows from others.
func TestReadReadsTheImportedKinds(t *testing.T) {
	g := NewWithT(t)
	r := &recordingReader{pkg: DefaultOptions().Package}
	_, err := Read(context.Background(), r, DefaultOptions())
	g.Expect(err).NotTo(HaveOccurred())
	var want []schema.GroupKind
	for _, k := range children.Rendered(children.Member) {
		if k.Import == children.ImportRead {
			want = append(want, k.GVK.GroupKind())
		}
	}
	slices.SortFunc(r.asked, compareGK)
	g.Expect(slices.Compact(r.asked)).To(ConsistOf(want))
}

func compareGK(a, b schema.GroupKind) int {
	return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Kind, b.Kind))
}

// TestEveryReadKindReachesTheConversion: for each kind the registry says import reads, an
// object of it changes what Convert prints (or refuses), so no kind is read and then dropped.
// A kind with no sample object here fails: add one when a kind is declared ImportRead.
func TestEveryReadKindReachesTheConversion(t *testing.T) {
	obj := func(gvk schema.GroupVersionKind, namespace, name string, fields map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: fields}
		u.SetGroupVersionKind(gvk)
		u.SetNamespace(namespace)
		u.SetName(name)
		return u
	}
	labelled := func(u *unstructured.Unstructured) *unstructured.Unstructured {
		u.SetLabels(map[string]string{render.LabelPartOf: children.Member.Info().PartOf})
		return u
	}
	exporter := DefaultOptions().Exporter
	samples := map[schema.GroupKind]*unstructured.Unstructured{
		children.GVKTektonConfig.GroupKind(): obj(children.GVKTektonConfig, "", render.TektonConfigName,
			map[string]any{"spec": map[string]any{"targetNamespace": "openshift-pipelines", "profile": "all"}}),
		children.GVKSubscription.GroupKind(): obj(children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator",
			map[string]any{"spec": map[string]any{"name": DefaultOptions().Package, "channel": "latest", "source": "catalog", "sourceNamespace": "openshift-marketplace"}}),
		children.GVKCatalogSource.GroupKind(): obj(children.GVKCatalogSource, "openshift-marketplace", "catalog",
			map[string]any{"spec": map[string]any{"image": "quay.io/org/index:next", "sourceType": "grpc"}}),
		children.GVKDeployment.GroupKind(): obj(children.GVKDeployment, "openshift-pipelines", exporter,
			map[string]any{"spec": map[string]any{"replicas": int64(1), "template": map[string]any{"spec": map[string]any{
				"containers": []any{map[string]any{"name": "pipeline-metrics-exporter", "image": "quay.io/org/exporter:1"}}}}}}),
		children.GVKServiceMonitor.GroupKind(): obj(children.GVKServiceMonitor, "openshift-pipelines", exporter, map[string]any{}),
		children.GVKNetworkPolicy.GroupKind():  obj(children.GVKNetworkPolicy, "openshift-pipelines", exporter, map[string]any{}),
		children.GVKICSP.GroupKind(): labelled(obj(children.GVKICSP, "", render.MirrorPolicyName, map[string]any{"spec": map[string]any{
			"repositoryDigestMirrors": []any{map[string]any{"source": "registry.redhat.io/a", "mirrors": []any{"quay.io/a"}}}}})),
		children.GVKIDMS.GroupKind(): labelled(obj(children.GVKIDMS, "", render.MirrorPolicyName, map[string]any{"spec": map[string]any{
			"imageDigestMirrors": []any{map[string]any{"source": "registry.redhat.io/b", "mirrors": []any{"quay.io/b"}}}}})),
		children.GVKExternalSecretV1.GroupKind(): obj(children.GVKExternalSecretV1, "openshift-pipelines", "chains-signing",
			map[string]any{"spec": map[string]any{"secretStoreRef": map[string]any{"kind": "ClusterSecretStore", "name": "vault"},
				"dataFrom": []any{map[string]any{"extract": map[string]any{"key": "a/b"}}}}}),
	}
	required := []schema.GroupKind{children.GVKTektonConfig.GroupKind(), children.GVKSubscription.GroupKind(), children.GVKCatalogSource.GroupKind()}
	convert := func(objs []*unstructured.Unstructured) string {
		r, err := Convert(FromObjects(objs))
		if err != nil {
			return "refused: " + err.Error()
		}
		var out strings.Builder
		if err := Write(&out, r, "test"); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	var base []*unstructured.Unstructured
	for _, gk := range required {
		base = append(base, samples[gk])
	}
	without := convert(base)
	for _, k := range children.Rendered(children.Member) {
		if k.Import != children.ImportRead {
			continue
		}
		gk := k.GVK.GroupKind()
		t.Run(k.GVK.Kind, func(t *testing.T) {
			sample, ok := samples[gk]
			if !ok {
				t.Fatalf("import reads %s, and this test has no object of it to show that Convert uses it", gk)
			}
			if slices.Contains(required, gk) {
				rest := slices.DeleteFunc(slices.Clone(base), func(u *unstructured.Unstructured) bool { return u == sample })
				if _, err := Convert(FromObjects(rest)); err == nil && convert(rest) == without {
					t.Errorf("without its %s, import gives the same PipelineService", gk.Kind)
				}
				return
			}
			// The exporter's ServiceMonitor and NetworkPolicy are read beside the exporter.
			context := slices.Clone(base)
			if gk == children.GVKServiceMonitor.GroupKind() || gk == children.GVKNetworkPolicy.GroupKind() {
				context = append(context, samples[children.GVKDeployment.GroupKind()])
			}
			if convert(append(slices.Clone(context), sample)) == convert(context) {
				t.Errorf("import reads %s, but an object of it changes nothing Convert gives", gk.Kind)
			}
		})
	}
}
