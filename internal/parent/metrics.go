package parent

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// StatusMetrics are the gauges every kind exports, set from the status the reconciler has just
// stored, so that the metrics and `kubectl get` never disagree: <prefix>_ready,
// <prefix>_condition{type,status}, <prefix>_ready_since_timestamp_seconds (status.readySince,
// absent while not Ready) and <prefix>_suspended_since_timestamp_seconds (absent while not
// suspended). Even the unlabelled one is a vector: a series appears only
// once the leader has reconciled, so a standby replica exports no ready 0 to set off alerts.
type StatusMetrics struct {
	mu             sync.Mutex
	ready          *prometheus.GaugeVec
	condition      *prometheus.GaugeVec
	readySince     *prometheus.GaugeVec
	suspendedSince *prometheus.GaugeVec
	// types are the condition types exported: every parent's, then the kind's parts.
	types []string
}

var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

// NewStatusMetrics makes the gauges of a kind (kind names it in the help texts) and registers
// them with controller-runtime's registry, which the manager serves; call it once per process.
// The condition series follow the kind's parts, so a new part is exported without a list to
// keep in step.
func NewStatusMetrics[O any](prefix, kind string, parts []Part[O]) *StatusMetrics {
	m := &StatusMetrics{
		ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: prefix + "_ready",
			Help: "1 when the " + kind + " is Ready, 0 otherwise.",
		}, nil),
		condition: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: prefix + "_condition",
			Help: "1 for the current status of each " + kind + " condition, 0 for the other statuses.",
		}, []string{"type", "status"}),
		readySince: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: prefix + "_ready_since_timestamp_seconds",
			Help: "When the " + kind + "'s Ready condition last became True (status.readySince), in seconds since the epoch; absent while it is not True.",
		}, nil),
		suspendedSince: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: prefix + "_suspended_since_timestamp_seconds",
			Help: "When the " + kind + " was suspended (spec.suspend: no child is written), in seconds since the epoch; absent while it is not suspended.",
		}, nil),
	}
	for _, c := range SkeletonConditions {
		m.types = append(m.types, c.Type)
	}
	for _, p := range parts {
		m.types = append(m.types, p.Type)
	}
	metrics.Registry.MustRegister(m.Collectors()...)
	return m
}

// Collectors are the gauges, for alert and dashboard checks.
func (m *StatusMetrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.ready, m.condition, m.readySince, m.suspendedSince}
}

// Types are the condition types exported, in order.
func (m *StatusMetrics) Types() []string { return m.types }

// Record sets, from obj's status, Ready, since when it is Ready and since when it is suspended
// and, for each condition type, 1 on the series of its current status and 0 on the others; the
// series of an absent condition are deleted.
func (m *StatusMetrics) Record(obj Object) {
	m.mu.Lock()
	defer m.mu.Unlock()
	conditions := obj.GetParentStatus().Conditions
	m.ready.WithLabelValues().Set(BoolValue(meta.IsStatusConditionTrue(conditions, psv1alpha1.ConditionReady)))
	setTimestamp(m.readySince, obj.GetParentStatus().ReadySince)
	var suspended *metav1.Time
	if c := meta.FindStatusCondition(conditions, psv1alpha1.ConditionSuspended); c != nil && c.Status == metav1.ConditionTrue {
		suspended = &c.LastTransitionTime
	}
	setTimestamp(m.suspendedSince, suspended)
	for _, t := range m.types {
		c := meta.FindStatusCondition(conditions, t)
		for _, s := range conditionStatuses {
			if c == nil {
				m.condition.DeleteLabelValues(t, string(s))
				continue
			}
			m.condition.WithLabelValues(t, string(s)).Set(BoolValue(c.Status == s))
		}
	}
}

// Forget removes every series: the parent is gone.
func (m *StatusMetrics) Forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ready.Reset()
	m.condition.Reset()
	m.readySince.Reset()
	m.suspendedSince.Reset()
}

// setTimestamp sets an unlabelled gauge to t in seconds since the epoch, or deletes its series
// when t is nil.
func setTimestamp(g *prometheus.GaugeVec, t *metav1.Time) {
	if t == nil {
		g.Reset()
		return
	}
	g.WithLabelValues().Set(float64(t.UnixNano()) / 1e9)
}

// BoolValue is 1 for true and 0 for false.
func BoolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
