package config_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// kustomize is the kustomize the Makefile pins.
const kustomize = "sigs.k8s.io/kustomize/kustomize/v5@v5.7.1"

func build(t *testing.T, dir string) []byte {
	t.Helper()
	cmd := exec.Command("go", "run", kustomize, "build", dir)
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderrOf(err))
	}
	return out
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// TestEnvironmentOverlays builds each environment overlay with kustomize, sends the result to
// a real API server (dry run: schema, CEL rules and defaults apply), and renders it, so that
// neither admission, the strict TektonConfig check nor OSP's own admission code can refuse what
// an environment ships.
func TestEnvironmentOverlays(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	env, cfg, err := testenv.Start(nil)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = env.Stop() }()
	c, err := client.New(cfg, client.Options{Scheme: manager.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())

	pinned := map[string]bool{"development": false, "staging": true, "production": false}
	for overlay, wantPin := range pinned {
		t.Run(overlay, func(t *testing.T) {
			g := NewWithT(t)
			// Sent as ArgoCD sends it, unstructured; the server's answer carries the defaults.
			u := &unstructured.Unstructured{}
			g.Expect(yaml.Unmarshal(build(t, filepath.Join("config", "samples", "overlays", overlay)), &u.Object)).To(Succeed())
			g.Expect(c.Create(context.Background(), u, client.DryRunAll)).To(Succeed())
			ps := &psv1alpha1.PipelineService{}
			g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ps)).To(Succeed())
			desired, err := render.Render(ps, children.AllServed())
			g.Expect(err).NotTo(HaveOccurred())
			// OSP's own SetDefaults and Validate accept the TektonConfig it renders.
			for _, o := range desired.Objects {
				if o.GroupVersionKind() == children.GVKTektonConfig {
					g.Expect(osp.Review(o, nil)).To(BeEmpty())
				}
			}
			g.Expect(ps.Spec.Operator.Subscription.CSV != "").To(Equal(wantPin))
			if overlay != "development" {
				g.Expect(string(ps.Spec.Operator.CatalogSource.Image)).To(ContainSubstring("@sha256:"))
			}
			if overlay == "production" {
				// What production runs is config/parity_test.go's; here, that it is admitted.
				g.Expect(ps.Spec.DeletionPolicy).To(Equal(psv1alpha1.DeletionPolicyOrphan))
				g.Expect(ps.Spec.ExternalSecrets).To(HaveLen(5))
			}
		})
	}

	// The ArgoCD configuration builds, and carries health.lua as the health check.
	out := string(build(t, filepath.Join("config", "argocd")))
	g.Expect(out).To(ContainSubstring("resource.customizations.health.pipelineservice.appstudio.io_PipelineService"))
	g.Expect(out).To(ContainSubstring(`local progressReasons = {`))
	for _, dir := range []string{"default", "prometheus", "samples", "grafana"} {
		g.Expect(build(t, filepath.Join("config", dir))).NotTo(BeEmpty(), dir)
	}
}

// TestHostOverlay builds the host overlay, sends it to a real API server (dry run) and renders
// it: what the host ships is admitted and renders.
func TestHostOverlay(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	env, cfg, err := testenv.Start(nil)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = env.Stop() }()
	c, err := client.New(cfg, client.Options{Scheme: manager.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{}
	g.Expect(yaml.Unmarshal(build(t, filepath.Join("config", "samples", "overlays", "host")), &u.Object)).To(Succeed())
	g.Expect(c.Create(context.Background(), u, client.DryRunAll)).To(Succeed())
	h := &psv1alpha1.PipelineServiceHost{}
	g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, h)).To(Succeed())
	objs, err := render.Host(h, children.AllServed())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(objs).NotTo(BeEmpty())
	g.Expect(h.Spec.DeletionPolicy).To(Equal(psv1alpha1.DeletionPolicyOrphan))
}

// applicationSet is what TestApplicationSetsPointAtOverlays reads of an ApplicationSet.
type applicationSet struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Template struct {
			Spec struct {
				Source struct {
					Path string `json:"path"`
				} `json:"source"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// TestApplicationSetsPointAtOverlays: the ApplicationSets of config/argocd send each cluster
// to an overlay that exists: the member set to the overlay its label names, the host set to
// the host overlay.
func TestApplicationSetsPointAtOverlays(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	paths := map[string]string{}
	for _, doc := range strings.Split(string(build(t, filepath.Join("config", "argocd"))), "\n---\n") {
		var s applicationSet
		g.Expect(yaml.Unmarshal([]byte(doc), &s)).To(Succeed())
		if s.Kind == "ApplicationSet" {
			paths[s.Metadata.Name] = s.Spec.Template.Spec.Source.Path
		}
	}
	g.Expect(paths).To(HaveLen(2))
	g.Expect(paths).To(HaveKeyWithValue("pipeline-service-host", "config/samples/overlays/host"))
	member := paths["pipeline-service-members"]
	for _, overlay := range []string{"development", "staging", "production"} {
		path := strings.Replace(member, `{{index .metadata.labels "pipeline-service.appstudio.io/member"}}`, overlay, 1)
		g.Expect(path).To(Equal("config/samples/overlays/"+overlay), "the member set's path template")
		build(t, path)
	}
	build(t, paths["pipeline-service-host"])
}
