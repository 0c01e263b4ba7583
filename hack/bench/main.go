// Command bench is `make bench`: it measures the operator against a local envtest control
// plane and prints one table, each figure with its count, p50, p95 and max beside the target
// from DESIGN.md. Nothing here is asserted; the tests assert behaviour, this reports speed
// and memory.
//
// The latency figures run the operator in this process, with a transport that counts its
// writes, and time each change until this process's own informers see the result (a watch,
// never a sleep). Memory and start-up run the operator as a separate process: the shipped
// binary, scoped, beside the bench manager with a default cache. The shipped binary's
// package initialisation and its validate subcommand are timed last (gitops.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

func main() {
	quiet := zap.New(zap.WriteTo(os.Stderr), zap.Level(zapLevelError{}))
	ctrl.SetLogger(quiet)
	klog.SetLogger(quiet)
	rounds := flag.Int("rounds", 30, "rounds of each latency figure")
	counts := flag.String("memory-objects", "0,1000,10000", "unrelated Secrets, ConfigMaps and Deployments (each) for the memory figure")
	idle := flag.Duration("idle", time.Minute, "how long to count idle reconciles")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the latency figures with the operator running (this process: the operator, the informers and OSP's webhook) to this file")
	flag.Parse()
	if err := run(*rounds, *counts, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "make bench:", err)
		os.Exit(1)
	}
}

// cpuProfile is where -cpuprofile writes.
var cpuProfile string

// startCPUProfile starts the profile -cpuprofile asks for, and returns what stops it.
func startCPUProfile() (func(), error) {
	if cpuProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(cpuProfile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// row is one line of the table.
type row struct {
	figure  string
	samples []time.Duration
	value   string // for figures that are not durations
	target  string
	met     string
}

// The latency figures, each judged against its floor (floor.go).
const (
	figCreate            = "create -> every child applied"
	figCreateOrphan      = "create (Orphan: no finalizer) -> applied"
	figImage             = "spec change -> applied: imageOverride"
	figConsole           = "spec change -> applied: PaC console URL"
	figDriftDeployment   = "drift: exporter Deployment deleted -> restored"
	figDriftSubscription = "drift: Subscription channel edited -> restored"
	figDriftPruner       = "drift: TektonConfig pruner edited -> restored"
	figStatusCSV         = "status: CSV Succeeded -> Ready=True"
	figStatusTekton      = "status: TektonConfig Ready -> Ready=True"
	figHostCreate        = "host: create -> every child applied"
	figHostDrift         = "host: SprayProxy Deployment deleted -> restored"
	figHostStatus        = "host: Route admitted -> Ready=True"
)

type bench struct {
	// floor holds each latency figure's floor samples; bare is the bare client's engine.
	floor   map[string][]time.Duration
	bare    *apply.Engine
	cfg     *rest.Config
	c       client.Client
	watch   cache.Cache
	changed chan struct{}
	writes  atomic.Int64
	rows    []row
	rounds  int
	// floorRounds is the rounds of the floor block running now (floors).
	floorRounds int
	// floorBefore counts each figure's floor samples taken before the operator ran.
	floorBefore map[string]int
}

func run(rounds int, counts string, idle time.Duration) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	started := time.Now()
	crds, err := testenv.AllThirdPartyCRDs()
	if err != nil {
		return err
	}
	env, cfg, err := testenv.Start(crds)
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	b := &bench{cfg: cfg, changed: make(chan struct{}, 1), rounds: rounds}
	if b.c, err = client.New(cfg, client.Options{Scheme: manager.NewScheme()}); err != nil {
		return err
	}
	if err := simulate.EnsureNamespaces(ctx, b.c, append(testenv.PlatformNamespaces, proxyPluginNamespace)...); err != nil {
		return err
	}
	if err := b.startWatch(ctx); err != nil {
		return err
	}
	progress("control plane up in %s", time.Since(started).Round(time.Millisecond))
	if err := b.floors(ctx, rounds-rounds/2, "before"); err != nil {
		return err
	}
	b.floorBefore = map[string]int{}
	for figure, samples := range b.floor {
		b.floorBefore[figure] = len(samples)
	}
	progress("running the operator in-process")

	opCtx, stopOperator := context.WithCancel(ctx)
	opDone, err := b.startOperator(opCtx)
	if err != nil {
		stopOperator()
		return err
	}
	stopProfile, err := startCPUProfile()
	if err != nil {
		stopOperator()
		return err
	}
	steps := []func(context.Context) error{b.createOrphanToApplied, b.createToApplied, b.specChange, b.driftHeal, b.statusLatency, b.host, b.noOpWrites}
	defer stopProfile()
	for _, step := range steps {
		if err := step(ctx); err != nil {
			stopOperator()
			return err
		}
	}
	if err := b.idleReconciles(ctx, idle); err != nil {
		stopOperator()
		return err
	}
	stopOperator()
	<-opDone
	if err := testenv.Reset(ctx, b.c); err != nil {
		return fmt.Errorf("empty the control plane after the operator: %w", err)
	}
	if err := b.floors(ctx, rounds/2, "after"); err != nil {
		return err
	}
	if err := b.memory(ctx, env, counts); err != nil {
		return err
	}
	b.print(started)
	return nil
}

// --- the operator in this process ---

func (b *bench) startOperator(ctx context.Context) (<-chan struct{}, error) {
	cfg := rest.CopyConfig(b.cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return testenv.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method != http.MethodGet {
				b.writes.Add(1)
			}
			return rt.RoundTrip(req)
		})
	})
	mgr, err := controllers.NewManager(cfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "operator:", err)
		}
	}()
	// The figures are of a running operator, as its readiness probe reports it; start-up has
	// its own figure.
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the operator's caches did not sync")
	}
	return done, nil
}

