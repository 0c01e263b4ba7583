package controllers_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

const (
	timeout = 30 * time.Second
	poll    = 50 * time.Millisecond
)

func init() {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapLevel())))
}

// operatorEnv is a control plane with the operator running against it, as on a cluster where
// OLM and OSP are installed but (in envtest) do not act.
type operatorEnv struct {
	// Gomega reports to this test: tests run in parallel, so Gomega's global would not.
	Gomega
	t   *testing.T
	cfg *rest.Config
	// c is the test's own client: it reads around any cache and its writes are not counted.
	c client.Client
	// writes counts the operator's write requests (anything but GET); log keeps them.
	writes   atomic.Int64
	mu       sync.Mutex
	writeLog []string
	// env is the control plane; op the operator startOperator started.
	env *testenv.Env
	op  *runningOperator
	// kubeconfig is an admin kubeconfig of the control plane, written on first use by kubectl.
	kubeconfig string
	// since is when the test got its control plane: Events recorded before are an earlier
	// test's, written by its operator's asynchronous event sink after the plane was emptied.
	since time.Time
}

// reportTo makes e report to t, a subtest of e's test, until the returned function puts its
// own test back: steps that share one operator then fail where they fail.
func (e *operatorEnv) reportTo(t *testing.T) func() {
	parentT, parentG := e.t, e.Gomega
	e.t, e.Gomega = t, NewWithT(t)
	return func() { e.t, e.Gomega = parentT, parentG }
}

// startOperator runs the operator against a control plane with crds until the test ends: a
// shared one when crds is nil (every third-party CRD), else one of its own.
func startOperator(t *testing.T, crds []*apiextensionsv1.CustomResourceDefinition) *operatorEnv {
	t.Helper()
	return startOperatorWith(t, crds, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
}

// startOperatorWith is startOperator with the given manager options.
func startOperatorWith(t *testing.T, crds []*apiextensionsv1.CustomResourceDefinition, opts manager.Options) *operatorEnv {
	t.Helper()
	e := startControlPlane(t, crds)
	e.op = e.runOperator(e.cfg, opts)
	return e
}

// startControlPlane returns a control plane with crds and the namespaces every OpenShift
// cluster has, without the operator: a shared one when crds is nil, else one of its own. The
// test runs in parallel with others unless it called alone first.
func startControlPlane(t *testing.T, crds []*apiextensionsv1.CustomResourceDefinition) *operatorEnv {
	t.Helper()
	if crds != nil {
		return startControlPlaneIn(t, crds, "")
	}
	parallel(t)
	p := acquirePlane(t)
	return &operatorEnv{Gomega: NewWithT(t), t: t, cfg: p.cfg, env: p.env, c: p.c, since: time.Now()}
}

// startControlPlaneIn starts a control plane of the test's own with crds (all third-party
// CRDs when nil) and the API server's certificates in certDir, so that the API server can be
// restarted (testenv.StartRestartable).
func startControlPlaneIn(t *testing.T, crds []*apiextensionsv1.CustomResourceDefinition, certDir string) *operatorEnv {
	t.Helper()
	parallel(t)
	g := NewWithT(t)
	p, err := newPlane(crds, certDir)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = p.env.Stop() })
	return &operatorEnv{Gomega: g, t: t, cfg: p.cfg, env: p.env, c: p.c, since: time.Now()}
}

// sharedPlanes is how many control planes with every third-party CRD the tests share, each
// running one test at a time: most of a test is waiting (on the API server, on OLM, on a
// period it must see pass), so that the controllers package alone left two cores 40% idle
// with three; four, with six tests at once (TEST_PARALLEL), cut it by about 20 s.
const sharedPlanes = 4

// plane is a running control plane and a client of it.
type plane struct {
	env *testenv.Env
	cfg *rest.Config
	c   client.Client
}

var (
	planeSlots = make(chan struct{}, sharedPlanes)
	planesMu   sync.Mutex
	idlePlanes []*plane
	allPlanes  []*plane
	aloneTests sync.Map
)

// alone keeps a test out of the parallel phase: it runs while no other test does, because it
// reads process-wide figures (the controller-runtime metrics registry counts every manager's
// reconciles). Call it before starting a control plane.
func alone(t *testing.T) { aloneTests.Store(t, true) }

func parallel(t *testing.T) {
	if _, ok := aloneTests.Load(t); !ok {
		t.Parallel()
	}
}

