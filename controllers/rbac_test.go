package controllers_test

import (
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

const operatorNamespace = "pipeline-service-operator"

// applyFile creates every object of a YAML file; a Namespace that exists is left as it is
// (a shared control plane keeps the namespaces an earlier test made).
func (e *operatorEnv) applyFile(path string) {
	e.t.Helper()
	f, err := os.Open(path)
	e.Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			return
		}
		if len(u.Object) > 0 {
			err := e.c.Create(ctx, u)
			if u.GetKind() == "Namespace" && apierrors.IsAlreadyExists(err) {
				continue
			}
			e.Expect(err).To(Succeed(), "%s %s", u.GetKind(), u.GetName())
		}
	}
}

// tokenFor returns a token of a ServiceAccount, made in the operator's namespace.
func (e *operatorEnv) tokenFor(name string) string {
	e.t.Helper()
	cs, err := kubernetes.NewForConfig(e.cfg)
	e.Expect(err).NotTo(HaveOccurred())
	sa := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ServiceAccount",
		"metadata": map[string]any{"name": name, "namespace": operatorNamespace}}}
	_ = e.c.Create(ctx, sa)
	tr, err := cs.CoreV1().ServiceAccounts(operatorNamespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	e.Expect(err).NotTo(HaveOccurred())
	return tr.Status.Token
}

// operatorUser is how the API server sees the operator's ServiceAccount.
var operatorUser = authorizationv1.SubjectAccessReviewSpec{
	User:   "system:serviceaccount:" + operatorNamespace + ":pipeline-service-operator",
	Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace, "system:authenticated"},
}

