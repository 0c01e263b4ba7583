package render

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var allCaps = children.AllServed()

func load(t *testing.T, name string) *psv1alpha1.PipelineService {
	t.Helper()
	ps, err := samples.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func toYAML(t *testing.T, objs []*unstructured.Unstructured) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(data)
	}
	return buf.Bytes()
}

// TestRenderGolden renders each sample and compares every object with testdata/*.yaml.
// Run `go test ./internal/render -update` after an intended change and review the diff.
func TestRenderGolden(t *testing.T) {
	for _, tc := range []struct {
		golden, sample string
	}{
		{"full.yaml", samples.Full},
		{"minimal.yaml", samples.Minimal},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			g := NewWithT(t)
			d, err := Render(load(t, tc.sample), allCaps)
			g.Expect(err).NotTo(HaveOccurred())
			got := toYAML(t, d.Objects)
			file := filepath.Join("testdata", tc.golden)
			if *update {
				g.Expect(os.WriteFile(file, got, 0o644)).To(Succeed())
			}
			want, err := os.ReadFile(file)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(got)).To(Equal(string(want)), "run 'go test ./internal/render -update' and review the diff")
		})
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	g := NewWithT(t)
	ps := load(t, samples.Full)
	ps.Spec.Operator.Subscription.ImageOverrides = map[string]psv1alpha1.ImageReference{
		"IMAGE_C": "quay.io/c:1", "IMAGE_A": "quay.io/a:1", "IMAGE_B": "quay.io/b:1",
	}
	first, err := Render(ps, allCaps)
	g.Expect(err).NotTo(HaveOccurred())
	for range 20 {
		again, err := Render(ps, allCaps)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(toYAML(t, again.Objects)).To(Equal(toYAML(t, first.Objects)))
	}
}

func find(d *Desired, kind string) *unstructured.Unstructured {
	for _, o := range d.Objects {
		if o.GetKind() == kind {
			return o
		}
	}
	return nil
}

func field(o *unstructured.Unstructured, path ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(o.Object, path...)
	return v
}

func TestSubscriptionPinning(t *testing.T) {
	g := NewWithT(t)
	ps := load(t, samples.Full)
	sub, err := Subscription(ps)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(field(sub, "spec", "startingCSV")).To(Equal("openshift-pipelines-operator-rh.v5.0.5"))
	g.Expect(field(sub, "spec", "installPlanApproval")).To(Equal("Manual"))

	ps.Spec.Operator.Subscription.CSV = ""
	sub, err = Subscription(ps)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(field(sub, "spec", "startingCSV")).To(BeNil())
	g.Expect(field(sub, "spec", "installPlanApproval")).To(Equal("Automatic"))
}

func TestSubscriptionEnvIsSortedWithAutoinstallOff(t *testing.T) {
	g := NewWithT(t)
	ps := load(t, samples.Full)
	ps.Spec.Operator.Subscription.ImageOverrides = map[string]psv1alpha1.ImageReference{"IMAGE_Z": "quay.io/z:1", "IMAGE_B": "quay.io/b:1"}
	sub, err := Subscription(ps)
	g.Expect(err).NotTo(HaveOccurred())
	var names []any
	for _, e := range field(sub, "spec", "config", "env").([]any) {
		names = append(names, e.(map[string]any)["name"])
	}
	g.Expect(names).To(Equal([]any{"AUTOINSTALL_COMPONENTS", "IMAGE_B", "IMAGE_Z", "LOG_LEVEL"}))
	g.Expect(field(sub, "spec", "config", "env").([]any)[0]).To(Equal(map[string]any{"name": "AUTOINSTALL_COMPONENTS", "value": "false"}))
}

