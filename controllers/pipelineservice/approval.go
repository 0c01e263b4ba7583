package pipelineservice

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
)

// approvePlans approves the InstallPlans of the pinned CSV and returns those it approved,
// with their Events, which go out with the others once the status is stored.
func (k *kind) approvePlans(ctx context.Context, ps *psv1alpha1.PipelineService, names []string) ([]string, []parent.Event, []error) {
	var done []string
	var events []parent.Event
	var errs []error
	ns := ps.Spec.Operator.Subscription.Namespace
	for _, name := range names {
		if err := k.approve(ctx, ns, name); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, name)
		log.FromContext(ctx).Info("approved InstallPlan", "namespace", ns, "name", name, "csv", ps.Spec.Operator.Subscription.CSV)
		events = append(events, parent.Event{Done: true, Reason: psv1alpha1.ReasonInstallPlanApproved, Action: "Approve", Message: fmt.Sprintf(
			"approved InstallPlan %s/%s: it installs the pinned CSV %s", ns, name, ps.Spec.Operator.Subscription.CSV)})
	}
	return done, events, errs
}

// approve approves an InstallPlan with a merge patch of spec.approved alone, so the operator
// takes no ownership of the plan's other fields.
func (k *kind) approve(ctx context.Context, namespace, name string) error {
	plan := &unstructured.Unstructured{}
	plan.SetGroupVersionKind(children.GVKInstallPlan)
	plan.SetNamespace(namespace)
	plan.SetName(name)
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"approved":true}}`))
	if err := k.client.Patch(ctx, plan, patch, client.FieldOwner(parent.FieldManager)); err != nil {
		return fmt.Errorf("approve InstallPlan %s/%s: %w", namespace, name, err)
	}
	return nil
}
