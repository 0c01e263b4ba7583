package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/samples"
)

// TestDriftIsHealed deletes or edits children the way people and other tools do, and expects
// each restored.
func TestDriftIsHealed(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Full, nil)
	e.waitConverged()
	ctx := context.Background()

	// The exporter Deployment is deleted.
	dep := e.object(children.GVKDeployment, "openshift-pipelines", render.ExporterName)
	e.Expect(e.c.Delete(ctx, dep)).To(Succeed())
	e.Eventually(func() string {
		if d := e.object(children.GVKDeployment, "openshift-pipelines", render.ExporterName); d != nil {
			return string(d.GetUID())
		}
		return ""
	}, timeout, poll).ShouldNot(Or(BeEmpty(), Equal(string(dep.GetUID()))))
	e.Eventually(e.events, timeout, poll).Should(ContainElement(psv1alpha1.ReasonDriftHealed))

	// Someone edits the Subscription's channel with kubectl (an update, taking no ownership).
	sub := e.object(children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator")
	e.Expect(unstructured.SetNestedField(sub.Object, "stable", "spec", "channel")).To(Succeed())
	e.Expect(e.c.Update(ctx, sub)).To(Succeed())
	e.Eventually(func() any {
		return field(e.object(children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator"), "spec", "channel")
	}, timeout, poll).Should(Equal("latest"))

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