// TestRevertImages: revertImagesTo turns the images recorded for the previous build into
// the Subscription's image variables, under imageOverrides and env, which win; a build that is
// not the recorded one, or whose images were not read, is refused with what is recorded; and
// the recorded build is a render input only while the spec reverts to it.
func TestRevertImages(t *testing.T) {
	g := NewWithT(t)
	ps := load(t, samples.Full)
	sub := &ps.Spec.Operator.Subscription
	sub.ImageOverrides = map[string]psv1alpha1.ImageReference{"IMAGE_A": "a:hotfix"}
	sub.Env = append(sub.Env, corev1.EnvVar{Name: "IMAGE_C", Value: "c:env"})
	g.Expect(RenderInputs(ps)).To(BeEmpty())

	sub.RevertImagesTo = "osp.v5.0.5"
	overrides, err := ImageOverrides(ps)
	g.Expect(err).To(MatchError(ContainSubstring("no previous build is recorded")))
	g.Expect(overrides).To(Equal(map[string]Override{"IMAGE_A": {Image: "a:hotfix", Source: psv1alpha1.OverrideSourceImageOverrides}}),
		"imageOverrides alone while the revert cannot be resolved")
	_, err = Subscription(ps)
	g.Expect(err).To(MatchError(ContainSubstring("no previous build is recorded")), "the render is refused")

	ps.Status.Upgrade = &psv1alpha1.UpgradeStatus{From: "osp.v5.0.5", To: "osp.v5.0.6", Previous: &psv1alpha1.BuildImages{CSV: "osp.v5.0.5"}}
	_, err = ImageOverrides(ps)
	g.Expect(err).To(MatchError(ContainSubstring("whose images are not recorded")))

	ps.Status.Upgrade.Previous.Images = []psv1alpha1.ImageVariable{{Name: "IMAGE_A", Image: "a:5"}, {Name: "IMAGE_B", Image: "b:5"}, {Name: "IMAGE_C", Image: "c:5"}}
	sub.RevertImagesTo = "osp.v5.0.4"
	_, err = ImageOverrides(ps)
	var revert *RevertError
	g.Expect(errors.As(err, &revert)).To(BeTrue())
	g.Expect(revert.Message).To(ContainSubstring("names osp.v5.0.4, but the recorded previous build is osp.v5.0.5"))

	sub.RevertImagesTo = "osp.v5.0.5"
	overrides, err = ImageOverrides(ps)
	g.Expect(err).NotTo(HaveOccurred())
	env := SubscriptionEnv(*sub, overrides)
	g.Expect(env).To(ContainElements(
		corev1.EnvVar{Name: "IMAGE_A", Value: "a:hotfix"}, corev1.EnvVar{Name: "IMAGE_B", Value: "b:5"}, corev1.EnvVar{Name: "IMAGE_C", Value: "c:env"}))
	g.Expect(env).NotTo(ContainElement(corev1.EnvVar{Name: "IMAGE_C", Value: "c:5"}), "env names IMAGE_C")
	g.Expect(overrides).To(Equal(map[string]Override{
		"IMAGE_A": {Image: "a:hotfix", Source: psv1alpha1.OverrideSourceImageOverrides},
		"IMAGE_B": {Image: "b:5", Source: psv1alpha1.OverrideSourceRevert},
	}))
	g.Expect(RenderInputs(ps)).To(Equal("osp.v5.0.5/3"))
}

func TestPrunerModes(t *testing.T) {
	grace := func(d string) *metav1.Duration {
		v, err := time.ParseDuration(d)
		if err != nil {
			t.Fatal(err)
		}
		return &metav1.Duration{Duration: v}
	}
	for _, tc := range []struct {
		name       string
		mode       psv1alpha1.PrunerMode
		results    bool
		grace      *metav1.Duration
		wantPruner map[string]any
	}{
		{"Auto with Results deleting runs", psv1alpha1.PrunerModeAuto, true, grace("10m"), map[string]any{"disabled": true}},
		{"Auto with Results keeping runs", psv1alpha1.PrunerModeAuto, true, grace("0s"), enabledPruner()},
		{"Auto with Results off", psv1alpha1.PrunerModeAuto, false, grace("10m"), enabledPruner()},
		{"Enabled with Results deleting runs", psv1alpha1.PrunerModeEnabled, true, grace("10m"), enabledPruner()},
		{"Disabled without Results", psv1alpha1.PrunerModeDisabled, false, nil, map[string]any{"disabled": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ps := load(t, samples.Full)
			ps.Spec.TektonConfig.Pruner.Mode = tc.mode
			ps.Spec.TektonConfig.Results.Enabled = tc.results
			ps.Spec.TektonConfig.Results.CompletedRunGracePeriod = tc.grace
			tcfg, err := TektonConfig(ps)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(field(tcfg, "spec", "pruner")).To(Equal(tc.wantPruner))
			g.Expect(field(tcfg, "spec", "tektonpruner", "disabled")).To(Equal(true), "both pruners on breaks ComponentsReady")
			g.Expect(field(tcfg, "spec", "result", "disabled")).To(Equal(!tc.results))
		})
	}
}

// enabledPruner is the full sample's pruner settings, rendered enabled.
func enabledPruner() map[string]any {
	return map[string]any{"disabled": false, "schedule": "*/10 * * * *", "resources": []any{"pipelinerun"}, "keep-since": int64(60)}
}

func TestTriggers(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		g := NewWithT(t)
		ps := load(t, samples.Full)
		ps.Spec.TektonConfig.Triggers.Enabled = enabled
		tcfg, err := TektonConfig(ps)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(field(tcfg, "spec", "trigger")).To(Equal(map[string]any{"disabled": !enabled}))
	}
}