// reconciles reads controller-runtime's reconcile counter of the in-process operator.
func reconciles() float64 { return float64(testenv.Reconciles()) }

// --- observing: informers of this process, so every wait is a watch ---

func (b *bench) startWatch(ctx context.Context) error {
	opts := manager.CacheOptions()
	opts.Scheme = manager.NewScheme()
	c, err := cache.New(b.cfg, opts)
	if err != nil {
		return err
	}
	b.watch = c
	go func() { _ = c.Start(ctx) }()
	signal := toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { b.signal() },
		UpdateFunc: func(any, any) { b.signal() },
		DeleteFunc: func(any) { b.signal() },
	}
	objs := []client.Object{&psv1alpha1.PipelineService{}, &psv1alpha1.PipelineServiceHost{}}
	for _, k := range children.Of(children.Member | children.Host) {
		gvk := k.GVK
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		objs = append(objs, u)
	}
	for _, o := range objs {
		inf, err := c.GetInformer(ctx, o)
		if err != nil {
			return fmt.Errorf("watch %T: %w", o, err)
		}
		if _, err := inf.AddEventHandler(signal); err != nil {
			return err
		}
	}
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("the bench's informers did not sync")
	}
	return nil
}

func (b *bench) signal() {
	select {
	case b.changed <- struct{}{}:
	default:
	}
}

// waitFor returns how long after start cond became true, checking on every watch event.
func (b *bench) waitFor(ctx context.Context, start time.Time, what string, cond func(context.Context) bool) (time.Duration, error) {
	deadline := time.After(2 * time.Minute)
	for {
		if cond(ctx) {
			return time.Since(start), nil
		}
		select {
		case <-b.changed:
		case <-deadline:
			return 0, fmt.Errorf("timed out waiting for %s", what)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// live reads a child from the bench's cache; nil when absent.
func (b *bench) live(ctx context.Context, o *unstructured.Unstructured) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(o.GroupVersionKind())
	if err := b.watch.Get(ctx, client.ObjectKeyFromObject(o), u); err != nil {
		return nil
	}
	return u
}

func (b *bench) pipelineService(ctx context.Context) *psv1alpha1.PipelineService {
	ps := &psv1alpha1.PipelineService{}
	if err := b.watch.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, ps); err != nil {
		return nil
	}
	return ps
}

// allCaps is every optional API served, as in this control plane.
var allCaps = children.AllServed()

// applied is whether every child of ps is live with its rendered fields.
func (b *bench) applied(ps *psv1alpha1.PipelineService) func(context.Context) bool {
	desired, err := render.Render(ps, allCaps)
	if err != nil {
		panic(err)
	}
	return func(ctx context.Context) bool {
		for _, o := range desired.Objects {
			l := b.live(ctx, o)
			if l == nil || !fields.IsSubset(o.Object, l.Object) {
				return false
			}
		}
		return true
	}
}

// --- 1. create -> applied ---

func fullSample() (*psv1alpha1.PipelineService, error) {
	return fullSampleWith(psv1alpha1.DeletionPolicyDelete)
}

func fullSampleWith(policy psv1alpha1.DeletionPolicy) (*psv1alpha1.PipelineService, error) {
	ps, err := samples.Load(samples.Full)
	if err != nil {
		return nil, err
	}
	ps.Spec.DeletionPolicy = policy
	return ps, nil
}

// createOrphanToApplied is create -> applied for deletionPolicy Orphan, which needs no
// finalizer: the pass applies the children without first writing one, a round trip less on
// the create's path than the Delete row. Between rounds the parent goes at once and the
// children are deleted as the floor's are.
func (b *bench) createOrphanToApplied(ctx context.Context) error {
	progress("create (Orphan) -> applied: %d rounds after one to warm up", b.rounds)
	return b.creates(ctx, psv1alpha1.DeletionPolicyOrphan, figCreateOrphan)
}

func (b *bench) createToApplied(ctx context.Context) error {
	progress("create -> applied: %d rounds after one to warm up, deleting (deletionPolicy Delete) between rounds", b.rounds)
	return b.creates(ctx, psv1alpha1.DeletionPolicyDelete, figCreate)
}

// creates measures create -> every child applied of the full sample with policy. Between
// rounds a Delete parent is deleted by the operator; an Orphan one goes at once and its
// children are deleted here. The last Delete parent stays for the next figures.
func (b *bench) creates(ctx context.Context, policy psv1alpha1.DeletionPolicy, figure string) error {
	r := row{figure: figure, target: "ref. 40 ms"}
	for i := 0; i <= b.rounds; i++ {
		ps, err := fullSampleWith(policy)
		if err != nil {
			return err
		}
		desired, err := render.Render(ps, allCaps)
		if err != nil {
			return err
		}
		b.settle(ctx)
		start := time.Now()
		if err := b.c.Create(ctx, ps); err != nil {
			return err
		}
		d, err := b.waitFor(ctx, start, "the children of the full sample", b.applied(ps))
		if err != nil {
			return err
		}
		if i > 0 {
			// Round 0 warms up: it also waits for the controller to start its watches.
			r.samples = append(r.samples, d)
		}
		switch {
		case policy == psv1alpha1.DeletionPolicyOrphan:
			err = b.deleteAll(ctx, ps, desired.Objects)
		case i < b.rounds:
			err = b.deletePipelineService(ctx)
		}
		if err != nil {
			return err
		}
	}
	b.add(r)
	return nil
}

func (b *bench) deletePipelineService(ctx context.Context) error {
	ps := &psv1alpha1.PipelineService{}
	ps.Name = psv1alpha1.Name
	if err := b.c.Delete(ctx, ps); err != nil {
		return err
	}
	_, err := b.waitFor(ctx, time.Now(), "the PipelineService and its children to be deleted", func(ctx context.Context) bool {
		if b.pipelineService(ctx) != nil {
			return false
		}
		for _, gvk := range []struct{ kind, ns, name string }{
			{"Subscription", "openshift-operators", "openshift-pipelines-operator"},
			{"CatalogSource", "openshift-marketplace", "pipeline-service-catalog"},
		} {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(children.GVKSubscription.GroupVersion().WithKind(gvk.kind))
			u.SetNamespace(gvk.ns)
			u.SetName(gvk.name)
			if b.live(ctx, u) != nil {
				return false
			}
		}
		return true
	})
	return err
}

// --- 2. spec change -> applied ---

func (b *bench) update(ctx context.Context, mutate func(*psv1alpha1.PipelineService)) (time.Time, error) {
	start, _, err := b.updated(ctx, mutate)
	return start, err
}

// updated changes the PipelineService, and returns when the write was sent and what was
// written.
func (b *bench) updated(ctx context.Context, mutate func(*psv1alpha1.PipelineService)) (time.Time, *psv1alpha1.PipelineService, error) {
	for {
		ps := &psv1alpha1.PipelineService{}
		if err := b.c.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, ps); err != nil {
			return time.Time{}, nil, err
		}
		mutate(ps)
		start := time.Now()
		err := b.c.Update(ctx, ps)
		if err == nil {
			return start, ps, nil
		}
		if !apierrors.IsConflict(err) {
			return time.Time{}, nil, err
		}
	}
}

