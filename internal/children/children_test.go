package children_test

import (
	"slices"
	"testing"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

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
	role, err := testenv.OperatorRole()
	g.Expect(err).NotTo(HaveOccurred())
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
