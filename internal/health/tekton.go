package health

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// tektonConfigStatus is the part of TektonConfig's status that health reads. It is decoded
// from the unstructured object, so that a TektonConfig whose spec the Go types would not
// accept (the schemaless CRD of older OSP) is still observed.
type tektonConfigStatus struct {
	Version    string `json:"version,omitempty"`
	Conditions []struct {
		Type    string                 `json:"type"`
		Status  corev1.ConditionStatus `json:"status"`
		Reason  string                 `json:"reason,omitempty"`
		Message string                 `json:"message,omitempty"`
	} `json:"conditions,omitempty"`
}

// TektonStages are the conditions OSP sets on the way to Ready, in the order it sets them.
var TektonStages = []string{"PreInstall", "ComponentsReady", "PostInstall", "PreUpgrade", "PostUpgrade"}

func readTektonConfigStatus(tc *unstructured.Unstructured) tektonConfigStatus {
	var st tektonConfigStatus
	if raw, ok := tc.Object["status"].(map[string]any); ok {
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &st)
	}
	return st
}

// TektonVersion is TektonConfig's status.version, which OSP writes at the start of each of its
// reconciles: it says which version is being installed, not that it is healthy.
func TektonVersion(tc *unstructured.Unstructured) string {
	if tc == nil {
		return ""
	}
	return readTektonConfigStatus(tc).Version
}

// TektonConfigReady mirrors TektonConfig's Ready condition. OSP never sets
// status.observedGeneration on it, so Ready is the only signal; when it is not True, the first
// stage that is not True says where OSP is stuck, and cause, when OSP's chain under it has one
// (DeepestTektonCause), comes first in the message.
func TektonConfigReady(tc *unstructured.Unstructured, err error, cause *TektonCause) Check {
	const t = psv1alpha1.ConditionTektonConfigReady
	if err != nil {
		return readFailed(t, "the TektonConfig", err)
	}
	if tc == nil {
		return unknown(t, psv1alpha1.ReasonTektonConfigNotObserved, "the TektonConfig does not exist yet")
	}
	st := readTektonConfigStatus(tc)
	byType := map[string]int{}
	for i, c := range st.Conditions {
		byType[c.Type] = i
	}
	i, ok := byType["Ready"]
	if !ok {
		return unknown(t, psv1alpha1.ReasonTektonConfigNotObserved,
			fmt.Sprintf("the OpenShift Pipelines operator has not reported on TektonConfig %s yet", tc.GetName()))
	}
	ready := st.Conditions[i]
	if ready.Status == corev1.ConditionTrue {
		return healthy(t, psv1alpha1.ReasonTektonConfigReady, fmt.Sprintf("TektonConfig %s is ready (version %s)", tc.GetName(), orUnknown(st.Version)))
	}
	where := "Ready"
	detail := ready.Message
	for _, stage := range TektonStages {
		if j, ok := byType[stage]; ok && st.Conditions[j].Status != corev1.ConditionTrue {
			where, detail = stage, st.Conditions[j].Message
			break
		}
	}
	msg := fmt.Sprintf("TektonConfig %s: %s is %s: %s", tc.GetName(), where, st.Conditions[byType[where]].Status, detail)
	if cause != nil {
		msg = cause.String() + "; " + msg
	}
	if ready.Status == corev1.ConditionUnknown {
		return progressing(t, psv1alpha1.ReasonTektonConfigInstalling, msg)
	}
	return failing(t, psv1alpha1.ReasonTektonConfigNotReady,
		msg+"; see the TektonConfig's status and the openshift-pipelines-operator logs")
}
