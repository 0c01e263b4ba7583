package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/jsonmergepatch"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/importer"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

const (
	// argoCDManager is the field manager of ArgoCD's server-side apply.
	argoCDManager = "argocd-controller"
	// kubectlManager is the field manager of a client-side apply (kubectl's, and ArgoCD's
	// default sync).
	kubectlManager = "kubectl-client-side-apply"
	// lastApplied is where a client-side apply keeps what it applied.
	lastApplied = "kubectl.kubernetes.io/last-applied-configuration"
	// argoCDInstance is the label ArgoCD tracks its Application's objects by.
	argoCDInstance = "app.kubernetes.io/instance"
)

// takeoverChanges are the fields the operator may change on stone-prod-p01's objects when it
// takes them over: it adds them, and changes no value production sets (each is checked). The
// reasons are config/parity_test.go's.
var takeoverChanges = []struct{ kind, path string }{
	{"*", "metadata.labels"},
	{"*", `metadata.annotations["pipelineservice.appstudio.io/applied-hash"]`},
	{"CatalogSource", "spec.publisher"},
	{"Subscription", "spec.installPlanApproval"},
	{"Deployment", "spec.template.spec.containers[0].ports[1]"},
	{"Deployment", "spec.template.spec.containers[0].livenessProbe"},
	{"Deployment", "spec.template.spec.containers[0].readinessProbe"},
	{"Deployment", "spec.template.spec.containers[0].securityContext"},
	{"Deployment", "spec.template.spec.securityContext"},
}

// TestTakeoverFromArgoCD loads stone-prod-p01 as ArgoCD applied it (client-side apply with
// the last-applied annotation, or server-side apply as argocd-controller), imports it,
// applies the imported PipelineService and lets the operator reconcile. No value production
// sets changes, the operator changes nothing but what takeoverChanges lists, writes each
// object once, and leaves the specs of the TektonConfig and the ExternalSecrets as they were
// (their generations do not move). ArgoCD syncing again during the migration changes nothing
// and starts no fight; ArgoCD letting go (its tracking label removed, nothing pruned) deletes
// nothing.
func TestTakeoverFromArgoCD(t *testing.T) {
	t.Parallel() // as TestSharedBehaviours: its subtests run with the others
	for _, mode := range []string{"client-side apply", "server-side apply"} {
		t.Run(mode, func(t *testing.T) { takeover(t, mode == "server-side apply") })
	}
}

