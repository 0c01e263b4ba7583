package controllers_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testenv"
)

// The real OLM's tests: OLM v0.46.0's olm and catalog operators run against the control plane
// and resolve, plan and install from a file-based catalog that opm serves. What cannot run
// here is played: a kubelet (testenv.RunDeployments reports the operator's Deployment rolled
// out, or past its progress deadline) and OSP's controllers (simulate.OSP).

const ospPackage = "openshift-pipelines-operator-rh"

// olmLogs collects OLM's and opm's output, shown when the test fails.
type olmLogs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *olmLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// startRealOLM starts a control plane of the test's own with OLM's CRDs (the TektonConfig CRD
// comes from the bundle, as on a cluster), serves a catalog of bundles, runs the real OLM and
// the operator, and returns the catalog's address.
func startRealOLM(t *testing.T, bundles ...testenv.Bundle) (*operatorEnv, string) {
	t.Helper()
	crds := testenv.AllOLMCRDs()
	for _, load := range []func() (*apiextensionsv1.CustomResourceDefinition, error){testenv.ExternalSecretCRD, testenv.ServiceMonitorCRD, testenv.PrometheusRuleCRD} {
		crd, err := load()
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		crds = append(crds, crd)
	}
	e := startControlPlaneIn(t, crds, "")
	bg, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.Expect(simulate.EnsureNamespaces(bg, e.c, testenv.OLMNamespace)).To(Succeed())
	group := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
		"metadata": map[string]any{"namespace": stackSpec.SubscriptionNamespace, "name": "global-operators"},
		"spec":     map[string]any{},
	}}
	e.Expect(e.c.Create(bg, group)).To(Succeed())

	logs := &olmLogs{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("OLM and opm said:\n%s", logs.buf.String())
		}
	})
	dir := filepath.Join(t.TempDir(), "catalog")
	e.Expect(testenv.WriteCatalog(dir, ospPackage, "latest", bundles)).To(Succeed())
	address, stopCatalog, err := testenv.ServeCatalog(dir, logs)
	e.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(stopCatalog)
	olm, err := testenv.StartOLM(e.env, logs)
	e.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(olm.Stop)

	go testenv.RunDeployments(bg, e.c, stackSpec.SubscriptionNamespace, func(image string) bool { return !strings.Contains(image, "never-ready") })
	go func() {
		for bg.Err() == nil {
			_ = simulate.OSP(bg, e.c, stackSpec.TargetNamespace)
			time.Sleep(200 * time.Millisecond)
		}
	}()
	e.op = e.runOperator(e.cfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
	return e, address
}

// ospBundles are 5.0.5 and 5.0.6, which replaces it, each owning the TektonConfig CRD.
func ospBundles(t *testing.T) []testenv.Bundle {
	crd, err := testenv.TektonConfigCRD()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return []testenv.Bundle{
		{Version: "5.0.5", CRDs: []*apiextensionsv1.CustomResourceDefinition{crd}},
		{Version: "5.0.6", Replaces: "5.0.5", CRDs: []*apiextensionsv1.CustomResourceDefinition{crd}},
	}
}

// servedBy points the full sample at the catalog served at address, following channel.
func servedBy(address, channel, csv string) func(*psv1alpha1.PipelineService) {
	return func(ps *psv1alpha1.PipelineService) {
		cs := &ps.Spec.Operator.CatalogSource
		cs.Image, cs.Address, cs.PollInterval = "", address, nil
		ps.Spec.Operator.Subscription.Channel = channel
		ps.Spec.Operator.Subscription.CSV = csv
		ps.Spec.Mirrors = nil
	}
}

// installPlans lists the InstallPlans in the Subscription's namespace by the CSV they install.
func (e *operatorEnv) installPlans() map[string][]*unstructured.Unstructured {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(children.GVKInstallPlan.GroupVersion().WithKind("InstallPlanList"))
	NewWithT(e.t).Expect(e.c.List(ctx, list, client.InNamespace(stackSpec.SubscriptionNamespace))).To(Succeed())
	out := map[string][]*unstructured.Unstructured{}
	for i := range list.Items {
		csvs, _, _ := unstructured.NestedStringSlice(list.Items[i].Object, "spec", "clusterServiceVersionNames")
		for _, csv := range csvs {
			out[csv] = append(out[csv], &list.Items[i])
		}
	}
	return out
}

func (e *operatorEnv) csvPhase(name string) string {
	u := e.object(children.GVKClusterServiceVersion, stackSpec.SubscriptionNamespace, name)
	if u == nil {
		return ""
	}
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	return phase
}