func withOverrides(t *testing.T, raw string) *psv1alpha1.PipelineService {
	t.Helper()
	ps := load(t, samples.Full)
	ps.Spec.TektonConfig.Overrides = &apiextensionsv1.JSON{Raw: []byte(raw)}
	return ps
}

func TestOverridesAreMergedLast(t *testing.T) {
	g := NewWithT(t)
	ps := withOverrides(t, `{"pipeline": {"enable-step-actions": true, "performance": {"buckets": 8}},
		"trigger": {"disabled": false}, "platforms": {"openshift": {"pipelinesAsCode": {"settings": {"hub-url": "https://hub"}}}},
		"result": {"watcher": null}}`)
	tcfg, err := TektonConfig(ps)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(field(tcfg, "spec", "pipeline", "enable-step-actions")).To(Equal(true))
	g.Expect(field(tcfg, "spec", "pipeline", "performance", "buckets")).To(Equal(int64(8)), "an override wins over a field")
	g.Expect(field(tcfg, "spec", "pipeline", "performance", "replicas")).To(Equal(int64(2)), "merged, not replaced")
	g.Expect(field(tcfg, "spec", "trigger", "disabled")).To(Equal(false))
	g.Expect(field(tcfg, "spec", "platforms", "openshift", "pipelinesAsCode", "settings", "hub-url")).To(Equal("https://hub"))
	g.Expect(field(tcfg, "spec", "platforms", "openshift", "pipelinesAsCode", "settings", "application-name")).To(Equal("Red Hat Konflux"))
	g.Expect(field(tcfg, "spec", "result", "watcher")).To(BeNil(), "null removes a key (RFC 7386)")
}

func TestInvalidTektonConfigNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name, overrides, wantField string
	}{
		{"unknown field (the production typo)", `{"pruner": {"disable": true}}`, "spec.pruner.disable"},
		{"unknown top-level field", `{"pipelines": {}}`, "spec.pipelines"},
		{"wrong type", `{"pruner": {"keep": "ten"}}`, "spec.pruner.keep"},
		{"wrong type deep down", `{"pipeline": {"performance": {"buckets": "four"}}}`, "spec.pipeline.performance.buckets"},
		{"misspelt PaC enable", `{"platforms": {"openshift": {"pipelinesAsCode": {"enabled": true}}}}`, "spec.platforms.openshift.pipelinesAsCode.enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := Render(withOverrides(t, tc.overrides), allCaps)
			var invalid *InvalidTektonConfigError
			g.Expect(errors.As(err, &invalid)).To(BeTrue(), "got %v", err)
			g.Expect(invalid.Field).To(Equal(tc.wantField))
			g.Expect(err.Error()).To(ContainSubstring(tc.wantField))
		})
	}
}