// specChange is a change of the PipelineService's spec, and the one child it reaches.
type specChange struct {
	figure  string
	ref     *unstructured.Unstructured
	mutate  func(*psv1alpha1.PipelineService)
	applied func(*unstructured.Unstructured) bool
}

// specChanges are the spec changes the figures time, the same for the operator and the floor,
// each to a value of its own (tag): a hot-fix image, which reaches the Subscription's env, and
// the PaC console URL, which reaches the TektonConfig through OSP's webhook.
func specChanges(tag string) []specChange {
	image := "quay.io/openshift-pipeline/pipelines-controller-rhel9:" + tag
	url := "https://console.example.com/" + tag
	return []specChange{
		{figImage, objectRef(children.GVKSubscription.Kind, "openshift-operators", "openshift-pipelines-operator"),
			func(ps *psv1alpha1.PipelineService) {
				ps.Spec.Operator.Subscription.ImageOverrides["IMAGE_PIPELINES_CONTROLLER"] = psv1alpha1.ImageReference(image)
			},
			func(l *unstructured.Unstructured) bool { return envValue(l, "IMAGE_PIPELINES_CONTROLLER") == image }},
		{figConsole, objectRef(children.GVKTektonConfig.Kind, "", render.TektonConfigName),
			func(ps *psv1alpha1.PipelineService) { ps.Spec.TektonConfig.PipelinesAsCode.Console.URL = url },
			func(l *unstructured.Unstructured) bool {
				got, _, _ := unstructured.NestedString(l.Object, "spec", "platforms", "openshift", "pipelinesAsCode", "settings", "custom-console-url")
				return got == url
			}},
	}
}

func (b *bench) specChange(ctx context.Context) error {
	progress("spec change -> applied: %d rounds each of an imageOverride and a PaC console URL", b.rounds)
	rows := map[string]*row{figImage: {figure: figImage, target: "ref. 40 ms"}, figConsole: {figure: figConsole, target: "ref. 40 ms"}}
	for i := 0; i < b.rounds; i++ {
		for _, ch := range specChanges(fmt.Sprintf("bench-%d", i)) {
			b.settle(ctx)
			start, err := b.update(ctx, ch.mutate)
			if err != nil {
				return err
			}
			d, err := b.waitFor(ctx, start, apply.Describe(ch.ref), b.liveHolds(ch.ref, ch.applied))
			if err != nil {
				return err
			}
			rows[ch.figure].samples = append(rows[ch.figure].samples, d)
		}
	}
	b.add(*rows[figImage])
	b.add(*rows[figConsole])
	return nil
}

