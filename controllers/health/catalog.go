package health

import (
	"fmt"

	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// gRPC connectivity states OLM copies into status.connectionState.lastObservedState.
const (
	catalogReady            = "READY"
	catalogConnecting       = "CONNECTING"
	catalogIdle             = "IDLE"
	catalogTransientFailure = "TRANSIENT_FAILURE"
)

// CatalogState is the CatalogSource's last observed connection state, "" when OLM has not
// reported one.
func CatalogState(cs *olmv1alpha1.CatalogSource) string {
	if cs == nil || cs.Status.GRPCConnectionState == nil {
		return ""
	}
	return cs.Status.GRPCConnectionState.LastObservedState
}

// CatalogSourceReady reads OLM's gRPC connection state of the catalog: READY is healthy,
// CONNECTING and IDLE are on their way, TRANSIENT_FAILURE (the registry pod cannot serve the
// index, often an image that cannot be pulled) needs someone to look.
func CatalogSourceReady(cs *olmv1alpha1.CatalogSource, err error) Check {
	const t = psv1alpha1.ConditionCatalogSourceReady
	if err != nil {
		return readFailed(t, "the CatalogSource", err)
	}
	if cs == nil {
		return unknown(t, psv1alpha1.ReasonCatalogSourceNotObserved, "the CatalogSource does not exist yet")
	}
	name := cs.Namespace + "/" + cs.Name
	switch state := CatalogState(cs); state {
	case catalogReady:
		return healthy(t, psv1alpha1.ReasonCatalogSourceReady, fmt.Sprintf("CatalogSource %s serves %s", name, cs.Spec.Image))
	case "":
		return unknown(t, psv1alpha1.ReasonCatalogSourceNotObserved,
			fmt.Sprintf("OLM has not reported the connection state of CatalogSource %s yet", name))
	case catalogConnecting, catalogIdle:
		return progressing(t, psv1alpha1.ReasonCatalogSourceConnecting,
			fmt.Sprintf("CatalogSource %s is %s: OLM is starting the registry pod for %s", name, state, cs.Spec.Image))
	default:
		return failing(t, psv1alpha1.ReasonCatalogSourceUnhealthy, fmt.Sprintf(
			"CatalogSource %s is %s: check that %s can be pulled and the registry pod in %s runs",
			name, state, cs.Spec.Image, cs.Namespace))
	}
}
