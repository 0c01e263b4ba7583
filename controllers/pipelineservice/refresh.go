package pipelineservice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// OSP re-renders a component's TektonInstallerSets only when the hash over the component's
// spec, its platform data and TEKTON_REGISTRY_OVERRIDE changes (tektoncd/operator
// pkg/reconciler/kubernetes/tektoninstallerset/client/check.go, verifyMeta and
// specHashInput): a new IMAGE_* variable on the OSP operator is not in that hash, so the
// components keep their images. The refresh changes the component's spec, the least it can:
// an annotation on the stale workload itself, in the component's additional options in the
// TektonConfig. OSP's TektonConfig reconciler copies those options into the component
// (pkg/reconciler/shared/tektonconfig/pipeline.UpdatePipeline and its peers), the hash
// changes, and MainSet updates the installer sets in place with a manifest rendered from the
// operator's current environment (client/main_set.go, ErrUpdateRequired, then update.go):
// nothing is deleted, and the workload rolls to its new images as a Deployment does.
//
// The annotation's value is a hash of the images the workload should run, so it changes only
// when they do: a workload already right, or already asked for, is not touched.

const (
	// refreshFieldManager owns the refresh annotations, apart from the rendered TektonConfig,
	// whose apply therefore neither removes nor fights them.
	refreshFieldManager = "pipeline-service-operator-refresh"
)

// refresh asks OSP to re-render each stale workload that has not been asked for its current
// images yet, when overridesRollout is Refresh, OLM has rolled the operator and no upgrade
// is running. It records in obs which workloads have been asked.
func (k *kind) refresh(ctx context.Context, obs *observation) ([]parent.Event, []error) {
	ov := &obs.overrides
	if !obs.overridesObserved || ov.Mode == psv1alpha1.OverridesReport || ov.UpgradeRunning || len(ov.Stale) == 0 || obs.tekton == nil {
		return nil, nil
	}
	if rolled, _ := health.OperatorRolled(ov.Operator, ov.Asked); !rolled {
		return nil, nil
	}
	patch := map[string]any{}
	var evs []parent.Event
	for _, w := range staleWorkloads(ov.Stale) {
		if len(w.workload.Component.OptionsPath) == 0 {
			continue
		}
		path := refreshPath(w.workload)
		name := w.workload.Kind + "/" + w.workload.Name
		ov.Requested = append(ov.Requested, name)
		if live, _, _ := unstructured.NestedString(obs.tekton.Object, path...); live == w.token {
			continue
		}
		if err := unstructured.SetNestedField(patch, w.token, path...); err != nil {
			return nil, []error{fmt.Errorf("refresh %s: %w", name, err)}
		}
		evs = append(evs, parent.Event{Done: true, Reason: psv1alpha1.ReasonComponentsRefreshed, Action: "Refresh", Message: fmt.Sprintf(
			"asked OpenShift Pipelines to re-render %s (%s) through the TektonConfig's options: %s", name, w.workload.Component.Kind, strings.Join(w.containers, "; "))})
	}
	if len(patch) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(patch)
	if err != nil {
		return nil, []error{err}
	}
	tc := &unstructured.Unstructured{}
	tc.SetGroupVersionKind(obs.tekton.GroupVersionKind())
	tc.SetName(obs.tekton.GetName())
	if err := k.client.Patch(ctx, tc, client.RawPatch(types.MergePatchType, data), client.FieldOwner(refreshFieldManager)); err != nil {
		return nil, []error{fmt.Errorf("refresh the stale components through TektonConfig %s: %w", tc.GetName(), err)}
	}
	return evs, nil
}

// staleWorkload is one workload with stale containers, and the token of its wanted images.
type staleWorkload struct {
	workload   health.Workload
	containers []string
	wanted     []string
	token      string
}

// staleWorkloads groups stale containers by workload, in the order they were found.
func staleWorkloads(stale []health.StaleContainer) []staleWorkload {
	var out []staleWorkload
	for _, s := range stale {
		i := slices.IndexFunc(out, func(w staleWorkload) bool {
			return w.workload.Kind == s.Workload.Kind && w.workload.Name == s.Workload.Name
		})
		if i < 0 {
			out = append(out, staleWorkload{workload: s.Workload})
			i = len(out) - 1
		}
		out[i].containers = append(out[i].containers, s.String())
		out[i].wanted = append(out[i].wanted, s.Container+"="+s.Wanted)
	}
	for i := range out {
		slices.Sort(out[i].wanted)
		sum := sha256.Sum256([]byte(strings.Join(out[i].wanted, "\n")))
		out[i].token = hex.EncodeToString(sum[:8])
	}
	return out
}

// refreshPath is where the refresh annotation of w sits in the TektonConfig: the
// component's options, keyed by the workload's kind and name as OSP's options transformer
// looks them up (common.ExecuteAdditionalOptionsTransformer).
func refreshPath(w health.Workload) []string {
	field := "deployments"
	if w.Kind == "StatefulSet" {
		field = "statefulSets"
	}
	return append(slices.Clone(w.Component.OptionsPath), field, w.Name, "metadata", "annotations", render.AnnotationRefreshedImages)
}