func objectRef(kind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	for _, k := range children.Kinds {
		gvk := k.GVK
		if gvk.Kind == kind {
			u.SetGroupVersionKind(gvk)
		}
	}
	u.SetNamespace(namespace)
	u.SetName(name)
	return u
}

func envValue(sub *unstructured.Unstructured, name string) string {
	env, _, _ := unstructured.NestedSlice(sub.Object, "spec", "config", "env")
	for _, e := range env {
		if m, ok := e.(map[string]any); ok && m["name"] == name {
			v, _ := m["value"].(string)
			return v
		}
	}
	return ""
}

// --- 3. drift heal ---

// drift is a change someone makes to a child, which the operator undoes.
type drift struct {
	figure string
	ref    *unstructured.Unstructured
	// make makes the change, and returns when it was sent, whether the informers see it made,
	// and whether they see the child as rendered again.
	make func(ctx context.Context) (start time.Time, made func(context.Context) bool, undone func(*unstructured.Unstructured) bool, err error)
}

// drifts are the changes the drift figures time, the same for the operator and the floor: the
// exporter Deployment deleted, the Subscription's channel edited with an update, and another
// field manager taking the TektonConfig's pruner over.
func (b *bench) drifts() []drift {
	dep := objectRef(children.GVKDeployment.Kind, "openshift-pipelines", render.ExporterName)
	sub := objectRef(children.GVKSubscription.Kind, "openshift-operators", "openshift-pipelines-operator")
	tc := objectRef(children.GVKTektonConfig.Kind, "", render.TektonConfigName)
	channel := func(want string) func(*unstructured.Unstructured) bool {
		return func(l *unstructured.Unstructured) bool {
			ch, _, _ := unstructured.NestedString(l.Object, "spec", "channel")
			return ch == want
		}
	}
	prunerOff := func(want bool) func(*unstructured.Unstructured) bool {
		return func(l *unstructured.Unstructured) bool {
			off, _, _ := unstructured.NestedBool(l.Object, "spec", "pruner", "disabled")
			return off == want
		}
	}
	return []drift{
		b.deletion(figDriftDeployment, dep),
		{figDriftSubscription, sub, func(ctx context.Context) (time.Time, func(context.Context) bool, func(*unstructured.Unstructured) bool, error) {
			s := &unstructured.Unstructured{}
			s.SetGroupVersionKind(children.GVKSubscription)
			if err := b.c.Get(ctx, client.ObjectKeyFromObject(sub), s); err != nil {
				return time.Time{}, nil, nil, err
			}
			_ = unstructured.SetNestedField(s.Object, "stable", "spec", "channel")
			start := time.Now()
			return start, b.liveHolds(sub, channel("stable")), channel("latest"), b.c.Update(ctx, s)
		}},
		{figDriftPruner, tc, func(ctx context.Context) (time.Time, func(context.Context) bool, func(*unstructured.Unstructured) bool, error) {
			start := time.Now()
			err := b.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(otherPrunerWriter()), client.FieldOwner("bench-other-writer"), client.ForceOwnership)
			return start, b.liveHolds(tc, prunerOff(false)), prunerOff(true), err
		}},
	}
}

// deletion is the drift of a child deleted, undone once a new one (another UID) is live.
func (b *bench) deletion(figure string, ref *unstructured.Unstructured) drift {
	return drift{figure, ref, func(ctx context.Context) (time.Time, func(context.Context) bool, func(*unstructured.Unstructured) bool, error) {
		live := b.live(ctx, ref)
		if live == nil {
			return time.Time{}, nil, nil, fmt.Errorf("no %s", apply.Describe(ref))
		}
		start := time.Now()
		return start, func(ctx context.Context) bool { return b.live(ctx, ref) == nil },
			func(l *unstructured.Unstructured) bool { return l.GetUID() != live.GetUID() }, b.c.Delete(ctx, live)
	}}
}

func (b *bench) driftHeal(ctx context.Context) error {
	progress("drift heal: %d rounds each of a deleted Deployment, an edited Subscription, an edited TektonConfig", b.rounds)
	rows := map[string]*row{}
	events := b.drifts()
	for _, ev := range events {
		rows[ev.figure] = &row{figure: ev.figure, target: "ref. 20 ms"}
	}
	for i := 0; i < b.rounds; i++ {
		for _, ev := range events {
			b.settle(ctx)
			start, _, undone, err := ev.make(ctx)
			if err != nil {
				return err
			}
			d, err := b.waitFor(ctx, start, apply.Describe(ev.ref), b.liveHolds(ev.ref, undone))
			if err != nil {
				return err
			}
			rows[ev.figure].samples = append(rows[ev.figure].samples, d)
		}
	}
	for _, ev := range events {
		b.add(*rows[ev.figure])
	}
	return nil
}

// --- 4. status latency ---

// statusEvent is what OLM or OSP reports of a part: spoil makes it unhealthy, mend healthy
// again, and mended is whether the informers see it mended.
type statusEvent struct {
	figure      string
	spoil, mend func() error
	mended      func(context.Context) bool
}

