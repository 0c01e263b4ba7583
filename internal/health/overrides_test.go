package health

import (
	"strings"
	"testing"

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
