package controllers_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/controllers/pipelineservice"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/pipelineservicehost"
)

// runbookURL is where an alert's runbook_url points, before the section's anchor.
const runbookURL = "https://github.com/openshift-pipelines/pipeline-service-operator/blob/main/docs/runbook.md#"

// TestAlertRules reads config/prometheus/alerts.yaml: each alert must say how bad it is, what
// happened and what to check, use only metrics the operator exports, and link its section of
// docs/runbook.md, which also has a section for every condition.
func TestAlertRules(t *testing.T) {
	g := NewWithT(t)
	raw, err := os.ReadFile(filepath.Join("..", "config", "prometheus", "alerts.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var rule struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Alert       string            `json:"alert"`
					Expr        string            `json:"expr"`
					For         string            `json:"for"`
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	g.Expect(yaml.UnmarshalStrict(raw, &rule)).To(Succeed())
	g.Expect(rule.Kind).To(Equal("PrometheusRule"))

	exported := map[string]bool{}
	descs := make(chan *prometheus.Desc, 32)
	for _, c := range append(pipelineservice.Collectors(), pipelineservicehost.Collectors()...) {
		c.Describe(descs)
	}
	close(descs)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		name := fqName.FindStringSubmatch(d.String())[1]
		exported[name] = true
		exported[name+"_bucket"], exported[name+"_count"], exported[name+"_sum"] = true, true, true
	}

	runbook, err := os.ReadFile(filepath.Join("..", "docs", "runbook.md"))
	g.Expect(err).NotTo(HaveOccurred())
	var runbookSections []string
	for _, m := range regexp.MustCompile(`(?m)^### (\S+)$`).FindAllStringSubmatch(string(runbook), -1) {
		runbookSections = append(runbookSections, m[1])
	}

	forByAlert := map[string]string{}
	metricRef := regexp.MustCompile(`pipelineservice(?:host)?_[a-z_]+`)
	for _, group := range rule.Spec.Groups {
		for _, r := range group.Rules {
			g.Expect(r.Alert).NotTo(BeEmpty())
			g.Expect(r.Labels["severity"]).To(BeElementOf("critical", "warning"), r.Alert)
			g.Expect(r.Annotations["summary"]).NotTo(BeEmpty(), r.Alert)
			g.Expect(len(r.Annotations["description"])).To(BeNumerically(">", 80), "%s: say what to check", r.Alert)
			g.Expect(r.For).NotTo(BeEmpty(), "%s fires on a blip", r.Alert)
			refs := metricRef.FindAllString(r.Expr, -1)
			g.Expect(refs).NotTo(BeEmpty(), r.Alert)
			for _, m := range refs {
				g.Expect(exported).To(HaveKey(m), "%s uses %s, which the operator does not export", r.Alert, m)
			}
			forByAlert[r.Alert] = r.For
			g.Expect(r.Annotations["runbook_url"]).To(Equal(runbookURL+strings.ToLower(r.Alert)), "%s: link its runbook section", r.Alert)
			g.Expect(runbookSections).To(ContainElement(r.Alert), "docs/runbook.md has no section for %s", r.Alert)
		}
	}
	// Every condition either kind sets has its section too.
	for _, c := range append(pipelineservice.ConditionTypes(), pipelineservicehost.ConditionTypes()...) {
		g.Expect(runbookSections).To(ContainElement(c), "docs/runbook.md has no section for the %s condition", c)
	}
	g.Expect(forByAlert).To(Equal(map[string]string{
		"PipelineServiceNotReady":           "15m",
		"PipelineServiceStatusAbsent":       "15m",
		"PipelineServiceInstallPlanPending": "1h",
		"PipelineServiceComponentDegraded":  "5m",
		"PipelineServiceUpgradeTooLong":     "30m",
		"PipelineServiceComponentsStale":    "30m",
		"PipelineServiceSuspended":          "5m",
		"PipelineServiceHostNotReady":       "15m",
		"PipelineServiceHostSuspended":      "5m",
	}))
}
