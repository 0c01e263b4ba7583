package health

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// ExporterAvailable reads the exporter Deployment's Available condition. A rollout that has
// not finished is progress; one past its progress deadline needs a look.
func ExporterAvailable(d *appsv1.Deployment, err error) Check {
	return deploymentAvailable(d, err, deploymentCheck{
		condition: psv1alpha1.ConditionExporterAvailable, what: "the exporter Deployment",
		available: psv1alpha1.ReasonExporterAvailable, rollingOut: psv1alpha1.ReasonExporterRollingOut,
		unavailable: psv1alpha1.ReasonExporterUnavailable, notObserved: psv1alpha1.ReasonExporterNotObserved,
	})
}

// deploymentCheck names the condition and reasons of one Deployment's availability.
type deploymentCheck struct {
	condition, what                                 string
	available, rollingOut, unavailable, notObserved string
}

// deploymentAvailable reads a Deployment's Available condition for the check c.
func deploymentAvailable(d *appsv1.Deployment, err error, c deploymentCheck) Check {
	t := c.condition
	if err != nil {
		return readFailed(t, c.what, err)
	}
	if d == nil {
		return unknown(t, c.notObserved, c.what+" does not exist yet")
	}
	ready, desired := d.Status.ReadyReplicas, desiredReplicas(d)
	replicas := fmt.Sprintf("%d/%d replicas ready", ready, desired)
	var available, progress *appsv1.DeploymentCondition
	for i := range d.Status.Conditions {
		switch d.Status.Conditions[i].Type {
		case appsv1.DeploymentAvailable:
			available = &d.Status.Conditions[i]
		case appsv1.DeploymentProgressing:
			progress = &d.Status.Conditions[i]
		}
	}
	name := d.Namespace + "/" + d.Name
	if available != nil && available.Status == corev1.ConditionTrue && d.Status.ObservedGeneration >= d.Generation {
		return healthy(t, c.available, fmt.Sprintf("Deployment %s is available: %s", name, replicas))
	}
	if progress != nil && progress.Reason == "ProgressDeadlineExceeded" {
		return failing(t, c.unavailable, fmt.Sprintf(
			"Deployment %s is not available (%s): %s; check its pods' events and logs", name, replicas, progress.Message))
	}
	return progressing(t, c.rollingOut, fmt.Sprintf("Deployment %s is rolling out: %s", name, replicas))
}

// desiredReplicas is spec.replicas, which defaults to 1.
func desiredReplicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// Components lists every Deployment with its ready and desired replicas, sorted by name.
func Components(deployments []appsv1.Deployment, pods []corev1.Pod, podsRead bool, since *metav1.Time) []psv1alpha1.ComponentStatus {
	out := make([]psv1alpha1.ComponentStatus, 0, len(deployments))
	for i := range deployments {
		d := &deployments[i]
		c := psv1alpha1.ComponentStatus{Name: d.Name, Ready: d.Status.ReadyReplicas, Desired: desiredReplicas(d)}
		if podsRead {
			n := Restarts(d, pods, since)
			c.Restarts = &n
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b psv1alpha1.ComponentStatus) int { return strings.Compare(a.Name, b.Name) })
	if len(out) == 0 {
		return nil
	}
	return out
}

// Restarts counts the restarts of the containers of d's pods (those its selector selects)
// since since, all of them when since is nil. A pod's status keeps, per container, only the
// total restartCount and the last termination's time, so a container counts once its last
// termination came after since, or its pod started after since, and then with its whole
// count: for "no restart since the upgrade" as soak evidence, an overcount is the safe side.
func Restarts(d *appsv1.Deployment, pods []corev1.Pod, since *metav1.Time) int32 {
	if d.Spec.Selector == nil {
		return 0
	}
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || selector.Empty() {
		return 0
	}
	var n int32
	for i := range pods {
		pod := &pods[i]
		if pod.Namespace != d.Namespace || !selector.Matches(labels.Set(pod.Labels)) {
			continue
		}
		podAfter := since == nil || !pod.CreationTimestamp.Before(since)
		for _, c := range append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...) {
			if c.RestartCount == 0 {
				continue
			}
			last := c.LastTerminationState.Terminated
			if podAfter || (last != nil && !last.FinishedAt.Before(since)) {
				n += c.RestartCount
			}
		}
	}
	return n
}