func takeover(t *testing.T, serverSide bool) {
	e := startControlPlane(t, nil)
	ctx := context.Background()
	production, err := testenv.ProductionObjects()
	e.Expect(err).NotTo(HaveOccurred())
	for _, u := range production {
		if u.GroupVersionKind() == children.GVKTektonConfig {
			// Production's later fix of the snapshot's one broken value, which the operator
			// would refuse (testdata/production/README.md): 4 resolver buckets for the 4
			// ordinal replicas, not 8. The import of the snapshot as it is says so
			// (internal/importer's TestImportOfProductionIsTheProductionOverlay).
			e.Expect(unstructured.SetNestedField(u.Object, "4", "spec", "pipeline", "options", "configMaps",
				"config-leader-election-resolvers", "data", "buckets")).To(Succeed())
		}
	}
	e.Expect(simulateNamespaces(ctx, e.c, "openshift-pipelines", "tekton-results", "tekton-logging")).To(Succeed())
	for _, u := range production {
		argoCDApply(e, u, serverSide)
	}
	before := e.liveObjects(production)

	// Import, from the live objects as OSP's webhook defaulted them.
	opts := importer.DefaultOptions()
	opts.SecretNamespaces = []string{"openshift-pipelines", "tekton-logging", "tekton-results"}
	cl, err := importer.Read(ctx, e.c, opts)
	e.Expect(err).NotTo(HaveOccurred())
	imported, err := importer.Convert(cl)
	e.Expect(err).NotTo(HaveOccurred())
	e.Expect(imported.Notes).To(BeEmpty())
	var printed strings.Builder
	e.Expect(importer.Write(&printed, imported, "imported in TestTakeoverFromArgoCD")).To(Succeed())
	e.t.Logf("import printed:\n%s", printed.String())

	if serverSide {
		// Once, through the subcommand itself, as `make import` runs it: the same
		// PipelineService, to the last field.
		cli, lib := importCommand(e, opts.SecretNamespaces), parseYAML(e, printed.String())
		for _, d := range fields.Diff(cli, lib) {
			e.t.Errorf("import subcommand and library differ at %s: %v and %v", d.Path, d.A, d.B)
		}
		e.Expect(cli).To(HaveKeyWithValue("spec", HaveKey("tektonConfig")))
	}

	e.Expect(e.c.Create(ctx, imported.PipelineService)).To(Succeed())
	e.op = e.runOperator(e.cfg, manager.Options{MetricsAddr: "0", ProbeAddr: "0"})
	e.waitQuiet()
	after := e.liveObjects(production)

	writes := e.writesSince(0)
	total := 0
	for i, want := range production {
		key := objectKey(want)
		// Every value production sets is unchanged.
		for _, d := range productionChanges(want, before[i], after[i]) {
			e.t.Errorf("%s: production's %s changed from %v to %v", key, d.Path, d.A, d.B)
		}
		// The operator changed only what it adds.
		for _, d := range fields.Diff(content(before[i]), content(after[i])) {
			if !ignoredMeta(d.Path) && !takeoverChange(want.GetKind(), d.Path) {
				e.t.Errorf("%s: the operator changed %s from %v to %v", key, d.Path, d.A, d.B)
			}
		}
		n := writesTo(writes, want)
		total += n
		e.t.Logf("%s: %d write(s)", key, n)
		if want.GetKind() == "Deployment" && want.GetNamespace() == "tekton-results" {
			e.Expect(n).To(BeZero(), "%s is not the operator's", key)
		} else {
			e.Expect(n).To(Equal(1), "%s: one apply takes it over", key)
		}
		if k := want.GetKind(); k == "TektonConfig" || k == "ExternalSecret" {
			e.Expect(after[i].GetGeneration()).To(Equal(before[i].GetGeneration()), "%s: its spec was not changed", key)
		}
	}
	e.t.Logf("the operator's writes to production's %d objects: %d; all its writes (%d):\n  %s", len(production), total, len(writes), strings.Join(writes, "\n  "))

	// ArgoCD syncs again before its Application lets go: nothing to change, and the operator
	// has nothing to put back.
	mark := e.writeMark()
	for i, u := range production {
		if serverSide {
			argoCDApply(e, u, true)
		} else {
			patch, err := clientSidePatch(u, after[i])
			e.Expect(err).NotTo(HaveOccurred())
			// Sent as a dry run: the API server says what it would store.
			patched := after[i].DeepCopy()
			e.Expect(e.c.Patch(ctx, patched, patch, client.DryRunAll)).To(Succeed())
			e.Expect(fields.Diff(content(after[i]), content(patched))).To(BeEmpty(), "%s: kubectl apply would change it", objectKey(u))
		}
	}
	e.waitQuiet()
	e.Expect(e.writesSince(mark)).To(BeEmpty())
	e.Expect(e.liveObjects(production)).To(HaveLen(len(production)))

	// ArgoCD lets go: the objects leave the Application with pruning off, and the last step of
	// the runbook takes ArgoCD's tracking label off. Nothing is deleted and no value changes.
	for _, u := range after {
		patch := []byte(`{"metadata":{"labels":{"` + argoCDInstance + `":null}}}`)
		e.Expect(e.c.Patch(ctx, u.DeepCopy(), client.RawPatch("application/merge-patch+json", patch))).To(Succeed())
	}
	e.waitQuiet()
	final := e.liveObjects(production)
	for i, want := range production {
		for _, d := range productionChanges(want, before[i], final[i]) {
			e.t.Errorf("%s: after ArgoCD let go, production's %s is %v", objectKey(want), d.Path, d.B)
		}
	}
}

// importCommand runs `go run . import` against the test's control plane, as `make import`
// does against $KUBECONFIG, and returns the PipelineService it printed.
func importCommand(e *operatorEnv, namespaces []string) map[string]any {
	e.t.Helper()
	path, err := testenv.WriteKubeconfig(e.env, e.t.TempDir(), "importer")
	e.Expect(err).NotTo(HaveOccurred())
	cmd := exec.Command("go", "run", ".", "import", "--external-secret-namespaces", strings.Join(namespaces, ","))
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "KUBECONFIG="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	e.Expect(err).NotTo(HaveOccurred(), stderr.String())
	e.Expect(string(out)).To(HavePrefix("# Imported from https://"))
	return parseYAML(e, string(out))
}

func parseYAML(e *operatorEnv, text string) map[string]any {
	out := map[string]any{}
	e.Expect(yaml.Unmarshal([]byte(text), &out)).To(Succeed())
	e.Expect(out).To(HaveKey("spec"))
	return out
}

