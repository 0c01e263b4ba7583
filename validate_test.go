package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/cli"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/importer"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// validateOut runs `validate args...` on stdin and returns its exit code, standard output and
// standard error.
func validateOut(stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := runValidate(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// sampleYAML is a sample after m, as YAML.
func sampleYAML(t *testing.T, sample string, m samples.Mutation) string {
	t.Helper()
	content, err := samples.Content(sample)
	if err != nil {
		t.Fatal(err)
	}
	if m != nil {
		m(content)
	}
	data, err := yaml.Marshal(content)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestValidateGivesTheAPIServersVerdict: every case the admission tests send to the API server
// (samples.RefusedMembers, samples.RefusedHosts) is refused by validate too, naming the same
// field, and each line validate prints is in the API server's own refusal word for word.
func TestValidateGivesTheAPIServersVerdict(t *testing.T) {
	_, cfg := controlPlane(t)
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := append(append([]samples.Refused{}, samples.RefusedMembers...), samples.RefusedHosts...)
	// An undeclared field is refused by strict field validation, kubectl's and ArgoCD's.
	cases = append(cases,
		samples.Refused{Name: "undeclared field", Sample: samples.Full, Mutate: samples.Set("spec.exporter.replica", int64(2)), Field: "spec.exporter.replica"},
		samples.Refused{Name: "undeclared host field", Sample: samples.Host, Mutate: samples.Set("spec.sprayProxy.backend", "https://a.example.com"), Field: "spec.sprayProxy.backend"})
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			g := NewWithT(t)
			doc := sampleYAML(t, tc.Sample, tc.Mutate)

			u := &unstructured.Unstructured{}
			g.Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
			serverErr := c.Create(context.Background(), u, client.DryRunAll, client.FieldValidation("Strict"))
			g.Expect(serverErr).To(HaveOccurred(), "the API server accepted it")

			code, out, _ := validateOut(doc, "-")
			g.Expect(code).To(Equal(exitProblems), "validate accepted it")
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				problem, ok := strings.CutPrefix(line, "-:1: ")
				g.Expect(ok).To(BeTrue(), "line %q does not start with FILE:DOC", line)
				if message, ok := strings.CutPrefix(problem, tc.Field+": unknown field"); ok {
					// The server's strict decoding error names the field in its message only.
					problem = "unknown field" + message
				}
				g.Expect(serverErr.Error()).To(ContainSubstring(problem), "validate's line is not the API server's")
			}
			// The field is named where the server names it; a rule on the object as a whole
			// (the name) is named in its message.
			g.Expect(out).To(ContainSubstring(tc.Field + ": "))
		})
	}
}

// TestValidateGivesTheOperatorsVerdict: every PipelineService the reconcile tests see stall
// (samples.Stalls) is refused by validate with the field and message of the Stalled condition.
func TestValidateGivesTheOperatorsVerdict(t *testing.T) {
	for _, tc := range samples.Stalls {
		t.Run(tc.Name, func(t *testing.T) {
			g := NewWithT(t)
			ps, err := samples.Load(samples.Full)
			g.Expect(err).NotTo(HaveOccurred())
			tc.Apply(ps)
			content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ps)
			g.Expect(err).NotTo(HaveOccurred())
			delete(content, "status")
			unstructured.RemoveNestedField(content, "metadata", "creationTimestamp")
			doc, err := yaml.Marshal(content)
			g.Expect(err).NotTo(HaveOccurred())

			code, out, _ := validateOut(string(doc), "-o", "json", "-")
			g.Expect(code).To(Equal(exitProblems), "validate accepted it")
			var r cli.Report
			g.Expect(json.Unmarshal([]byte(out), &r)).To(Succeed())
			var lines []string
			for _, p := range r.Problems {
				g.Expect(p.Source).To(Equal("operator"), "the API server would have admitted it: %s", p)
				g.Expect(p.Reason).To(Equal("InvalidTektonConfig"))
				lines = append(lines, p.Field+": "+p.Message)
			}
			g.Expect(lines).To(ContainElement(HavePrefix(tc.Want)))
		})
	}
}

