package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// The operator's metrics, served on the manager's metrics endpoint next to controller-runtime's
// own. They are set from the status the reconciler has just computed, so the metrics and
// `kubectl get pipelineservice` never disagree. config/prometheus holds the alerts on them.
// Even the unlabelled ones are vectors: a series appears only once the leader has reconciled,
// so a standby replica exports no pipelineservice_ready 0 to set off alerts.
var (
	readyGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservice_ready",
		Help: "1 when the PipelineService is Ready, 0 otherwise.",
	}, nil)
	conditionGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservice_condition",
		Help: "1 for the current status of each PipelineService condition, 0 for the other statuses.",
	}, []string{"type", "status"})
	componentReadyGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservice_component_ready",
		Help: "Ready replicas over desired replicas of each Deployment in the target namespace (1 when desired is 0).",
	}, []string{"namespace", "component"})
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
	installPlanPendingGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservice_installplan_pending",
		Help: "1 when an InstallPlan that the operator does not approve blocks the desired CSV.",
	}, nil)
)

// operatorCollectors are the operator's own metrics.
var operatorCollectors = []prometheus.Collector{readyGauge, conditionGauge, componentReadyGauge, operatorInfoGauge,
	upgradeDuration, upgradeRunningGauge, installPlanPendingGauge}

func init() {
	metrics.Registry.MustRegister(operatorCollectors...)
}

// conditionTypes are the condition types exported, in a fixed order.
var conditionTypes = []string{
	psv1alpha1.ConditionReady, psv1alpha1.ConditionReconciling, psv1alpha1.ConditionStalled,
	psv1alpha1.ConditionCatalogSourceReady, psv1alpha1.ConditionOperatorInstalled,
	psv1alpha1.ConditionTektonConfigReady, psv1alpha1.ConditionExporterAvailable, psv1alpha1.ConditionMirrorsApplied,
}

var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

// statusMetrics sets the gauges from a status. Series whose labels no longer apply (a
// component removed, a CSV replaced) are deleted rather than reset, so that a scrape never sees
// the set half-empty.
type statusMetrics struct {
	mu         sync.Mutex
	components map[[2]string]bool
	info       [3]string
}

func (m *statusMetrics) record(ps *psv1alpha1.PipelineService, installPlanPending bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := &ps.Status
	readyGauge.WithLabelValues().Set(boolValue(meta.IsStatusConditionTrue(st.Conditions, psv1alpha1.ConditionReady)))
	recordConditions(conditionGauge, conditionTypes, st.Conditions)

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
	}
	for key := range m.components {
		if !seen[key] {
			componentReadyGauge.DeleteLabelValues(key[0], key[1])
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
	upgradeRunningGauge.WithLabelValues().Set(boolValue(st.Upgrade != nil && st.Upgrade.CompletedAt == nil))
	installPlanPendingGauge.WithLabelValues().Set(boolValue(installPlanPending))
}

// forget removes every series: the PipelineService is gone.
func (m *statusMetrics) forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range []*prometheus.GaugeVec{readyGauge, conditionGauge, componentReadyGauge, operatorInfoGauge, upgradeRunningGauge, installPlanPendingGauge} {
		v.Reset()
	}
	m.components, m.info = nil, [3]string{}
}

// recordConditions sets, for each condition type, 1 on the series of its current status and 0
// on the others, and deletes the series of a condition that is absent.
func recordConditions(gauge *prometheus.GaugeVec, types []string, conditions []metav1.Condition) {
	for _, t := range types {
		c := meta.FindStatusCondition(conditions, t)
		for _, s := range conditionStatuses {
			if c == nil {
				gauge.DeleteLabelValues(t, string(s))
				continue
			}
			gauge.WithLabelValues(t, string(s)).Set(boolValue(c.Status == s))
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