// productionChanges are the values production sets that live holds differently, except
// where the API server stored them so from the start (as before shows: 3000m stored as 3).
func productionChanges(production, before, live *unstructured.Unstructured) []fields.Difference {
	stored := map[string]string{}
	for _, d := range fields.Diff(content(production), content(before)) {
		stored[d.Path] = fmt.Sprint(d.B)
	}
	var out []fields.Difference
	for _, d := range fields.Diff(content(production), content(live)) {
		if v, ok := stored[d.Path]; d.A == nil || ignoredMeta(d.Path) || ok && v == fmt.Sprint(d.B) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// argoCDApply applies u as ArgoCD does, labelled with its Application: server-side as
// argocd-controller, or client-side (create, with the last-applied annotation) as kubectl.
func argoCDApply(e *operatorEnv, u *unstructured.Unstructured, serverSide bool) {
	e.t.Helper()
	obj := u.DeepCopy()
	obj.SetLabels(merged(obj.GetLabels(), map[string]string{argoCDInstance: "pipeline-service"}))
	ctx := context.Background()
	if serverSide {
		e.Expect(e.c.Patch(ctx, obj, client.Apply, client.FieldOwner(argoCDManager), client.ForceOwnership)).To(Succeed(), objectKey(u))
		return
	}
	data, err := json.Marshal(obj.Object)
	e.Expect(err).NotTo(HaveOccurred())
	obj.SetAnnotations(merged(obj.GetAnnotations(), map[string]string{lastApplied: string(data)}))
	e.Expect(e.c.Create(ctx, obj, client.FieldOwner(kubectlManager))).To(Succeed(), objectKey(u))
}

// clientSidePatch is the patch `kubectl apply` of u would send to live: the three-way patch
// of the last-applied configuration, u and live, strategic for a Deployment and a JSON merge
// patch for a custom resource, overwriting changes made since (as kubectl does by default).
func clientSidePatch(u, live *unstructured.Unstructured) (client.Patch, error) {
	obj := u.DeepCopy()
	obj.SetLabels(merged(obj.GetLabels(), map[string]string{argoCDInstance: "pipeline-service"}))
	modified, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	obj.SetAnnotations(merged(obj.GetAnnotations(), map[string]string{lastApplied: string(modified)}))
	if modified, err = json.Marshal(obj.Object); err != nil {
		return nil, err
	}
	original := []byte(live.GetAnnotations()[lastApplied])
	current, err := json.Marshal(live.Object)
	if err != nil {
		return nil, err
	}
	if u.GroupVersionKind() == children.GVKDeployment {
		meta, err := strategicpatch.NewPatchMetaFromStruct(&appsv1.Deployment{})
		if err != nil {
			return nil, err
		}
		patch, err := strategicpatch.CreateThreeWayMergePatch(original, modified, current, meta, true)
		return client.RawPatch(types.StrategicMergePatchType, patch), err
	}
	patch, err := jsonmergepatch.CreateThreeWayJSONMergePatch(original, modified, current)
	return client.RawPatch(types.MergePatchType, patch), err
}

// liveObjects reads the objects like objs, in their order; a missing one fails the test.
func (e *operatorEnv) liveObjects(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	e.t.Helper()
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, u := range objs {
		live := e.object(u.GroupVersionKind(), u.GetNamespace(), u.GetName())
		e.Expect(live).NotTo(BeNil(), "%s was deleted", objectKey(u))
		out = append(out, live)
	}
	return out
}

// simulateNamespaces creates namespaces that production has and a test plane lacks.
func simulateNamespaces(ctx context.Context, c client.Client, names ...string) error {
	for _, name := range names {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := c.Create(ctx, ns); err != nil && !strings.Contains(err.Error(), "already exists") {
			return err
		}
	}
	return nil
}

// content is what an object says, its type and the API server's bookkeeping aside.
func content(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy().Object
	delete(c, "apiVersion")
	delete(c, "kind")
	delete(c, "status")
	for _, f := range []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"} {
		unstructured.RemoveNestedField(c, "metadata", f)
	}
	return c
}

// ignoredMeta are ArgoCD's own marks, which the test adds and removes itself.
func ignoredMeta(path string) bool {
	return path == `metadata.labels["app.kubernetes.io/instance"]` ||
		strings.HasPrefix(path, `metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]`)
}

func takeoverChange(kind, path string) bool {
	for _, c := range takeoverChanges {
		if (c.kind == "*" || c.kind == kind) && (path == c.path || strings.HasPrefix(path, c.path+".") || strings.HasPrefix(path, c.path+"[")) {
			return true
		}
	}
	return false
}

// writesTo counts the logged writes to u's URL.
func writesTo(writes []string, u *unstructured.Unstructured) int {
	suffix := "/" + strings.ToLower(u.GetKind()) + "s/" + u.GetName()
	if u.GetNamespace() != "" {
		suffix = "/namespaces/" + u.GetNamespace() + suffix
	}
	n := 0
	for _, w := range writes {
		if strings.HasSuffix(w, suffix) {
			n++
		}
	}
	return n
}

func objectKey(u *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
}

func merged(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
