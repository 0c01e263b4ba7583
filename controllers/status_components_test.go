package controllers

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/health"
)

// TestComponentsSurviveAFailedList: when the Deployments in targetNamespace cannot be listed,
// the status keeps the components it had (and with them the component metrics) instead of
// reporting none, whether or not the exporter is enabled; a list that works replaces them.
func TestComponentsSurviveAFailedList(t *testing.T) {
	known := []psv1alpha1.ComponentStatus{{Name: "tekton-pipelines-controller", Ready: 2, Desired: 2}}
	for _, exporter := range []bool{true, false} {
		g := NewWithT(t)
		ps := &psv1alpha1.PipelineService{}
		ps.Spec.Exporter.Enabled = exporter
		ps.Status.Components = known
		listErr := errors.New("connection refused")
		setStatus(ps, applyOutcome{}, observation{componentsErr: listErr, exporterErr: listErr}, health.Approval{}, metav1.Now())
		g.Expect(ps.Status.Components).To(Equal(known), "exporter enabled: %v", exporter)

		d := appsv1.Deployment{}
		d.Name = "tekton-pipelines-webhook"
		setStatus(ps, applyOutcome{}, observation{components: []appsv1.Deployment{d}}, health.Approval{}, metav1.Now())
		g.Expect(ps.Status.Components).To(HaveLen(1))
		g.Expect(ps.Status.Components[0].Name).To(Equal("tekton-pipelines-webhook"))
	}
}
