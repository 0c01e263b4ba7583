package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
// prune, reading no Secret and writing nothing; and what diff said it would prune is what the
// operator prunes.
func TestRenderAndDiffAgainstTheOperator(t *testing.T) {
	g := NewWithT(t)
	ctrl.SetLogger(logr.Discard())
	env, cfg := controlPlane(t)
	c, err := client.New(cfg, client.Options{Scheme: manager.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())
	r := &renderDiffRun{t: t, g: g, ctx: context.Background(), env: env, cfg: cfg, c: c, applied: &applyLog{bodies: map[string][]byte{}}}
	stopOperator := r.startOperator()
	for _, s := range []string{samples.Full, samples.Host} {
		u := &unstructured.Unstructured{}
		data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", s))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(yaml.Unmarshal(data, &u.Object)).To(Succeed())
		g.Expect(c.Create(r.ctx, u)).To(Succeed())
	}
	r.renderIsWhatTheOperatorApplies()
	r.waitConverged()
	stopOperator() // so that a drift stays
	r.diffSaysWhatWouldChange()
	r.diffOnlyReads()
	r.diffExitCodes()
	r.operatorPrunesWhatDiffSaid()
}

// renderDiffRun is what the steps of TestRenderAndDiffAgainstTheOperator share.
type renderDiffRun struct {
	t        *testing.T
	g        Gomega
	ctx      context.Context
	env      *testenv.Env
	cfg      *rest.Config
	c        client.Client
	applied  *applyLog
	rendered []*unstructured.Unstructured
	// requests are diff's, as its transport saw them.
	mu       sync.Mutex
	requests []string
	// change is the spec change diffed, wouldPrune what diff said it would prune.
	change     samples.Mutation
	wouldPrune []string
}

// startOperator runs the operator, its applies logged, until the returned function stops it;
// stopping waits for the pass in flight to end.
func (r *renderDiffRun) startOperator() func() {
	opCfg := rest.CopyConfig(r.cfg)
	opCfg.Wrap(r.applied.wrap)
	mgr, err := controllers.NewManager(opCfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0", SkipNameValidation: true})
	r.g.Expect(err).NotTo(HaveOccurred())
	opCtx, cancel := context.WithCancel(r.ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = mgr.Start(opCtx)
	}()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-stopped }) }
	r.t.Cleanup(stop)
	return stop
}

// renderIsWhatTheOperatorApplies: each object render prints as JSON, one per line, is the body
// the operator sent for it; the YAML stream is the same objects in the same order.
func (r *renderDiffRun) renderIsWhatTheOperatorApplies() {
	g := r.g
	var lines []string
	perSample := map[string]int{}
	for _, s := range []string{samples.Full, samples.Host} {
		code, out := renderOut(r.t, "-o", "json", filepath.Join(testenv.RepoRoot(), "config", "samples", s))
		g.Expect(code).To(Equal(exitOK))
		for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
			u := &unstructured.Unstructured{}
			g.Expect(u.UnmarshalJSON([]byte(line))).To(Succeed())
			r.rendered = append(r.rendered, u)
			lines = append(lines, line)
			perSample[s]++
		}
	}
	g.Expect(len(r.rendered)).To(BeNumerically(">=", 20), "both samples' children")
	for i, u := range r.rendered {
		g.Eventually(func() string { return string(r.applied.body(objectKey(u))) }, time.Minute, 100*time.Millisecond).
			Should(Equal(lines[i]), "the operator's apply of %s", objectKey(u))
	}
	code, out := renderOut(r.t, filepath.Join(testenv.RepoRoot(), "config", "samples", samples.Full))
	g.Expect(code).To(Equal(exitOK))
	docs := strings.Split(out, "---\n")
	g.Expect(docs).To(HaveLen(perSample[samples.Full]))
	for i, d := range docs {
		data, err := yaml.YAMLToJSON([]byte(d))
		g.Expect(err).NotTo(HaveOccurred())
		u := &unstructured.Unstructured{}
		g.Expect(u.UnmarshalJSON(data)).To(Succeed())
		g.Expect(u.Object).To(Equal(r.rendered[i].Object))
	}
}

// waitConverged waits until every rendered child is live with what was rendered.
func (r *renderDiffRun) waitConverged() {
	r.g.Eventually(func(g Gomega) {
		for _, u := range r.rendered {
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(u.GroupVersionKind())
			g.Expect(r.c.Get(r.ctx, client.ObjectKeyFromObject(u), live)).To(Succeed(), objectKey(u))
			g.Expect(live.GetAnnotations()[render.AnnotationAppliedHash]).To(Equal(u.GetAnnotations()[render.AnnotationAppliedHash]))
		}
	}, time.Minute, 100*time.Millisecond).Should(Succeed())
}

// diff runs diff on a sample changed by m against the cluster, its requests recorded, and
// returns its exit code, output and errors.
func (r *renderDiffRun) diff(sample string, m samples.Mutation) (int, string, string) {
	r.t.Helper()
	diffCfg := rest.CopyConfig(r.cfg)
	diffCfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return testenv.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			r.mu.Lock()
			r.requests = append(r.requests, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
			r.mu.Unlock()
			return rt.RoundTrip(req)
		})
	})
	var out, errOut bytes.Buffer
	cmds := commands(strings.NewReader(sampleYAML(r.t, sample, m)), &out, &errOut)
	cmds.Config = diffCfg
	code := cmds.Diff([]string{"-"})
	return code, out.String(), errOut.String()
}

