// Package config_test checks the kustomize configuration the operator is installed with.
package config_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// documents reads every YAML document of the files matching glob.
func documents(t *testing.T, glob string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s: %v", glob, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := yaml.NewYAMLReader(bufioReader(raw))
		for i := 0; ; i++ {
			doc, err := r.Read()
			if err != nil {
				break
			}
			if strings.TrimSpace(string(doc)) != "" && strings.TrimSpace(string(doc)) != "---" {
				out[f+"#"+string(rune('0'+i))] = doc
			}
		}
	}
	return out
}

// TestRBACIsLeastPrivilege: every rule in config/rbac and in the bundle's CSV names its API
// groups, resources and verbs; none is a wildcard, and nothing reads Secrets.
func TestRBACIsLeastPrivilege(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	var rules []rbacv1.PolicyRule
	for name, doc := range documents(t, filepath.Join("rbac", "*.yaml")) {
		var obj struct {
			Kind  string              `json:"kind"`
			Rules []rbacv1.PolicyRule `json:"rules"`
		}
		g.Expect(sigsyaml.Unmarshal(doc, &obj)).To(Succeed(), name)
		rules = append(rules, obj.Rules...)
	}
	var csv struct {
		Spec struct {
			Install struct {
				Spec struct {
					ClusterPermissions []struct{ Rules []rbacv1.PolicyRule } `json:"clusterPermissions"`
					Permissions        []struct{ Rules []rbacv1.PolicyRule } `json:"permissions"`
				} `json:"spec"`
			} `json:"install"`
		} `json:"spec"`
	}
	raw, err := os.ReadFile(filepath.Join("..", "bundle", "manifests", "pipeline-service-operator.clusterserviceversion.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sigsyaml.Unmarshal(raw, &csv)).To(Succeed())
	for _, p := range append(csv.Spec.Install.Spec.ClusterPermissions, csv.Spec.Install.Spec.Permissions...) {
		rules = append(rules, p.Rules...)
	}
	g.Expect(len(rules)).To(BeNumerically(">", 10))
	for _, r := range rules {
		for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.NonResourceURLs, r.ResourceNames} {
			for _, v := range list {
				g.Expect(v).NotTo(ContainSubstring("*"), "wildcard in %+v", r)
			}
		}
		g.Expect(r.Verbs).NotTo(BeEmpty(), "%+v", r)
		if len(r.NonResourceURLs) == 0 {
			g.Expect(r.Resources).NotTo(BeEmpty(), "%+v", r)
		}
		if slices.Contains(r.APIGroups, "") {
			g.Expect(r.Resources).NotTo(ContainElement("secrets"), "the operator never reads Secret data: %+v", r)
		}
	}
}

// TestManagerIsHardened: the Deployment runs under the restricted pod security profile, with
// probes, resources and two replicas that elect a leader.
func TestManagerIsHardened(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	var dep *appsv1.Deployment
	var ns *corev1.Namespace
	for name, doc := range documents(t, filepath.Join("manager", "manager.yaml")) {
		var meta struct{ Kind string }
		g.Expect(sigsyaml.Unmarshal(doc, &meta)).To(Succeed(), name)
		switch meta.Kind {
		case "Deployment":
			dep = &appsv1.Deployment{}
			g.Expect(sigsyaml.UnmarshalStrict(doc, dep)).To(Succeed())
		case "Namespace":
			ns = &corev1.Namespace{}
			g.Expect(sigsyaml.UnmarshalStrict(doc, ns)).To(Succeed())
		}
	}
	g.Expect(ns).NotTo(BeNil())
	g.Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
	g.Expect(dep).NotTo(BeNil())
	g.Expect(*dep.Spec.Replicas).To(BeNumerically(">=", 2))
	pod := dep.Spec.Template.Spec
	g.Expect(*pod.SecurityContext.RunAsNonRoot).To(BeTrue())
	g.Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
	g.Expect(pod.Containers).To(HaveLen(1))
	c := pod.Containers[0]
	g.Expect(c.Args).To(ContainElement("--leader-elect"))
	g.Expect(c.Args).NotTo(ContainElement(ContainSubstring("metrics-insecure")))
	g.Expect(*c.SecurityContext.AllowPrivilegeEscalation).To(BeFalse())
	g.Expect(*c.SecurityContext.ReadOnlyRootFilesystem).To(BeTrue())
	g.Expect(c.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
	g.Expect(c.SecurityContext.Capabilities.Add).To(BeEmpty())
	g.Expect(c.LivenessProbe).NotTo(BeNil())
	g.Expect(c.ReadinessProbe).NotTo(BeNil())
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		g.Expect(c.Resources.Requests).To(HaveKey(r))
		g.Expect(c.Resources.Limits).To(HaveKey(r))
	}
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// TestOpenShiftGitOpsHealthChecksBuild: the Component that adds the health checks to an ArgoCD
// resource builds, creates the list where there is none, keeps other kinds' checks, updates an
// older check of ours in place, carries health.lua as it is (the script argocd-cm gets and
// hack/argocd-health runs), and leaves its helper ConfigMap out of the output.
func TestOpenShiftGitOpsHealthChecksBuild(t *testing.T) {
	t.Parallel()
	lua, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "argocd", "resource_customizations",
		"pipelineservice.appstudio.io", "PipelineService", "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	type check struct{ Group, Kind, Check string }
	ours := []check{
		{"pipelineservice.appstudio.io", "PipelineService", string(lua)},
		{"pipelineservice.appstudio.io", "PipelineServiceHost", string(lua)},
	}
	subscription := check{"operators.coreos.com", "Subscription", "hs = {status = \"Healthy\"}\nreturn hs\n"}
	for dir, want := range map[string][]check{
		"without-checks": ours,
		"with-checks":    {subscription, ours[0], ours[1]},
	} {
		t.Run(dir, func(t *testing.T) {
			g := NewWithT(t)
			out := build(t, filepath.Join("config", "testdata", "openshift-gitops", dir))
			var docs []map[string]any
			for doc := range strings.SplitSeq(string(out), "\n---\n") {
				m := map[string]any{}
				g.Expect(sigsyaml.Unmarshal([]byte(doc), &m)).To(Succeed())
				docs = append(docs, m)
			}
			g.Expect(docs).To(HaveLen(1), "the ArgoCD resource alone: the helper ConfigMap is local")
			g.Expect(docs[0]["apiVersion"]).To(Equal("argoproj.io/v1beta1"))
			var argocd struct {
				Spec struct{ ResourceHealthChecks []check } `json:"spec"`
			}
			g.Expect(sigsyaml.Unmarshal(out, &argocd)).To(Succeed())
			g.Expect(argocd.Spec.ResourceHealthChecks).To(Equal(want))
		})
	}
}

// TestRolloutConfigBuilds: config/rollout builds with kustomize into the AnalysisTemplate and
// an ApplicationSet that syncs the rings in order, one production cluster at a time; the
// template's queries are checked against a running operator's metrics in
// controllers/metrics_test.go.
func TestRolloutConfigBuilds(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	out := build(t, filepath.Join("config", "rollout"))
	kinds := map[string]map[string]any{}
	for doc := range strings.SplitSeq(string(out), "\n---\n") {
		m := map[string]any{}
		g.Expect(sigsyaml.Unmarshal([]byte(doc), &m)).To(Succeed())
		kinds[m["kind"].(string)] = m
	}
	g.Expect(kinds).To(HaveLen(2))
	var template struct {
		Spec struct {
			Args []struct {
				Name  string  `json:"name"`
				Value *string `json:"value"`
			} `json:"args"`
		} `json:"spec"`
	}
	data, err := sigsyaml.Marshal(kinds["AnalysisTemplate"])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sigsyaml.Unmarshal(data, &template)).To(Succeed())
	args := map[string]bool{}
	for _, a := range template.Spec.Args {
		args[a.Name] = a.Value != nil
	}
	g.Expect(args).To(Equal(map[string]bool{"prometheus-address": true, "selector": true, "min-ready-days": true, "max-restarts": true,
		"tekton-version": false}), "the version is the one argument without a default")

	var appSet struct {
		Spec struct {
			Strategy struct {
				Type        string `json:"type"`
				RollingSync struct {
					Steps []struct {
						MatchExpressions []struct {
							Key    string   `json:"key"`
							Values []string `json:"values"`
						} `json:"matchExpressions"`
						MaxUpdate any `json:"maxUpdate"`
					} `json:"steps"`
				} `json:"rollingSync"`
			} `json:"strategy"`
		} `json:"spec"`
	}
	data, err = sigsyaml.Marshal(kinds["ApplicationSet"])
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sigsyaml.Unmarshal(data, &appSet)).To(Succeed())
	g.Expect(appSet.Spec.Strategy.Type).To(Equal("RollingSync"))
	var rings []string
	for _, s := range appSet.Spec.Strategy.RollingSync.Steps {
		g.Expect(s.MatchExpressions).To(HaveLen(1))
		rings = append(rings, s.MatchExpressions[0].Values...)
	}
	g.Expect(rings).To(Equal([]string{"ring-0", "ring-1", "production"}))
	g.Expect(appSet.Spec.Strategy.RollingSync.Steps[2].MaxUpdate).To(BeEquivalentTo(1))
}

// TestCRDsTellUsersNotDevelopers: the CRDs' descriptions are what `kubectl explain` and the
// API reference show a user, so they name no path of the development workspace.
func TestCRDsTellUsersNotDevelopers(t *testing.T) {
	g := NewWithT(t)
	for name, doc := range documents(t, filepath.Join("crd", "bases", "*.yaml")) {
		for _, path := range []string{"../", "shared/testdata", "hack/", "internal/"} {
			g.Expect(string(doc)).NotTo(ContainSubstring(path), "%s names %s", name, path)
		}
	}
}
