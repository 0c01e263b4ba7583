package osp_test

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
)

// TestUpstreamPanicIsARefusal: on the Kubernetes platform path, tektoncd/operator v0.81.0's
// SetDefaults dereferences a nil spec.platforms.kubernetes.pipelinesAsCode.enable. Played
// here by switching the process's platform for this test only, the panic comes back as a
// refusal on spec, never a crash.
func TestUpstreamPanicIsARefusal(t *testing.T) {
	g := NewWithT(t)
	t.Setenv("PLATFORM", "kubernetes")
	tc := typed(t, config(t, `{"platforms": {"kubernetes": {"pipelinesAsCode": {"settings": {"hub-url": "https://hub.example.com"}}}}}`))
	err := osp.Default(t.Context(), tc)
	g.Expect(err).NotTo(BeNil(), "upstream SetDefaults no longer panics here; the guard is untested")
	g.Expect(err.Path).To(Equal("spec"))
	g.Expect(err.Message).To(ContainSubstring("SetDefaults panicked"))
}
