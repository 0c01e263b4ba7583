package config_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// TestOnlyNamedWritersPassTheSecurityPolicy installs config/security on a real API server and
// writes a PipelineService as four users. An editor holds the built-in edit role through a
// ClusterRoleBinding, with the write access OLM aggregates into it for each CRD it installs:
// it may write the kind before the policy and is refused after it. The GitOps identity the
// policy names, with the same binding, a user bound to cluster-admin and system:masters may
// still write it.
func TestOnlyNamedWritersPassTheSecurityPolicy(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	env, cfg, err := testenv.Start(nil)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = env.Stop() }()
	admin, err := client.New(cfg, client.Options{Scheme: manager.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())

	// What OLM does for an installed CRD (pkg/controller/operators/olm/operatorgroup.go,
	// aggregate-to-edit roles), and what kube-controller-manager's ClusterRole aggregation
	// controller then does to edit, which no controller here runs: edit's rules become the
	// union of the roles labelled aggregate-to-edit.
	olmEdit := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "pipelineservices.pipelineservice.appstudio.io-v1alpha1-edit",
			Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-edit": "true"}},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{psv1alpha1.GroupVersion.Group}, Resources: []string{"pipelineservices", "pipelineservicehosts"},
			Verbs: []string{"create", "update", "patch", "delete", "get", "list", "watch"}}},
	}
	g.Expect(admin.Create(ctx, olmEdit)).To(Succeed())
	edit := &rbacv1.ClusterRole{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Name: "edit"}, edit)).To(Succeed())
	g.Expect(edit.AggregationRule).NotTo(BeNil(), "edit is the built-in aggregated role")
	edit.Rules = append(edit.Rules, olmEdit.Rules...)
	g.Expect(admin.Update(ctx, edit)).To(Succeed())

	const editor, clusterAdmin = "alice", "root"
	gitops := "system:serviceaccount:openshift-gitops:openshift-gitops-argocd-application-controller"
	for user, role := range map[string]string{editor: "edit", gitops: "edit", clusterAdmin: "cluster-admin"} {
		g.Expect(admin.Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role + "-" + strings.ReplaceAll(user, ":", "-")},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		})).To(Succeed())
	}
	as := func(user string) client.Client {
		c := rest.CopyConfig(cfg)
		c.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
		cl, err := client.New(c, client.Options{Scheme: manager.NewScheme()})
		g.Expect(err).NotTo(HaveOccurred())
		return cl
	}
	create := func(c client.Client) error {
		ps, err := samples.Load(samples.Minimal)
		g.Expect(err).NotTo(HaveOccurred())
		return c.Create(ctx, ps, client.DryRunAll)
	}
	g.Eventually(func() error { return create(as(editor)) }, 10*time.Second, 100*time.Millisecond).Should(Succeed(),
		"without the policy, an editor may write the PipelineService")

	for _, file := range []string{"writers.yaml", "policy.yaml"} {
		data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "security", file))
		g.Expect(err).NotTo(HaveOccurred())
		for _, doc := range strings.Split(string(data), "\n---\n") {
			u := &unstructured.Unstructured{}
			g.Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
			if u.GetNamespace() != "" {
				ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": u.GetNamespace()}}}
				_ = admin.Create(ctx, ns)
			}
			g.Expect(admin.Create(ctx, u)).To(Succeed(), "%s %s", u.GetKind(), u.GetName())
		}
	}
	// The API server loads policies asynchronously: wait until the editor is refused.
	g.Eventually(func() error { return create(as(editor)) }, 10*time.Second, 100*time.Millisecond).Should(
		MatchError(And(ContainSubstring("only cluster admins and the identities in ConfigMap pipeline-service-operator/pipeline-service-writers"),
			ContainSubstring(editor+" is neither"))))
	g.Expect(create(as(gitops))).To(Succeed(), "the GitOps identity the policy names")
	g.Expect(create(as(clusterAdmin))).To(Succeed(), "a user bound to cluster-admin")
	g.Expect(create(admin)).To(Succeed(), "system:masters")
}
