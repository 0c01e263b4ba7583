package pipelineservice

import (
	"context"
	"fmt"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// liveTektonConfig reads the TektonConfig that the rendered one would update, nil when there is
// none, the kind is not served yet, or the plan is made offline, so that the review rules on
// the change as OSP's webhook will: a value OSP's webhook would refuse, or its reconciler alone
// (osp.ReconcileRules), stalls the reconcile instead of failing one apply after another or
// breaking the installation after it.
func liveTektonConfig(ctx context.Context, desired []*unstructured.Unstructured, served children.Served, live parent.Live) (*unstructured.Unstructured, error) {
	tc := tektonConfigOf(desired)
	if tc == nil || !served[children.GVKTektonConfig] || live == nil {
		return nil, nil
	}
	return live(ctx, tc)
}

// tektonConfigOf is the TektonConfig among the rendered children, nil when there is none.
func tektonConfigOf(desired []*unstructured.Unstructured) *unstructured.Unstructured {
	for _, o := range desired {
		if o.GroupVersionKind() == children.GVKTektonConfig {
			return o
		}
	}
	return nil
}

// reviewMemo remembers the last review: OSP's SetDefaults and Validate take milliseconds, most
// of a reconcile with nothing to change, and their verdict depends only on the rendered
// TektonConfig (its content hash) and the live one's spec (its generation: OSP's status
// writes, the most frequent change, leave it alone).
type reviewMemo struct {
	mu       sync.Mutex
	key      string
	refusals []osp.FieldError
}

func (m *reviewMemo) review(desired, live *unstructured.Unstructured) []osp.FieldError {
	key := desired.GetAnnotations()[render.AnnotationAppliedHash]
	if live != nil {
		key += fmt.Sprintf("/%s/%d", live.GetUID(), live.GetGeneration())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if key != m.key {
		m.key, m.refusals = key, osp.Review(desired, live)
	}
	return m.refusals
}

// invalidTektonConfig refuses a spec whose TektonConfig OSP would refuse: each field named as
// the PipelineService sets it, with its TektonConfig path.
func invalidTektonConfig(ps *psv1alpha1.PipelineService, refusals []osp.FieldError) *parent.Invalid {
	parts := make([]string, 0, len(refusals))
	fields := make([]parent.InvalidField, 0, len(refusals))
	for _, e := range refusals {
		field := render.FieldPath(ps, e.Path)
		if strings.HasPrefix(field, "TektonConfig ") {
			parts = append(parts, fmt.Sprintf("%s: %s", field, e.Message))
			fields = append(fields, parent.InvalidField{Path: field, Message: e.Message})
			continue
		}
		msg := fmt.Sprintf("%s (TektonConfig %s)", e.Message, e.Path)
		parts = append(parts, field+": "+msg)
		fields = append(fields, parent.InvalidField{Path: field, Message: msg})
	}
	return &parent.Invalid{
		Condition: metav1.Condition{Reason: psv1alpha1.ReasonInvalidTektonConfig, Message: "OpenShift Pipelines would refuse the TektonConfig: " +
			strings.Join(parts, "; ") + ". Fix spec.tektonConfig (overrides included); nothing was applied."},
		Fields: fields,
	}
}
