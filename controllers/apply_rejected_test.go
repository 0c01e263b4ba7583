package controllers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

// frozenExporterMessage is what the cluster's policy says when it refuses the exporter.
const frozenExporterMessage = "the pipeline-metrics exporter is frozen on this cluster"

// TestAdmissionDenialIsApplyRejected: a rule of the cluster's own, not one of OSP's (here a
// ValidatingAdmissionPolicy that refuses the exporter Deployment), refuses one child. The
// status names the object and the server's message with reason ApplyRejected, the other
// children are applied, the retries back off (a handful of attempts in 30 s, not hundreds),
// and one Event is sent for the one distinct refusal. Once the policy goes, the next pass
// applies the exporter.
func TestAdmissionDenialIsApplyRejected(t *testing.T) {
	e := startOperator(t, nil)
	ctx := context.Background()
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "freeze-exporter"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionregistrationv1.Fail),
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{
				Expression: "object.metadata.name != '" + render.ExporterName + "'",
				Message:    frozenExporterMessage,
			}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "freeze-exporter"},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        policy.Name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	e.Expect(e.c.Create(ctx, policy)).To(Succeed())
	e.Expect(e.c.Create(ctx, binding)).To(Succeed())
	// The API server loads policies asynchronously: wait until this one refuses.
	e.Eventually(func() string { return probePolicy(e) }, timeout, poll).Should(ContainSubstring(frozenExporterMessage))

	mark := e.writeMark()
	start := time.Now()
	e.create(samples.Full, nil)
	e.Eventually(func(g Gomega) {
		ready := e.condition(psv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(BeEquivalentTo("False"))
		g.Expect(ready.Reason).To(Equal(psv1alpha1.ReasonApplyRejected))
		reconciling := e.condition(psv1alpha1.ConditionReconciling)
		g.Expect(reconciling).NotTo(BeNil())
		g.Expect(reconciling.Reason).To(Equal(psv1alpha1.ReasonApplyRejected))
		g.Expect(reconciling.Message).To(ContainSubstring("Deployment openshift-pipelines/" + render.ExporterName))
		g.Expect(reconciling.Message).To(ContainSubstring(frozenExporterMessage))
	}, timeout, poll).Should(Succeed())
	// Everything else is applied.
	for _, w := range goldenObjects(t, "full.yaml") {
		if w.GetKind() == "Deployment" || w.GetKind() == "Namespace" {
			continue
		}
		e.Expect(e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName())).NotTo(BeNil(), "%s %s", w.GetKind(), w.GetName())
	}

	attempts := 0
	for _, w := range e.writesUntil(start.Add(30*time.Second), mark) {
		if strings.HasSuffix(w, "/deployments/"+render.ExporterName) {
			attempts++
		}
	}
	t.Logf("%d attempts to apply the refused Deployment in 30 s", attempts)
	e.Expect(attempts).To(And(BeNumerically(">=", 3), BeNumerically("<=", 12)), "retried with exponential backoff")

	rejections := 0
	for _, ev := range e.eventList(e) {
		if ev.Reason == psv1alpha1.ReasonApplyRejected {
			rejections++
			e.Expect(ev.Note).To(ContainSubstring(frozenExporterMessage))
			e.Expect(ev.Type).To(Equal("Warning"))
		}
	}
	e.Expect(rejections).To(Equal(1), "one Event per distinct refusal, not one per retry")

	// The rule goes; the next pass (any event, here an annotation) applies the exporter.
	e.Expect(e.c.Delete(ctx, binding)).To(Succeed())
	e.Expect(e.c.Delete(ctx, policy)).To(Succeed())
	e.Eventually(func(g Gomega) {
		e.update(func(ps *psv1alpha1.PipelineService) {
			ps.Annotations = map[string]string{"test/poke": time.Now().String()}
		})
		g.Expect(e.object(children.GVKDeployment, "openshift-pipelines", render.ExporterName)).NotTo(BeNil())
	}, timeout, time.Second).Should(Succeed())
	e.waitConverged()
}

// probePolicy sends a dry-run Deployment named like the exporter and returns the refusal.
func probePolicy(e *operatorEnv) string {
	labels := map[string]string{"app": "probe"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: render.ExporterName, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "probe", Image: "probe:1"}}},
			},
		},
	}
	if err := e.c.Create(context.Background(), d, client.DryRunAll); err != nil {
		return err.Error()
	}
	return ""
}
