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
// index, often an image that cannot be pulled, or the catalog server at the address does not
// answer) needs someone to look.
func CatalogSourceReady(cs *olmv1alpha1.CatalogSource, err error) Check {
	const t = psv1alpha1.ConditionCatalogSourceReady
	if err != nil {
		return readFailed(t, "the CatalogSource", err)
	}
	if cs == nil {
		return unknown(t, psv1alpha1.ReasonCatalogSourceNotObserved, "the CatalogSource does not exist yet")
	}
	name := cs.Namespace + "/" + cs.Name
	// A catalog served by address has no registry pod: OLM only connects to it.
	source, starting, broken := cs.Spec.Image, "OLM is starting the registry pod for "+cs.Spec.Image,
		fmt.Sprintf("check that %s can be pulled and the registry pod in %s runs", cs.Spec.Image, cs.Namespace)
	if cs.Spec.Address != "" {
		source, starting, broken = cs.Spec.Address, "OLM is connecting to "+cs.Spec.Address,
			fmt.Sprintf("check that the catalog server at %s runs and is reachable from OLM", cs.Spec.Address)
	}
	switch state := CatalogState(cs); state {
	case catalogReady:
		return healthy(t, psv1alpha1.ReasonCatalogSourceReady, fmt.Sprintf("CatalogSource %s serves %s", name, source))
	case "":
		return unknown(t, psv1alpha1.ReasonCatalogSourceNotObserved,
			fmt.Sprintf("OLM has not reported the connection state of CatalogSource %s yet", name))
	case catalogConnecting, catalogIdle:
		return progressing(t, psv1alpha1.ReasonCatalogSourceConnecting, fmt.Sprintf("CatalogSource %s is %s: %s", name, state, starting))
	default:
		return failing(t, psv1alpha1.ReasonCatalogSourceUnhealthy, fmt.Sprintf("CatalogSource %s is %s: %s", name, state, broken))
	}
}
