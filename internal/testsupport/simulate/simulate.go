// Package simulate plays the part of OLM and OpenShift Pipelines where they do not run: it
// writes the objects and status those controllers would write. Production code never calls it.
//
// Where it is still used, and why:
//   - OSP (OSP, TektonConfigReady, CreateComponents): OpenShift Pipelines' controllers need a
//     kubelet to run their pods; no test can run them.
//   - OLM, in the health, metrics and RBAC tests and in TestPinnedCSVApproval: they need OLM's
//     states on demand and in a fixed order (a plan seen while still Planning, a stale plan for
//     another CSV, a CSV Pending or Replacing, a catalog in TRANSIENT_FAILURE). The real OLM
//     passes through those states too fast or only after faults that need a kubelet. The life
//     cycle itself (resolve, plan, approve, install, upgrade, fail, uninstall) is tested
//     against the real OLM in controllers/olm_test.go.
package simulate

import (
	"context"
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// EnsureNamespaces creates namespaces that a real cluster already has.
func EnsureNamespaces(ctx context.Context, c client.Client, names ...string) error {
	for _, name := range names {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	return nil
}

// updateStatus reads an object, lets set change its status and writes the status back,
// retrying on conflicts.
func updateStatus(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, key client.ObjectKey, set func(u *unstructured.Unstructured)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		if err := c.Get(ctx, key, u); err != nil {
			return fmt.Errorf("get %s %s: %w", gvk.Kind, key, err)
		}
		set(u)
		if err := c.Status().Update(ctx, u); err != nil {
			return fmt.Errorf("update status of %s %s: %w", gvk.Kind, key, err)
		}
		return nil
	})
}

func now() string { return metav1.Now().UTC().Format("2006-01-02T15:04:05Z") }

// CatalogState sets the CatalogSource's connection state, as OLM does from the gRPC
// connection to the registry pod (READY, CONNECTING, TRANSIENT_FAILURE).
func CatalogState(ctx context.Context, c client.Client, namespace, name, state string) error {
	return updateStatus(ctx, c, children.GVKCatalogSource, client.ObjectKey{Namespace: namespace, Name: name}, func(u *unstructured.Unstructured) {
		u.Object["status"] = map[string]any{"connectionState": map[string]any{"lastObservedState": state, "lastConnect": now()}}
	})
}

// InstallCSV does what OLM does when a Subscription resolves: it creates the CSV with phase
// Succeeded in the Subscription's namespace and records it as installed and current.
func InstallCSV(ctx context.Context, c client.Client, subNamespace, subName, csvName, version string) error {
	if err := CreateCSV(ctx, c, subNamespace, csvName, version); err != nil {
		return err
	}
	if err := OperatorDeployment(ctx, c, subNamespace, subName, csvName); err != nil {
		return err
	}
	if err := CSVPhase(ctx, c, subNamespace, csvName, "Succeeded", "InstallSucceeded", "install strategy completed with no errors"); err != nil {
		return err
	}
	return SubscriptionInstalled(ctx, c, subNamespace, subName, csvName)
}

// OperatorName is the OSP operator Deployment's name, as its CSV's install strategy names it.
const OperatorName = "openshift-pipelines-operator"

