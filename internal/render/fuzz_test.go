package render

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/utils/ptr"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
)

// FuzzRenderAndReview renders random specs (the full sample with random overrides, a random
// PaC setting, schedule, buckets, keep and pruner mode) and reviews the TektonConfig with OSP's
// admission code, as the reconciler does. Whatever the input: no panic, the same output for
// the same input, and every error names a field. `go test` runs the seed corpus in
// testdata/fuzz/FuzzRenderAndReview; `go test -fuzz=FuzzRenderAndReview ./internal/render`
// explores further.
func FuzzRenderAndReview(f *testing.F) {
	f.Add(`{"pipeline": {"performance": {"buckets": 12}}}`, "remember-ok-to-test", "true", "*/10 * * * *", int32(4), int32(0), uint8(0))
	f.Add(`{"platforms": {"kubernetes": {"pipelinesAsCode": {"settings": {}}}}}`, "hub-url", "", "@daily", int32(1), int32(5), uint8(1))
	base, err := samples.Load(samples.Full)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, overrides, key, value, schedule string, buckets, keep int32, mode uint8) {
		ps := base.DeepCopy()
		tc := &ps.Spec.TektonConfig
		if json.Valid([]byte(overrides)) {
			tc.Overrides = &apiextensionsv1.JSON{Raw: []byte(overrides)}
		}
		if key != "" {
			tc.PipelinesAsCode.Settings = map[string]string{key: value}
		}
		tc.Pruner.Schedule = schedule
		tc.Pruner.Mode = []psv1alpha1.PrunerMode{psv1alpha1.PrunerModeAuto, psv1alpha1.PrunerModeEnabled, psv1alpha1.PrunerModeDisabled}[int(mode)%3]
		tc.Performance.Buckets = ptr.To(buckets)
		if keep != 0 {
			tc.Pruner.Keep, tc.Pruner.KeepSince = ptr.To(keep), nil
		}

		first, errFirst := renderAndReview(ps)
		second, errSecond := renderAndReview(ps)
		if first != second || errText(errFirst) != errText(errSecond) {
			t.Fatalf("not deterministic:\n%s\n%v\n---\n%s\n%v", first, errFirst, second, errSecond)
		}
		var invalid *InvalidTektonConfigError
		if errFirst != nil && (!errors.As(errFirst, &invalid) || !strings.HasPrefix(invalid.Field, "spec")) {
			t.Fatalf("an error that names no field: %v", errFirst)
		}
	})
}

// renderAndReview renders ps and reviews its TektonConfig; it returns the objects and the
// refusals as text, and an error that names no field fails the test through the caller.
func renderAndReview(ps *psv1alpha1.PipelineService) (string, error) {
	d, err := Render(ps, allCaps)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	for _, o := range d.Objects {
		data, err := json.Marshal(o.Object)
		if err != nil {
			return "", err
		}
		out.Write(data)
		if o.GroupVersionKind() != children.GVKTektonConfig {
			continue
		}
		for _, e := range osp.Review(o, nil) {
			if !strings.HasPrefix(e.Path, "spec") && !strings.HasPrefix(e.Path, "metadata") || e.Message == "" {
				return "", &InvalidTektonConfigError{Field: "", Problem: "a refusal that names no field: " + e.Error()}
			}
			out.WriteString("\n" + FieldPath(ps, e.Path) + ": " + e.Message)
		}
	}
	return out.String(), nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
