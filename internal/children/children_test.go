package children_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// declaredFor is whether gvk is a version of a kind the registry declares as rendered by
// profile p.
func declaredFor(p children.Profile, gvk schema.GroupVersionKind) bool {
	k, ok := children.Lookup(gvk.GroupKind())
	return ok && k.In(p) && !k.Observed && slices.Contains(k.Versions(), gvk)
}

// TestRenderEmitsOnlyRegisteredKinds renders every sample on clusters that serve each
// alternative: an object of a kind the registry does not declare for the side that renders it
// would never be pruned, deleted or watched by that side (its profile selects all three).
func TestRenderEmitsOnlyRegisteredKinds(t *testing.T) {
	g := NewWithT(t)
	clusters := map[string]children.Served{
		"everything served":               children.AllServed(),
		"nothing optional":                children.Served{},
		"IDMS and ExternalSecret v1beta1": {children.GVKIDMS: true, children.GVKExternalSecretBeta: true},
	}
	for _, sample := range []string{samples.Full, samples.Minimal} {
		ps, err := samples.Load(sample)
		g.Expect(err).NotTo(HaveOccurred())
		ps.Spec.Exporter.Enabled, ps.Spec.Exporter.ServiceMonitor = true, true
		for name, served := range clusters {
			d, err := render.Render(ps, served)
			g.Expect(err).NotTo(HaveOccurred())
			for _, o := range d.Objects {
				g.Expect(declaredFor(children.Member, o.GroupVersionKind())).To(BeTrue(),
					"%s renders %s on a cluster with %s, and internal/children does not declare it for the member side", sample, o.GroupVersionKind(), name)
			}
		}
	}
	h, err := samples.LoadHost(samples.Host)
	g.Expect(err).NotTo(HaveOccurred())
	objs, err := render.Host(h, children.AllServed())
	g.Expect(err).NotTo(HaveOccurred())
	for _, o := range objs {
		g.Expect(declaredFor(children.Host, o.GroupVersionKind())).To(BeTrue(),
			"the host sample renders %s, and internal/children does not declare it for the host side", o.GroupVersionKind())
	}
}

// TestEveryMemberKindSaysHowItIsImported: a kind the member side renders must say whether the
// import subcommand reads it or derives it, so that a new kind cannot be left out of import
// unnoticed.
func TestEveryMemberKindSaysHowItIsImported(t *testing.T) {
	for _, k := range children.Rendered(children.Member) {
		if !k.Import.Says() {
			t.Errorf("%s is rendered for the PipelineService and does not say how import reproduces it (Import)", k.GVK.Kind)
		}
	}
}

// TestDeleteStepsCoverEveryDeletedKind: every kind with a deletion step is deleted by some
// step of each profile it belongs to, in the order of the steps.
func TestDeleteStepsCoverEveryDeletedKind(t *testing.T) {
	for _, p := range []children.Profile{children.Member, children.Host} {
		var deleted []string
		last := 0
		for _, step := range children.DeleteSteps(p) {
			for _, k := range step {
				if k.DeleteStep < last {
					t.Errorf("%s: step %d runs after step %d", k.GVK.Kind, k.DeleteStep, last)
				}
				last = k.DeleteStep
				deleted = append(deleted, k.GVK.Kind)
			}
		}
		for _, k := range children.Of(p) {
			if k.DeleteStep != 0 && !slices.Contains(deleted, k.GVK.Kind) {
				t.Errorf("profile %d: %s has deletion step %d, which no step runs", p, k.GVK.Kind, k.DeleteStep)
			}
		}
	}
}

// TestRBACCoversEveryKind checks the generated role against the registry: every kind is read
// and watched, every rendered kind created and patched, every pruned or deleted kind deleted.
func TestRBACCoversEveryKind(t *testing.T) {
	g := NewWithT(t)
	role := operatorRole(g)
	allowed := func(group, resource, verb string) bool {
		return slices.ContainsFunc(role.Rules, func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb)
		})
	}
	for _, k := range children.Kinds {
		verbs := []string{"get", "list", "watch"}
		if !k.Observed {
			verbs = append(verbs, "create", "patch")
		}
		if k.Prune || k.DeleteStep != 0 {
			verbs = append(verbs, "delete")
		}
		for _, v := range verbs {
			g.Expect(allowed(k.GVK.Group, k.Resource, v)).To(BeTrue(),
				"config/rbac/role.yaml does not allow %s on %s.%s: add the rule beside the registry and run make manifests", v, k.Resource, k.GVK.Group)
		}
	}
}

// TestPrunedKindsAreDeleted: what the operator prunes it also created, so deletionPolicy
// Delete must remove it too.
func TestPrunedKindsAreDeleted(t *testing.T) {
	for _, k := range children.Kinds {
		if k.Prune && k.DeleteStep == 0 {
			t.Errorf("%s is pruned but no deletion step removes it", k.GVK.Kind)
		}
		if k.Observed && k.Prune {
			t.Errorf("%s is observed, not created: it cannot be pruned", k.GVK.Kind)
		}
	}
}

