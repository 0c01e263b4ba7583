package controllers_test

import (
	"testing"

	. "github.com/onsi/gomega"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

// TestFullSampleCreatesEveryChild applies the production-like sample and checks that every
// child exists with exactly the rendered fields pinned in render/testdata/full.yaml.
func TestFullSampleCreatesEveryChild(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Full, nil)

	want := e.waitForGolden("full.yaml")
	e.waitConverged()

	g := NewWithT(t)
	g.Expect(e.get().Status.Inventory).To(ConsistOf(entries(want)), "the inventory lists every child, and nothing else")
	tc := e.object(children.GVKTektonConfig, "", "config")
	g.Expect(tc.GetOwnerReferences()).To(BeEmpty(), "TektonConfig is shared with OSP")
	dep := e.object(children.GVKDeployment, "openshift-pipelines", render.ExporterName)
	g.Expect(dep.GetLabels()).To(HaveKeyWithValue(render.LabelManagedBy, render.ManagedByValue))
	g.Expect(e.get().Finalizers).To(BeEmpty(), "the sample's deletionPolicy is Orphan: nothing to do on deletion, no finalizer")
	ready := e.condition(psv1alpha1.ConditionReady)
	g.Expect(ready).NotTo(BeNil())
	// Nothing plays OLM here: the status waits for the catalog, and says so.
	g.Expect(ready.Status).To(BeEquivalentTo("Unknown"))
	g.Expect(ready.Reason).To(Equal(psv1alpha1.ReasonCatalogSourceNotObserved))
	g.Expect(e.condition(psv1alpha1.ConditionMirrorsApplied).Status).To(BeEquivalentTo("True"))
}

// TestMinimalSampleGetsDefaults checks the children of an object with only required fields.
func TestMinimalSampleGetsDefaults(t *testing.T) {
	e := startOperator(t, nil)
	e.create(samples.Minimal, nil)

	e.waitForGolden("minimal.yaml")
	e.waitConverged()

	g := NewWithT(t)
	sub := e.object(children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator")
	g.Expect(field(sub, "spec", "installPlanApproval")).To(Equal("Automatic"))
	g.Expect(field(sub, "spec", "startingCSV")).To(BeNil())
	g.Expect(field(sub, "spec", "name")).To(Equal("openshift-pipelines-operator-rh"))
	g.Expect(field(sub, "spec", "source")).To(Equal("pipeline-service-catalog"))
	tc := e.object(children.GVKTektonConfig, "", "config")
	g.Expect(field(tc, "spec", "profile")).To(Equal("all"))
	g.Expect(field(tc, "spec", "targetNamespace")).To(Equal("openshift-pipelines"))
	g.Expect(field(tc, "spec", "trigger", "disabled")).To(Equal(true))
	g.Expect(field(tc, "spec", "pruner", "disabled")).To(Equal(true), "Auto with Results deleting runs after 10m")
	g.Expect(field(tc, "spec", "result", "watcher", "completed_run_grace_period")).To(Equal("10m0s"))
	g.Expect(field(tc, "spec", "platforms", "openshift", "pipelinesAsCode", "enable")).To(Equal(true))
	g.Expect(e.object(children.GVKICSP, "", render.MirrorPolicyName)).To(BeNil())
	g.Expect(e.object(children.GVKExternalSecretV1, "openshift-pipelines", render.GitHubAppSecretName)).To(BeNil())
	g.Expect(e.object(children.GVKServiceMonitor, "openshift-pipelines", render.ExporterName)).NotTo(BeNil())
	g.Expect(e.condition(psv1alpha1.ConditionMirrorsApplied)).To(BeNil())
}