// statusEvents are the reports the status figures time, the same for the operator and the
// floor: the CSV reaching Succeeded, and the TektonConfig Ready.
func (b *bench) statusEvents(ctx context.Context, spec simulate.Spec, stack simulate.Stack) []statusEvent {
	return []statusEvent{
		{figStatusCSV,
			func() error {
				return simulate.CSVPhase(ctx, b.c, spec.SubscriptionNamespace, stack.CSV, "Failed", "InstallComponentFailed", "bench")
			},
			func() error {
				return simulate.CSVPhase(ctx, b.c, spec.SubscriptionNamespace, stack.CSV, "Succeeded", "InstallSucceeded", "")
			},
			b.liveHolds(csvRef(spec.SubscriptionNamespace, stack.CSV), func(l *unstructured.Unstructured) bool {
				phase, _, _ := unstructured.NestedString(l.Object, "status", "phase")
				return phase == "Succeeded"
			})},
		{figStatusTekton,
			func() error {
				return simulate.TektonConfigStatus(ctx, b.c, stack.TektonVersion, [3]string{"ComponentsReady", "False", "bench"}, [3]string{"Ready", "False", "bench"})
			},
			func() error { return simulate.TektonConfigReady(ctx, b.c, stack.TektonVersion) },
			b.liveHolds(objectRef(children.GVKTektonConfig.Kind, "", render.TektonConfigName), conditionTrue("Ready"))},
	}
}

// ready is whether the informers see the PipelineService's Ready as want.
func (b *bench) ready(want bool) func(context.Context) bool {
	return func(ctx context.Context) bool {
		ps := b.pipelineService(ctx)
		return ps != nil && meta.IsStatusConditionTrue(ps.Status.Conditions, psv1alpha1.ConditionReady) == want
	}
}

func (b *bench) statusLatency(ctx context.Context) error {
	progress("status latency: %d rounds each of CSV Succeeded and TektonConfig Ready", b.rounds)
	spec, stack := statusStack()
	if err := simulate.Healthy(ctx, b.c, spec, stack); err != nil {
		return err
	}
	if _, err := b.waitFor(ctx, time.Now(), "Ready", b.ready(true)); err != nil {
		return err
	}
	rows := map[string]*row{figStatusCSV: {figure: figStatusCSV, target: "ref. 20 ms"}, figStatusTekton: {figure: figStatusTekton, target: "ref. 20 ms"}}
	for i := 0; i < b.rounds; i++ {
		for _, ev := range b.statusEvents(ctx, spec, stack) {
			if err := ev.spoil(); err != nil {
				return err
			}
			if _, err := b.waitFor(ctx, time.Now(), "Ready=False", b.ready(false)); err != nil {
				return err
			}
			b.settle(ctx)
			start := time.Now()
			if err := ev.mend(); err != nil {
				return err
			}
			d, err := b.waitFor(ctx, start, "Ready=True after "+ev.figure, b.ready(true))
			if err != nil {
				return err
			}
			rows[ev.figure].samples = append(rows[ev.figure].samples, d)
		}
	}
	b.add(*rows[figStatusCSV])
	b.add(*rows[figStatusTekton])
	return nil
}

// statusStack is the full sample's OLM objects and the stack OLM and OSP would report.
func statusStack() (simulate.Spec, simulate.Stack) {
	return simulate.Spec{CatalogNamespace: "openshift-marketplace", CatalogName: "pipeline-service-catalog",
			SubscriptionNamespace: "openshift-operators", SubscriptionName: "openshift-pipelines-operator", TargetNamespace: "openshift-pipelines"},
		simulate.Stack{CSV: "openshift-pipelines-operator-rh.v5.0.5", Version: "5.0.5", TektonVersion: simulate.DefaultTektonVersion}
}

// --- 4b. the PipelineServiceHost: create, drift, status ---

// proxyPluginNamespace is the CodeReadyToolchain host operator's, which a host cluster has.
const proxyPluginNamespace = "toolchain-host-operator"

