package testenv

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// TestThirdPartyCRDsAreServed starts a control plane with every third-party CRD and checks that
// each kind the operator works with is served, then installs the schemaless TektonConfig shape
// into a second control plane, as OSP up to v0.79 shipped it.
func TestThirdPartyCRDsAreServed(t *testing.T) {
	g := NewWithT(t)
	crds, err := AllThirdPartyCRDs()
	g.Expect(err).NotTo(HaveOccurred())
	env, cfg, err := Start(crds)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { g.Expect(env.Stop()).To(Succeed()) }()

	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	for _, gvk := range []schema.GroupVersionKind{
		{Group: "pipelineservice.appstudio.io", Version: "v1alpha1", Kind: "PipelineService"},
		{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "CatalogSource"},
		{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "Subscription"},
		{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "InstallPlan"},
		{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "ClusterServiceVersion"},
		{Group: "operators.coreos.com", Version: "v1", Kind: "OperatorGroup"},
		{Group: "operator.tekton.dev", Version: "v1alpha1", Kind: "TektonConfig"},
		{Group: "operator.openshift.io", Version: "v1alpha1", Kind: "ImageContentSourcePolicy"},
		{Group: "config.openshift.io", Version: "v1", Kind: "ImageDigestMirrorSet"},
		{Group: "external-secrets.io", Version: "v1", Kind: "ExternalSecret"},
		{Group: "external-secrets.io", Version: "v1beta1", Kind: "ExternalSecret"},
		{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"},
		{Group: "monitoring.coreos.com", Version: "v1", Kind: "PrometheusRule"},
	} {
		list, err := dc.ServerResourcesForGroupVersion(gvk.GroupVersion().String())
		g.Expect(err).NotTo(HaveOccurred(), gvk.String())
		kinds := []string{}
		for _, r := range list.APIResources {
			kinds = append(kinds, r.Kind)
		}
		g.Expect(kinds).To(ContainElement(gvk.Kind), gvk.String())
	}

	env2, cfg2, err := Start(nil)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { g.Expect(env2.Stop()).To(Succeed()) }()
	schemaless, err := SchemalessTektonConfigCRD()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(InstallCRDs(cfg2, schemaless)).To(Succeed())
}
