package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

var k8sClient client.Client

func TestMain(m *testing.M) {
	env, cfg, err := testenv.Start(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	k8sClient, err = client.New(cfg, client.Options{})
	code := 1
	if err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop envtest:", err)
	}
	os.Exit(code)
}

func loadSample(t *testing.T, file string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", file))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

const (
	minimal = "pipelineservice_minimal.yaml"
	full    = "pipelineservice_full.yaml"

	goodDigest = "@sha256:5c1e6ad2e2b1b3c6f0c3a4a5fb1a43c3aa2a6f6b7c2d86c41b0b7b9e5d0e4f11"
)

func TestSamplesAreAccepted(t *testing.T) {
	for _, file := range []string{minimal, full} {
		t.Run(file, func(t *testing.T) {
			g := NewWithT(t)
			obj := loadSample(t, file)
			g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed())
		})
	}
}

func TestMinimalSampleGetsDefaults(t *testing.T) {
	g := NewWithT(t)
	obj := loadSample(t, minimal)
	g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed())

	var ps psv1alpha1.PipelineService
	g.Expect(runtimeFromUnstructured(obj, &ps)).To(Succeed())
	spec := ps.Spec
	g.Expect(spec.Operator.CatalogSource.Name).To(Equal("pipeline-service-catalog"))
	g.Expect(spec.Operator.CatalogSource.Namespace).To(Equal("openshift-marketplace"))
	g.Expect(spec.Operator.Subscription.Name).To(Equal("openshift-pipelines-operator"))
	g.Expect(spec.Operator.Subscription.Namespace).To(Equal("openshift-operators"))
	g.Expect(spec.Operator.Subscription.Package).To(Equal("openshift-pipelines-operator-rh"))
	g.Expect(spec.TektonConfig.TargetNamespace).To(Equal("openshift-pipelines"))
	g.Expect(spec.TektonConfig.Profile).To(Equal("all"))
	g.Expect(spec.TektonConfig.Triggers.Enabled).To(BeFalse())
	g.Expect(spec.TektonConfig.Pruner.Mode).To(Equal(psv1alpha1.PrunerModeAuto))
	g.Expect(spec.TektonConfig.Pruner.Resources).To(Equal([]psv1alpha1.PrunerResource{"pipelinerun"}))
	g.Expect(spec.TektonConfig.Results.Enabled).To(BeTrue())
	g.Expect(spec.TektonConfig.Results.CompletedRunGracePeriod.Duration.String()).To(Equal("10m0s"))
	g.Expect(spec.TektonConfig.PipelinesAsCode.Enabled).To(BeTrue())
	g.Expect(spec.Exporter.Enabled).To(BeTrue())
	g.Expect(spec.Exporter.Replicas).To(Equal(int32(1)))
	g.Expect(string(spec.Exporter.Image)).To(HavePrefix("quay.io/konflux-ci/pipeline-service-exporter:"))
	g.Expect(spec.Exporter.Resources.Requests.Cpu().String()).To(Equal("250m"))
	g.Expect(spec.Exporter.Resources.Limits.Memory().String()).To(Equal("512Mi"))
	g.Expect(spec.Exporter.ServiceMonitor).To(BeTrue())
	g.Expect(spec.DeletionPolicy).To(Equal(psv1alpha1.DeletionPolicyOrphan))
}

// TestBadInputIsRefusedAtAdmission sends invalid objects and checks that the API server refuses
// each with a message naming the offending field. The cases are samples.RefusedMembers, which
// validate's tests run too (validate_test.go at the root).
func TestBadInputIsRefusedAtAdmission(t *testing.T) {
	if len(samples.RefusedMembers) < 40 {
		t.Fatalf("want at least 40 bad objects, have %d", len(samples.RefusedMembers))
	}
	expectRefused(t, samples.RefusedMembers)
}

// expectRefused sends each case to the API server and expects a 422 naming the field.
func expectRefused(t *testing.T, cases []samples.Refused) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			g := NewWithT(t)
			obj := loadSample(t, tc.Sample)
			tc.Mutate(obj.Object)
			err := k8sClient.Create(context.Background(), obj, client.DryRunAll)
			g.Expect(err).To(HaveOccurred(), "the API server accepted it")
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want 422 Invalid, got %v", err)
			g.Expect(err.Error()).To(ContainSubstring(tc.Field+":"), "the message must name the field")
		})
	}
}

func TestDigestImagesAreAccepted(t *testing.T) {
	for _, image := range []string{
		"quay.io/org/index" + goodDigest,
		"quay.io/org/index:4.19" + goodDigest,
		"localhost:5000/index:next",
		"registry.redhat.io/openshift-pipelines/pipelines-index-rhel9:v5.0",
	} {
		g := NewWithT(t)
		obj := loadSample(t, minimal)
		samples.Set("spec.operator.catalogSource.image", image)(obj.Object)
		g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed(), image)
	}
}

func runtimeFromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

// TestTargetNamespaceIsImmutable: OSP refuses to move a TektonConfig to another namespace, so
// the PipelineService refuses the change at admission, with a message that says how to move.
func TestTargetNamespaceIsImmutable(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	obj := loadSample(t, full)
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	defer func() { g.Expect(k8sClient.Delete(ctx, obj)).To(Succeed()) }()

	samples.Set("spec.exporter.replicas", int64(2))(obj.Object)
	g.Expect(k8sClient.Update(ctx, obj)).To(Succeed(), "other fields still change")

	samples.Set("spec.tektonConfig.targetNamespace", "tekton-pipelines")(obj.Object)
	err := k8sClient.Update(ctx, obj)
	g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want 422 Invalid, got %v", err)
	g.Expect(err.Error()).To(ContainSubstring("spec.tektonConfig.targetNamespace: Invalid value"))
	g.Expect(err.Error()).To(ContainSubstring("deletionPolicy Orphan"))
	g.Expect(err.Error()).To(ContainSubstring("delete TektonConfig 'config'"))
}

func TestCatalogServedByAddressIsAccepted(t *testing.T) {
	for _, address := range []string{"catalog.openshift-marketplace.svc:50051", "127.0.0.1:50051", "opm:1"} {
		g := NewWithT(t)
		obj := loadSample(t, minimal)
		samples.Then(samples.Del("spec.operator.catalogSource.image"), samples.Set("spec.operator.catalogSource.address", address))(obj.Object)
		g.Expect(k8sClient.Create(context.Background(), obj, client.DryRunAll)).To(Succeed(), address)
	}
}
