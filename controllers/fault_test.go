package controllers_test

// The fault suite: each test ends with the full expected state and no setting lost.
//   - API server killed and restarted mid-reconcile: TestAPIServerRestartMidReconcile
//   - TektonConfig CRD installed after the operator started, ExternalSecret and
//     ServiceMonitor never: TestLateCRDs (late_crds_test.go)
//   - a second field manager edits one of our TektonConfig fields and one of its own:
//     TestAnotherFieldManagerKeepsItsFields (field_managers_test.go); children deleted and
//     edited: TestSharedBehaviours (shared_behaviours_test.go)
//   - the manager stopped between two applies and started again: TestManagerStoppedMidReconcile
//   - two managers with leader election, the leader stops: TestLeaderElection
//   - 200 rapid spec updates: TestUpdateStorm
//   - bad input only the reconciler catches, then fixed: TestTyposInOverridesStallWithNothingApplied
//     (invalid_tektonconfig_test.go) and the downgrade pin of TestPinnedCSVApproval
//     (approval_test.go)

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// expectFullState waits for the end state of the full sample with OLM and OSP played: every
// child with its rendered fields, Ready=True, the current generation observed.
func (e *operatorEnv) expectFullState() {
	e.t.Helper()
	e.waitForGolden("full.yaml")
	e.becomeHealthy(stack505)
	e.waitConverged()
}

// TestAPIServerRestartMidReconcile kills the API server (SIGKILL, as a crash or a node loss)
// while the operator applies the children of a new PipelineService, and starts it again on
// the same etcd: the operator rides it out and converges with nothing lost.
func TestAPIServerRestartMidReconcile(t *testing.T) {
	certDir := t.TempDir()
	e := startControlPlaneIn(t, nil, certDir)
	// Stop the API server at the operator's third write, in the middle of the first apply.
	var writes atomic.Int64
	stopped := make(chan struct{})
	cfg := rest.CopyConfig(e.cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return testenv.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPatch && writes.Add(1) == 3 {
				close(stopped)
			}
			return rt.RoundTrip(req)
		})
	})
	e.op = e.runOperator(cfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
	e.create(samples.Full, nil)

	apiServer := e.env.ControlPlane.GetAPIServer()
	select {
	case <-stopped:
	case <-time.After(timeout):
		t.Fatal("the operator never wrote")
	}
	pid := apiServerPID(t, certDir)
	e.Expect(syscall.Kill(pid, syscall.SIGKILL)).To(Succeed())
	e.Eventually(func() error { return syscall.Kill(pid, 0) }, timeout, poll).ShouldNot(Succeed())
	time.Sleep(2 * time.Second) // the operator's requests fail meanwhile; the point of the test
	e.Expect(apiServer.Start()).To(Succeed())

	e.expectFullState()
	t.Logf("the operator made %d writes around the restart", writes.Load())
}

// TestManagerStoppedMidReconcile stops the manager in the middle of its first apply, with one
// child written and the others refused as by a network cut, then starts a new one: it
// converges from wherever the first one stopped.
func TestManagerStoppedMidReconcile(t *testing.T) {
	e := startControlPlane(t, nil)
	var first *runningOperator
	cut := make(chan struct{})
	var applies atomic.Int64
	cfg := rest.CopyConfig(e.cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return testenv.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method != http.MethodPatch || req.URL.Query().Get("fieldManager") == "" {
				return rt.RoundTrip(req)
			}
			// Children are applied in parallel: the first apply goes through, every later
			// one is cut off.
			if applies.Add(1) > 1 {
				return nil, errPartitioned
			}
			resp, err := rt.RoundTrip(req)
			close(cut)
			return resp, err
		})
	})
	first = e.runOperator(cfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
	e.create(samples.Full, nil)
	<-cut
	first.stop()
	missing := 0
	for _, w := range goldenObjects(t, "full.yaml") {
		if e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName()) == nil {
			missing++
		}
	}
	e.Expect(missing).To(BeNumerically(">", 0), "stopped before every child was applied")

	e.runOperator(e.cfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
	e.expectFullState()
}