// forbidden asks the API server, by SubjectAccessReview, whether the operator's ServiceAccount
// with config/rbac may do what would make it a cluster-admin or a reader of secrets, and
// expects a denial for each; and that it may still bind what it grants, so that a review that
// denies everything cannot pass.
func (e *operatorEnv) forbidden() {
	e.t.Helper()
	cs, err := kubernetes.NewForConfig(e.cfg)
	e.Expect(err).NotTo(HaveOccurred())
	rbacGroup := rbacv1.GroupName
	may := func(attrs authorizationv1.ResourceAttributes, url string) bool {
		spec := operatorUser
		if url != "" {
			spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: url, Verb: attrs.Verb}
		} else {
			spec.ResourceAttributes = &attrs
		}
		sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
		e.Expect(err).NotTo(HaveOccurred())
		return sar.Status.Allowed
	}
	for what, attrs := range map[string]authorizationv1.ResourceAttributes{
		"bind cluster-admin":                     {Verb: "bind", Group: rbacGroup, Resource: "clusterroles", Name: "cluster-admin"},
		"escalate its own role":                  {Verb: "escalate", Group: rbacGroup, Resource: "clusterroles", Name: "pipeline-service-operator"},
		"write its own role":                     {Verb: "patch", Group: rbacGroup, Resource: "clusterroles", Name: "pipeline-service-operator"},
		"rewrite a role it grants":               {Verb: "update", Group: rbacGroup, Resource: "clusterroles", Name: render.ExporterName},
		"create a ClusterRole":                   {Verb: "create", Group: rbacGroup, Resource: "clusterroles", Name: "mine"},
		"create a ClusterRoleBinding of another": {Verb: "create", Group: rbacGroup, Resource: "clusterrolebindings", Name: "someone-is-admin"},
		"patch cluster-admin's binding":          {Verb: "patch", Group: rbacGroup, Resource: "clusterrolebindings", Name: "cluster-admin"},
		"create a RoleBinding":                   {Verb: "create", Group: rbacGroup, Resource: "rolebindings", Namespace: "openshift-pipelines", Name: "x"},
		"patch a PipelineRun":                    {Verb: "patch", Group: "tekton.dev", Resource: "pipelineruns", Namespace: "user-tenant", Name: "build"},
		"patch a TaskRun":                        {Verb: "patch", Group: "tekton.dev", Resource: "taskruns", Namespace: "user-tenant", Name: "build"},
		"patch a ResolutionRequest":              {Verb: "patch", Group: "resolution.tekton.dev", Resource: "resolutionrequests", Namespace: "user-tenant", Name: "r"},
		"read a Secret":                          {Verb: "get", Resource: "secrets", Namespace: "openshift-pipelines", Name: "pipelines-as-code-secret"},
		"list Secrets":                           {Verb: "list", Resource: "secrets"},
		"list Pods":                              {Verb: "list", Resource: "pods"},
		"list Pods beyond the target namespace":  {Verb: "list", Resource: "pods", Namespace: "user-tenant"},
		"impersonate":                            {Verb: "impersonate", Resource: "users", Name: "admin"},
		"create a token for another account":     {Verb: "create", Resource: "serviceaccounts", Subresource: "token", Namespace: "kube-system", Name: "default"},
		"exec into a pod":                        {Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "openshift-pipelines", Name: "p"},
		"write a webhook configuration":          {Verb: "create", Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations"},
		"write a CRD":                            {Verb: "patch", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions", Name: "pipelineruns.tekton.dev"},
		"delete another's NetworkPolicy":         {Verb: "delete", Group: "networking.k8s.io", Resource: "networkpolicies", Namespace: "openshift-pipelines", Name: "deny-all"},
		"approve a CSR":                          {Verb: "approve", Group: "certificates.k8s.io", Resource: "signers", Name: "kubernetes.io/kube-apiserver-client"},
	} {
		e.Expect(may(attrs, "")).To(BeFalse(), "the operator may %s", what)
	}
	for _, url := range []string{"/metrics", "/backends"} {
		e.Expect(may(authorizationv1.ResourceAttributes{Verb: "get"}, url)).To(BeFalse(), "the operator may get %s", url)
	}
	for _, verb := range []string{"list", "watch"} {
		e.Expect(may(authorizationv1.ResourceAttributes{Verb: verb, Resource: "pods", Namespace: "openshift-pipelines"}, "")).To(BeTrue(), "%s the components' pods", verb)
	}
	for _, role := range render.GrantedRoles {
		e.Expect(may(authorizationv1.ResourceAttributes{Verb: "bind", Group: rbacGroup, Resource: "clusterroles", Name: role}, "")).To(BeTrue(), "bind %s", role)
		e.Expect(may(authorizationv1.ResourceAttributes{Verb: "create", Group: rbacGroup, Resource: "clusterrolebindings", Name: role}, "")).To(BeTrue(), "create binding %s", role)
	}
}

// TestOperatorRunsOnItsOwnRBAC runs the operator as its ServiceAccount with nothing but the
// RBAC in config/rbac, through install, approval of the pinned CSV, drift healing, metrics, a
// PipelineServiceHost's life and deletion with deletionPolicy Delete: any verb or resource missing from the markers fails
// here, and a list of what would make it cluster-admin is denied. Its metrics endpoint (HTTPS) lets a scraper in only with a token bound to the
// metrics-reader ClusterRole.
func TestOperatorRunsOnItsOwnRBAC(t *testing.T) {
	e := startControlPlane(t, nil)
	e.Expect(simulate.EnsureNamespaces(ctx, e.c, operatorNamespace)).To(Succeed())
	rbac := filepath.Join(testenv.RepoRoot(), "config", "rbac")
	for _, f := range []string{"service_account.yaml", "role.yaml", "role_binding.yaml", "leader_election_role.yaml", "metrics_reader_role.yaml", "children_roles.yaml", "component_pods_role.yaml"} {
		e.applyFile(filepath.Join(rbac, f))
	}
	e.forbidden()
	operatorCfg := rest.AnonymousClientConfig(e.cfg)
	operatorCfg.BearerToken = e.tokenFor("pipeline-service-operator")
	addr := freeAddr(t)
	e.runOperator(operatorCfg, manager.Options{MetricsAddr: addr, ProbeAddr: "0", LeaderElection: true, LeaderElectionNamespace: operatorNamespace})

	e.create(samples.Full, nil)
	e.waitForGolden("full.yaml")
	subNS, sub := stackSpec.SubscriptionNamespace, stackSpec.SubscriptionName
	e.Expect(simulate.CreateInstallPlan(ctx, e.c, subNS, sub, "install-pin", "RequiresApproval", csv505)).To(Succeed())
	e.Eventually(e.approved("install-pin"), timeout, poll).Should(BeTrue())
	e.Expect(simulate.CompleteInstallPlan(ctx, e.c, subNS, sub, "install-pin", csv505, "5.0.5")).To(Succeed())
	e.becomeHealthy(stack505)

	// Drift: a child deleted is put back.
	cs := e.object(children.GVKCatalogSource, stackSpec.CatalogNamespace, stackSpec.CatalogName)
	e.Expect(e.c.Delete(ctx, cs)).To(Succeed())
	e.Eventually(func() bool {
		o := e.object(children.GVKCatalogSource, stackSpec.CatalogNamespace, stackSpec.CatalogName)
		return o != nil && o.GetUID() != cs.GetUID()
	}, timeout, poll).Should(BeTrue())

	// Metrics: HTTPS, authenticated and authorized.
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	status := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := insecure.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	e.Eventually(func() int { return status("") }, timeout, poll).Should(Equal(http.StatusUnauthorized))
	e.Expect(status(e.tokenFor("someone"))).To(Equal(http.StatusForbidden))
	scraper := e.tokenFor("prometheus")
	binding := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": "prometheus-reads-pipeline-service-operator"},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pipeline-service-operator-metrics-reader"},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "prometheus", "namespace": operatorNamespace}},
	}}
	e.Expect(e.c.Create(ctx, binding)).To(Succeed())
	e.Eventually(func() int { return status(scraper) }, timeout, poll).Should(Equal(http.StatusOK))

	// The host, with dynamic backends: the operator binds registrants to a ClusterRole that
	// grants /backends, which RBAC lets it do only because it holds /backends itself.
	e.createHost(func(h *psv1alpha1.PipelineServiceHost) {
		h.Spec.DeletionPolicy = psv1alpha1.DeletionPolicyDelete
		h.Spec.SprayProxy.DynamicBackends = psv1alpha1.DynamicBackendsSpec{Enabled: true,
			Registrants: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "register", Namespace: "member-1"}}}
	})
	e.Eventually(func(g Gomega) {
		g.Expect(e.object(children.GVKClusterRoleBinding, "", "sprayproxy-backend-register")).NotTo(BeNil())
		g.Expect(e.object(children.GVKProxyPlugin, proxyPluginNamespace, "tekton-results")).NotTo(BeNil())
	}, timeout, poll).Should(Succeed())
	e.hostHealthy()
	e.Expect(e.c.Delete(ctx, e.getHost())).To(Succeed())
	e.Eventually(func() bool {
		return e.c.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, &psv1alpha1.PipelineServiceHost{}) != nil
	}, timeout, poll).Should(BeTrue(), "the host's finalizer is released")
	e.Expect(e.object(children.GVKDeployment, sprayProxyNamespace, "sprayproxy")).To(BeNil())
	e.Expect(e.object(children.GVKClusterRoleBinding, "", "sprayproxy-backend-register")).To(BeNil())
	e.Expect(e.object(children.GVKClusterRole, "", "sprayproxy-backend-register")).NotTo(BeNil(), "the role ships with the operator")

	// Deletion with deletionPolicy Delete removes every child, CSV included.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.DeletionPolicy = psv1alpha1.DeletionPolicyDelete })
	// The finalizer comes with the Delete policy; deleted before it, the parent would go at
	// once and leave its children, as Orphan does.
	e.Eventually(func() []string { return e.get().Finalizers }, timeout, poll).ShouldNot(BeEmpty())
	e.Expect(e.c.Delete(ctx, e.get())).To(Succeed())
	e.Eventually(func() bool {
		err := e.c.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, &psv1alpha1.PipelineService{})
		return err != nil
	}, timeout, poll).Should(BeTrue(), "the finalizer is released")
	e.Expect(e.object(children.GVKClusterServiceVersion, subNS, csv505)).To(BeNil())
}