// host measures the PipelineServiceHost as the PipelineService is measured: create -> every
// child applied (deleting between rounds), SprayProxy's Deployment deleted -> restored, and
// the router admitting its Route -> Ready=True. The last host stays, so that the no-op and
// idle figures that follow run with both kinds.
func (b *bench) host(ctx context.Context) error {
	progress("host: %d rounds each of create -> applied, Deployment deleted -> restored, Route admitted -> Ready", b.rounds)
	create := row{figure: figHostCreate, target: "ref. 40 ms"}
	drift := row{figure: figHostDrift, target: "ref. 20 ms"}
	status := row{figure: figHostStatus, target: "ref. 20 ms"}
	get := func(ctx context.Context) *psv1alpha1.PipelineServiceHost {
		h := &psv1alpha1.PipelineServiceHost{}
		if err := b.watch.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, h); err != nil {
			return nil
		}
		return h
	}
	for i := 0; i <= b.rounds; i++ {
		h, err := samples.LoadHost(samples.Host)
		if err != nil {
			return err
		}
		h.Spec.DeletionPolicy = psv1alpha1.DeletionPolicyDelete
		desired, err := render.Host(h, allCaps)
		if err != nil {
			return err
		}
		b.settle(ctx)
		start := time.Now()
		if err := b.c.Create(ctx, h); err != nil {
			return err
		}
		d, err := b.waitFor(ctx, start, "the children of the host sample", b.hostApplied(desired))
		if err != nil {
			return err
		}
		if i > 0 {
			create.samples = append(create.samples, d)
		}
		if i == b.rounds {
			break
		}
		if err := b.c.Delete(ctx, h); err != nil {
			return err
		}
		if _, err := b.waitFor(ctx, time.Now(), "the host to be deleted", func(ctx context.Context) bool { return get(ctx) == nil }); err != nil {
			return err
		}
	}

	ns, name := "sprayproxy", render.SprayProxyName
	if err := simulate.DeploymentReady(ctx, b.c, ns, name, 1); err != nil {
		return err
	}
	ready := func(want bool) func(context.Context) bool {
		return func(ctx context.Context) bool {
			h := get(ctx)
			return h != nil && meta.IsStatusConditionTrue(h.Status.Conditions, psv1alpha1.ConditionReady) == want
		}
	}
	dep := objectRef(children.GVKDeployment.Kind, ns, name)
	for i := 0; i < b.rounds; i++ {
		if err := b.routeAdmitted(ctx, false); err != nil {
			return err
		}
		if _, err := b.waitFor(ctx, time.Now(), "host Ready=False", ready(false)); err != nil {
			return err
		}
		b.settle(ctx)
		start := time.Now()
		if err := b.routeAdmitted(ctx, true); err != nil {
			return err
		}
		d, err := b.waitFor(ctx, start, "host Ready=True after the Route is admitted", ready(true))
		if err != nil {
			return err
		}
		status.samples = append(status.samples, d)

		b.settle(ctx)
		start, _, undone, err := b.deletion(figHostDrift, dep).make(ctx)
		if err != nil {
			return err
		}
		if d, err = b.waitFor(ctx, start, "the SprayProxy Deployment", b.liveHolds(dep, undone)); err != nil {
			return err
		}
		drift.samples = append(drift.samples, d)
		if err := simulate.DeploymentReady(ctx, b.c, ns, name, 1); err != nil {
			return err
		}
	}
	b.add(create)
	b.add(drift)
	b.add(status)
	return nil
}

// hostApplied is whether every object of desired is live with its rendered fields.
func (b *bench) hostApplied(desired []*unstructured.Unstructured) func(context.Context) bool {
	return func(ctx context.Context) bool {
		for _, o := range desired {
			if l := b.live(ctx, o); l == nil || !fields.IsSubset(o.Object, l.Object) {
				return false
			}
		}
		return true
	}
}

// routeAdmitted plays the router's verdict on SprayProxy's Route.
func (b *bench) routeAdmitted(ctx context.Context, ok bool) error {
	reason := ""
	if !ok {
		reason = "HostAlreadyClaimed"
	}
	return simulate.RouteAdmitted(ctx, b.c, "sprayproxy", render.SprayProxyName, "default", "sprayproxy.apps.host.example.com", ok, reason, "bench")
}

// settle waits until the operator has made no write for 200 ms: each event reaches an
// operator at rest, as a drift or a spec change finds it in a cluster, rather than in the
// tail of the pass that answered the event before (its status write), behind which it would
// queue. The floor's bare client has no such tail.
func (b *bench) settle(ctx context.Context) {
	last, stable := b.writes.Load(), 0
	for stable < 4 && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if now := b.writes.Load(); now != last {
			last, stable = now, 0
			continue
		}
		stable++
	}
}

// --- 5. writes per no-op reconcile, 6. idle reconciles ---

func (b *bench) quiet(ctx context.Context) {
	last, stable := b.writes.Load(), 0
	for stable < 10 && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
		if now := b.writes.Load(); now != last {
			last, stable = now, 0
			continue
		}
		stable++
	}
}

func (b *bench) noOpWrites(ctx context.Context) error {
	progress("writes per no-op reconcile: 100 reconciles with nothing to change")
	b.quiet(ctx)
	writes, before := b.writes.Load(), reconciles()
	for i := 0; i < 100; i++ {
		target := reconciles() + 1
		if _, err := b.update(ctx, func(ps *psv1alpha1.PipelineService) {
			if ps.Annotations == nil {
				ps.Annotations = map[string]string{}
			}
			ps.Annotations["bench/poke"] = strconv.Itoa(i)
		}); err != nil {
			return err
		}
		for reconciles() < target && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
	}
	b.quiet(ctx)
	n := reconciles() - before
	w := b.writes.Load() - writes
	met := "met"
	if w != 0 {
		met = "MISSED"
	}
	b.rows = append(b.rows, row{figure: "writes per no-op reconcile", value: fmt.Sprintf("%d writes in %.0f reconciles, OSP's webhook in the loop", w, n), target: "0", met: met})
	return nil
}

func (b *bench) idleReconciles(ctx context.Context, idle time.Duration) error {
	progress("idle reconciles: counting for %s", idle)
	b.quiet(ctx)
	before, writes := reconciles(), b.writes.Load()
	select {
	case <-time.After(idle):
	case <-ctx.Done():
		return ctx.Err()
	}
	perMinute := (reconciles() - before) / idle.Minutes()
	met := "met"
	if perMinute > 1 {
		met = "MISSED"
	}
	b.rows = append(b.rows, row{figure: "idle reconciles per minute", value: fmt.Sprintf("%.1f (%d writes)", perMinute, b.writes.Load()-writes), target: "<= 1", met: met})
	return nil
}

