package render_test

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

// The render checked against the registry and the RBAC that ships: tests of render that read
// the lower packages, so they live with render.

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

	role, err := testenv.OperatorRole()
	g.Expect(err).NotTo(HaveOccurred())
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
