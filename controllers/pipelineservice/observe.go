package pipelineservice

import (
	"context"
	"errors"
	"fmt"
	"slices"

	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/apply"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/watches"
)

// observation is everything the status is computed from, read from the cache in one pass,
// with what the spec asks for of the parts that are optional.
type observation struct {
	// exporterEnabled and mirrorsSet: the spec asks for the exporter, and for mirrors.
	exporterEnabled, mirrorsSet bool
	// mirrorKind is the kind the mirror policy was applied as, "" when neither is served.
	mirrorKind string
	// approval is what OLM waits for and what the operator approves (Act records what it did).
	approval   health.Approval
	catalog    *olmv1alpha1.CatalogSource
	catalogErr error
	operator   health.Operator
	tekton     *unstructured.Unstructured
	tektonErr  error
	// pods are the target namespace's pods, for the components' restarts; podsRead is false
	// where the operator may not read them.
	pods     []corev1.Pod
	podsRead bool
	// tektonCause is the deepest failing condition under a TektonConfig that is not ready.
	tektonCause *health.TektonCause
	// tektonServed is false while the TektonConfig CRD is not installed.
	tektonServed bool
	exporter     *appsv1.Deployment
	exporterErr  error
	components   []appsv1.Deployment
	// componentsErr is the error listing the Deployments in targetNamespace.
	componentsErr error
	// overrides is what OverridesApplied is computed from; Act adds the refreshes it asked.
	overrides health.Overrides
	// overridesObserved: the OSP operator is installed, so its images can be checked.
	overridesObserved bool
	// overrideStates are the Subscription's image overrides against the installed CSV's
	// images; nil when the CSV could not be read (the status keeps the last).
	overrideStates []psv1alpha1.ImageOverrideStatus
	// outgoing is the build an upgrade replaces, read from its CSV while it exists, nil when
	// it could not be read (outgoingName "" when there is none to record).
	outgoingName string
	outgoing     *psv1alpha1.BuildImages
}

// Observe reads the objects whose status makes up the PipelineService's health. Read errors
// are kept beside each object and end up as Unknown conditions; Observe never writes.
func (k *kind) Observe(ctx context.Context, ps *psv1alpha1.PipelineService, served children.Served, out *parent.Outcome) *observation {
	o := &observation{exporterEnabled: ps.Spec.Exporter.Enabled, mirrorsSet: len(ps.Spec.Mirrors) > 0}
	for _, obj := range out.Applied {
		if gvk := obj.GroupVersionKind(); gvk == children.GVKICSP || gvk == children.GVKIDMS {
			o.mirrorKind = gvk.Kind
		}
	}
	spec := ps.Spec.Operator
	o.operator.Pin = spec.Subscription.CSV

	if served[children.GVKCatalogSource] {
		o.catalog, o.catalogErr = apply.GetAs(ctx, k.client, children.GVKCatalogSource,
			types.NamespacedName{Namespace: spec.CatalogSource.Namespace, Name: spec.CatalogSource.Name}, &olmv1alpha1.CatalogSource{})
	}
	if served[children.GVKSubscription] {
		o.operator.Subscription, o.operator.SubscriptionErr = apply.GetAs(ctx, k.client, children.GVKSubscription,
			types.NamespacedName{Namespace: spec.Subscription.Namespace, Name: spec.Subscription.Name}, &olmv1alpha1.Subscription{})
	}
	if sub := o.operator.Subscription; sub != nil {
		last := k.installed
		k.observeOLMObjects(ctx, o, sub)
		k.observeOutgoing(ctx, ps, o, sub, last)
	}
	o.approval = health.Approvals(o.operator)
	if out.Invalid != nil {
		// Nothing is approved for a spec that was refused.
		o.approval.Approve = nil
	}

	if o.tektonServed = served[children.GVKTektonConfig]; o.tektonServed {
		o.tekton, o.tektonErr = apply.Get(ctx, k.client, children.GVKTektonConfig, types.NamespacedName{Name: render.TektonConfigName})
	}
	if health.TektonNotReady(o.tekton) {
		// The TektonConfig's own message is still told when OSP's chain cannot be read; the
		// cause is only missing from it then.
		if components, sets, err := k.components.tektonChain(ctx); err == nil {
			o.tektonCause = health.DeepestTektonCause(o.tekton, components, sets)
		} else if !starting(err) {
			out.ReadErrs = append(out.ReadErrs, fmt.Errorf("read OpenShift Pipelines' components for the TektonConfig's cause: %w", err))
		}
	}

	// The exporter is read from the informer that the apply reads too, so that a reconcile
	// never sees it gone in one cache and present in the other; the component cache answers
	// for the Deployments OSP makes.
	namespace := ps.Spec.TektonConfig.TargetNamespace
	o.exporter, o.exporterErr = apply.GetAs(ctx, k.client, children.GVKDeployment,
		types.NamespacedName{Namespace: namespace, Name: render.ExporterName}, &appsv1.Deployment{})
	deployments, sets, err := k.components.workloads(ctx, namespace)
	if err != nil {
		o.componentsErr = err
		if !starting(err) {
			out.ReadErrs = append(out.ReadErrs, err)
		}
	}
	o.components = append(o.components, deployments...)
	if o.pods, o.podsRead, err = k.components.pods(ctx, namespace); err != nil {
		o.componentsErr = err
		if !starting(err) {
			out.ReadErrs = append(out.ReadErrs, err)
		}
	}
	if o.exporter != nil {
		o.components = append(o.components, *o.exporter)
	}
	k.observeOverrides(ctx, ps, o, deployments, sets)
	return o
}