// OperatorDeployment does what OLM's deployment install strategy does for csvName: the
// operator's Deployment in the Subscription's namespace, labelled with its owner CSV, with the
// Subscription's spec.config.env on its container, reported rolled out (no kubelet runs
// here). It writes only when the Deployment is not so already.
func OperatorDeployment(ctx context.Context, c client.Client, subNamespace, subName, csvName string) error {
	sub, err := get(ctx, c, children.GVKSubscription, subNamespace, subName)
	if err != nil {
		return err
	}
	var env []corev1.EnvVar
	vars, _, _ := unstructured.NestedSlice(sub.Object, "spec", "config", "env")
	for _, v := range vars {
		m, _ := v.(map[string]any)
		name, _ := m["name"].(string)
		value, _ := m["value"].(string)
		env = append(env, corev1.EnvVar{Name: name, Value: value})
	}
	labels := map[string]string{"app": OperatorName, "olm.owner": csvName, "olm.owner.kind": "ClusterServiceVersion", "olm.owner.namespace": subNamespace}
	d := &appsv1.Deployment{}
	err = c.Get(ctx, client.ObjectKey{Namespace: subNamespace, Name: OperatorName}, d)
	switch {
	case apierrors.IsNotFound(err):
		d = &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: subNamespace, Name: OperatorName, Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": OperatorName}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": OperatorName}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name: OperatorName, Image: "registry.redhat.io/openshift-pipelines/pipelines-rhel9-operator:" + csvName, Env: env}}},
				},
			},
		}
		if err := c.Create(ctx, d); err != nil {
			return fmt.Errorf("create Deployment %s/%s: %w", subNamespace, OperatorName, err)
		}
	case err != nil:
		return err
	case !maps.Equal(d.Labels, labels) || !slices.Equal(d.Spec.Template.Spec.Containers[0].Env, env):
		d.Labels = labels
		d.Spec.Template.Spec.Containers[0].Env = env
		if err := c.Update(ctx, d); err != nil {
			return fmt.Errorf("update Deployment %s/%s: %w", subNamespace, OperatorName, err)
		}
	}
	if d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas == ptr.Deref(d.Spec.Replicas, 1) {
		return nil
	}
	return DeploymentReady(ctx, c, subNamespace, OperatorName, 1)
}

// CreateCSV creates a CSV with no status, as OLM does when an InstallPlan runs.
func CreateCSV(ctx context.Context, c client.Client, namespace, name, version string) error {
	csv := &unstructured.Unstructured{}
	csv.SetGroupVersionKind(children.GVKClusterServiceVersion)
	csv.SetNamespace(namespace)
	csv.SetName(name)
	csv.Object["spec"] = map[string]any{
		"displayName": "Red Hat OpenShift Pipelines",
		"version":     version,
		"install":     map[string]any{"strategy": "deployment"},
	}
	if err := c.Create(ctx, csv); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create CSV %s: %w", name, err)
	}
	return nil
}

// CSVPhase sets a CSV's phase, reason and message. A CSV that succeeds owns the operator
// Deployment, as OLM's install strategy hands the Deployment of the CSV it replaces to it.
func CSVPhase(ctx context.Context, c client.Client, namespace, name, phase, reason, message string) error {
	if phase == "Succeeded" {
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			d := &appsv1.Deployment{}
			err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: OperatorName}, d)
			if apierrors.IsNotFound(err) || err == nil && d.Labels["olm.owner"] == name {
				return nil
			} else if err != nil {
				return err
			}
			d.Labels["olm.owner"] = name
			return c.Update(ctx, d)
		}); err != nil {
			return fmt.Errorf("hand Deployment %s/%s to %s: %w", namespace, OperatorName, name, err)
		}
	}
	return updateStatus(ctx, c, children.GVKClusterServiceVersion, client.ObjectKey{Namespace: namespace, Name: name}, func(u *unstructured.Unstructured) {
		u.Object["status"] = map[string]any{"phase": phase, "reason": reason, "message": message}
	})
}

// SubscriptionInstalled records csvName as the Subscription's installed and current CSV.
func SubscriptionInstalled(ctx context.Context, c client.Client, namespace, name, csvName string) error {
	return updateStatus(ctx, c, children.GVKSubscription, client.ObjectKey{Namespace: namespace, Name: name}, func(u *unstructured.Unstructured) {
		st, _ := u.Object["status"].(map[string]any)
		if st == nil {
			st = map[string]any{}
		}
		st["state"], st["installedCSV"], st["currentCSV"], st["lastUpdated"] = "AtLatestKnown", csvName, csvName, now()
		delete(st, "conditions")
		u.Object["status"] = st
	})
}