// --- 7. memory and 8. start-up, the operator as its own process ---

func (b *bench) memory(ctx context.Context, env *testenv.Env, counts string) error {
	user, err := env.AddUser(envtest.User{Name: "bench", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "pipeline-service-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return err
	}
	// The manager runs as its own process: the shipped binary (main.go, which links the
	// validate subcommand's libraries too) for the scoped figures and start-up, and the bench
	// manager, the same manager with controller-runtime's default cache, for the comparison.
	shipped, self := filepath.Join(dir, "shipped"), filepath.Join(dir, "manager")
	for bin, pkg := range map[string]string{shipped: ".", self: "./hack/bench/manager"} {
		if err := buildBinary(ctx, bin, pkg); err != nil {
			return err
		}
	}
	startup := row{figure: "start-up: process start -> readyz OK (scoped)", target: "p50 <= 150 ms"}
	binary, err := os.Stat(shipped)
	if err != nil {
		return err
	}
	var memRows []row
	var scopedMax, scopedMin float64 = 0, 1e18
	created := 0
	for _, s := range strings.Split(counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("memory-objects %q: %w", counts, err)
		}
		progress("memory: creating unrelated objects up to %d Secrets, ConfigMaps and Deployments each", n)
		if err := createNoise(ctx, b.c, created, n); err != nil {
			return err
		}
		created = n
		var rss [2]processMemory
		for i, scoped := range []bool{true, false} {
			bin := shipped
			if !scoped {
				bin = self
			}
			m, up, err := measure(ctx, bin, kubeconfig, scoped)
			if err != nil {
				return err
			}
			rss[i] = m
			if scoped {
				startup.samples = append(startup.samples, up)
			}
		}
		// The target is on anonymous memory (heap, stacks, runtime): what the operator's
		// caches and work use, and what grows with a cluster. The rest of the RSS is the
		// binary's own pages, mapped from its file: about 38 MiB for a binary that links
		// tektoncd/operator and Pipelines-as-Code to run OSP's admission code, whatever the
		// cluster holds.
		anon := float64(rss[0].anonPeak) / 1024
		scopedMax, scopedMin = max(scopedMax, anon), min(scopedMin, anon)
		met := "met"
		if anon > 40 {
			met = "MISSED"
		}
		memRows = append(memRows, row{
			figure: fmt.Sprintf("memory with %d x3 unrelated objects", n),
			value: fmt.Sprintf("scoped: anon %.1f MiB peak, RSS %.1f MiB peak (%.1f MiB file-backed, binary %.1f MiB); default cache: anon %.1f MiB, RSS %.1f MiB; %.1fx",
				anon, float64(rss[0].hwm)/1024, float64(rss[0].file)/1024, float64(binary.Size())/(1<<20), float64(rss[1].anonPeak)/1024, float64(rss[1].hwm)/1024,
				float64(rss[1].anonPeak)/float64(rss[0].anonPeak)),
			target: "anon <= 40 MiB, flat", met: met,
		})
	}
	if len(memRows) > 1 && scopedMax > scopedMin*1.25 {
		memRows[len(memRows)-1].met += " (not flat)"
	}
	b.rows = append(b.rows, memRows...)
	// Start-up has no floor: it is the process's own work before its first request.
	startup.met = "met"
	if percentile(startup.samples, 50) > 150*time.Millisecond {
		startup.met = "MISSED"
	}
	startup.value = fmt.Sprintf("p50 %s, max %s over %d starts", ms(percentile(startup.samples, 50)), ms(percentile(startup.samples, 100)), len(startup.samples))
	b.rows = append(b.rows, startup)
	initRow, err := packageInit(ctx, shipped, self)
	if err != nil {
		return err
	}
	validateRow, err := validateFigure(ctx, shipped, dir)
	if err != nil {
		return err
	}
	b.rows = append(b.rows, initRow, validateRow)
	return nil
}

// buildBinary builds the package pkg into bin, as the image builds the manager.
func buildBinary(ctx context.Context, bin, pkg string) error {
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	build.Dir = testenv.RepoRoot()
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	return nil
}

// processMemory is a process's peak RSS, its file-backed RSS and the peak of its anonymous
// RSS, in KiB.
type processMemory struct{ hwm, file, anonPeak int64 }

