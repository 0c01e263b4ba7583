package controllers_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// TestLateCRDs starts the operator on a cluster with only OLM: TektonConfig, ExternalSecret,
// ServiceMonitor, Route and ProxyPlugin are not served. Everything else is applied and the
// waits are reported, for the PipelineService and the PipelineServiceHost; the TektonConfig,
// ProxyPlugin and Route CRDs then appear (as when OSP or CodeReadyToolchain installs) and their
// objects are applied without a restart. ExternalSecret and ServiceMonitor never appear.
func TestLateCRDs(t *testing.T) {
	e := startOperator(t, testenv.OLMCRDs())
	// Without mirrors, which would need OpenShift: Ready then names the missing optional APIs.
	e.create(samples.Full, func(ps *psv1alpha1.PipelineService) { ps.Spec.Mirrors = nil })
	e.createHost(nil)
	e.waitHostCondition(psv1alpha1.ConditionProxyPluginReady, metav1.ConditionFalse, psv1alpha1.ReasonProxyPluginCRDMissing,
		"install the CodeReadyToolchain host operator, or set spec.resultsProxyPlugin.enabled to false")
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionFalse, psv1alpha1.ReasonProxyPluginCRDMissing, "")
	e.waitHostCondition(psv1alpha1.ConditionReconciling, metav1.ConditionTrue, psv1alpha1.ReasonProxyPluginCRDMissing, "the ProxyPlugin waits for its CRD")
	e.Expect(e.object(children.GVKDeployment, sprayProxyNamespace, render.SprayProxyName)).NotTo(BeNil())
	e.Expect(meta.FindStatusCondition(e.getHost().Status.Conditions, psv1alpha1.ConditionRouteAdmitted)).To(BeNil(), "no Route API, no Route condition")
	e.Expect(e.getHost().Status.LastAppliedGeneration).To(BeZero(), "the generation is not wholly applied")

	e.Eventually(func(g Gomega) {
		c := e.condition(psv1alpha1.ConditionTektonConfigReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(psv1alpha1.ReasonTektonConfigCRDMissing))
		g.Expect(c.Message).To(ContainSubstring("waiting for the OpenShift Pipelines operator to install the TektonConfig CRD"))
		g.Expect(e.object(children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator")).NotTo(BeNil())
		g.Expect(e.object(children.GVKCatalogSource, "openshift-marketplace", "pipeline-service-catalog")).NotTo(BeNil())
		g.Expect(e.object(children.GVKDeployment, "openshift-pipelines", render.ExporterName)).NotTo(BeNil())
	}, timeout, poll).Should(Succeed())
	e.waitQuiet()
	e.waitHostQuiet()
	mark := e.writeMark()
	e.waitQuiet()
	e.Expect(e.writesSince(mark)).To(BeEmpty(), "waiting for a CRD is not an error loop")

	tc, err := testenv.TektonConfigCRD()
	e.Expect(err).NotTo(HaveOccurred())
	e.Expect(testenv.InstallCRDs(e.cfg, tc)).To(Succeed())
	// Deleted the moment it appears: the pass that applied it started the TektonConfig watch,
	// and the deletion is seen only if that watch had synced before the apply.
	var live *unstructured.Unstructured
	e.Eventually(func() *unstructured.Unstructured {
		live = e.object(children.GVKTektonConfig, "", "config")
		return live
	}, timeout, time.Millisecond).ShouldNot(BeNil())
	e.Expect(e.c.Delete(t.Context(), live)).To(Succeed())
	e.Eventually(func(g Gomega) {
		o := e.object(children.GVKTektonConfig, "", "config")
		g.Expect(o).NotTo(BeNil())
		g.Expect(o.GetUID()).NotTo(Equal(live.GetUID()), "the deleted TektonConfig is restored")
		ready := e.condition(psv1alpha1.ConditionReady)
		g.Expect(ready.Reason).To(Equal(psv1alpha1.ReasonAPIsMissing))
		g.Expect(ready.Message).To(And(ContainSubstring("ExternalSecret"), ContainSubstring("ServiceMonitor")))
		// OSP does not run here, so the TektonConfig is never reported on.
		g.Expect(e.condition(psv1alpha1.ConditionTektonConfigReady).Reason).To(Equal(psv1alpha1.ReasonTektonConfigNotObserved))
	}, timeout, poll).Should(Succeed())

	// The host's CRDs arrive: the ProxyPlugin first, then the Route.
	pp, err := testenv.ProxyPluginCRD()
	e.Expect(err).NotTo(HaveOccurred())
	e.Expect(testenv.InstallCRDs(e.cfg, pp)).To(Succeed())
	e.waitHostCondition(psv1alpha1.ConditionProxyPluginReady, metav1.ConditionTrue, psv1alpha1.ReasonApplied, "")
	ready := e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionFalse, psv1alpha1.ReasonAPIsMissing, "Route")
	e.Expect(ready.Message).To(And(ContainSubstring("ExternalSecret"), ContainSubstring("ServiceMonitor")))
	e.Expect(e.getHost().Status.ObservedGeneration).To(Equal(e.getHost().Generation))

	route, err := testenv.RouteCRD()
	e.Expect(err).NotTo(HaveOccurred())
	e.Expect(testenv.InstallCRDs(e.cfg, route)).To(Succeed())
	e.waitHostCondition(psv1alpha1.ConditionRouteAdmitted, metav1.ConditionFalse, psv1alpha1.ReasonRoutePending, "")
	e.Eventually(func() error {
		return simulate.RouteAdmitted(t.Context(), e.c, sprayProxyNamespace, render.SprayProxyName, "default", sprayProxyHost, true, "", "")
	}, timeout, poll).Should(Succeed())
	e.waitHostCondition(psv1alpha1.ConditionRouteAdmitted, metav1.ConditionTrue, psv1alpha1.ReasonRouteAdmitted, sprayProxyHost)
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionFalse, psv1alpha1.ReasonAPIsMissing, "ExternalSecret")
}
