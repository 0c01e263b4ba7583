package controllers_test

import (
	"testing"

	. "github.com/onsi/gomega"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// TestSchemalessTektonConfigCRD runs against the TektonConfig CRD shape of tektoncd/operator up
// to v0.79 (no schema): the same render must apply and converge with no writes when idle.
func TestSchemalessTektonConfigCRD(t *testing.T) {

	crds := testenv.OLMCRDs()
	schemaless, err := testenv.SchemalessTektonConfigCRD()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	crds = append(crds, schemaless)
	e := startOperator(t, crds)
	e.create(samples.Full, nil)

	want := goldenObjects(t, "full.yaml")
	e.Eventually(func(g Gomega) {
		for _, w := range want {
			if w.GetKind() == "TektonConfig" {
				expectContains(g, w, e.object(w.GroupVersionKind(), "", w.GetName()))
			}
		}
	}, timeout, poll).Should(Succeed())
	e.waitQuiet()
	mark := e.writeMark()
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Annotations = map[string]string{"test/poke": "1"} })
	e.waitQuiet()
	e.Expect(e.writesSince(mark)).To(BeEmpty())
	// ICSP, ExternalSecret and ServiceMonitor are not served here: reported, not fatal. The
	// mirrors cannot be applied at all, which Ready names first.
	e.Expect(e.condition(psv1alpha1.ConditionReady).Reason).To(Equal(psv1alpha1.ReasonMirrorAPIMissing))
	e.Expect(e.condition(psv1alpha1.ConditionMirrorsApplied).Reason).To(Equal(psv1alpha1.ReasonMirrorAPIMissing))
}