// TestLeaderElection runs two managers: only the leader writes; when it stops, the other
// takes over and applies the next change; when that one is cut off the API server, a third
// takes over once the Lease expires.
func TestLeaderElection(t *testing.T) {
	e := startControlPlane(t, nil)
	e.Expect(simulate.EnsureNamespaces(ctx, e.c, operatorNamespace)).To(Succeed())
	opts := manager.Options{MetricsAddr: "0", ProbeAddr: "0", LeaderElection: true, LeaderElectionNamespace: operatorNamespace,
		LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 500 * time.Millisecond}
	a := e.runOperator(e.cfg, opts)
	b := e.runOperator(e.cfg, opts)
	e.create(samples.Full, nil)
	e.expectFullState()
	e.waitQuiet()

	leader, standby := a, b
	if b.writes.Load() > 0 {
		leader, standby = b, a
	}
	e.Expect(leader.writes.Load()).To(BeNumerically(">", 0))
	e.Expect(standby.writes.Load()).To(BeZero(), "the standby wrote")

	// A clean stop hands the Lease over at once (it is released on cancel).
	leader.stop()
	took := e.changeConsoleURL("https://console.example.com/failover")
	t.Logf("failover: the standby applied a change %.2fs after the leader stopped (lease 4s, renew 3s, retry 0.5s)", took.Seconds())
	e.Expect(standby.writes.Load()).To(BeNumerically(">", 0))
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)

	// A leader that cannot reach the API server (a crash or a partition) keeps the Lease until
	// it expires; a third replica takes over then.
	third := e.runOperator(e.cfg, opts)
	e.waitQuiet()
	standby.partitioned.Store(true)
	took = e.changeConsoleURL("https://console.example.com/partition")
	t.Logf("failover: a partitioned leader was replaced and the change applied %.2fs after the partition", took.Seconds())
	e.Expect(third.writes.Load()).To(BeNumerically(">", 0))
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
}

// changeConsoleURL sets the PaC console URL and waits until the TektonConfig carries it;
// it returns how long that took from the update.
func (e *operatorEnv) changeConsoleURL(url string) time.Duration {
	e.t.Helper()
	start := time.Now()
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.TektonConfig.PipelinesAsCode.Console.URL = url })
	e.Eventually(func() any {
		return field(e.object(children.GVKTektonConfig, "", render.TektonConfigName),
			"spec", "platforms", "openshift", "pipelinesAsCode", "settings", "custom-console-url")
	}, timeout, poll).Should(Equal(url))
	return time.Since(start)
}

// TestUpdateStorm sends 200 spec updates as fast as the API server takes them: the children
// end with the last one, and the operator goes quiet afterwards.
func TestUpdateStorm(t *testing.T) {
	alone(t) // counts reconciles, which the metrics registry sums over every manager in the process
	e := startOperator(t, nil)
	e.create(samples.Full, nil)
	e.expectFullState()
	e.waitQuiet()
	before := testenv.Reconciles()

	last := ""
	for i := 0; i < 200; i++ {
		last = "quay.io/openshift-pipeline/pipelines-controller-rhel9:storm-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		e.update(func(ps *psv1alpha1.PipelineService) {
			ps.Spec.Operator.Subscription.ImageOverrides["IMAGE_PIPELINES_CONTROLLER"] = psv1alpha1.ImageReference(last)
		})
	}
	e.Eventually(func() string {
		sub := e.object(children.GVKSubscription, "openshift-operators", "openshift-pipelines-operator")
		for _, env := range field(sub, "spec", "config", "env").([]any) {
			if m := env.(map[string]any); m["name"] == "IMAGE_PIPELINES_CONTROLLER" {
				return m["value"].(string)
			}
		}
		return ""
	}, timeout, poll).Should(Equal(last))
	e.waitConverged()
	e.waitQuiet()
	after := testenv.Reconciles()
	t.Logf("storm: 200 updates took %d reconciles", after-before)

	// No hot loop: nothing written and no reconcile while nothing changes.
	e.expectNoWritesFor(3*time.Second, "no write while nothing changes")
	e.Expect(testenv.Reconciles()).To(Equal(after), "reconciles while idle")
}

// apiServerPID finds the kube-apiserver serving from certDir.
func apiServerPID(t *testing.T, certDir string) int {
	t.Helper()
	for _, p := range testenv.Processes() {
		if len(p.Args) > 0 && strings.HasSuffix(p.Args[0], "kube-apiserver") && slices.Contains(p.Args, "--cert-dir="+certDir) {
			return p.PID
		}
	}
	t.Fatalf("no kube-apiserver with --cert-dir=%s", certDir)
	return 0
}
