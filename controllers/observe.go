package controllers

import (
	"context"
	"fmt"

	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/health"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// observation is everything the status is computed from, read from the cache in one pass.
type observation struct {
	catalog    *olmv1alpha1.CatalogSource
	catalogErr error
	operator   health.Operator
	tekton     *unstructured.Unstructured
	tektonErr  error
	// tektonServed is false while the TektonConfig CRD is not installed.
	tektonServed bool
	exporter     *appsv1.Deployment
	exporterErr  error
	components   []appsv1.Deployment
	// componentsErr is the error listing the Deployments in targetNamespace.
	componentsErr error
}

// observe reads the objects whose status makes up the PipelineService's health. Read errors
// are kept beside each object and end up as Unknown conditions; observe never writes.
func (r *PipelineServiceReconciler) observe(ctx context.Context, ps *psv1alpha1.PipelineService, served children.Served) observation {
	var o observation
	spec := ps.Spec.Operator
	o.operator.Pin = spec.Subscription.CSV

	if served[children.GVKCatalogSource] {
		o.catalog, o.catalogErr = getTyped(ctx, r, children.GVKCatalogSource,
			types.NamespacedName{Namespace: spec.CatalogSource.Namespace, Name: spec.CatalogSource.Name}, &olmv1alpha1.CatalogSource{})
	}
	if served[children.GVKSubscription] {
		o.operator.Subscription, o.operator.SubscriptionErr = getTyped(ctx, r, children.GVKSubscription,
			types.NamespacedName{Namespace: spec.Subscription.Namespace, Name: spec.Subscription.Name}, &olmv1alpha1.Subscription{})
	}
	if sub := o.operator.Subscription; sub != nil {
		r.observeOLMObjects(ctx, &o, sub)
	}

	if o.tektonServed = served[children.GVKTektonConfig]; o.tektonServed {
		tc := &unstructured.Unstructured{}
		tc.SetGroupVersionKind(children.GVKTektonConfig)
		if err := r.Get(ctx, client.ObjectKey{Name: render.TektonConfigName}, tc); err == nil {
			o.tekton = tc
		} else if !apierrors.IsNotFound(err) {
			o.tektonErr = err
		}
	}

	// The exporter is read from the informer that the apply reads too, so that a reconcile
	// never sees it gone in one cache and present in the other; the component cache answers
	// for the Deployments OSP makes.
	namespace := ps.Spec.TektonConfig.TargetNamespace
	o.exporter, o.exporterErr = getTyped(ctx, r, children.GVKDeployment,
		types.NamespacedName{Namespace: namespace, Name: render.ExporterName}, &appsv1.Deployment{})
	deployments, err := r.components.deployments(ctx, namespace)
	if err != nil {
		o.componentsErr = err
	}
	for _, d := range deployments {
		if d.Labels[render.LabelManagedBy] != render.ManagedByValue {
			o.components = append(o.components, d)
		}
	}
	if o.exporter != nil {
		o.components = append(o.components, *o.exporter)
	}
	return o
}

// observeOLMObjects reads the installed CSV and the Subscription's InstallPlans.
func (r *PipelineServiceReconciler) observeOLMObjects(ctx context.Context, o *observation, sub *olmv1alpha1.Subscription) {
	if name := sub.Status.InstalledCSV; name != "" {
		o.operator.CSV, o.operator.CSVErr = getTyped(ctx, r, children.GVKClusterServiceVersion,
			types.NamespacedName{Namespace: sub.Namespace, Name: name}, &olmv1alpha1.ClusterServiceVersion{})
	}
	plans := &unstructured.UnstructuredList{}
	plans.SetGroupVersionKind(children.GVKInstallPlan.GroupVersion().WithKind("InstallPlanList"))
	if err := r.List(ctx, plans, client.InNamespace(sub.Namespace)); err != nil {
		o.operator.SubscriptionErr = fmt.Errorf("list InstallPlans in %s: %w", sub.Namespace, err)
		return
	}
	for i := range plans.Items {
		p := &olmv1alpha1.InstallPlan{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(plans.Items[i].Object, p); err != nil {
			continue
		}
		if belongsTo(p, sub) {
			o.operator.InstallPlans = append(o.operator.InstallPlans, *p)
		}
	}
}

// belongsTo is whether OLM made plan for sub: OLM sets an owner reference to every
// Subscription a plan serves, and the Subscription points at its latest plan.
func belongsTo(plan *olmv1alpha1.InstallPlan, sub *olmv1alpha1.Subscription) bool {
	if ref := sub.Status.InstallPlanRef; ref != nil && ref.Name == plan.Name && ref.Namespace == plan.Namespace {
		return true
	}
	for _, ref := range plan.OwnerReferences {
		if ref.Kind == olmv1alpha1.SubscriptionKind && ref.Name == sub.Name {
			return true
		}
	}
	return false
}

// getTyped reads an object through the unstructured cache and converts it to its Go type;
// nil without an error when it does not exist.
func getTyped[T any](ctx context.Context, c client.Reader, gvk schema.GroupVersionKind, key types.NamespacedName, into *T) (*T, error) {
	u, err := getUnstructured(ctx, c, gvk, key)
	if u == nil || err != nil {
		return nil, err
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", gvk.Kind, key, err)
	}
	return into, nil
}

// getUnstructured reads an object through the unstructured cache; nil without an error when
// it does not exist.
func getUnstructured(ctx context.Context, c client.Reader, gvk schema.GroupVersionKind, key types.NamespacedName) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := c.Get(ctx, key, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return u, nil
}

// enqueueInSubscriptionNamespace reconciles for CSV and InstallPlan events in the
// Subscription's namespace only: OLM writes those for every operator on the cluster.
func (r *PipelineServiceReconciler) enqueueInSubscriptionNamespace() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		ps := &psv1alpha1.PipelineService{}
		if err := r.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, ps); err != nil {
			return nil
		}
		if o.GetNamespace() != ps.Spec.Operator.Subscription.Namespace {
			return nil
		}
		return []reconcile.Request{clusterRequest}
	})
}