// TestServedVersion: the preferred version where served, an older one where only it is.
func TestServedVersion(t *testing.T) {
	g := NewWithT(t)
	es := children.GVKExternalSecretV1.GroupKind()
	g.Expect(children.AllServed().Version(es)).To(Equal(children.GVKExternalSecretV1))
	g.Expect(children.Served{children.GVKExternalSecretBeta: true}.Version(es)).To(Equal(children.GVKExternalSecretBeta))
	g.Expect(children.Served{}.Version(es)).To(Equal(children.GVKExternalSecretV1), "missing: the preferred version, reported missing")
	g.Expect(children.ServedBy(func(schema.GroupVersionKind) bool { return false })[children.GVKDeployment]).To(BeTrue(), "built-in kinds are served")
	g.Expect(children.CRDKinds(children.Member)).To(HaveKey("tektonconfigs.operator.tekton.dev"))
	g.Expect(children.CRDKinds(children.Member)).NotTo(HaveKey("proxyplugins.toolchain.dev.openshift.com"))
	g.Expect(children.CRDKinds(children.Host)).To(HaveKey("proxyplugins.toolchain.dev.openshift.com"))
	g.Expect(children.CRDKinds(children.Host)).NotTo(HaveKey("deployments.apps"))
}

// operatorRole is the operator's generated ClusterRole, config/rbac/role.yaml.
func operatorRole(g Gomega) *rbacv1.ClusterRole {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	role := &rbacv1.ClusterRole{}
	g.Expect(yaml.Unmarshal(data, role)).To(Succeed())
	return role
}

// TestRBACBindsByName: every ClusterRoleBinding the operator renders grants the ClusterRole of
// its own name, that role ships with the operator (config/rbac/children_roles.yaml), and the
// operator's role lets it bind exactly those roles and write exactly those bindings. No write
// verb on clusterroles or clusterrolebindings comes without resourceNames, and the operator
// holds none of the permissions inside the roles it grants.
func TestRBACBindsByName(t *testing.T) {
	g := NewWithT(t)
	granted := slices.Sorted(slices.Values(render.GrantedRoles))

	var bindings []string
	ps, err := samples.Load(samples.Full)
	g.Expect(err).NotTo(HaveOccurred())
	d, err := render.Render(ps, children.AllServed())
	g.Expect(err).NotTo(HaveOccurred())
	objs := d.Objects
	h, err := samples.LoadHost(samples.Host)
	g.Expect(err).NotTo(HaveOccurred())
	h.Spec.SprayProxy.MetricsReaders = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "prometheus-k8s", Namespace: "openshift-monitoring"}}
	h.Spec.SprayProxy.DynamicBackends.Enabled = true
	h.Spec.SprayProxy.DynamicBackends.Registrants = []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "register", Namespace: "member"}}
	hostObjs, err := render.Host(h, children.AllServed())
	g.Expect(err).NotTo(HaveOccurred())
	for _, o := range append(objs, hostObjs...) {
		g.Expect(o.GroupVersionKind()).NotTo(Equal(children.GVKClusterRole), "%s: ClusterRoles ship with the operator, they are not rendered", o.GetName())
		if o.GroupVersionKind() == children.GVKClusterRoleBinding {
			role := o.Object["roleRef"].(map[string]any)["name"]
			g.Expect(role).To(Equal(o.GetName()), "a binding is named after the role it grants")
			bindings = append(bindings, o.GetName())
		}
	}
	g.Expect(slices.Sorted(slices.Values(bindings))).To(Equal(granted), "the samples render one binding per granted role")

	shipped := map[string]rbacv1.ClusterRole{}
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "children_roles.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	for _, doc := range strings.Split(string(data), "\n---\n") {
		r := rbacv1.ClusterRole{}
		g.Expect(yaml.Unmarshal([]byte(doc), &r)).To(Succeed())
		shipped[r.Name] = r
	}
	g.Expect(slices.Sorted(maps.Keys(shipped))).To(Equal(granted), "config/rbac/children_roles.yaml ships each granted role")

	role := operatorRole(g)
	for _, r := range role.Rules {
		if !slices.Contains(r.APIGroups, rbacv1.GroupName) {
			continue
		}
		writes := slices.ContainsFunc(r.Verbs, func(v string) bool { return !slices.Contains([]string{"get", "list", "watch"}, v) })
		if writes {
			g.Expect(r.ResourceNames).To(Equal(granted), "%v on %v: RBAC writes are by name, and only of the granted roles' bindings", r.Verbs, r.Resources)
			g.Expect(r.Verbs).NotTo(ContainElement("escalate"))
			g.Expect(r.Verbs).NotTo(ContainElement("*"))
		}
		if slices.Contains(r.Resources, "clusterroles") {
			g.Expect(r.Verbs).To(Equal([]string{"bind"}), "the operator binds the granted roles; it neither reads nor writes them")
		}
	}
	// What the granted roles hold, the operator does not: it binds them, it does not pass on.
	for name, granted := range shipped {
		for _, gr := range granted.Rules {
			for _, verb := range gr.Verbs {
				if slices.Contains([]string{"get", "list", "watch"}, verb) && len(gr.NonResourceURLs) == 0 {
					continue // reading is not what a review asks about; writes and URLs are
				}
				held := slices.ContainsFunc(role.Rules, func(r rbacv1.PolicyRule) bool {
					return slices.Contains(r.Verbs, verb) && (slices.ContainsFunc(gr.NonResourceURLs, func(u string) bool { return slices.Contains(r.NonResourceURLs, u) }) ||
						slices.ContainsFunc(gr.Resources, func(res string) bool {
							return slices.Contains(r.Resources, res) && slices.ContainsFunc(gr.APIGroups, func(gp string) bool { return slices.Contains(r.APIGroups, gp) })
						}))
				})
				if held && !(name == "sprayproxy-kube-rbac-proxy" && verb == "create") {
					t.Errorf("the operator holds %s of %v%v, which it only grants through %s", verb, gr.Resources, gr.NonResourceURLs, name)
				}
			}
		}
	}
}
