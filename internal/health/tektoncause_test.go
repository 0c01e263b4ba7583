package health

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// osp is an OSP object of kind named name with conditions {type, status, message}, and labels.
func osp(kind, name string, labels map[string]string, conds ...[3]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAPIVersion("operator.tekton.dev/v1alpha1")
	u.SetKind(kind)
	u.SetName(name)
	u.SetLabels(labels)
	var list []any
	for _, c := range conds {
		list = append(list, map[string]any{"type": c[0], "status": c[1], "message": c[2]})
	}
	if list != nil {
		u.Object["status"] = map[string]any{"conditions": list}
	}
	return u
}

func createdBy(kind string) map[string]string { return map[string]string{CreatedByLabel: kind} }

func TestDeepestTektonCause(t *testing.T) {
	notReady := osp("TektonConfig", "config", nil, [3]string{"ComponentsReady", "False", "Components not in ready state: TektonPipeline: reconcile again and proceed"},
		[3]string{"Ready", "False", "Components not ready"})
	ready := osp("TektonConfig", "config", nil, [3]string{"Ready", "True", ""})
	pipelineFailing := osp("TektonPipeline", "pipeline", nil, [3]string{"InstallerSetReady", "False", "Installer set not ready: main deployment"},
		[3]string{"Ready", "False", "Installer set not ready"})
	triggerFailing := osp("TektonTrigger", "trigger", nil, [3]string{"Ready", "False", "trigger down"})
	chainReady := osp("TektonChain", "chain", nil, [3]string{"Ready", "True", ""})
	// As knative keeps them: sorted by type, the stages not reached Unknown.
	setFailing := osp("TektonInstallerSet", "pipeline-main-deployment-x7", createdBy("TektonPipeline"),
		[3]string{"AllDeploymentsReady", "Unknown", ""}, [3]string{"CrdsInstalled", "True", ""},
		[3]string{"DeploymentsAvailable", "False", "deployment tekton-pipelines-controller: 0 of 1 replicas available"},
		[3]string{"Ready", "False", "Install failed"})
	setReady := osp("TektonInstallerSet", "pipeline-main-static-a1", createdBy("TektonPipeline"), [3]string{"Ready", "True", ""})
	triggerSetFailing := osp("TektonInstallerSet", "trigger-main-deployment-b2", createdBy("TektonTrigger"), [3]string{"Ready", "False", "trigger set"})

	for _, tc := range []struct {
		name       string
		tc         *unstructured.Unstructured
		components []*unstructured.Unstructured
		sets       []*unstructured.Unstructured
		want       string
	}{
		{"an installer set of the component the TektonConfig names", notReady,
			[]*unstructured.Unstructured{triggerFailing, pipelineFailing, chainReady}, []*unstructured.Unstructured{triggerSetFailing, setReady, setFailing},
			"TektonInstallerSet pipeline-main-deployment-x7: DeploymentsAvailable: deployment tekton-pipelines-controller: 0 of 1 replicas available"},
		{"the component when its sets are ready", notReady,
			[]*unstructured.Unstructured{pipelineFailing}, []*unstructured.Unstructured{setReady},
			"TektonPipeline pipeline: InstallerSetReady: Installer set not ready: main deployment"},
		{"another failing component when the named one is ready", notReady,
			[]*unstructured.Unstructured{chainReady, triggerFailing}, []*unstructured.Unstructured{triggerSetFailing},
			"TektonInstallerSet trigger-main-deployment-b2: Ready: trigger set"},
		{"none when no component fails", notReady, []*unstructured.Unstructured{chainReady}, nil, ""},
		{"none when the TektonConfig is ready", ready, []*unstructured.Unstructured{pipelineFailing}, []*unstructured.Unstructured{setFailing}, ""},
		{"none without a TektonConfig", nil, []*unstructured.Unstructured{pipelineFailing}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if c := DeepestTektonCause(tc.tc, tc.components, tc.sets); c != nil {
				got = c.String()
			}
			if got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}