// SubscriptionCondition sets one of the Subscription's conditions to True, as OLM does for
// ResolutionFailed, CatalogSourcesUnhealthy or InstallPlanFailed.
func SubscriptionCondition(ctx context.Context, c client.Client, namespace, name, condType, reason, message string) error {
	return updateStatus(ctx, c, children.GVKSubscription, client.ObjectKey{Namespace: namespace, Name: name}, func(u *unstructured.Unstructured) {
		st, _ := u.Object["status"].(map[string]any)
		if st == nil {
			st = map[string]any{"lastUpdated": now()}
		}
		st["conditions"] = []any{map[string]any{"type": condType, "status": "True", "reason": reason, "message": message, "lastTransitionTime": now()}}
		u.Object["status"] = st
	})
}

// CreateInstallPlan does what OLM does when a Subscription with Manual approval resolves a CSV:
// it creates an InstallPlan owned by the Subscription in phase (Planning, then
// RequiresApproval on a real cluster) and points the Subscription at it, with currentCSV the
// plan's last CSV.
func CreateInstallPlan(ctx context.Context, c client.Client, subNamespace, subName, planName, phase string, csvs ...string) error {
	sub := &unstructured.Unstructured{}
	sub.SetGroupVersionKind(children.GVKSubscription)
	if err := c.Get(ctx, client.ObjectKey{Namespace: subNamespace, Name: subName}, sub); err != nil {
		return fmt.Errorf("get Subscription %s/%s: %w", subNamespace, subName, err)
	}
	plan := &unstructured.Unstructured{}
	plan.SetGroupVersionKind(children.GVKInstallPlan)
	plan.SetNamespace(subNamespace)
	plan.SetName(planName)
	plan.SetOwnerReferences([]metav1.OwnerReference{{
		APIVersion: children.GVKSubscription.GroupVersion().String(), Kind: "Subscription", Name: subName, UID: sub.GetUID(),
	}})
	names := make([]any, len(csvs))
	for i, n := range csvs {
		names[i] = n
	}
	plan.Object["spec"] = map[string]any{"approval": "Manual", "approved": false, "clusterServiceVersionNames": names}
	if err := c.Create(ctx, plan); err != nil {
		return fmt.Errorf("create InstallPlan %s: %w", planName, err)
	}
	if err := updateStatus(ctx, c, children.GVKInstallPlan, client.ObjectKeyFromObject(plan), func(u *unstructured.Unstructured) {
		u.Object["status"] = map[string]any{"phase": phase, "catalogSources": []any{}}
	}); err != nil {
		return err
	}
	return updateStatus(ctx, c, children.GVKSubscription, client.ObjectKeyFromObject(sub), func(u *unstructured.Unstructured) {
		st, _ := u.Object["status"].(map[string]any)
		if st == nil {
			st = map[string]any{}
		}
		st["state"], st["currentCSV"], st["lastUpdated"] = "UpgradePending", csvs[len(csvs)-1], now()
		st["installPlanRef"] = map[string]any{"apiVersion": children.GVKInstallPlan.GroupVersion().String(), "kind": "InstallPlan",
			"namespace": subNamespace, "name": planName, "uid": string(plan.GetUID())}
		u.Object["status"] = st
	})
}

// InstallPlanApproved reports whether the plan was approved.
func InstallPlanApproved(ctx context.Context, c client.Client, namespace, name string) (bool, error) {
	plan := &unstructured.Unstructured{}
	plan.SetGroupVersionKind(children.GVKInstallPlan)
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, plan); err != nil {
		return false, err
	}
	approved, _, _ := unstructured.NestedBool(plan.Object, "spec", "approved")
	return approved, nil
}

// CompleteInstallPlan does what OLM does with an approved plan: it marks it Complete and
// installs its CSV.
func CompleteInstallPlan(ctx context.Context, c client.Client, subNamespace, subName, planName, csvName, version string) error {
	if err := updateStatus(ctx, c, children.GVKInstallPlan, client.ObjectKey{Namespace: subNamespace, Name: planName}, func(u *unstructured.Unstructured) {
		u.Object["status"] = map[string]any{"phase": "Complete", "catalogSources": []any{}}
	}); err != nil {
		return err
	}
	return InstallCSV(ctx, c, subNamespace, subName, csvName, version)
}

