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