// TestRealOLMPinnedInstallAndUpgrade runs the pinned-approval life cycle against the real OLM:
// a channel that does not exist named in the status; the pinned plan approved once it
// requires approval, and only it; the install to Healthy; the next version's plan held back
// and named; the pin moved forward and the upgrade recorded; a pin below what runs refused;
// and deletionPolicy Delete removing the CSV.
func TestRealOLMPinnedInstallAndUpgrade(t *testing.T) {
	e, address := startRealOLM(t, ospBundles(t)...)
	csv505, csv506 := testenv.CSVName(ospPackage, "5.0.5"), testenv.CSVName(ospPackage, "5.0.6")

	// A channel the catalog does not have: OLM's ResolutionFailed, named.
	e.create(samples.Full, servedBy(address, "nope", csv505))
	e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonResolutionFailed)
	// Until OLM has connected to the catalog, its resolution fails for that reason first.
	e.Eventually(func() string { return e.condition(psv1alpha1.ConditionOperatorInstalled).Message }, 2*timeout, poll).
		Should(ContainSubstring("nope"))

	// The right channel: OLM plans the pin; the operator approves that plan, once.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.Channel = "latest" })
	e.Eventually(func(g Gomega) {
		plans := e.installPlans()[csv505]
		g.Expect(plans).To(HaveLen(1))
		approved, _, _ := unstructured.NestedBool(plans[0].Object, "spec", "approved")
		g.Expect(approved).To(BeTrue())
	}, 2*timeout, poll).Should(Succeed())
	e.Eventually(func() string { return e.csvPhase(csv505) }, 2*timeout, poll).Should(Equal("Succeeded"))
	ps := e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Expect(ps.Status.InstalledCSV).To(Equal(csv505))
	e.Expect(ps.Status.InstalledVersion).To(Equal("5.0.5"))
	e.Expect(e.installPlans()[csv505]).To(HaveLen(1), "one plan for the pin: no duplicate")

	// OLM plans 5.0.6: held back by the pin, named, not approved.
	e.Eventually(func() []*unstructured.Unstructured { return e.installPlans()[csv506] }, 2*timeout, poll).ShouldNot(BeEmpty())
	e.Eventually(func() string { return e.condition(psv1alpha1.ConditionOperatorInstalled).Message }, timeout, poll).
		Should(And(ContainSubstring("held back by the pin"), ContainSubstring(csv506)))
	e.Consistently(func() bool {
		approved, _, _ := unstructured.NestedBool(e.installPlans()[csv506][0].Object, "spec", "approved")
		return approved
	}, "2s", poll).Should(BeFalse())
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)

	// The pin moves: that plan is approved, OLM upgrades, the upgrade is recorded.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.CSV = csv506 })
	e.Eventually(func() string { return e.csvPhase(csv506) }, 2*timeout, poll).Should(Equal("Succeeded"))
	e.Eventually(func(g Gomega) {
		ps := e.get()
		g.Expect(ps.Status.InstalledCSV).To(Equal(csv506))
		g.Expect(ps.Status.Upgrade).NotTo(BeNil())
		g.Expect(ps.Status.Upgrade.From).To(Equal(csv505))
		g.Expect(ps.Status.Upgrade.To).To(Equal(csv506))
		g.Expect(ps.Status.Upgrade.CompletedAt).NotTo(BeNil())
	}, 2*timeout, poll).Should(Succeed())
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	// OLM marks the replaced CSV Deleting, then deletes it.
	e.Eventually(func() string { return e.csvPhase(csv505) }, 2*timeout, poll).Should(BeEmpty(), "OLM replaced 5.0.5")

	// A pin below what runs: OLM cannot go back.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.CSV = csv505 })
	e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonDowngradeNotSupported)

	// deletionPolicy Delete uninstalls: the CSV goes.
	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.CSV = csv506
		ps.Spec.DeletionPolicy = psv1alpha1.DeletionPolicyDelete
	})
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	e.Expect(e.c.Delete(ctx, e.get())).To(Succeed())
	e.Eventually(func() string { return e.csvPhase(csv506) }, 2*timeout, poll).Should(BeEmpty())
	e.Eventually(func() bool {
		return e.object(children.GVKSubscription, stackSpec.SubscriptionNamespace, stackSpec.SubscriptionName) == nil
	}, timeout, poll).Should(BeTrue())
}

// TestRealOLMFailedCSV installs a bundle whose Deployment never becomes available: OLM fails
// the CSV and the PipelineService says so.
func TestRealOLMFailedCSV(t *testing.T) {
	bundles := ospBundles(t)[:1]
	bundles[0].Image = "registry.example.com/never-ready:v5.0.5"
	e, address := startRealOLM(t, bundles...)
	csv505 := testenv.CSVName(ospPackage, "5.0.5")
	e.create(samples.Full, servedBy(address, "latest", csv505))
	e.Eventually(func() string { return e.csvPhase(csv505) }, 3*timeout, poll).Should(Equal("Failed"))
	e.expectReady(metav1.ConditionFalse, psv1alpha1.ReasonCSVFailed)
}
