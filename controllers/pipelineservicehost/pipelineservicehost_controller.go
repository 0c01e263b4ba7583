// Package pipelineservicehost reconciles the PipelineServiceHost named cluster into SprayProxy
// and the Results proxy plugin on a CodeReadyToolchain host cluster. It gives the parent
// reconciler (internal/parent) the kind's render, observe, parts and setters; the apply
// engine, registry, inventory, pruning, deletion and late-CRD handling are the parent's.
package pipelineservicehost

import (
	"context"

	routev1 "github.com/openshift/api/route/v1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservicehosts,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservicehosts/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=pipelineservice.appstudio.io,resources=pipelineservicehosts/finalizers,verbs=update

// Registration is the PipelineServiceHost's row in the table of parent kinds that main.go
// runs. Its controller shares the manager's cache with the PipelineService's: the children of
// both carry the operator's label, and the part-of label routes each event to its parent.
var Registration = parent.Register(psv1alpha1.GroupVersion.WithKind("PipelineServiceHost"),
	func() parent.Kind[*psv1alpha1.PipelineServiceHost, *observation] { return &kind{} })

// kind is the PipelineServiceHost's part of the parent reconciler.
type kind struct {
	parent.Hooks[*psv1alpha1.PipelineServiceHost, *observation]
	client client.Reader
}

func (*kind) Profile() children.Profile { return children.Host }

func (*kind) NewObject() *psv1alpha1.PipelineServiceHost { return &psv1alpha1.PipelineServiceHost{} }

func (*kind) Metrics() parent.Metrics[*psv1alpha1.PipelineServiceHost] { return metrics }

// Setup takes the manager's client; the host has no kinds OLM writes.
func (k *kind) Setup(mgr ctrl.Manager, _ controller.Controller) (handler.EventHandler, error) {
	k.client = mgr.GetClient()
	return nil, nil
}

// Render renders SprayProxy and the proxy plugin.
func (*kind) Render(h *psv1alpha1.PipelineServiceHost, served children.Served) ([]*unstructured.Unstructured, error) {
	return Render(h, served)
}

// Render is the host's render as the reconciler runs it, for `render` and `validate` too. The
// host refuses nothing beyond what admission does, and reviews nothing.
func Render(h *psv1alpha1.PipelineServiceHost, served children.Served) ([]*unstructured.Unstructured, error) {
	return render.Host(h, served)
}

// observation is what the host's status is computed from, with the parts the spec asks for.
type observation struct {
	sprayProxyWanted bool
	sprayProxy       *appsv1.Deployment
	sprayProxyErr    error
	route            *routev1.Route
	routeErr         error
	routeServed      bool
	pluginWanted     bool
	plugin           *unstructured.Unstructured
	pluginErr        error
	pluginServed     bool
}

// Observe reads SprayProxy's Deployment and Route and the ProxyPlugin, from the cache.
func (k *kind) Observe(ctx context.Context, h *psv1alpha1.PipelineServiceHost, served children.Served, _ *parent.Outcome) *observation {
	o := &observation{}
	if sp := h.Spec.SprayProxy; sp != nil {
		o.sprayProxyWanted = true
		key := types.NamespacedName{Namespace: sp.Namespace, Name: render.SprayProxyName}
		o.sprayProxy, o.sprayProxyErr = apply.GetAs(ctx, k.client, children.GVKDeployment, key, &appsv1.Deployment{})
		if o.routeServed = served[children.GVKRoute]; o.routeServed {
			o.route, o.routeErr = apply.GetAs(ctx, k.client, children.GVKRoute, key, &routev1.Route{})
		}
	}
	if pp := h.Spec.ResultsProxyPlugin; pp != nil && pp.Enabled {
		o.pluginWanted = true
		if o.pluginServed = served[children.GVKProxyPlugin]; o.pluginServed {
			o.plugin, o.pluginErr = apply.Get(ctx, k.client, children.GVKProxyPlugin, types.NamespacedName{Namespace: pp.Namespace, Name: pp.Name})
		}
	}
	return o
}
