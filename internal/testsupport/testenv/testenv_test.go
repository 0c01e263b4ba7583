package testenv

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
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
	// Every version of every kind of the registry, and what tests create besides.
	gvks := []schema.GroupVersionKind{
		{Group: "pipelineservice.appstudio.io", Version: "v1alpha1", Kind: "PipelineService"},
		{Group: "pipelineservice.appstudio.io", Version: "v1alpha1", Kind: "PipelineServiceHost"},
		{Group: "operators.coreos.com", Version: "v1", Kind: "OperatorGroup"},
		{Group: "monitoring.coreos.com", Version: "v1", Kind: "PrometheusRule"},
	}
	for _, k := range children.Kinds {
		gvks = append(gvks, k.Versions()...)
	}
	for _, gvk := range gvks {
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
