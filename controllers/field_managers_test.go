package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

// TestAnotherFieldManagerKeepsItsFields: another field manager forcibly takes over one of the
// operator's fields of the TektonConfig and sets one of its own: the operator takes its field
// back and leaves the other's. (Deleted and edited children are TestSharedBehaviours'.)
func TestAnotherFieldManagerKeepsItsFields(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Full, nil)
	e.waitConverged()
	ctx := context.Background()

	// Another field manager takes over the pruner and sets a field the operator does not own.
	patch := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operator.tekton.dev/v1alpha1", "kind": "TektonConfig",
		"metadata": map[string]any{"name": "config"},
		"spec": map[string]any{
			"pruner":   map[string]any{"disabled": false, "keep": int64(3), "resources": []any{"taskrun"}, "schedule": "0 * * * *"},
			"pipeline": map[string]any{"enable-api-fields": "beta"},
		},
	}}
	e.Expect(e.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(patch), client.FieldOwner("someone-else"), client.ForceOwnership)).To(Succeed())
	e.Eventually(func(g Gomega) {
		tc := e.object(children.GVKTektonConfig, "", "config")
		g.Expect(field(tc, "spec", "pruner", "disabled")).To(Equal(true), "our field is restored")
		g.Expect(field(tc, "spec", "pipeline", "enable-api-fields")).To(Equal("beta"), "their field is kept")
	}, timeout, poll).Should(Succeed())
	e.waitQuiet()
	tc := e.object(children.GVKTektonConfig, "", "config")
	e.Expect(field(tc, "spec", "pipeline", "enable-api-fields")).To(Equal("beta"))
	e.Expect(field(tc, "spec", "pipeline", "performance", "buckets")).To(Equal(int64(4)))
}
