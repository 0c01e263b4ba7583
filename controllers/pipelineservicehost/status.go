package pipelineservicehost

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// parts are the host's parts, one condition each, in the order Ready ranks them; each has one
// only while the spec asks for it (the Route, where Routes are served).
var parts = []parent.Part[*observation]{
	{Type: psv1alpha1.ConditionSprayProxyAvailable, Name: "SprayProxy", Check: func(o *observation) (health.Check, bool) {
		return health.SprayProxyAvailable(o.sprayProxy, o.sprayProxyErr), o.sprayProxyWanted
	}},
	{Type: psv1alpha1.ConditionRouteAdmitted, Name: "its Route", Check: func(o *observation) (health.Check, bool) {
		return health.RouteAdmitted(o.route, o.routeErr), o.sprayProxyWanted && o.routeServed
	}},
	{Type: psv1alpha1.ConditionProxyPluginReady, Name: "the Results proxy plugin", Check: func(o *observation) (health.Check, bool) {
		if !o.pluginServed {
			return health.ProxyPluginCRDMissing(), o.pluginWanted
		}
		return health.ProxyPluginReady(o.plugin, o.pluginErr), o.pluginWanted
	}},
}

func (*kind) Parts() []parent.Part[*observation] { return parts }

// SetFields sets the backends and the webhook URL.
func (*kind) SetFields(h *psv1alpha1.PipelineServiceHost, _ *parent.Outcome, obs *observation, _ metav1.Time) []parent.Event {
	setBackends(h, obs)
	h.Status.WebhookURL = health.WebhookURL(obs.route)
	return nil
}

// setBackends lists the backends the SprayProxy Deployment runs with, read from its
// environment: what SprayProxy forwards to, which lags the spec while a rollout waits. A
// failed read keeps the last list.
func setBackends(h *psv1alpha1.PipelineServiceHost, obs *observation) {
	if obs.sprayProxyErr != nil {
		return
	}
	h.Status.Backends = deployedBackends(obs.sprayProxy)
}

// deployedBackends reads SPRAYPROXY_SERVER_BACKEND, a space-separated list, from d.
func deployedBackends(d *appsv1.Deployment) []string {
	if d == nil {
		return nil
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name != render.SprayProxyName {
			continue
		}
		for _, e := range c.Env {
			if e.Name == render.EnvSprayProxyBackends {
				if b := strings.Fields(e.Value); len(b) > 0 {
					return b
				}
			}
		}
	}
	return nil
}

// The host's metrics: pipelineservicehost_ready and pipelineservicehost_condition (the
// parent's), and the number of backends.
var (
	backendsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservicehost_backends",
		Help: "Backends the SprayProxy Deployment forwards webhooks to (registered at run time not counted).",
	}, nil)

	metrics = &hostMetrics{StatusMetrics: parent.NewStatusMetrics("pipelineservicehost", "PipelineServiceHost", parts)}
)

func init() {
	ctrlmetrics.Registry.MustRegister(backendsGauge)
}

// Collectors are the host's metrics, for the alert and dashboard checks.
func Collectors() []prometheus.Collector {
	return append(metrics.Collectors(), backendsGauge)
}

// hostMetrics sets the host's gauges from its status.
type hostMetrics struct{ *parent.StatusMetrics }

func (m *hostMetrics) Record(h *psv1alpha1.PipelineServiceHost) {
	m.StatusMetrics.Record(h)
	if h.Spec.SprayProxy == nil {
		backendsGauge.Reset()
		return
	}
	backendsGauge.WithLabelValues().Set(float64(len(h.Status.Backends)))
}

// Forget removes every series: the PipelineServiceHost is gone.
func (m *hostMetrics) Forget() {
	m.StatusMetrics.Forget()
	backendsGauge.Reset()
}

// ConditionTypes are the PipelineServiceHost's condition types: every parent's, then its
// parts'.
func ConditionTypes() []string { return metrics.Types() }