// TestSamplesValidate: every sample is valid, and the kustomization beside them is skipped and
// counted. The overlays, as kustomize builds them, are make validate-overlays' (make test runs
// it), as the README's CI step runs them.
func TestSamplesValidate(t *testing.T) {
	g := NewWithT(t)
	code, out, errOut := validateOut("", filepath.Join(testenv.RepoRoot(), "config", "samples"))
	g.Expect(code).To(Equal(exitOK), out)
	g.Expect(errOut).To(ContainSubstring("3 checked, 1 skipped"))
}

// TestImportedProductionValidates: stone-prod-p01 imported, then validated, has one problem:
// the resolvers' 8 leader-election buckets for 4 ordinal replicas, which import already notes
// and production fixed after the snapshot (testdata/production/README.md). With the overlay's
// fix, it is clean.
func TestImportedProductionValidates(t *testing.T) {
	g := NewWithT(t)
	objs, err := testenv.ProductionObjects()
	g.Expect(err).NotTo(HaveOccurred())
	r, err := importer.Convert(importer.FromObjects(objs))
	g.Expect(err).NotTo(HaveOccurred())
	var imported bytes.Buffer
	g.Expect(importer.Write(&imported, r, "test")).To(Succeed())

	code, out, _ := validateOut(imported.String(), "-")
	g.Expect(code).To(Equal(exitProblems))
	g.Expect(strings.TrimSpace(out)).To(HavePrefix("-:1: " + samples.StallNamed(samples.StallOrdinalResolvers).Want))
	g.Expect(strings.Split(strings.TrimSpace(out), "\n")).To(HaveLen(1), out)

	fixed := strings.Replace(imported.String(), `buckets: "8"`, `buckets: "4"`, 1)
	g.Expect(fixed).NotTo(Equal(imported.String()))
	code, out, _ = validateOut(fixed, "-")
	g.Expect(code).To(Equal(exitOK), out)
}

// TestValidateExitCodes: 0 valid, 1 invalid, 2 for a usage or read error.
func TestValidateExitCodes(t *testing.T) {
	full := sampleYAML(t, samples.Full, nil)
	bad := sampleYAML(t, samples.Full, samples.Set("spec.exporter.replicas", int64(0)))
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  int
	}{
		{"valid", full, []string{"-"}, exitOK},
		{"standard input by default", full, nil, exitOK},
		{"invalid", bad, []string{"-"}, exitProblems},
		{"invalid among valid", full + "---\n" + bad, []string{"-"}, exitProblems},
		{"a document that does not decode", "kind: [", []string{"-"}, exitError},
		{"a key twice", "apiVersion: v1\nkind: ConfigMap\nkind: Secret\n", []string{"-"}, exitProblems},
		{"a file that does not exist", "", []string{missing}, exitError},
		{"an unknown flag", full, []string{"--bogus"}, exitError},
		{"an unknown output format", full, []string{"-o", "yaml", "-"}, exitError},
		{"a kind --without does not know", full, []string{"--without", "Pod", "-"}, exitError},
		{"the version", "", []string{"--version"}, exitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := validateOut(tc.stdin, tc.args...)
			if code != tc.want {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.want, out, errOut)
			}
		})
	}
}

// TestValidateOutput: one line per problem with file and document, what was skipped, and the
// same as a JSON list.
func TestValidateOutput(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "fleet.yaml")
	configMap := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
	bad := sampleYAML(t, samples.Full, samples.Then(samples.Set("spec.exporter.replicas", int64(0)), samples.Set("spec.tektonConfig.profile", "everything")))
	g.Expect(os.WriteFile(file, []byte(configMap+"---\n# only a comment\n---\n"+bad), 0o600)).To(Succeed())

	code, out, errOut := validateOut("", file)
	g.Expect(code).To(Equal(exitProblems))
	g.Expect(strings.Split(strings.TrimSpace(out), "\n")).To(ConsistOf(
		HavePrefix(file+":2: spec.exporter.replicas: Invalid value: 0: "),
		HavePrefix(file+":2: spec.tektonConfig.profile: Unsupported value: \"everything\": "),
		// As the API server says it: the CEL rules wait for the schema's errors to be fixed.
		Equal(file+":2: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"),
	))
	g.Expect(errOut).To(ContainSubstring("1 checked, 1 skipped"))

	code, out, _ = validateOut("", "-o", "json", file)
	g.Expect(code).To(Equal(exitProblems))
	var r cli.Report
	g.Expect(json.Unmarshal([]byte(out), &r)).To(Succeed())
	g.Expect(r.Checked).To(Equal(1))
	g.Expect(r.Skipped).To(Equal(1))
	g.Expect(r.Problems).To(HaveLen(3))
	g.Expect(r.Problems[0]).To(MatchFields(file, 2, "PipelineService", "cluster", "admission"))

	code, out, _ = validateOut("", "--version")
	g.Expect(code).To(Equal(exitOK))
	g.Expect(out).To(And(ContainSubstring("github.com/tektoncd/operator v0."), ContainSubstring("github.com/operator-framework/api v0.")))
}

