package render

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// productionExternalSecrets are the ExternalSecrets that stone-prod-p01 runs, verbatim.
func productionExternalSecrets(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	objs, err := testenv.ProductionObjects()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		if u.GetKind() == "ExternalSecret" {
			out[u.GetNamespace()+"/"+u.GetName()] = u
		}
	}
	return out
}

// TestExternalSecretsReproduceProduction expresses the six ExternalSecrets of stone-prod-p01
// (the GitHub App's through gitHubApp, the other five in spec.externalSecrets) and checks that
// each renders with exactly production's spec.
func TestExternalSecretsReproduceProduction(t *testing.T) {
	g := NewWithT(t)
	production := productionExternalSecrets(t)
	vault := psv1alpha1.SecretStoreRef{Kind: "ClusterSecretStore", Name: "appsre-vault"}
	stonesoup := psv1alpha1.SecretStoreRef{Kind: "ClusterSecretStore", Name: "appsre-stonesoup-vault"}
	every := func(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
	notPruned := &psv1alpha1.SecretTemplate{Metadata: psv1alpha1.SecretTemplateMetadata{
		Annotations: map[string]string{"argocd.argoproj.io/sync-options": "Prune=false"}}}
	chainsKey := "production/pipeline-service/stone-prod-p01/chains-signing-secret"
	s3 := func(namespace string) psv1alpha1.ExternalSecretSpec {
		return psv1alpha1.ExternalSecretSpec{Name: "tekton-results-s3", Namespace: namespace, SecretStoreRef: vault,
			DataFrom:        []psv1alpha1.ExternalSecretDataFrom{{Extract: psv1alpha1.RemoteKey{Key: "integrations-output/terraform-resources/appsrep09ue1/stone-prod-p01/stone-prod-p01-plnsvc-s3"}}},
			RefreshInterval: every(time.Hour),
			Target: &psv1alpha1.ExternalSecretTarget{CreationPolicy: "Owner", DeletionPolicy: "Delete", Template: &psv1alpha1.SecretTemplate{Data: map[string]string{
				"aws_access_key_id": "{{ .aws_access_key_id }}", "aws_region": "{{ .aws_region }}",
				"aws_secret_access_key": "{{ .aws_secret_access_key }}", "bucket": "{{ .bucket }}",
				"endpoint": "https://{{ .endpoint }}", "s3_url": "s3://{{ .bucket }}"}}}}
	}
	ps, err := samples.Load(samples.Minimal)
	g.Expect(err).NotTo(HaveOccurred())
	ps.Spec.ExternalSecrets = []psv1alpha1.ExternalSecretSpec{
		{Name: "tekton-chains-public-key", SecretStoreRef: stonesoup, RefreshInterval: every(5 * time.Minute),
			Data:   []psv1alpha1.ExternalSecretData{{SecretKey: "cosign.pub", RemoteRef: psv1alpha1.RemoteRef{Key: chainsKey, Property: "cosign.pub"}}},
			Target: &psv1alpha1.ExternalSecretTarget{Name: "public-key", CreationPolicy: "Orphan", Template: notPruned}},
		{Name: "tekton-chains-signing-secret", SecretStoreRef: stonesoup, RefreshInterval: every(5 * time.Minute),
			DataFrom: []psv1alpha1.ExternalSecretDataFrom{{Extract: psv1alpha1.RemoteKey{Key: chainsKey}}},
			Target:   &psv1alpha1.ExternalSecretTarget{Name: "signing-secrets", CreationPolicy: "Orphan", Template: notPruned}},
		s3("tekton-logging"),
		{Name: "tekton-results-database", Namespace: "tekton-results", SecretStoreRef: vault, RefreshInterval: every(time.Hour),
			DataFrom: []psv1alpha1.ExternalSecretDataFrom{{Extract: psv1alpha1.RemoteKey{Key: "integrations-output/external-resources/appsrep09ue1/stone-prod-p01/stone-prod-p01-plnsvc-rds"}}},
			Target:   &psv1alpha1.ExternalSecretTarget{CreationPolicy: "Owner", DeletionPolicy: "Delete"}},
		s3("tekton-results"),
	}
	ps.Spec.TektonConfig.PipelinesAsCode.GitHubApp = &psv1alpha1.GitHubAppSpec{SecretStoreRef: stonesoup,
		Key: "production/pipeline-service/stone-prod-p01/github-app", RefreshInterval: every(5 * time.Minute), DeletionPolicy: "Delete"}
	rendered := append(ExternalSecrets(ps, children.GVKExternalSecretV1.Version), ExternalSecret(ps, children.GVKExternalSecretV1.Version))
	g.Expect(rendered).To(HaveLen(len(production)))
	for _, u := range rendered {
		key := u.GetNamespace() + "/" + u.GetName()
		want, ok := production[key]
		g.Expect(ok).To(BeTrue(), "production has no ExternalSecret %s", key)
		g.Expect(u.GetAPIVersion()).To(Equal(want.GetAPIVersion()), key)
		g.Expect(u.Object["spec"]).To(Equal(want.Object["spec"]), key)
	}
}
