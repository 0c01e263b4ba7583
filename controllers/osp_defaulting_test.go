package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// TestOSPDefaultingWithoutAFight: OSP's mutating webhook (served in the test control plane by
// tektoncd/operator's own SetDefaults) fills fields the operator does not render, and the
// refresh of a hot-fix leaves its annotation, under a field manager of its own, in the
// TektonConfig's options. Both stay on the live TektonConfig and the operator leaves them be:
// no write over 100 reconciles that each pass the TektonConfig through the webhook again, with
// the hot-fix in effect, and none while idle. On the way, the stale container is counted in
// the status and the pipelineservice_stale_containers metric until the refresh lands.
func TestOSPDefaultingWithoutAFight(t *testing.T) {
	alone(t) // counts reconciles and reads metrics, both the process's, summed over every manager
	addr := freeAddr(t)
	e := startOperatorWith(t, nil, manager.Options{MetricsAddr: addr, ProbeAddr: "0", InsecureMetrics: true})
	url := "http://" + addr + "/metrics"
	ctx := context.Background()
	e.installWithPipelines(psv1alpha1.OverridesReport)

	// A hot-fix in Report mode: one stale container, counted; then refreshed.
	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.ImageOverrides[controllerVar] = hotfixImage
	})
	e.olmRolls(csv505, hotfixImage)
	e.waitCondition(psv1alpha1.ConditionOverridesApplied, psv1alpha1.ReasonComponentsStale, "1 component containers")
	e.Eventually(func(g Gomega) {
		g.Expect(e.get().Status.StaleContainers).To(BeEquivalentTo(1))
		g.Expect(scrape(g, url)).To(HaveKeyWithValue("pipelineservice_stale_containers", 1.0))
	}, timeout, poll).Should(Succeed())
	e.update(func(ps *psv1alpha1.PipelineService) {
		ps.Spec.Operator.Subscription.OverridesRollout = psv1alpha1.OverridesRefresh
	})
	e.Eventually(e.controllerRuns(), timeout, poll).Should(Equal(hotfixImage))
	e.waitCondition(psv1alpha1.ConditionOverridesApplied, psv1alpha1.ReasonComponentsCurrent, "every component container")
	e.Eventually(func(g Gomega) {
		g.Expect(e.get().Status.StaleContainers).To(BeZero())
		g.Expect(scrape(g, url)).To(HaveKeyWithValue("pipelineservice_stale_containers", 0.0))
	}, timeout, poll).Should(Succeed())
	e.Expect(e.refreshAsked()).NotTo(BeEmpty())
	e.waitConverged()
	e.waitQuiet()

	live := e.object(children.GVKTektonConfig, "", render.TektonConfigName)
	for path, want := range map[string]any{
		// PaC defaults: about 30 settings, the hub among them.
		"spec.platforms.openshift.pipelinesAsCode.settings.hub-url":                             "https://artifacthub.io/api/v1",
		"spec.platforms.openshift.pipelinesAsCode.settings.error-detection-from-container-logs": "true",
		// Pipelines, SCC and addon defaults.
		"spec.pipeline.enable-api-fields":                 "beta",
		"spec.platforms.openshift.scc.default":            "pipelines-scc",
		"spec.platforms.openshift.enableCentralTLSConfig": true,
	} {
		got, found, err := unstructured.NestedFieldNoCopy(live.Object, strings.Split(path, ".")...)
		e.Expect(err).NotTo(HaveOccurred())
		e.Expect(found).To(BeTrue(), "OSP's webhook defaults %s", path)
		e.Expect(got).To(Equal(want), path)
	}
	settings, _, _ := unstructured.NestedStringMap(live.Object, "spec", "platforms", "openshift", "pipelinesAsCode", "settings")
	e.Expect(len(settings)).To(BeNumerically(">=", 25), "PaC's defaults are filled in")

	mark := e.writeMark()
	before := testenv.Reconciles()
	for i := range 100 {
		// A change of the TektonConfig that is not ours (as OSP's status writes and its
		// webhook's updates are) passes through the webhook and makes the operator reconcile.
		// Each waits for its reconcile, so that the workqueue cannot fold pokes together.
		next := testenv.Reconciles() + 1
		tc := e.object(children.GVKTektonConfig, "", render.TektonConfigName)
		e.Expect(e.c.Patch(ctx, tc, client.RawPatch("application/merge-patch+json",
			[]byte(fmt.Sprintf(`{"metadata":{"annotations":{"test/poke":"%d"}}}`, i))))).To(Succeed())
		e.Eventually(testenv.Reconciles, timeout, time.Millisecond).Should(BeNumerically(">=", next))
	}
	e.Expect(testenv.Reconciles()).To(BeNumerically(">=", before+100))
	e.waitQuiet()
	e.Expect(e.writesSince(mark)).To(BeEmpty(), "no write in 100 reconciles with OSP's defaults and a hot-fix in place")

	idle := testenv.Reconciles()
	// Longer than every requeue the operator schedules (deletion poll 2s, discovery lag 1s);
	// make bench counts over a whole minute.
	e.expectNoWritesFor(5*time.Second, "no write while idle")
	e.Expect(testenv.Reconciles()).To(Equal(idle), "no reconcile while idle")
}