// observeOverrides reads the OSP operator's Deployment, which OLM rolled with the
// Subscription's environment, and finds the component containers that do not run the images
// that environment names.
func (k *kind) observeOverrides(ctx context.Context, ps *psv1alpha1.PipelineService, o *observation, deployments []appsv1.Deployment, sets []appsv1.StatefulSet) {
	csv := ""
	if o.operator.Subscription != nil {
		csv = o.operator.Subscription.Status.InstalledCSV
	}
	if o.overridesObserved = csv != ""; !o.overridesObserved {
		return
	}
	ov := &o.overrides
	ov.Mode = ps.Spec.Operator.Subscription.OverridesRollout
	// An upgrade runs until the installed CSV has Succeeded: the pass that sees it succeed
	// completes the upgrade in the status it writes, and must not wait for that status,
	// whose write wakes no pass.
	ov.UpgradeRunning = !o.operator.Succeeded()
	ov.InstalledCSV = csv
	// A revert that names no recorded build stalled the spec, and the Subscription keeps
	// what was last applied; the rest of its environment is still asked for.
	overrides, err := render.ImageOverrides(ps)
	if err == nil {
		k.observeOverrideStates(ps, o, overrides)
	}
	ov.Asked = map[string]string{}
	for _, e := range render.SubscriptionEnv(ps.Spec.Operator.Subscription, overrides) {
		ov.Asked[e.Name] = e.Value
	}
	ov.Operator, ov.OperatorErr = k.components.operatorDeployment(ctx, ps.Spec.Operator.Subscription.Namespace, csv)
	if ov.Operator == nil || o.componentsErr != nil {
		ov.StaleErr = o.componentsErr
		return
	}
	workloads, err := health.Workloads(deployments, sets)
	if err != nil {
		ov.StaleErr = err
		return
	}
	// OLM sets the Subscription's environment on every container; the first value of a
	// name wins, as the lifecycle container, which renders the components, comes first.
	var env []corev1.EnvVar
	for _, c := range ov.Operator.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if !slices.ContainsFunc(env, func(x corev1.EnvVar) bool { return x.Name == e.Name }) {
				env = append(env, e)
			}
		}
	}
	for _, w := range workloads {
		stale, err := health.Stale(w, health.Images(env, w.Component))
		if err != nil {
			ov.StaleErr = err
			return
		}
		ov.Stale = append(ov.Stale, stale...)
	}
}