// MatchFields matches a problem's place and source.
func MatchFields(file string, doc int, kind, name, source string) OmegaMatcher {
	return WithTransform(func(p cli.Problem) string {
		return fmt.Sprintf("%s:%d %s/%s %s", p.File, p.Document, p.Kind, p.Name, p.Source)
	}, Equal(fmt.Sprintf("%s:%d %s/%s %s", file, doc, kind, name, source)))
}

// TestValidateChecksTransitionsAgainstOld: with --old, a parent is checked as an update of its
// previous version, so the immutable targetNamespace is refused as the API server refuses it;
// an unchanged value that no longer validates is let through, as ratcheting lets it.
func TestValidateChecksTransitionsAgainstOld(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	old := filepath.Join(dir, "old.yaml")
	g.Expect(os.WriteFile(old, []byte(sampleYAML(t, samples.Full, nil)), 0o600)).To(Succeed())
	moved := sampleYAML(t, samples.Full, samples.Set("spec.tektonConfig.targetNamespace", "tekton-pipelines"))

	code, out, _ := validateOut(moved, "-")
	g.Expect(code).To(Equal(exitOK), "a create may name any namespace: %s", out)
	code, out, _ = validateOut(moved, "--old", old, "-")
	g.Expect(code).To(Equal(exitProblems))
	g.Expect(out).To(ContainSubstring("-:1: spec.tektonConfig.targetNamespace: Invalid value: "))

	// Ratcheting: a value the schema refuses, already stored before the rule came and left
	// unchanged, does not block an update.
	legacy := sampleYAML(t, samples.Full, samples.Set("spec.exporter.args", []any{strings.Repeat("x", 4097)}))
	g.Expect(os.WriteFile(old, []byte(legacy), 0o600)).To(Succeed())
	code, _, _ = validateOut(legacy, "-")
	g.Expect(code).To(Equal(exitProblems), "refused on create")
	code, out, _ = validateOut(legacy, "--old", old, "-")
	g.Expect(code).To(Equal(exitOK), "an unchanged invalid value is ratcheted: %s", out)
}

// TestRenderExitCodes: 0 rendered, 1 refused (nothing printed), 2 for a usage or read error.
func TestRenderExitCodes(t *testing.T) {
	full := sampleYAML(t, samples.Full, nil)
	stalled := sampleYAML(t, samples.Full, samples.Set("spec.tektonConfig.overrides", map[string]any{"pruner": map[string]any{"disable": true}}))
	refused := sampleYAML(t, samples.Full, samples.Set("spec.exporter.replicas", int64(0)))
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  int
	}{
		{"valid", full, nil, exitOK},
		{"refused by the API server", refused, nil, exitProblems},
		{"refused by the operator", stalled, []string{"-o", "json"}, exitProblems},
		{"two inputs", full, []string{"-", "-"}, exitError},
		{"an unknown output format", full, []string{"-o", "table"}, exitError},
		{"a document that does not decode", "kind: [", nil, exitError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runRender(tc.args, strings.NewReader(tc.stdin), &out, &errOut)
			if code != tc.want {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.want, errOut.String())
			}
			if code != exitOK && out.Len() > 0 {
				t.Errorf("printed objects for input it refused:\n%s", out.String())
			}
		})
	}
}