// measure runs the manager as a process until it is ready and has settled, and reads its
// peak and current resident memory from /proc.
func measure(ctx context.Context, self, kubeconfig string, scoped bool) (processMemory, time.Duration, error) {
	probe := freeAddr()
	args := []string{"-kubeconfig", kubeconfig, "-metrics-bind-address=0", "-health-probe-bind-address", probe, "-zap-log-level=error"}
	if !scoped {
		args = []string{"-kubeconfig", kubeconfig, "-scoped=false", "-probe-addr", probe}
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return processMemory{}, 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	var up time.Duration
	for {
		resp, err := http.Get("http://" + probe + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				up = time.Since(start)
				break
			}
		}
		if time.Since(start) > 2*time.Minute {
			return processMemory{}, 0, fmt.Errorf("the manager did not get ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Reconcile, then let the heap settle; the kernel keeps the peak of the whole RSS only, so
	// the anonymous part is sampled.
	var peak processMemory
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		m, err := readMemory(cmd.Process.Pid)
		if err != nil {
			return processMemory{}, 0, err
		}
		peak.hwm, peak.file, peak.anonPeak = m.hwm, m.file, max(peak.anonPeak, m.anonPeak)
	}
	return peak, up, nil
}

func readMemory(pid int) (processMemory, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return processMemory{}, err
	}
	var m processMemory
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			m.hwm = v
		case "RssFile:":
			m.file = v
		case "RssAnon:":
			m.anonPeak = v
		}
	}
	return m, nil
}

// createNoise creates Secrets, ConfigMaps and Deployments from index from up to to (each),
// spread over 50 namespaces, with 8 writers.
func createNoise(ctx context.Context, c client.Client, from, to int) error {
	const namespaces = 50
	for i := 0; i < namespaces; i++ {
		if err := simulate.EnsureNamespaces(ctx, c, fmt.Sprintf("noise-%02d", i)); err != nil {
			return err
		}
	}
	work := make(chan int)
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				for _, o := range noise(fmt.Sprintf("noise-%02d", i%namespaces), i) {
					if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
						once.Do(func() { firstErr = err })
					}
				}
			}
		}()
	}
	for i := from; i < to && firstErr == nil; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	return firstErr
}

// --- output ---

// The latency targets, against the floor: the median within 1.25 times the floor's median, the
// slowest sample within 3 times the floor's slowest.
const (
	medianOverFloor = 1.25
	maxOverFloor    = 3
)

// add adds a row. A latency row is judged when the table is printed (met), once the floor
// has all its samples.
func (b *bench) add(r row) { b.rows = append(b.rows, r) }

// met judges a latency row against its floor.
func (b *bench) met(r row) string {
	f := b.floor[r.figure]
	switch {
	case len(f) == 0 || len(r.samples) == 0:
		return "NO FLOOR"
	case ratio(r.samples, f, 50) > medianOverFloor || ratio(r.samples, f, 100) > maxOverFloor:
		return "MISSED"
	}
	return "met"
}

// halves are r's p50 ratio in each half of the run: the first half of its samples against the
// floor's block before the operator ran, the second half against the block after; 0, 0 when
// either block is missing.
func (b *bench) halves(r row) (float64, float64) {
	f, n := b.floor[r.figure], b.floorBefore[r.figure]
	h := len(r.samples) / 2
	if n == 0 || n >= len(f) || h == 0 {
		return 0, 0
	}
	return ratio(r.samples[:h], f[:n], 50), ratio(r.samples[h:], f[n:], 50)
}

// ratio is the p-th percentile of samples over the floor's.
func ratio(samples, floor []time.Duration, p int) float64 {
	return float64(percentile(samples, p)) / float64(max(percentile(floor, p), time.Microsecond))
}

func percentile(s []time.Duration, p int) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := append([]time.Duration(nil), s...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	i := (p*len(sorted)+99)/100 - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func (b *bench) print(started time.Time) {
	fmt.Printf("\npipeline-service-operator bench, %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Printf("machine: %d cores, %s %s/%s; envtest kube-apiserver %s, etcd %s, OSP's TektonConfig webhooks (tektoncd/operator's own code); %d rounds per latency figure; took %s\n\n",
		runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, os.Getenv("ENVTEST_K8S_VERSION"), os.Getenv("ENVTEST_ETCD_VERSION"),
		b.rounds, time.Since(started).Round(time.Second))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Printf("latency against its floor (the same event's shortest request sequence, sent by a bare client in this run, half before the operator and half after): target p50 <= %.2fx floor p50, max <= %.0fx floor max; absolute times for reference\n",
		medianOverFloor, float64(maxOverFloor))
	fmt.Println("halves: the p50 ratio of the first half of the operator's rounds against the floor's block before them, and of the second half against the block after: how far a figure moves with the machine within one run; a row whose halves straddle the target says nothing either way")
	fmt.Fprintln(w, "figure\tcount\tp50\tp95\tmax\tfloor p50\tfloor max\tp50/floor\tmax/floor\thalves\tabsolute\tmet")
	for _, r := range b.rows {
		if r.value == "" {
			f := b.floor[r.figure]
			first, second := b.halves(r)
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%.2fx\t%.2fx\t%.2fx|%.2fx\t%s\t%s\n", r.figure, len(r.samples), ms(percentile(r.samples, 50)),
				ms(percentile(r.samples, 95)), ms(percentile(r.samples, 100)), ms(percentile(f, 50)), ms(percentile(f, 100)),
				ratio(r.samples, f, 50), ratio(r.samples, f, 100), first, second, r.target, b.met(r))
		}
	}
	_ = w.Flush()
	fmt.Println()
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "figure\tvalue\ttarget\tmet")
	for _, r := range b.rows {
		if r.value != "" {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.figure, r.value, r.target, r.met)
		}
	}
	_ = w.Flush()
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
