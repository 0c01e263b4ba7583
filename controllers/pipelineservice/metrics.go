package pipelineservice

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
)

// The PipelineService's metrics, served on the manager's metrics endpoint next to
// controller-runtime's own: pipelineservice_ready and pipelineservice_condition (the parent's,
// one series per part), and the gauges below. config/prometheus holds the alerts on them.
var (
	componentReadyGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservice_component_ready",
		Help: "Ready replicas over desired replicas of each Deployment in the target namespace (1 when desired is 0).",
	}, []string{"namespace", "component"})
	componentRestartsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservice_component_restarts",
		Help: "Container restarts of each Deployment's pods in the target namespace since the last upgrade completed (status.components[].restarts).",
	}, []string{"namespace", "component"})
	tektonInfoGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservice_tekton_info",
		Help: "1, labelled with the Tekton version the TektonConfig reports (status.tektonVersion).",
	}, []string{"version"})
	operatorInfoGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservice_operator_info",
		Help: "1, labelled with the installed CSV of the OpenShift Pipelines operator, its version and the Subscription's channel.",
	}, []string{"csv", "version", "channel"})
	upgradeDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "pipelineservice_upgrade_duration_seconds",
		Help:    "Time from a change of the installed CSV to the new CSV reaching Succeeded.",
		Buckets: []float64{30, 60, 120, 300, 600, 900, 1800, 3600, 7200},
	})
	upgradeRunningGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservice_upgrade_running",
		Help: "1 while an upgrade of the OpenShift Pipelines operator has started and not completed.",
	}, nil)
	staleContainersGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservice_stale_containers",
		Help: "Component containers that do not run the image the OpenShift Pipelines operator's environment names (an image override not yet rolled out).",
	}, nil)
	installPlanPendingGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservice_installplan_pending",
		Help: "1 when an InstallPlan that the operator does not approve blocks the desired CSV.",
	}, nil)

	metrics = &statusMetrics{StatusMetrics: parent.NewStatusMetrics("pipelineservice", "PipelineService", parts)}
)

// Collectors are the PipelineService's metrics, for the alert and dashboard checks.
func Collectors() []prometheus.Collector {
	return append(metrics.Collectors(), componentReadyGauge, componentRestartsGauge, tektonInfoGauge, operatorInfoGauge, upgradeDuration, upgradeRunningGauge, installPlanPendingGauge, staleContainersGauge)
}

func init() {
	ctrlmetrics.Registry.MustRegister(componentReadyGauge, componentRestartsGauge, tektonInfoGauge, operatorInfoGauge, upgradeDuration, upgradeRunningGauge, installPlanPendingGauge, staleContainersGauge)
}

// statusMetrics sets the gauges from a status. Series whose labels no longer apply (a
// component removed, a CSV replaced) are deleted rather than reset, so that a scrape never sees
// the set half-empty.
type statusMetrics struct {
	*parent.StatusMetrics
	mu         sync.Mutex
	components map[[2]string]bool
	info       [3]string
	tekton     string
}

func (m *statusMetrics) Record(ps *psv1alpha1.PipelineService) {
	m.StatusMetrics.Record(ps)
	m.mu.Lock()
	defer m.mu.Unlock()
	st := &ps.Status
	seen := map[[2]string]bool{}
	ns := ps.Spec.TektonConfig.TargetNamespace
	for _, c := range st.Components {
		key := [2]string{ns, c.Name}
		seen[key] = true
		ratio := 1.0
		if c.Desired > 0 {
			ratio = float64(c.Ready) / float64(c.Desired)
		}
		componentReadyGauge.WithLabelValues(key[0], key[1]).Set(ratio)
		if c.Restarts != nil {
			componentRestartsGauge.WithLabelValues(key[0], key[1]).Set(float64(*c.Restarts))
		} else {
			componentRestartsGauge.DeleteLabelValues(key[0], key[1])
		}
	}
	for key := range m.components {
		if !seen[key] {
			componentReadyGauge.DeleteLabelValues(key[0], key[1])
			componentRestartsGauge.DeleteLabelValues(key[0], key[1])
		}
	}
	m.components = seen

	info := [3]string{st.InstalledCSV, st.InstalledVersion, ps.Spec.Operator.Subscription.Channel}
	if info != m.info {
		operatorInfoGauge.DeleteLabelValues(m.info[:]...)
		m.info = info
	}
	if info[0] != "" {
		operatorInfoGauge.WithLabelValues(info[:]...).Set(1)
	}
	if st.TektonVersion != m.tekton {
		tektonInfoGauge.DeleteLabelValues(m.tekton)
		m.tekton = st.TektonVersion
	}
	if m.tekton != "" {
		tektonInfoGauge.WithLabelValues(m.tekton).Set(1)
	}
	upgradeRunningGauge.WithLabelValues().Set(parent.BoolValue(st.Upgrade != nil && st.Upgrade.CompletedAt == nil))
	operator := meta.FindStatusCondition(st.Conditions, psv1alpha1.ConditionOperatorInstalled)
	pending := operator != nil && operator.Reason == psv1alpha1.ReasonInstallPlanPendingApproval
	installPlanPendingGauge.WithLabelValues().Set(parent.BoolValue(pending))
	staleContainersGauge.WithLabelValues().Set(float64(st.StaleContainers))
}

// Forget removes every series: the PipelineService is gone.
func (m *statusMetrics) Forget() {
	m.StatusMetrics.Forget()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range []*prometheus.GaugeVec{componentReadyGauge, componentRestartsGauge, tektonInfoGauge, operatorInfoGauge, upgradeRunningGauge, installPlanPendingGauge, staleContainersGauge} {
		v.Reset()
	}
	m.components, m.info, m.tekton = nil, [3]string{}, ""
}

// ConditionTypes are the PipelineService's condition types: every parent's, then its parts'.
func ConditionTypes() []string { return metrics.Types() }