// observeOverrideStates compares the Subscription's image overrides with the images the
// installed CSV ships: which hold the components away from them, which are redundant.
func (k *kind) observeOverrideStates(ps *psv1alpha1.PipelineService, o *observation, overrides map[string]render.Override) {
	if o.operator.CSVErr != nil {
		return
	}
	if ps.Spec.Operator.Subscription.RevertImagesTo != "" {
		o.overrides.RevertedTo = ps.Spec.Operator.Subscription.RevertImagesTo
	}
	list := make([]psv1alpha1.ImageOverrideStatus, 0, len(overrides))
	for name, ov := range overrides {
		list = append(list, psv1alpha1.ImageOverrideStatus{Name: name, Image: ov.Image, Source: ov.Source})
	}
	o.overrideStates = health.CompareWithBundle(list, health.BundleImages(o.operator.CSV))
	o.overrides.Redundant = health.Redundant(o.overrideStates)
}

// observeOutgoing reads the CSV an upgrade replaces, for status.upgrade.previous: the one
// last installed when the Subscription now names another, or the recorded previous build
// whose images could not be read yet. OLM deletes it once the new CSV has Succeeded, which
// can be before a pass sees the upgrade start; remembered, the build this process read while
// that CSV was installed, answers then.
func (k *kind) observeOutgoing(ctx context.Context, ps *psv1alpha1.PipelineService, o *observation, sub *olmv1alpha1.Subscription, remembered *psv1alpha1.BuildImages) {
	last, installed := ps.Status.InstalledCSV, sub.Status.InstalledCSV
	switch u := ps.Status.Upgrade; {
	case last != "" && installed != "" && installed != last:
		o.outgoingName = last
	case u != nil && u.Previous != nil && len(u.Previous.Images) == 0:
		o.outgoingName = u.Previous.CSV
	default:
		return
	}
	// A build that cannot be read is recorded without images, which a later pass fills in
	// while the CSV still exists.
	csv, _ := apply.GetAs(ctx, k.client, children.GVKClusterServiceVersion,
		types.NamespacedName{Namespace: sub.Namespace, Name: o.outgoingName}, &olmv1alpha1.ClusterServiceVersion{})
	switch {
	case csv != nil:
		o.outgoing = health.Build(o.outgoingName, csv)
	case remembered != nil && remembered.CSV == o.outgoingName:
		// OLM replaced and deleted it between two passes: the images this process read
		// while it was installed.
		o.outgoing = remembered
	}
}

// observeOLMObjects reads the installed CSV and the Subscription's InstallPlans.
func (k *kind) observeOLMObjects(ctx context.Context, o *observation, sub *olmv1alpha1.Subscription) {
	if name := sub.Status.InstalledCSV; name != "" {
		o.operator.CSV, o.operator.CSVErr = apply.GetAs(ctx, k.client, children.GVKClusterServiceVersion,
			types.NamespacedName{Namespace: sub.Namespace, Name: name}, &olmv1alpha1.ClusterServiceVersion{})
		if o.operator.CSV != nil && (k.installed == nil || k.installed.CSV != name) {
			k.installed = health.Build(name, o.operator.CSV)
		}
	}
	plans := &unstructured.UnstructuredList{}
	plans.SetGroupVersionKind(children.GVKInstallPlan.GroupVersion().WithKind("InstallPlanList"))
	if err := k.client.List(ctx, plans, client.InNamespace(sub.Namespace)); err != nil {
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

// enqueueInSubscriptionNamespace reconciles for CSV and InstallPlan events in the
// Subscription's namespace only: OLM writes those for every operator on the cluster.
func (k *kind) enqueueInSubscriptionNamespace() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		ps := &psv1alpha1.PipelineService{}
		if err := k.client.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, ps); err != nil {
			return nil
		}
		if o.GetNamespace() != ps.Spec.Operator.Subscription.Namespace {
			return nil
		}
		return []reconcile.Request{watches.ClusterRequest}
	})
}

// starting is whether err is the read of a component cache made in this pass, which the
// manager has not started yet: no error to retry, as the cache's watch wakes a pass once it
// has synced.
func starting(err error) bool {
	_, ok := errors.AsType[*cache.ErrCacheNotStarted](err)
	return ok
}
