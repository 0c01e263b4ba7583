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

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testenv"
)

// TestOSPDefaultingWithoutAFight: OSP's mutating webhook (served in the test control plane by
// tektoncd/operator's own SetDefaults) fills fields the operator does not render. They are on
// the live TektonConfig, and the operator leaves them be: no write over 100 reconciles that
// each pass the TektonConfig through the webhook again, and none while idle.
func TestOSPDefaultingWithoutAFight(t *testing.T) {
	alone(t) // counts reconciles, which the metrics registry sums over every manager in the process
	e := startOperator(t, nil)
	ctx := context.Background()
	e.create(samples.Full, nil)
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
	e.Expect(e.writesSince(mark)).To(BeEmpty(), "no write in 100 reconciles with OSP's defaults in place")

	idle := testenv.Reconciles()
	// Longer than every requeue the operator schedules (deletion poll 2s, discovery lag 1s);
	// make bench counts over a whole minute.
	e.expectNoWritesFor(5*time.Second, "no write while idle")
	e.Expect(testenv.Reconciles()).To(Equal(idle), "no reconcile while idle")
}
