package controllers_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// kubectl runs the kubectl that hack/setup-envtest.sh builds next to the control plane, as
// an admin of the test's control plane, and returns what it printed.
func (e *operatorEnv) kubectl(args ...string) string {
	e.t.Helper()
	if e.kubeconfig == "" {
		var err error
		e.kubeconfig, err = testenv.WriteKubeconfig(e.env, e.t.TempDir(), "person")
		e.Expect(err).NotTo(HaveOccurred())
	}
	cmd := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), append([]string{"--kubeconfig", e.kubeconfig}, args...)...)
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.CombinedOutput()
	e.Expect(err).NotTo(HaveOccurred(), "kubectl %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// TestKubectlShowsWhatAPersonNeeds runs the real kubectl against a healthy install: the wide
// listing, describe, and explain as a person reads them.
func TestKubectlShowsWhatAPersonNeeds(t *testing.T) {
	// The stand-in plays OLM and OSP (becomeHealthy): kubectl reads the PipelineService the
	// operator writes, and the real OLM (olm_test.go) would cost a plane of its own and 20 s.
	e := startOperator(t, nil)
	e.create(samples.Full, nil)
	e.becomeHealthy(stack505)

	wide := e.kubectl("get", "pipelineservice", "-o", "wide")
	e.t.Logf("kubectl get pipelineservice -o wide:\n%s", wide)
	lines := strings.Split(strings.TrimSpace(wide), "\n")
	e.Expect(lines).To(HaveLen(2))
	e.Expect(strings.Fields(lines[0])).To(Equal([]string{"NAME", "READY", "REASON", "SUSPENDED", "INSTALLED", "DESIRED", "AGE", "CATALOG", "TEKTON"}))
	row := strings.Fields(lines[1])
	e.Expect(row[:6]).To(Equal([]string{"cluster", "True", "Healthy", "false", csv505, csv505}))
	e.Expect(row[7:]).To(Equal([]string{"READY", "1.21.0"}))

	describe := e.kubectl("describe", "pipelineservice", "cluster")
	// Ready's message as the operator stored it, whole (its wording is TestParts'); the parts
	// it names are those of the full sample.
	ready := e.condition(psv1alpha1.ConditionReady).Message
	e.Expect(ready).To(And(ContainSubstring("the exporter"), ContainSubstring("the mirrors"), HaveSuffix(" are healthy")))
	for _, want := range []string{`(?m)^Name:\s+cluster$`, `(?m)^\s+Installed CSV:\s+` + csv505 + `$`, `(?m)^\s+Type:\s+Ready$`,
		`(?m)^\s+Reason:\s+Healthy$`, `(?m)^\s+Message:\s+` + regexp.QuoteMeta(ready) + `$`, `(?m)^Events:`} {
		e.Expect(describe).To(MatchRegexp(want), describe)
	}

	// explain: kubectl wraps the descriptions itself, so every line of a paragraph but its last
	// is filled; a line broken early is a doc comment's wrapping leaking through.
	explain := descriptionParagraphs(e.kubectl("explain", "pipelineservice.spec.deletionPolicy"))
	e.Expect(explain).To(HaveLen(1))
	e.Expect(strings.Join(explain[0], " ")).To(HavePrefix("DeletionPolicy says what happens to the children when this object is deleted. Orphan leaves"))
	for _, field := range []string{"pipelineservice.spec", "pipelineservice.spec.deletionPolicy", "pipelineservice.spec.tektonConfig.pruner", "pipelineservice.spec.operator.subscription.csv"} {
		text := e.kubectl("explain", field)
		for _, paragraph := range descriptionParagraphs(text) {
			for i, line := range paragraph[:len(paragraph)-1] {
				e.Expect(len(line)).To(BeNumerically(">=", 60), "%s: line %d of a paragraph is broken early:\n%s", field, i+1, strings.Join(paragraph, "\n"))
			}
		}
	}
}

// descriptionParagraphs are the paragraphs of the DESCRIPTION section of kubectl explain's
// output, as lines with their indentation trimmed.
func descriptionParagraphs(explain string) [][]string {
	var out [][]string
	var current []string
	inDescription := false
	for _, line := range strings.Split(explain, "\n") {
		switch {
		case strings.HasPrefix(line, "DESCRIPTION:"):
			inDescription = true
			continue
		case inDescription && line != "" && !strings.HasPrefix(line, " "):
			inDescription = false
		}
		if !inDescription {
			continue
		}
		if strings.TrimSpace(line) == "" {
			if len(current) > 0 {
				out = append(out, current)
			}
			current = nil
			continue
		}
		current = append(current, strings.TrimSpace(line))
	}
	if len(current) > 0 {
		out = append(out, current)
	}
	return out
}

// TestKubectlServerSideApplyOfEverySample applies every sample and environment overlay with
// kubectl's server-side apply, as a person or a pipeline would, and reads it back.
func TestKubectlServerSideApplyOfEverySample(t *testing.T) {
	e := startControlPlane(t, nil)
	for _, source := range [][]string{
		{"-f", "config/samples/pipelineservice_minimal.yaml"},
		{"-f", "config/samples/pipelineservice_full.yaml"},
		{"-k", "config/samples/overlays/development"},
		{"-k", "config/samples/overlays/staging"},
		{"-k", "config/samples/overlays/production"},
	} {
		out := e.kubectl(append([]string{"apply", "--server-side", "--field-manager", "kubectl-test"}, source...)...)
		e.Expect(out).To(Equal("pipelineservice.pipelineservice.appstudio.io/cluster serverside-applied\n"), strings.Join(source, " "))
		e.Expect(e.kubectl("get", "pipelineservice", "cluster", "-o", "name")).To(Equal("pipelineservice.pipelineservice.appstudio.io/cluster\n"))
	}
}

// TestKubectlShowsTheHost runs the real kubectl against a healthy host: the sample applied
// with server-side apply as ArgoCD would, the wide listing with the webhook URL and backends,
// describe and explain.
func TestKubectlShowsTheHost(t *testing.T) {
	e := startOperator(t, nil)
	e.Expect(simulate.EnsureNamespaces(t.Context(), e.c, proxyPluginNamespace)).To(Succeed())
	out := e.kubectl("apply", "--server-side", "--field-manager", "argocd-controller", "-f", "config/samples/pipelineservicehost.yaml")
	e.Expect(out).To(Equal("pipelineservicehost.pipelineservice.appstudio.io/cluster serverside-applied\n"))
	e.hostHealthy()

	wide := e.kubectl("get", "psh", "-o", "wide")
	e.t.Logf("kubectl get psh -o wide:\n%s", wide)
	lines := strings.Split(strings.TrimSpace(wide), "\n")
	e.Expect(lines).To(HaveLen(2))
	e.Expect(strings.Fields(lines[0])).To(Equal([]string{"NAME", "READY", "REASON", "SUSPENDED", "WEBHOOK", "URL", "AGE", "BACKENDS"}))
	row := strings.Fields(lines[1])
	e.Expect(row[:5]).To(Equal([]string{"cluster", "True", "Healthy", "false", "https://" + sprayProxyHost + "/proxy"}))
	e.Expect(row[6]).To(ContainSubstring("member-1.example.com"))

	describe := e.kubectl("describe", "pipelineservicehost", "cluster")
	for _, want := range []string{`(?m)^\s+Webhook URL:\s+https://` + sprayProxyHost + `/proxy$`, `(?m)^\s+Type:\s+RouteAdmitted$`,
		`(?m)^\s+Message:\s+SprayProxy, its Route and the Results proxy plugin are healthy$`} {
		e.Expect(describe).To(MatchRegexp(want), describe)
	}
	explain := descriptionParagraphs(e.kubectl("explain", "pipelineservicehost.spec.sprayProxy.backends"))
	e.Expect(explain).NotTo(BeEmpty())
	e.Expect(strings.Join(explain[0], " ")).To(HavePrefix("Backends are the Pipelines-as-Code webhook URLs of the member clusters"))
}