// TektonConfigStatus sets the TektonConfig's version and conditions, as OSP does; each
// condition is {type, status, message}.
func TektonConfigStatus(ctx context.Context, c client.Client, version string, conditions ...[3]string) error {
	return updateStatus(ctx, c, children.GVKTektonConfig, client.ObjectKey{Name: render.TektonConfigName}, func(u *unstructured.Unstructured) {
		list := make([]any, 0, len(conditions))
		for _, cond := range conditions {
			list = append(list, map[string]any{"type": cond[0], "status": cond[1], "message": cond[2], "lastTransitionTime": now()})
		}
		u.Object["status"] = map[string]any{"version": version, "conditions": list}
	})
}

// TektonConfigReady sets the TektonConfig Ready with every stage True.
func TektonConfigReady(ctx context.Context, c client.Client, version string) error {
	var conds [][3]string
	for _, t := range append(slices.Clone(health.TektonStages), "Ready") {
		conds = append(conds, [3]string{t, "True", ""})
	}
	return TektonConfigStatus(ctx, c, version, conds...)
}

// Components are the Deployments OSP runs in the target namespace.
var Components = []string{"tekton-pipelines-controller", "tekton-pipelines-webhook", "tekton-results-api", "pipelines-as-code-controller"}

// CreateComponents creates OSP's Deployments in namespace, with the given replicas.
func CreateComponents(ctx context.Context, c client.Client, namespace string, replicas int32) error {
	for _, name := range Components {
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"app.kubernetes.io/part-of": "tekton-pipelines"}},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To(replicas),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "registry.example/" + name + ":v1"}}},
				},
			},
		}
		if err := c.Create(ctx, d); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create Deployment %s/%s: %w", namespace, name, err)
		}
	}
	return nil
}

// DeploymentReady sets a Deployment's status as the Deployment controller would with ready of
// its replicas ready: Available when at least one is.
func DeploymentReady(ctx context.Context, c client.Client, namespace, name string, ready int32) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, d); err != nil {
			return fmt.Errorf("get Deployment %s/%s: %w", namespace, name, err)
		}
		desired := ptr.Deref(d.Spec.Replicas, 1)
		available := corev1.ConditionFalse
		reason := "MinimumReplicasUnavailable"
		if ready > 0 || desired == 0 {
			available, reason = corev1.ConditionTrue, "MinimumReplicasAvailable"
		}
		t := metav1.Now()
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: d.Generation, Replicas: desired, UpdatedReplicas: desired,
			ReadyReplicas: ready, AvailableReplicas: ready, UnavailableReplicas: desired - ready,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: available, Reason: reason, LastUpdateTime: t, LastTransitionTime: t},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", LastUpdateTime: t, LastTransitionTime: t},
			},
		}
		return c.Status().Update(ctx, d)
	})
}

// AllDeploymentsReady makes every Deployment in namespace fully ready.
func AllDeploymentsReady(ctx context.Context, c client.Client, namespace string) error {
	list := &appsv1.DeploymentList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return fmt.Errorf("list Deployments in %s: %w", namespace, err)
	}
	for _, d := range list.Items {
		if err := DeploymentReady(ctx, c, namespace, d.Name, ptr.Deref(d.Spec.Replicas, 1)); err != nil {
			return err
		}
	}
	return nil
}

// Stack is what a simulated OLM and OSP report once installed.
type Stack struct {
	CSV, Version, TektonVersion string
}

// Healthy plays OLM and OSP to the end of a good install of ps, once the operator has created
// its children: the catalog READY, stack.CSV installed and Succeeded, OSP's Deployments and
// the exporter ready, the TektonConfig Ready. Call it again (for example in Eventually) until
// it succeeds: it fails while a child it needs does not exist yet.
func Healthy(ctx context.Context, c client.Client, spec Spec, stack Stack) error {
	if err := CatalogState(ctx, c, spec.CatalogNamespace, spec.CatalogName, "READY"); err != nil {
		return err
	}
	if err := InstallCSV(ctx, c, spec.SubscriptionNamespace, spec.SubscriptionName, stack.CSV, stack.Version); err != nil {
		return err
	}
	if err := CreateComponents(ctx, c, spec.TargetNamespace, 1); err != nil {
		return err
	}
	if err := AllDeploymentsReady(ctx, c, spec.TargetNamespace); err != nil {
		return err
	}
	return TektonConfigReady(ctx, c, stack.TektonVersion)
}

