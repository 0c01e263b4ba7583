package pipelineservice

import (
	"context"
	"fmt"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// reviewTektonConfig runs OSP's admission code on the rendered TektonConfig before anything
// is applied, as an update of the live TektonConfig when there is one, so that a value OSP's
// webhook would refuse, or its reconciler alone (osp.ReconcileRules), stalls the reconcile
// instead of failing one apply after another or breaking the installation after it.
func (k *kind) reviewTektonConfig(ctx context.Context, desired []*unstructured.Unstructured, served children.Served) ([]osp.FieldError, error) {
	var tc *unstructured.Unstructured
	for _, o := range desired {
		if o.GroupVersionKind() == children.GVKTektonConfig {
			tc = o
		}
	}
	if tc == nil {
		return nil, nil
	}
	var live *unstructured.Unstructured
	if served[children.GVKTektonConfig] {
		live = &unstructured.Unstructured{}
		live.SetGroupVersionKind(children.GVKTektonConfig)
		key := client.ObjectKeyFromObject(tc)
		err := k.client.Get(ctx, key, live)
		if apierrors.IsNotFound(err) {
			// The cache holds only the operator's labelled objects; a TektonConfig made
			// before it (by OSP, ArgoCD or a person) is read from the API server.
			err = k.apiReader.Get(ctx, key, live)
		}
		switch {
		case apierrors.IsNotFound(err):
			live = nil
		case err != nil:
			return nil, fmt.Errorf("get %s: %w", apply.Describe(tc), err)
		}
	}
	return k.reviews.review(tc, live), nil
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
	for _, e := range refusals {
		field := render.FieldPath(ps, e.Path)
		if strings.HasPrefix(field, "TektonConfig ") {
			parts = append(parts, fmt.Sprintf("%s: %s", field, e.Message))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %s (TektonConfig %s)", field, e.Message, e.Path))
	}
	return &parent.Invalid{Condition: metav1.Condition{Reason: psv1alpha1.ReasonInvalidTektonConfig, Message: "OpenShift Pipelines would refuse the TektonConfig: " +
		strings.Join(parts, "; ") + ". Fix spec.tektonConfig (overrides included); nothing was applied."}}
}