// acquirePlane takes a shared control plane for the test, starting one if fewer than
// sharedPlanes exist, and gives it back, emptied, when the test ends.
func acquirePlane(t *testing.T) *plane {
	t.Helper()
	planeSlots <- struct{}{}
	planesMu.Lock()
	var p *plane
	if n := len(idlePlanes); n > 0 {
		p, idlePlanes = idlePlanes[n-1], idlePlanes[:n-1]
	}
	planesMu.Unlock()
	if p == nil {
		var err error
		if p, err = newPlane(nil, ""); err != nil {
			<-planeSlots
			t.Fatal(err)
		}
		planesMu.Lock()
		allPlanes = append(allPlanes, p)
		planesMu.Unlock()
	}
	// Registered first, so that it runs last: after the operator and the test's helpers stopped.
	t.Cleanup(func() {
		defer func() { <-planeSlots }()
		if err := testenv.Reset(context.Background(), p.c); err != nil {
			// A plane that cannot be emptied would leak state into the next test.
			t.Errorf("empty the shared control plane: %v", err)
			return
		}
		planesMu.Lock()
		idlePlanes = append(idlePlanes, p)
		planesMu.Unlock()
	})
	return p
}

// newPlane starts a control plane with crds (all third-party CRDs when nil) and the
// namespaces every OpenShift cluster has.
func newPlane(crds []*apiextensionsv1.CustomResourceDefinition, certDir string) (*plane, error) {
	if crds == nil {
		var err error
		if crds, err = testenv.AllThirdPartyCRDs(); err != nil {
			return nil, err
		}
	}
	env, cfg, err := testenv.StartRestartable(crds, certDir)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: manager.NewScheme()})
	if err == nil {
		err = simulate.EnsureNamespaces(context.Background(), c, testenv.PlatformNamespaces...)
	}
	if err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	return &plane{env: env, cfg: cfg, c: c}, nil
}

// TestMain stops the shared control planes once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, p := range allPlanes {
		_ = p.env.Stop()
	}
	os.Exit(code)
}

// runningOperator is one manager started by runOperator.
type runningOperator struct {
	// writes counts this manager's write requests, leader election (Lease create and renewals) excluded.
	writes atomic.Int64
	// partitioned cuts the manager off the API server: every request fails, as when its node
	// loses the network. The manager then loses leadership and exits, which is expected.
	partitioned atomic.Bool
	stop        func()
}

// runOperator starts a manager on cfg with a transport that counts its writes (cfg's own
// WrapTransport, if any, still applies), and stops it when the test ends or stop is called.
func (e *operatorEnv) runOperator(cfg *rest.Config, opts manager.Options) *runningOperator {
	op := &runningOperator{}
	opCfg := rest.CopyConfig(cfg)
	opCfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return testenv.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			if op.partitioned.Load() {
				return nil, errPartitioned
			}
			if req.Method != http.MethodGet && req.Method != http.MethodHead && !strings.Contains(req.URL.Path, "/leases") {
				op.writes.Add(1)
				e.writes.Add(1)
				e.mu.Lock()
				e.writeLog = append(e.writeLog, req.Method+" "+req.URL.Path)
				e.mu.Unlock()
			}
			return rt.RoundTrip(req)
		})
	})
	opts.SkipNameValidation = true
	mgr, err := controllers.NewManager(opCfg, opts)
	NewWithT(e.t).Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil && !op.partitioned.Load() {
			e.t.Errorf("manager: %v", err)
		}
	}()
	var once sync.Once
	op.stop = func() { once.Do(func() { cancel(); <-done }) }
	e.t.Cleanup(op.stop)
	return op
}

var errPartitioned = errors.New("network partition (test)")

// writesSince returns the operator's writes logged after mark.
func (e *operatorEnv) writesSince(mark int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.writeLog[mark:]...)
}

func (e *operatorEnv) writeMark() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.writeLog)
}

// create creates the PipelineService from a sample, with the schema's defaults, after mutate.
func (e *operatorEnv) create(sample string, mutate func(*psv1alpha1.PipelineService)) *psv1alpha1.PipelineService {
	e.t.Helper()
	ps, err := samples.Load(sample)
	NewWithT(e.t).Expect(err).NotTo(HaveOccurred())
	if mutate != nil {
		mutate(ps)
	}
	NewWithT(e.t).Expect(e.c.Create(context.Background(), ps)).To(Succeed())
	return ps
}

// update changes the PipelineService, retrying on conflicts.
func (e *operatorEnv) update(mutate func(*psv1alpha1.PipelineService)) {
	e.t.Helper()
	e.Eventually(func() error {
		ps := e.get()
		mutate(ps)
		return e.c.Update(context.Background(), ps)
	}, timeout, poll).Should(Succeed())
}

func (e *operatorEnv) get() *psv1alpha1.PipelineService {
	ps := &psv1alpha1.PipelineService{}
	NewWithT(e.t).Expect(e.c.Get(context.Background(), client.ObjectKey{Name: psv1alpha1.Name}, ps)).To(Succeed())
	return ps
}

// object reads a child; nil when it does not exist.
func (e *operatorEnv) object(gvk schema.GroupVersionKind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, u); err != nil {
		return nil
	}
	return u
}

// condition returns the PipelineService's condition of type t, or nil.
func (e *operatorEnv) condition(t string) *metav1.Condition {
	return meta.FindStatusCondition(e.get().Status.Conditions, t)
}

