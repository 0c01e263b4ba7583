package health

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// When OSP's TektonConfig is not ready, its own message rarely says why: "Components not in
// ready state: TektonPipeline: reconcile again and proceed" (tektoncd/operator#2006). The cause
// is further down OSP's chain: the TektonConfig makes one CR per component (TektonPipeline,
// TektonTrigger, ...; pkg/reconciler/shared/tektonconfig), each component makes
// TektonInstallerSets labelled operator.tekton.dev/created-by=<its kind>
// (pkg/reconciler/kubernetes/tektoninstallerset/client/create.go), and the installer set
// reconciler marks the stage that failed (tektoninstallerset_lifecycle.go:
// DeploymentsAvailable, WebhooksReady, ...). TektonCause walks that chain to the deepest
// failing condition.

// CreatedByLabel is the label OSP puts on an installer set: the kind of the component that
// made it.
const CreatedByLabel = "operator.tekton.dev/created-by"

// TektonCause is the deepest failing condition under a TektonConfig that is not ready: on a
// component CR, or on one of its installer sets.
type TektonCause struct {
	Kind, Name string
	// Condition is the condition's type, Message its message.
	Condition, Message string
}

func (c TektonCause) String() string {
	msg := c.Message
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("%s %s: %s: %s", c.Kind, c.Name, c.Condition, msg)
}

// knativeStatus is the part of a knative-style status (OSP's CRs) the walk reads.
type knativeStatus struct {
	Conditions []knativeCondition `json:"conditions,omitempty"`
}

type knativeCondition struct {
	Type    string                 `json:"type"`
	Status  corev1.ConditionStatus `json:"status"`
	Message string                 `json:"message,omitempty"`
}

// failingCondition is obj's deepest condition that is not True: a stage (any condition but
// Ready) before Ready itself, a False one, which says what failed, before an Unknown one with
// a message. knative keeps conditions sorted by type, and initializes the stages not reached
// yet as Unknown, so list order says nothing of which stage failed. False when Ready is True,
// or when OSP has not reported on obj.
func failingCondition(obj *unstructured.Unstructured) (typ, msg string, failing bool) {
	var st knativeStatus
	if raw, ok := obj.Object["status"].(map[string]any); ok {
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &st)
	}
	ready := slices.IndexFunc(st.Conditions, func(c knativeCondition) bool { return c.Type == "Ready" })
	if ready < 0 || st.Conditions[ready].Status == corev1.ConditionTrue {
		return "", "", false
	}
	for _, pick := range []func(knativeCondition) bool{
		func(c knativeCondition) bool { return c.Status == corev1.ConditionFalse },
		func(c knativeCondition) bool { return c.Status != corev1.ConditionTrue && c.Message != "" },
	} {
		for _, c := range st.Conditions {
			if c.Type != "Ready" && pick(c) {
				return c.Type, c.Message, true
			}
		}
	}
	return "Ready", st.Conditions[ready].Message, true
}

// TektonNotReady is whether OSP reports the TektonConfig not ready: the walk is worth making.
func TektonNotReady(tc *unstructured.Unstructured) bool {
	if tc == nil {
		return false
	}
	_, _, failing := failingCondition(tc)
	return failing
}

// DeepestTektonCause walks from the TektonConfig down OSP's chain: the components that are
// not ready, those its conditions name first ("TektonPipeline: ..."), and for each its
// installer sets that are not ready. It returns the first failing installer set's deepest
// condition, else the first failing component's; nil when the TektonConfig is ready or no
// component reports a failure (the TektonConfig's own message is then the cause).
func DeepestTektonCause(tc *unstructured.Unstructured, components, installerSets []*unstructured.Unstructured) *TektonCause {
	if !TektonNotReady(tc) {
		return nil
	}
	var messages []string
	for _, c := range readTektonConfigStatus(tc).Conditions {
		messages = append(messages, c.Message)
	}
	said := strings.Join(messages, "\n")
	ordered := slices.Clone(components)
	named := func(u *unstructured.Unstructured) bool { return strings.Contains(said, u.GetKind()+":") }
	slices.SortStableFunc(ordered, func(a, b *unstructured.Unstructured) int {
		switch {
		case named(a) && !named(b):
			return -1
		case named(b) && !named(a):
			return 1
		}
		return strings.Compare(a.GetKind(), b.GetKind())
	})
	for _, comp := range ordered {
		typ, msg, failing := failingCondition(comp)
		if !failing {
			continue
		}
		sets := slices.Clone(installerSets)
		slices.SortFunc(sets, func(a, b *unstructured.Unstructured) int { return strings.Compare(a.GetName(), b.GetName()) })
		for _, set := range sets {
			if set.GetLabels()[CreatedByLabel] != comp.GetKind() {
				continue
			}
			if setType, setMsg, setFailing := failingCondition(set); setFailing {
				return &TektonCause{Kind: set.GetKind(), Name: set.GetName(), Condition: setType, Message: setMsg}
			}
		}
		return &TektonCause{Kind: comp.GetKind(), Name: comp.GetName(), Condition: typ, Message: msg}
	}
	return nil
}