// diffSaysWhatWouldChange: nothing on the converged cluster; the drifted field alone after a
// drift; what a spec change would create and prune; and what only the cluster can tell, the
// move of Tekton to another namespace refused as an update of the live PipelineService.
func (r *renderDiffRun) diffSaysWhatWouldChange() {
	g := r.g
	for _, s := range []string{samples.Full, samples.Host} {
		code, out, errOut := r.diff(s, nil)
		g.Expect(code).To(Equal(exitOK), "diff of a converged cluster:\n%s%s", out, errOut)
		g.Expect(out).To(BeEmpty())
	}
	r.scaleExporter(5)
	code, diff, _ := r.diff(samples.Full, nil)
	g.Expect(code).To(Equal(exitProblems))
	g.Expect(changedLines(diff)).To(Equal([]string{"-  replicas: 5", "+  replicas: 1"}), diff)
	g.Expect(diff).To(ContainSubstring("--- live/deployment/openshift-pipelines/pipeline-metrics-exporter"))

	// One child more, three fewer.
	r.change = samples.Then(
		samples.Set("spec.exporter.networkPolicy", false),
		samples.Set("spec.exporter.serviceMonitor", false),
		samples.Set("spec.exporter.replicas", int64(5)),
		samples.Set("spec.externalSecrets", []any{map[string]any{"name": "chains-signing",
			"secretStoreRef": map[string]any{"name": "vault"}, "dataFrom": []any{map[string]any{"extract": map[string]any{"key": "a/b"}}}}}))
	code, diff, _ = r.diff(samples.Full, r.change)
	g.Expect(code).To(Equal(exitProblems))
	g.Expect(diff).To(ContainSubstring("# would create ExternalSecret openshift-pipelines/chains-signing"))
	r.wouldPrune = prefixed(diff, "# would prune ")
	g.Expect(r.wouldPrune).To(ConsistOf("NetworkPolicy openshift-pipelines/pipeline-metrics-exporter",
		"ServiceMonitor openshift-pipelines/pipeline-metrics-exporter",
		"ExternalSecret openshift-pipelines/tekton-chains-public-key"), "the new list replaces the sample's one entry")

	code, _, errOut := r.diff(samples.Full, samples.Set("spec.tektonConfig.targetNamespace", "tekton-pipelines"))
	g.Expect(code).To(Equal(exitError))
	g.Expect(errOut).To(ContainSubstring("spec.tektonConfig.targetNamespace: Invalid value"))
}

// scaleExporter plays an SRE who scales the exporter by hand.
func (r *renderDiffRun) scaleExporter(replicas int) {
	exporter := &unstructured.Unstructured{}
	exporter.SetGroupVersionKind(children.GVKDeployment)
	exporter.SetNamespace("openshift-pipelines")
	exporter.SetName(render.ExporterName)
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	r.g.Expect(r.c.Patch(r.ctx, exporter, client.RawPatch(types.MergePatchType, []byte(patch)), client.FieldOwner("sre"))).To(Succeed())
}

// diffOnlyReads: diff wrote nothing and read no Secret: reads, and server-side applies in dry
// run.
func (r *renderDiffRun) diffOnlyReads() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.g.Expect(r.requests).NotTo(BeEmpty())
	for _, req := range r.requests {
		r.g.Expect(req).NotTo(ContainSubstring("/secrets"))
		if !strings.HasPrefix(req, "GET ") {
			r.g.Expect(req).To(And(HavePrefix("PATCH "), ContainSubstring("dryRun=All")), "a write")
		}
	}
}

// diffExitCodes: the command exits 1 with differences and 0 without, through $KUBECONFIG, and 2
// when it cannot tell.
func (r *renderDiffRun) diffExitCodes() {
	g := r.g
	kubeconfig, err := testenv.WriteKubeconfig(r.env, r.t.TempDir(), "sre")
	g.Expect(err).NotTo(HaveOccurred())
	r.t.Setenv("KUBECONFIG", kubeconfig)
	full := filepath.Join(testenv.RepoRoot(), "config", "samples", samples.Full)
	var errOut bytes.Buffer
	g.Expect(runDiff([]string{full}, nil, io.Discard, &errOut)).To(Equal(exitProblems), errOut.String())
	r.scaleExporter(1)
	g.Expect(runDiff([]string{full}, nil, io.Discard, &errOut)).To(Equal(exitOK), errOut.String())
	g.Expect(runDiff([]string{"--bogus"}, nil, io.Discard, io.Discard)).To(Equal(exitError))
	g.Expect(runDiff([]string{filepath.Join(r.t.TempDir(), "missing.yaml")}, nil, io.Discard, io.Discard)).To(Equal(exitError))
}

// operatorPrunesWhatDiffSaid: once the change diff was shown is applied, the operator prunes
// the objects diff said it would, named the same way, in the Event of the pass that applied it.
// The spec is replaced, as the file says it: an apply by another manager would keep the list
// entries the sample's creator owns.
func (r *renderDiffRun) operatorPrunesWhatDiffSaid() {
	g := r.g
	changed := &unstructured.Unstructured{}
	g.Expect(yaml.Unmarshal([]byte(sampleYAML(r.t, samples.Full, r.change)), &changed.Object)).To(Succeed())
	ps := &unstructured.Unstructured{}
	ps.SetGroupVersionKind(psv1alpha1.GroupVersion.WithKind("PipelineService"))
	g.Expect(r.c.Get(r.ctx, client.ObjectKey{Name: psv1alpha1.Name}, ps)).To(Succeed())
	ps.Object["spec"] = changed.Object["spec"]
	g.Expect(r.c.Update(r.ctx, ps)).To(Succeed())
	r.startOperator()
	g.Eventually(func() []string { return prunedByOperator(g, r.c) }, time.Minute, 100*time.Millisecond).Should(ConsistOf(r.wouldPrune))
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
