package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// applyLog records the body of every server-side apply a client sends, by object.
type applyLog struct {
	mu     sync.Mutex
	bodies map[string][]byte
}

// objectKey names an object by kind, namespace and name.
func objectKey(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

func (l *applyLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return testenv.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodPatch && req.Header.Get("Content-Type") == "application/apply-patch+yaml" && req.Body != nil {
			body, err := io.ReadAll(req.Body)
			if err != nil {
				return nil, err
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			u := &unstructured.Unstructured{}
			if err := json.Unmarshal(body, &u.Object); err == nil {
				l.mu.Lock()
				l.bodies[objectKey(u)] = body
				l.mu.Unlock()
			}
		}
		return rt.RoundTrip(req)
	})
}

func (l *applyLog) body(key string) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bodies[key]
}

// renderOut runs `render args...` and returns its exit code and standard output.
func renderOut(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runRender(args, strings.NewReader(""), &out, &errOut)
	if errOut.Len() > 0 {
		t.Logf("render %v: %s", args, errOut.String())
	}
	return code, out.String()
}

// TestRenderAndDiffAgainstTheOperator runs the operator on both samples against a control
// plane, then checks render and diff against what it did: render prints, byte for byte, the
// body of each server-side apply the operator sent; diff finds nothing on the converged
// cluster, exactly the drifted field after a drift, and what a spec change would create and
// prune, reading no Secret and writing nothing.
func TestRenderAndDiffAgainstTheOperator(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ctrl.SetLogger(logr.Discard())
	env, cfg := controlPlane(t)
	c, err := client.New(cfg, client.Options{Scheme: manager.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())

	applied := &applyLog{bodies: map[string][]byte{}}
	opCfg := rest.CopyConfig(cfg)
	opCfg.Wrap(applied.wrap)
	// startOperator runs the operator until the returned function stops it; stopping waits
	// for the pass in flight to end.
	startOperator := func() func() {
		mgr, err := controllers.NewManager(opCfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0", SkipNameValidation: true})
		g.Expect(err).NotTo(HaveOccurred())
		opCtx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			_ = mgr.Start(opCtx)
		}()
		var once sync.Once
		stop := func() { once.Do(func() { cancel(); <-stopped }) }
		t.Cleanup(stop)
		return stop
	}
	stopOperator := startOperator()

	sampleFiles := []string{samples.Full, samples.Host}
	for _, s := range sampleFiles {
		u := &unstructured.Unstructured{}
		data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", s))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(yaml.Unmarshal(data, &u.Object)).To(Succeed())
		g.Expect(c.Create(ctx, u)).To(Succeed())
	}

	// Render: each object, one per line, is the body the operator sent for it.
	var rendered []*unstructured.Unstructured
	var lines []string
	perSample := map[string]int{}
	for _, s := range sampleFiles {
		code, out := renderOut(t, "-o", "json", filepath.Join(testenv.RepoRoot(), "config", "samples", s))
		g.Expect(code).To(Equal(exitOK))
		for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
			u := &unstructured.Unstructured{}
			g.Expect(u.UnmarshalJSON([]byte(line))).To(Succeed())
			rendered = append(rendered, u)
			lines = append(lines, line)
			perSample[s]++
		}
	}
	g.Expect(len(rendered)).To(BeNumerically(">=", 20), "both samples' children")
	for i, u := range rendered {
		g.Eventually(func() string { return string(applied.body(objectKey(u))) }, time.Minute, 100*time.Millisecond).
			Should(Equal(lines[i]), "the operator's apply of %s", objectKey(u))
	}
	// The YAML stream is the same objects, in the same order.
	code, out := renderOut(t, filepath.Join(testenv.RepoRoot(), "config", "samples", samples.Full))
	g.Expect(code).To(Equal(exitOK))
	docs := strings.Split(out, "---\n")
	g.Expect(docs).To(HaveLen(perSample[samples.Full]))
	for i, d := range docs {
		data, err := yaml.YAMLToJSON([]byte(d))
		g.Expect(err).NotTo(HaveOccurred())
		u := &unstructured.Unstructured{}
		g.Expect(u.UnmarshalJSON(data)).To(Succeed())
		g.Expect(u.Object).To(Equal(rendered[i].Object))
	}

	// Converged: every child applied; then the operator stops, so that a drift stays.
	g.Eventually(func(g Gomega) {
		for _, u := range rendered {
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(u.GroupVersionKind())
			g.Expect(c.Get(ctx, client.ObjectKeyFromObject(u), live)).To(Succeed(), objectKey(u))
			g.Expect(live.GetAnnotations()[render.AnnotationAppliedHash]).To(Equal(u.GetAnnotations()[render.AnnotationAppliedHash]))
		}
	}, time.Minute, 100*time.Millisecond).Should(Succeed())
	stopOperator()

	var requests []string
	var mu sync.Mutex
	diffCfg := rest.CopyConfig(cfg)
	diffCfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return testenv.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			mu.Lock()
			requests = append(requests, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
			mu.Unlock()
			return rt.RoundTrip(req)
		})
	})
	diffFile := func(sample string, m samples.Mutation) (bool, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		cmds := commands(strings.NewReader(sampleYAML(t, sample, m)), &out, &errOut)
		cmds.Config = diffCfg
		code := cmds.Diff([]string{"-"})
		g.Expect(code).To(BeElementOf(exitOK, exitProblems), errOut.String())
		return code == exitProblems, out.String()
	}
	for _, s := range sampleFiles {
		changed, out := diffFile(s, nil)
		g.Expect(changed).To(BeFalse(), "diff of a converged cluster:\n%s", out)
		g.Expect(out).To(BeEmpty())
	}

	// Drift: someone scales the exporter; diff shows that field and nothing else.
	exporter := &unstructured.Unstructured{}
	exporter.SetGroupVersionKind(children.GVKDeployment)
	g.Expect(c.Get(ctx, types.NamespacedName{Namespace: "openshift-pipelines", Name: render.ExporterName}, exporter)).To(Succeed())
	g.Expect(c.Patch(ctx, exporter, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":5}}`)), client.FieldOwner("sre"))).To(Succeed())
	changed, diff := diffFile(samples.Full, nil)
	g.Expect(changed).To(BeTrue())
	g.Expect(changedLines(diff)).To(Equal([]string{"-  replicas: 5", "+  replicas: 1"}), diff)
	g.Expect(diff).To(ContainSubstring("--- live/deployment/openshift-pipelines/pipeline-metrics-exporter"))

	// A spec change: one child more, three fewer.
	change := samples.Then(
		samples.Set("spec.exporter.networkPolicy", false),
		samples.Set("spec.exporter.serviceMonitor", false),
		samples.Set("spec.exporter.replicas", int64(5)),
		samples.Set("spec.externalSecrets", []any{map[string]any{"name": "chains-signing",
			"secretStoreRef": map[string]any{"name": "vault"}, "dataFrom": []any{map[string]any{"extract": map[string]any{"key": "a/b"}}}}}))
	changed, diff = diffFile(samples.Full, change)
	g.Expect(changed).To(BeTrue())
	g.Expect(diff).To(ContainSubstring("# would create ExternalSecret openshift-pipelines/chains-signing"))
	wouldPrune := prefixed(diff, "# would prune ")
	g.Expect(wouldPrune).To(ConsistOf("NetworkPolicy openshift-pipelines/pipeline-metrics-exporter",
		"ServiceMonitor openshift-pipelines/pipeline-metrics-exporter",
		"ExternalSecret openshift-pipelines/tekton-chains-public-key"), "the new list replaces the sample's one entry")

	// What only the cluster can tell: the move of Tekton to another namespace is refused as an
	// update of the live PipelineService (a transition rule), and OSP's review of the live
	// TektonConfig would refuse it too.
	var moved bytes.Buffer
	cmds := commands(strings.NewReader(sampleYAML(t, samples.Full, samples.Set("spec.tektonConfig.targetNamespace", "tekton-pipelines"))), io.Discard, &moved)
	cmds.Config = diffCfg
	g.Expect(cmds.Diff([]string{"-"})).To(Equal(exitError))
	g.Expect(moved.String()).To(ContainSubstring("spec.tektonConfig.targetNamespace: Invalid value"))

	// Nothing written, no Secret read: reads, and server-side applies in dry run.
	for _, r := range requests {
		g.Expect(r).NotTo(ContainSubstring("/secrets"))
		if !strings.HasPrefix(r, "GET ") {
			g.Expect(r).To(And(HavePrefix("PATCH "), ContainSubstring("dryRun=All")), "a write")
		}
	}

	// The command: exit 1 with differences, 0 without, through $KUBECONFIG.
	kubeconfig, err := testenv.WriteKubeconfig(env, t.TempDir(), "sre")
	g.Expect(err).NotTo(HaveOccurred())
	t.Setenv("KUBECONFIG", kubeconfig)
	full := filepath.Join(testenv.RepoRoot(), "config", "samples", samples.Full)
	var errOut bytes.Buffer
	g.Expect(runDiff([]string{full}, nil, io.Discard, &errOut)).To(Equal(exitProblems), errOut.String())
	g.Expect(c.Patch(ctx, exporter, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":1}}`)), client.FieldOwner("sre"))).To(Succeed())
	g.Expect(runDiff([]string{full}, nil, io.Discard, &errOut)).To(Equal(exitOK), errOut.String())
	g.Expect(runDiff([]string{"--bogus"}, nil, io.Discard, io.Discard)).To(Equal(exitError))
	g.Expect(runDiff([]string{filepath.Join(t.TempDir(), "missing.yaml")}, nil, io.Discard, io.Discard)).To(Equal(exitError))

	// What diff said it would prune is what the operator prunes once the change is applied:
	// the same objects, named the same way, in the Event of the pass that applied it.
	// The spec is replaced, as the file says it: an apply by another manager would keep the
	// list entries the sample's creator owns.
	changedSpec := &unstructured.Unstructured{}
	g.Expect(yaml.Unmarshal([]byte(sampleYAML(t, samples.Full, change)), &changedSpec.Object)).To(Succeed())
	ps := &unstructured.Unstructured{}
	ps.SetGroupVersionKind(psv1alpha1.GroupVersion.WithKind("PipelineService"))
	g.Expect(c.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, ps)).To(Succeed())
	ps.Object["spec"] = changedSpec.Object["spec"]
	g.Expect(c.Update(ctx, ps)).To(Succeed())
	startOperator()
	g.Eventually(func() []string { return prunedByOperator(g, c) }, time.Minute, 100*time.Millisecond).Should(ConsistOf(wouldPrune))
}

// prefixed are the rest of the lines of text that start with prefix.
func prefixed(text, prefix string) []string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}

// prunedByOperator are the objects the operator's Events about the PipelineService say it
// deleted.
func prunedByOperator(g Gomega, c client.Client) []string {
	var list eventsv1.EventList
	g.Expect(c.List(context.Background(), &list)).To(Succeed())
	var out []string
	for _, ev := range list.Items {
		if ev.Regarding.Kind != "PipelineService" || ev.Reason != psv1alpha1.ReasonApplied {
			continue
		}
		_, written, _ := strings.Cut(ev.Note, ": ")
		for item := range strings.SplitSeq(written, ", ") {
			if rest, ok := strings.CutPrefix(item, "deleted "); ok {
				out = append(out, rest)
			}
		}
	}
	return out
}

// changedLines are the lines a unified diff adds or removes.
func changedLines(diff string) []string {
	var out []string
	for line := range strings.SplitSeq(diff, "\n") {
		if (strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-")) && !strings.HasPrefix(line, "+++") && !strings.HasPrefix(line, "---") {
			out = append(out, line)
		}
	}
	return out
}