// waitCondition waits until the PipelineService has a condition of type t with reason and a
// message containing text, and returns it.
func (e *operatorEnv) waitCondition(t, reason, text string) *metav1.Condition {
	e.t.Helper()
	var c *metav1.Condition
	e.Eventually(func(g Gomega) {
		c = e.condition(t)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(reason))
		g.Expect(c.Message).To(ContainSubstring(text))
	}, timeout, poll).Should(Succeed())
	return c
}

// expectEvent waits for an Event with reason whose note contains text.
func (e *operatorEnv) expectEvent(reason, text string) {
	e.t.Helper()
	e.Eventually(func(g Gomega) {
		var notes []string
		for _, ev := range e.eventList(g) {
			if ev.Reason == reason {
				notes = append(notes, ev.Note)
			}
		}
		g.Expect(notes).To(ContainElement(ContainSubstring(text)))
	}, timeout, poll).Should(Succeed())
}

// eventList lists the Events of this test: those recorded since it got its control plane.
func (e *operatorEnv) eventList(g Gomega) []eventsv1.Event {
	list := &eventsv1.EventList{}
	g.Expect(e.c.List(context.Background(), list)).To(Succeed())
	return slices.DeleteFunc(list.Items, func(ev eventsv1.Event) bool { return ev.EventTime.Time.Before(e.since) })
}

// waitConverged waits until the operator has applied the current generation, every child of
// it; the parts may still be on their way (Reconciling then says so).
func (e *operatorEnv) waitConverged() {
	e.t.Helper()
	e.Eventually(func(g Gomega) {
		ps := e.get()
		g.Expect(ps.Status.LastAppliedGeneration).To(Equal(ps.Generation))
	}, timeout, poll).Should(Succeed())
}

// waitQuiet waits until the operator has reported on the current generation (Ready carries
// it) and then made no write for a second: a first reconcile that starts watches can pause
// that long between writes, so quiet alone does not mean done.
func (e *operatorEnv) waitQuiet() {
	e.t.Helper()
	e.Eventually(func(g Gomega) {
		ps := e.get()
		ready := meta.FindStatusCondition(ps.Status.Conditions, psv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.ObservedGeneration).To(Equal(ps.Generation))
	}, timeout, poll).Should(Succeed())
	e.waitNoWrites()
}

// waitNoWrites waits until the operator has made no write for a second.
func (e *operatorEnv) waitNoWrites() {
	e.t.Helper()
	last := e.writes.Load()
	stable := 0
	e.Eventually(func() int {
		now := e.writes.Load()
		if now == last {
			stable++
		} else {
			stable, last = 0, now
		}
		return stable
	}, timeout, 100*time.Millisecond).Should(BeNumerically(">=", 10))
}

// expectNoWritesFor checks, at the transport, that the operator makes no write for d, and
// fails at the first one, naming it: an operator with nothing to do stays idle, with no
// retry, requeue or fight that writes. d is longer than every requeue it schedules.
func (e *operatorEnv) expectNoWritesFor(d time.Duration, why string) {
	e.t.Helper()
	mark := e.writeMark()
	e.Consistently(func() []string { return e.writesSince(mark) }, d, 50*time.Millisecond).Should(BeEmpty(), why)
}

// writesUntil returns the operator's writes logged after mark, once until has passed: the
// writes of an observation window that started at mark.
func (e *operatorEnv) writesUntil(until time.Time, mark int) []string {
	e.t.Helper()
	e.Consistently(func() bool { return true }, time.Until(until), 100*time.Millisecond).Should(BeTrue())
	return e.writesSince(mark)
}

// goldenObjects reads the objects that the render tests pin in testdata.
func goldenObjects(t *testing.T, name string) []*unstructured.Unstructured {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.RepoRoot(), "internal", "render", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
	return out
}

// waitForGolden waits until every object of a golden file is live with its rendered fields,
// and returns the objects.
func (e *operatorEnv) waitForGolden(name string) []*unstructured.Unstructured {
	e.t.Helper()
	want := goldenObjects(e.t, name)
	e.Eventually(func(g Gomega) {
		for _, w := range want {
			expectContains(g, w, e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName()))
		}
	}, timeout, poll).Should(Succeed())
	return want
}

// expectContains checks that live holds every field of want.
func expectContains(g Gomega, want, live *unstructured.Unstructured) {
	g.Expect(live).NotTo(BeNil(), "%s %s/%s does not exist", want.GetKind(), want.GetNamespace(), want.GetName())
	g.Expect(fields.IsSubset(want.Object, live.Object)).To(BeTrue(),
		"%s %s does not hold the rendered fields:\nwant %v\nlive %v", want.GetKind(), want.GetName(), want.Object, live.Object)
}

// zapLevel keeps test output to errors; TEST_LOG=debug shows the operator's logs.
func zapLevel() zapcore.Level {
	if strings.Contains(os.Getenv("TEST_LOG"), "debug") {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}
