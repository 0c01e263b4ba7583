package health

import (
	"strings"
	"testing"

	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// pipelinesController is OSP's controller Deployment as it renders it from tektoncd/pipeline's
// config/controller.yaml: the container named as the Deployment, its entrypoint image an
// argument.
func pipelinesController(image, entrypoint string) appsv1.Deployment {
	d := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "tekton-pipelines-controller", Namespace: "openshift-pipelines",
		Labels: map[string]string{"operator.tekton.dev/operand-name": "tektoncd-pipelines"}}}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "tekton-pipelines-controller", Image: image,
		Args: []string{"-entrypoint-image", entrypoint, "-namespace", "openshift-pipelines"}}}
	return d
}

func env(kv ...string) []corev1.EnvVar {
	var out []corev1.EnvVar
	for i := 0; i < len(kv); i += 2 {
		out = append(out, corev1.EnvVar{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// TestStale: a container is stale when OSP's own transformer, given the operator's
// environment, would render another image or image argument for it; variables of another
// component's prefix, and workloads OSP did not label, are ignored.
func TestStale(t *testing.T) {
	for name, tc := range map[string]struct {
		deployment appsv1.Deployment
		env        []corev1.EnvVar
		want       []string
	}{
		"no variables": {pipelinesController("ctrl:1", "ep:1"), nil, nil},
		"the running image": {pipelinesController("ctrl:1", "ep:1"),
			env("IMAGE_PIPELINES_TEKTON_PIPELINES_CONTROLLER", "ctrl:1"), nil},
		"a hot-fix image": {pipelinesController("ctrl:1", "ep:1"),
			env("IMAGE_PIPELINES_TEKTON_PIPELINES_CONTROLLER", "ctrl:2"),
			[]string{"Deployment/tekton-pipelines-controller container tekton-pipelines-controller runs ctrl:1, wants ctrl:2"}},
		"an image argument": {pipelinesController("ctrl:1", "ep:1"),
			env("IMAGE_PIPELINES_ARG__ENTRYPOINT_IMAGE", "ep:2"),
			[]string{"Deployment/tekton-pipelines-controller container tekton-pipelines-controller argument runs ep:1, wants ep:2"}},
		"another component's variable": {pipelinesController("ctrl:1", "ep:1"),
			env("IMAGE_TRIGGERS_TEKTON_PIPELINES_CONTROLLER", "ctrl:2"), nil},
		"a workload OSP did not label": {func() appsv1.Deployment {
			d := pipelinesController("ctrl:1", "ep:1")
			d.Labels = nil
			return d
		}(), env("IMAGE_PIPELINES_TEKTON_PIPELINES_CONTROLLER", "ctrl:2"), nil},
	} {
		t.Run(name, func(t *testing.T) {
			workloads, err := Workloads([]appsv1.Deployment{tc.deployment}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range workloads {
				stale, err := Stale(w, Images(tc.env, w.Component))
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range stale {
					got = append(got, s.String())
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("stale:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestOverridesApplied: the condition's status and reason for each state of the rollout.
func TestOverridesApplied(t *testing.T) {
	rolled := func(e []corev1.EnvVar) *appsv1.Deployment {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "openshift-pipelines-operator", Namespace: "openshift-operators", Generation: 2}}
		d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "operator", Env: e}}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, UpdatedReplicas: 1, AvailableReplicas: 1}
		return d
	}
	asked := map[string]string{"IMAGE_PIPELINES_TEKTON_PIPELINES_CONTROLLER": "ctrl:2"}
	operator := rolled(env("IMAGE_PIPELINES_TEKTON_PIPELINES_CONTROLLER", "ctrl:2"))
	workloads, _ := Workloads([]appsv1.Deployment{pipelinesController("ctrl:1", "ep:1")}, nil)
	stale, _ := Stale(workloads[0], Images(operator.Spec.Template.Spec.Containers[0].Env, workloads[0].Component))
	addon := Workload{Kind: "Deployment", Name: "console-plugin", Component: components["openshift-pipelines-addons"]}
	for name, tc := range map[string]struct {
		in          Overrides
		status      metav1.ConditionStatus
		reason      string
		progressing bool
	}{
		"no operator Deployment yet":   {Overrides{Asked: asked}, metav1.ConditionUnknown, psv1alpha1.ReasonComponentsNotObserved, true},
		"OLM has not set the variable": {Overrides{Asked: asked, Operator: rolled(nil)}, metav1.ConditionFalse, psv1alpha1.ReasonOperatorRolling, true},
		"the operator is rolling": {Overrides{Asked: asked, Operator: func() *appsv1.Deployment {
			d := operator.DeepCopy()
			d.Status.UpdatedReplicas = 0
			return d
		}()}, metav1.ConditionFalse, psv1alpha1.ReasonOperatorRolling, true},
		"current":                {Overrides{Asked: asked, Operator: operator}, metav1.ConditionTrue, psv1alpha1.ReasonComponentsCurrent, false},
		"stale, refreshing":      {Overrides{Asked: asked, Operator: operator, Stale: stale, Mode: psv1alpha1.OverridesRefresh}, metav1.ConditionFalse, psv1alpha1.ReasonComponentsRefreshing, true},
		"stale, Report":          {Overrides{Asked: asked, Operator: operator, Stale: stale, Mode: psv1alpha1.OverridesReport}, metav1.ConditionFalse, psv1alpha1.ReasonComponentsStale, false},
		"stale, upgrade running": {Overrides{Asked: asked, Operator: operator, Stale: stale, UpgradeRunning: true}, metav1.ConditionFalse, psv1alpha1.ReasonComponentsStale, true},
		"stale, no options to refresh through": {Overrides{Asked: asked, Operator: operator,
			Stale: []StaleContainer{{Workload: addon, Container: "plugin", Running: "a", Wanted: "b"}}}, metav1.ConditionFalse, psv1alpha1.ReasonComponentsStale, false},
	} {
		t.Run(name, func(t *testing.T) {
			c := OverridesApplied(tc.in)
			if c.Condition.Status != tc.status || c.Condition.Reason != tc.reason || c.Progressing != tc.progressing {
				t.Errorf("got %s %s (progressing %v): %s; want %s %s (progressing %v)", c.Condition.Status, c.Condition.Reason,
					c.Progressing, c.Condition.Message, tc.status, tc.reason, tc.progressing)
			}
		})
	}
}

// TestBundleImages: a CSV's images are its Deployments' IMAGE_* variables (the first value of
// a name wins), then its relatedImages of that form; other variables, values from references
// and other related images are not images.
func TestBundleImages(t *testing.T) {
	csv := &olmv1alpha1.ClusterServiceVersion{}
	csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs = []olmv1alpha1.StrategyDeploymentSpec{{Name: "openshift-pipelines-operator",
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "lifecycle", Env: append(env("IMAGE_PIPELINES_WEBHOOK", "webhook:1", "KUBERNETES_MIN_VERSION", "v1.28.0"),
				corev1.EnvVar{Name: "IMAGE_FROM_A_FIELD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}})},
			{Name: "cluster-operations", Env: env("IMAGE_PIPELINES_WEBHOOK", "webhook:other")},
		}}}}}}
	csv.Spec.RelatedImages = []olmv1alpha1.RelatedImage{
		{Name: "IMAGE_PIPELINES_WEBHOOK", Image: "webhook:related"},
		{Name: "IMAGE_ADDONS_SKOPEO_COPY", Image: "skopeo:1"},
		{Name: "OPENSHIFT_PIPELINES_OPERATOR", Image: "operator:1"},
	}
	got := BundleImages(csv)
	want := map[string]string{"IMAGE_PIPELINES_WEBHOOK": "webhook:1", "IMAGE_ADDONS_SKOPEO_COPY": "skopeo:1"}
	if len(got) != len(want) || got["IMAGE_PIPELINES_WEBHOOK"] != want["IMAGE_PIPELINES_WEBHOOK"] || got["IMAGE_ADDONS_SKOPEO_COPY"] != want["IMAGE_ADDONS_SKOPEO_COPY"] {
		t.Errorf("BundleImages = %v, want %v", got, want)
	}
	if BundleImages(nil) != nil {
		t.Error("no CSV, no images")
	}
	b := Build("csv.v1", csv)
	if b.CSV != "csv.v1" || len(b.Images) != 2 || b.Images[0].Name != "IMAGE_ADDONS_SKOPEO_COPY" {
		t.Errorf("Build = %+v, want both images sorted by name", b)
	}
}

// TestCompareWithBundle: an override holds a component away from the bundle's image, is
// redundant when it names that image, and unknown when the bundle names none; a reverted
// image the bundle ships too is left out.
func TestCompareWithBundle(t *testing.T) {
	o := func(name, image, source string) psv1alpha1.ImageOverrideStatus {
		return psv1alpha1.ImageOverrideStatus{Name: name, Image: image, Source: source}
	}
	const ovr, rev = psv1alpha1.OverrideSourceImageOverrides, psv1alpha1.OverrideSourceRevert
	got := CompareWithBundle([]psv1alpha1.ImageOverrideStatus{
		o("IMAGE_D", "d:1", rev), o("IMAGE_A", "a:hotfix", ovr), o("IMAGE_B", "b:1", ovr), o("IMAGE_C", "c:1", ovr), o("IMAGE_E", "e:old", rev),
	}, map[string]string{"IMAGE_A": "a:1", "IMAGE_B": "b:1", "IMAGE_D": "d:1", "IMAGE_E": "e:new"})
	want := []psv1alpha1.ImageOverrideStatus{
		{Name: "IMAGE_A", Image: "a:hotfix", Source: ovr, BundleImage: "a:1", State: psv1alpha1.ImageOverrideHolding},
		{Name: "IMAGE_B", Image: "b:1", Source: ovr, BundleImage: "b:1", State: psv1alpha1.ImageOverrideRedundant},
		{Name: "IMAGE_C", Image: "c:1", Source: ovr, State: psv1alpha1.ImageOverrideUnknown},
		{Name: "IMAGE_E", Image: "e:old", Source: rev, BundleImage: "e:new", State: psv1alpha1.ImageOverrideHolding},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if r := Redundant(got); len(r) != 1 || r[0] != "IMAGE_B" {
		t.Errorf("Redundant = %v, want [IMAGE_B]", r)
	}
}

// TestOverridesAppliedSaysRedundantAndReverted: redundant overrides are named in the
// condition's message whatever its status, and a revert is a note for Ready's message.
func TestOverridesAppliedSaysRedundantAndReverted(t *testing.T) {
	asked := map[string]string{"IMAGE_PIPELINES_WEBHOOK": "webhook:1"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "openshift-pipelines-operator", Namespace: "openshift-operators"}}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "operator", Env: env("IMAGE_PIPELINES_WEBHOOK", "webhook:1")}}
	d.Status = appsv1.DeploymentStatus{UpdatedReplicas: 1, AvailableReplicas: 1}
	c := OverridesApplied(Overrides{Asked: asked, Operator: d, Redundant: []string{"IMAGE_PIPELINES_WEBHOOK"}, InstalledCSV: "osp.v5.0.5"})
	if c.Condition.Status != metav1.ConditionTrue || !strings.Contains(c.Condition.Message, "imageOverrides IMAGE_PIPELINES_WEBHOOK name the very images osp.v5.0.5 ships: they are redundant") {
		t.Errorf("got %s: %s", c.Condition.Status, c.Condition.Message)
	}
	if c.Note != "" {
		t.Errorf("no revert, no note: %q", c.Note)
	}
	c = OverridesApplied(Overrides{Asked: asked, Operator: d, RevertedTo: "osp.v5.0.4"})
	if c.Note != "the component images are reverted to those of osp.v5.0.4 (spec.operator.subscription.revertImagesTo)" {
		t.Errorf("note %q", c.Note)
	}
}
