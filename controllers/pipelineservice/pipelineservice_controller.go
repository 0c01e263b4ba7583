// Package pipelineservice reconciles the PipelineService named cluster into the objects that
// run Pipeline Service on OpenShift (OLM's CatalogSource and Subscription, the mirror policy,
// the TektonConfig, the exporter) and reports back in its status. It gives the parent
// reconciler (internal/parent) the kind's render, observe, parts and setters, and two hooks:
// the approval of the pinned CSV's InstallPlan, and the CSV that deletionPolicy Delete removes.
package pipelineservice

import (
	"context"
	"errors"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservices/finalizers,verbs=update
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch
// The child kinds' rules are declared beside their registry, in internal/children.
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// The metrics endpoint authenticates and authorizes each scrape against the API server.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// Registration is the PipelineService's row in the table of parent kinds that main.go runs:
// its controller for the manager, and its plan for the subcommands.
var Registration = parent.Register(psv1alpha1.GroupVersion.WithKind("PipelineService"),
	func() parent.Kind[*psv1alpha1.PipelineService, *observation] { return &kind{} })

// kind is the PipelineService's part of the parent reconciler.
type kind struct {
	client     client.Client
	reviews    reviewMemo
	components *componentWatch
	// installed is the build of the installed CSV as last read, for an upgrade whose outgoing
	// CSV OLM deleted before a pass saw the upgrade start. Only the controller's one worker
	// reads and writes it.
	installed *psv1alpha1.BuildImages
}

func (*kind) Profile() children.Profile { return children.Member }

func (*kind) NewObject() *psv1alpha1.PipelineService { return &psv1alpha1.PipelineService{} }

func (*kind) Metrics() parent.Metrics[*psv1alpha1.PipelineService] { return metrics }

// Setup takes the manager's clients and prepares the cache of the target namespace's
// Deployments; CSV and InstallPlan events reconcile only in the Subscription's namespace.
func (k *kind) Setup(mgr ctrl.Manager, c controller.Controller) (handler.EventHandler, error) {
	k.client = mgr.GetClient()
	k.components = &componentWatch{
		cfg:         mgr.GetConfig(),
		opts:        cache.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), HTTPClient: mgr.GetHTTPClient()},
		add:         mgr.Add,
		ctrl:        c,
		caches:      map[string]cache.Cache{},
		watching:    map[string]bool{},
		reviews:     mgr.GetClient(),
		podAccess:   map[string]podAccess{},
		podsWatched: map[string]bool{},
	}
	return k.enqueueInSubscriptionNamespace(), nil
}

// Render renders the children, and refuses a spec that render refuses.
func (*kind) Render(ps *psv1alpha1.PipelineService, served children.Served) ([]*unstructured.Unstructured, error) {
	return Render(ps, served)
}

// Render is the member's render as the reconciler runs it, for `render` and `validate` too: the
// children for a cluster that serves served, or a *parent.Invalid that refuses the spec as the
// Stalled condition does (a TektonConfig that does not decode, a revert to an unrecorded build).
func Render(ps *psv1alpha1.PipelineService, served children.Served) ([]*unstructured.Unstructured, error) {
	desired, err := render.Render(ps, served)
	if err != nil {
		if invalid, ok := errors.AsType[*render.InvalidTektonConfigError](err); ok {
			return nil, invalidTektonConfig(ps, []osp.FieldError{{Path: invalid.Field, Message: invalid.Problem}})
		}
		if revert, ok := errors.AsType[*render.RevertError](err); ok {
			return nil, &parent.Invalid{
				Condition: metav1.Condition{Reason: psv1alpha1.ReasonRevertNotRecorded, Message: revert.Message + "; nothing was applied"},
				Fields:    []parent.InvalidField{{Path: render.RevertField, Message: strings.TrimPrefix(revert.Message, render.RevertField+" ")}},
			}
		}
		return nil, err
	}
	return desired.Objects, nil
}

// RenderInputs is the recorded previous build, which the Subscription's environment reads
// while revertImagesTo is set.
func (*kind) RenderInputs(ps *psv1alpha1.PipelineService) string { return render.RenderInputs(ps) }

// Review refuses a spec whose TektonConfig OSP's own admission code would refuse.
func (k *kind) Review(ctx context.Context, ps *psv1alpha1.PipelineService, desired []*unstructured.Unstructured, served children.Served, reader parent.Live) error {
	live, err := liveTektonConfig(ctx, desired, served, reader)
	if err != nil {
		return err
	}
	return review(ps, desired, live, k.reviews.review)
}

// Review is the member's review as the reconciler runs it, for `validate` too: OSP's admission
// code and the rules its reconciler alone keeps, on the rendered TektonConfig, as an update of
// live when live is not nil and as a create otherwise. A refusal is a *parent.Invalid.
func Review(ps *psv1alpha1.PipelineService, desired []*unstructured.Unstructured, live *unstructured.Unstructured) error {
	return review(ps, desired, live, osp.Review)
}

func review(ps *psv1alpha1.PipelineService, desired []*unstructured.Unstructured, live *unstructured.Unstructured,
	ospReview func(desired, live *unstructured.Unstructured) []osp.FieldError) error {
	tc := tektonConfigOf(desired)
	if tc == nil {
		return nil
	}
	if refusals := ospReview(tc, live); len(refusals) > 0 {
		return invalidTektonConfig(ps, refusals)
	}
	return nil
}

// Act approves the InstallPlans of the pinned CSV that Observe found waiting, and asks OSP to
// re-render the components that do not run the images its operator's environment names.
func (k *kind) Act(ctx context.Context, ps *psv1alpha1.PipelineService, _ *parent.Outcome, obs *observation) ([]parent.Event, []error) {
	var evs []parent.Event
	var errs []error
	obs.approval.Approve, evs, errs = k.approvePlans(ctx, ps, obs.approval.Approve)
	refreshed, refreshErrs := k.refresh(ctx, obs)
	return append(evs, refreshed...), append(errs, refreshErrs...)
}

// DeletionExtras is the CSV the Subscription installed: OLM made it, so it is in no
// inventory, and deletionPolicy Delete uninstalls OSP by deleting it.
func (*kind) DeletionExtras(ps *psv1alpha1.PipelineService) []psv1alpha1.InventoryEntry {
	csv := ps.Status.InstalledCSV
	if csv == "" {
		return nil
	}
	return []psv1alpha1.InventoryEntry{{APIVersion: children.GVKClusterServiceVersion.GroupVersion().String(),
		Kind: children.GVKClusterServiceVersion.Kind, Namespace: ps.Spec.Operator.Subscription.Namespace, Name: csv}}
}

// Stalled is a pin below the installed CSV, which the schema cannot see (everything else was
// applied).
func (*kind) Stalled(obs *observation) *metav1.Condition {
	if d := obs.approval.Downgrade; d != "" {
		return &metav1.Condition{Reason: psv1alpha1.ReasonDowngradeNotSupported, Message: d}
	}
	return nil
}
