package controllers_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

// TestHostAndMemberOnOneCluster: a cluster may run both kinds, here with SprayProxy in the
// PipelineService's target namespace. They share kinds, caches and that namespace but no other
// object: neither lists the other's children, neither rewrites what the other applied, and
// deleting the host with deletionPolicy Delete leaves the PipelineService's objects alone.
func TestHostAndMemberOnOneCluster(t *testing.T) {
	e := startOperator(t, nil)
	shared := stackSpec.TargetNamespace
	// The host first: the PipelineService's first pass recovers its inventory from the labelled
	// objects, and must not take the host's for its own and prune them.
	e.createHost(func(h *psv1alpha1.PipelineServiceHost) {
		h.Spec.DeletionPolicy = psv1alpha1.DeletionPolicyDelete
		h.Spec.SprayProxy.Namespace = shared
	})
	e.Eventually(func() *unstructured.Unstructured {
		return e.object(children.GVKDeployment, shared, render.SprayProxyName)
	}, timeout, poll).ShouldNot(BeNil())
	e.create(samples.Full, nil)
	member := e.waitForGolden("full.yaml")
	e.waitQuiet()
	e.waitHostQuiet()
	host := e.getHost().Status.Inventory
	e.Expect(host).To(HaveLen(12))
	for _, entry := range host {
		e.Expect(e.object(schema.FromAPIVersionAndKind(entry.APIVersion, entry.Kind), entry.Namespace, entry.Name)).NotTo(BeNil(), "%v", entry)
		if entry.Kind != "Namespace" {
			e.Expect(e.get().Status.Inventory).NotTo(ContainElement(entry))
		}
	}

	// Both are reconciled again and neither writes: the shared namespace is rendered alike.
	mark := e.writeMark()
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Annotations = map[string]string{"touched": "yes"} })
	e.updateHost(func(h *psv1alpha1.PipelineServiceHost) { h.Annotations = map[string]string{"touched": "yes"} })
	e.waitNoWrites()
	e.Expect(e.writesSince(mark)).To(BeEmpty())

	e.Expect(e.c.Delete(t.Context(), e.getHost())).To(Succeed())
	e.Eventually(func() bool {
		return e.c.Get(context.Background(), client.ObjectKey{Name: psv1alpha1.Name}, &psv1alpha1.PipelineServiceHost{}) != nil
	}, timeout, poll).Should(BeTrue())
	e.Expect(e.object(children.GVKDeployment, shared, render.SprayProxyName)).To(BeNil())
	for _, w := range member {
		e.Expect(e.object(w.GroupVersionKind(), w.GetNamespace(), w.GetName())).NotTo(BeNil(), "%s %s", w.GetKind(), w.GetName())
	}
}
