package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
)

// TestTektonConfigReadyTellsTheRealCause: OSP's pipelines component (its own installer-set
// code, simulate.Pipelines) made its installer sets, and its Deployments do not come up. OSP's
// TektonConfig says only "TektonPipeline: reconcile again and proceed" (tektoncd/operator#2006);
// TektonConfigReady names the failing installer set and its message first, then the
// TektonConfig's.
func TestTektonConfigReadyTellsTheRealCause(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Full, nil)
	// OSP's controllers cannot run here (knative injection, informers for every kind its
	// payload holds); simulate.Pipelines runs OSP's own installer-set code and plays the rest,
	// and FailDeployments writes, with OSP's own lifecycle functions, the statuses OSP's
	// reconcilers would. OLM's Deployment of the OSP operator is played too: the stand-in reads
	// its images from it, and the real OLM would need a plane of its own (olm_test.go).
	p := e.pipelinesStandIn()
	e.Eventually(e.installedWithPipelines, timeout, poll).Should(Succeed())
	e.Eventually(func() error {
		return simulate.OperatorDeployment(ctx, e.c, stackSpec.SubscriptionNamespace, stackSpec.SubscriptionName, stack505.CSV)
	}, timeout, poll).Should(Succeed())

	const why = "Deployment tekton-pipelines-controller: 0 of 1 replicas available: ImagePullBackOff"
	var failing string
	e.Eventually(func() error {
		if err := p.Step(context.Background()); err != nil {
			return err
		}
		if err := p.InstallSets(context.Background()); err != nil {
			return err
		}
		var err error
		failing, err = p.FailDeployments(context.Background(), why)
		return err
	}, timeout, poll).Should(Succeed())

	c := e.waitCondition(psv1alpha1.ConditionTektonConfigReady, psv1alpha1.ReasonTektonConfigNotReady,
		"TektonInstallerSet "+failing+": DeploymentsAvailable: Install failed with message: "+why+"; TektonConfig config: ComponentsReady is False: Components not in ready state: TektonPipeline: reconcile again and proceed")
	e.Expect(c.Status).To(Equal(metav1.ConditionFalse))
}