func TestCapabilities(t *testing.T) {
	g := NewWithT(t)
	ps := load(t, samples.Full)

	d, err := Render(ps, children.Served{children.GVKIDMS: true, children.GVKExternalSecretBeta: true})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(find(d, "ImageContentSourcePolicy")).To(BeNil())
	idms := find(d, "ImageDigestMirrorSet")
	g.Expect(idms).NotTo(BeNil(), "IDMS where ICSP is not served")
	g.Expect(field(idms, "spec", "imageDigestMirrors")).To(Equal([]any{map[string]any{
		"source": "registry.redhat.io/openshift-pipelines", "mirrors": []any{"quay.io/openshift-pipeline"}}}))
	g.Expect(find(d, "ExternalSecret").GetAPIVersion()).To(Equal("external-secrets.io/v1beta1"))
	g.Expect(find(d, "ServiceMonitor")).NotTo(BeNil(), "rendered; the caller reports it missing where it is not served")

	// With neither mirror kind served, the ICSP is rendered (and reported missing by the
	// caller), and ExternalSecret as its preferred version.
	d, err = Render(ps, children.Served{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(find(d, "ImageContentSourcePolicy")).NotTo(BeNil())
	g.Expect(find(d, "ExternalSecret").GetAPIVersion()).To(Equal("external-secrets.io/v1"))
}

func TestOptionalChildren(t *testing.T) {
	g := NewWithT(t)
	ps := load(t, samples.Full)
	ps.Spec.Mirrors = nil
	ps.Spec.TektonConfig.PipelinesAsCode.GitHubApp = nil
	ps.Spec.Exporter.Enabled = false
	ps.Spec.ExternalSecrets = nil
	d, err := Render(ps, allCaps)
	g.Expect(err).NotTo(HaveOccurred())
	var kinds []string
	for _, o := range d.Objects {
		kinds = append(kinds, o.GetKind())
	}
	g.Expect(kinds).To(Equal([]string{"Namespace", "CatalogSource", "Subscription", "TektonConfig"}))

	ps.Spec.Exporter.Enabled = true
	ps.Spec.Exporter.ServiceMonitor = false
	d, err = Render(ps, allCaps)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(find(d, "Deployment")).NotTo(BeNil())
	g.Expect(find(d, "ServiceMonitor")).To(BeNil())
}

func TestPerformanceOnlyWhenSet(t *testing.T) {
	g := NewWithT(t)
	ps := load(t, samples.Full)
	ps.Spec.TektonConfig.Overrides = nil
	ps.Spec.TektonConfig.Performance = nil
	tcfg, err := TektonConfig(ps)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(field(tcfg, "spec", "pipeline")).To(BeNil())

	ps.Spec.TektonConfig.Performance = &psv1alpha1.PerformanceSpec{Buckets: ptr.To[int32](2)}
	tcfg, err = TektonConfig(ps)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(field(tcfg, "spec", "pipeline", "performance")).To(Equal(map[string]any{"buckets": int64(2), "disable-ha": false}))
}

// TestFieldPathNamesThePipelineServiceField: a TektonConfig field is named where the
// PipelineService sets it.
func TestFieldPathNamesThePipelineServiceField(t *testing.T) {
	ps := withOverrides(t, `{"pipeline": {"performance": {"statefulset-ordinals": true}}, "pruner": {"resources": ["pods"]}}`)
	for tcPath, want := range map[string]string{
		"spec.pipeline.performance.buckets":                                     "spec.tektonConfig.performance.buckets",
		"spec.pipeline.performance.statefulset-ordinals":                        "spec.tektonConfig.overrides.pipeline.performance.statefulset-ordinals",
		"spec.pruner.resources[0]":                                              "spec.tektonConfig.overrides.pruner.resources[0]",
		"spec.pruner.keep-since":                                                "spec.tektonConfig.pruner.keepSince",
		"spec.targetNamespace":                                                  "spec.tektonConfig.targetNamespace",
		"spec.platforms.openshift.pipelinesAsCode.settings.custom-console-url":  "spec.tektonConfig.pipelinesAsCode.console.url",
		"spec.platforms.openshift.pipelinesAsCode.settings.remember-ok-to-test": "spec.tektonConfig.pipelinesAsCode.settings.remember-ok-to-test",
		"spec.result.watcher.completed_run_grace_period":                        "spec.tektonConfig.results.completedRunGracePeriod",
		"spec.chain.artifacts.oci.storage":                                      "TektonConfig spec.chain.artifacts.oci.storage",
	} {
		NewWithT(t).Expect(FieldPath(ps, tcPath)).To(Equal(want), tcPath)
	}
}

// TestSamplesPassOSPAdmission: the TektonConfig each sample renders is one OSP's own
// SetDefaults and Validate accept as it is, created or updated. (The environment overlays are
// checked the same way in config/overlays_test.go.)
func TestSamplesPassOSPAdmission(t *testing.T) {
	for _, sample := range []string{samples.Minimal, samples.Full} {
		t.Run(sample, func(t *testing.T) {
			g := NewWithT(t)
			tc, err := TektonConfig(load(t, sample))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(osp.Review(tc, nil)).To(BeEmpty())
			g.Expect(osp.Review(tc, tc)).To(BeEmpty())
		})
	}
}

func TestDurationIsPrintedAsManifestsWriteIt(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5m", time.Hour: "1h", 90 * time.Minute: "1h30m", 30 * time.Second: "30s",
		90 * time.Second: "1m30s", 0: "0s", 2*time.Hour + 30*time.Second: "2h0m30s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(want); err != nil || back != d {
			t.Errorf("%q parses as %v, %v; want %v", want, back, err, d)
		}
	}
}

func TestCatalogSourceServedByAddress(t *testing.T) {
	g := NewWithT(t)
	ps := load(t, samples.Minimal)
	ps.Spec.Operator.CatalogSource.Image = ""
	ps.Spec.Operator.CatalogSource.Address = "catalog.openshift-marketplace.svc:50051"
	spec := CatalogSource(ps).Object["spec"].(map[string]any)
	g.Expect(spec).To(HaveKeyWithValue("address", "catalog.openshift-marketplace.svc:50051"))
	g.Expect(spec).NotTo(HaveKey("image"))
	g.Expect(spec).To(HaveKeyWithValue("sourceType", "grpc"))
}
