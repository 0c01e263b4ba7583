package controllers_test

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

// kstatusOf is what kstatus (sigs.k8s.io/cli-utils), which Flux's health checks, kpt live
// status and Config Sync wait with, reads of the live parent of kind k.
func (e *operatorEnv) kstatusOf(g Gomega, k parentKind) status.Status {
	p := e.parentObject(k)
	g.Expect(p).NotTo(BeNil())
	res, err := status.Compute(p)
	g.Expect(err).NotTo(HaveOccurred())
	return res.Status
}

// expectKstatus waits until kstatus reads want for the live parent of kind k.
func (e *operatorEnv) expectKstatus(k parentKind, want status.Status) {
	e.t.Helper()
	e.Eventually(func(g Gomega) {
		g.Expect(e.kstatusOf(g, k)).To(Equal(want))
	}, timeout, poll).Should(Succeed(), "%s: kstatus %s", k.name, want)
}

// TestKstatusReadsBothKinds: kstatus reads each parent as the operator means it. A parent the
// operator refused (Stalled) is Failed, on its create and on an update, rather than waiting
// for a generation it will never apply; one whose parts are on their way (a catalog
// connecting, a Route not admitted) is InProgress; a Ready one is Current. The host has no
// input the schema lets through and the operator refuses, so it never stalls.
func TestKstatusReadsBothKinds(t *testing.T) {
	e := startOperator(t, nil)
	member, host := parentKinds[0], parentKinds[1]
	stall := samples.StallNamed(samples.StallPrunerKeepText)

	e.create(samples.Full, stall.Apply)
	e.waitCondition(psv1alpha1.ConditionStalled, psv1alpha1.ReasonInvalidTektonConfig, stall.Want)
	e.expectKstatus(member, status.FailedStatus)

	e.update(samples.Reset)
	e.expectReady(metav1.ConditionUnknown, psv1alpha1.ReasonCatalogSourceNotObserved)
	e.expectKstatus(member, status.InProgressStatus)
	e.createHost(nil)
	e.Eventually(func(g Gomega) {
		ready := meta.FindStatusCondition(e.getHost().Status.Conditions, psv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionUnknown), "SprayProxy is not rolled out, nor its Route admitted")
	}, timeout, poll).Should(Succeed())
	e.expectKstatus(host, status.InProgressStatus)

	e.becomeHealthy(stack505)
	e.expectKstatus(member, status.CurrentStatus)
	e.hostHealthy()
	e.expectKstatus(host, status.CurrentStatus)

	e.update(stall.Apply)
	e.waitCondition(psv1alpha1.ConditionStalled, psv1alpha1.ReasonInvalidTektonConfig, stall.Want)
	e.expectKstatus(member, status.FailedStatus)

	// A suspended parent has not acted on its generation: InProgress until it resumes.
	e.updateParent(host, true, "spec", "suspend")
	e.expectKstatus(host, status.InProgressStatus)
	e.updateParent(host, false, "spec", "suspend")
	e.expectKstatus(host, status.CurrentStatus)
}