// Spec names the objects the operator creates that the stand-in writes status to.
type Spec struct {
	CatalogNamespace, CatalogName           string
	SubscriptionNamespace, SubscriptionName string
	TargetNamespace                         string
}

// InstallPlanPhase sets a plan's phase.
func InstallPlanPhase(ctx context.Context, c client.Client, namespace, name, phase string) error {
	return updateStatus(ctx, c, children.GVKInstallPlan, client.ObjectKey{Namespace: namespace, Name: name}, func(u *unstructured.Unstructured) {
		u.Object["status"] = map[string]any{"phase": phase, "catalogSources": []any{}}
	})
}

// DeletePlan deletes an InstallPlan, as OLM's garbage collection of old plans does.
func DeletePlan(ctx context.Context, c client.Client, namespace, name string) error {
	plan := &unstructured.Unstructured{}
	plan.SetGroupVersionKind(children.GVKInstallPlan)
	plan.SetNamespace(namespace)
	plan.SetName(name)
	return client.IgnoreNotFound(c.Delete(ctx, plan))
}

// RouteAdmitted sets a Route's status as OpenShift's router named router would: admitted at
// host, or refused with reason and message. The router (HAProxy and its controller) cannot run
// against envtest.
func RouteAdmitted(ctx context.Context, c client.Client, namespace, name, router, host string, admitted bool, reason, message string) error {
	status := "True"
	if !admitted {
		status = "False"
	}
	return updateStatus(ctx, c, children.GVKRoute, client.ObjectKey{Namespace: namespace, Name: name}, func(u *unstructured.Unstructured) {
		cond := map[string]any{"type": "Admitted", "status": status, "lastTransitionTime": now()}
		if reason != "" {
			cond["reason"], cond["message"] = reason, message
		}
		u.Object["status"] = map[string]any{"ingress": []any{map[string]any{
			"host": host, "routerName": router, "wildcardPolicy": "None", "conditions": []any{cond},
		}}}
	})
}

// ProxyPluginCondition sets a ProxyPlugin's Ready condition, as CodeReadyToolchain declares it.
// Its host operator does not set it as of 2026-08 (and needs a whole toolchain to run), so this
// plays a toolchain that would.
func ProxyPluginCondition(ctx context.Context, c client.Client, namespace, name, status, reason, message string) error {
	return updateStatus(ctx, c, children.GVKProxyPlugin, client.ObjectKey{Namespace: namespace, Name: name}, func(u *unstructured.Unstructured) {
		u.Object["status"] = map[string]any{"conditions": []any{map[string]any{
			"type": "Ready", "status": status, "reason": reason, "message": message, "lastTransitionTime": now(),
		}}}
	})
}

// ContainerRestarts plays the kubelet for a pod of component (one of Components, whose
// Deployment selects app=<component>): the pod is made if missing, and its container's status
// says it has restarted restarts times, the last just now, as the kubelet reports a crashed
// container it started again (restartCount, lastState.terminated).
func ContainerRestarts(ctx context.Context, c client.Client, namespace, component string, restarts int32) error {
	name := component + "-0"
	pod := &corev1.Pod{}
	err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, pod)
	if apierrors.IsNotFound(err) {
		pod = &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"app": component}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "registry.example/" + component + ":v1"}}},
		}
		if err := c.Create(ctx, pod); err != nil {
			return fmt.Errorf("create pod %s/%s: %w", namespace, name, err)
		}
	} else if err != nil {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, pod); err != nil {
			return err
		}
		status := corev1.ContainerStatus{Name: "main", Image: pod.Spec.Containers[0].Image, Ready: true, RestartCount: restarts,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}
		if restarts > 0 {
			status.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error", FinishedAt: metav1.Now()}}
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{status}
		return c.Status().Update(ctx, pod)
	})
}
