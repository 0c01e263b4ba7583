package controllers

import (
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/health"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// setHostStatus computes the host's status from what was applied and observed, one setter per
// field or condition, and returns the Events its changes are worth.
func setHostStatus(h *psv1alpha1.PipelineServiceHost, out applyOutcome, obs hostObservation) []event {
	before := h.Status.DeepCopy()
	h.Status.Inventory = out.inventory
	setHostBackends(h, obs)
	h.Status.WebhookURL = health.WebhookURL(obs.route)
	applied := hostGenerationApplied(out)
	if applied {
		h.Status.ObservedGeneration = h.Generation
	}
	checks := hostChecks(h, obs)
	setHostPartConditions(h, checks)
	setHostReconcilingCondition(h, out, applied)
	ready := health.Summary(health.Apply{Err: out.err(), Rejected: len(out.rejected) > 0,
		MissingAPIs: out.optionalMissing(), GenerationApplied: applied}, checks)
	setHostCondition(h, ready)
	prev := meta.FindStatusCondition(before.Conditions, psv1alpha1.ConditionReady)
	switch {
	case prev != nil && prev.Status == ready.Status:
		return nil
	case ready.Status == metav1.ConditionTrue:
		return []event{{reason: psv1alpha1.ReasonHealthy, action: "Observe", message: ready.Message}}
	case ready.Status == metav1.ConditionFalse:
		return []event{{warning: true, reason: ready.Reason, action: "Observe", message: ready.Message}}
	}
	return nil
}

// hostGenerationApplied is whether every child of the generation was applied: the ProxyPlugin
// waiting for its CRD is not.
func hostGenerationApplied(out applyOutcome) bool {
	return len(out.errs) == 0 && !slices.Contains(out.missing, children.GVKProxyPlugin.Kind)
}

// setHostBackends lists the backends the SprayProxy Deployment runs with, read from its
// environment: what SprayProxy forwards to, which lags the spec while a rollout waits.
func setHostBackends(h *psv1alpha1.PipelineServiceHost, obs hostObservation) {
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

// hostChecks are the health checks of the parts the spec asks for.
func hostChecks(h *psv1alpha1.PipelineServiceHost, obs hostObservation) []health.Check {
	var checks []health.Check
	if h.Spec.SprayProxy != nil {
		checks = append(checks, health.SprayProxyAvailable(obs.sprayProxy, obs.sprayProxyErr))
		if obs.routeServed {
			checks = append(checks, health.RouteAdmitted(obs.route, obs.routeErr))
		}
	}
	if pp := h.Spec.ResultsProxyPlugin; pp != nil && pp.Enabled {
		if obs.pluginServed {
			checks = append(checks, health.ProxyPluginReady(obs.plugin, obs.pluginErr))
		} else {
			checks = append(checks, health.ProxyPluginCRDMissing())
		}
	}
	return checks
}

// hostPartConditions are the condition types hostChecks can set.
var hostPartConditions = []string{
	psv1alpha1.ConditionSprayProxyAvailable, psv1alpha1.ConditionRouteAdmitted, psv1alpha1.ConditionProxyPluginReady,
}

// setHostPartConditions sets the condition of each check and removes those of parts the spec
// no longer asks for.
func setHostPartConditions(h *psv1alpha1.PipelineServiceHost, checks []health.Check) {
	for _, t := range hostPartConditions {
		if !slices.ContainsFunc(checks, func(c health.Check) bool { return c.Condition.Type == t }) {
			meta.RemoveStatusCondition(&h.Status.Conditions, t)
		}
	}
	for _, c := range checks {
		setHostCondition(h, c.Condition)
	}
}

// setHostReconcilingCondition sets Reconciling while the operator has work left.
func setHostReconcilingCondition(h *psv1alpha1.PipelineServiceHost, out applyOutcome, applied bool) {
	reconciling := func(reason, msg string) {
		setHostCondition(h, metav1.Condition{Type: psv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: reason, Message: msg})
	}
	switch {
	case len(out.rejected) > 0:
		reconciling(psv1alpha1.ReasonApplyRejected, out.err().Error()+"; the children not named here are applied; retrying with backoff")
	case len(out.errs) > 0:
		reconciling(psv1alpha1.ReasonApplyFailed, out.err().Error())
	case !applied:
		reconciling(psv1alpha1.ReasonProxyPluginCRDMissing, "everything else is applied; the ProxyPlugin waits for its CRD")
	default:
		meta.RemoveStatusCondition(&h.Status.Conditions, psv1alpha1.ConditionReconciling)
	}
}

// setHostCondition sets c for the current generation.
func setHostCondition(h *psv1alpha1.PipelineServiceHost, c metav1.Condition) {
	c.ObservedGeneration = h.Generation
	meta.SetStatusCondition(&h.Status.Conditions, c)
}

// The host's metrics, set from the status just computed, like the PipelineService's.
var (
	hostReadyGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservicehost_ready",
		Help: "1 when the PipelineServiceHost is Ready, 0 otherwise.",
	}, nil)
	hostConditionGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservicehost_condition",
		Help: "1 for the current status of each PipelineServiceHost condition, 0 for the other statuses.",
	}, []string{"type", "status"})
	hostBackendsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pipelineservicehost_backends",
		Help: "Backends the SprayProxy Deployment forwards webhooks to (registered at run time not counted).",
	}, nil)
)

// hostCollectors are the host's metrics.
var hostCollectors = []prometheus.Collector{hostReadyGauge, hostConditionGauge, hostBackendsGauge}

func init() {
	metrics.Registry.MustRegister(hostCollectors...)
}

// hostConditionTypes are the host's condition types exported, in a fixed order.
var hostConditionTypes = append([]string{psv1alpha1.ConditionReady, psv1alpha1.ConditionReconciling}, hostPartConditions...)

// hostMetrics sets the host's gauges from its status.
type hostMetrics struct{ mu sync.Mutex }

func (m *hostMetrics) record(h *psv1alpha1.PipelineServiceHost) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := &h.Status
	hostReadyGauge.WithLabelValues().Set(boolValue(meta.IsStatusConditionTrue(st.Conditions, psv1alpha1.ConditionReady)))
	recordConditions(hostConditionGauge, hostConditionTypes, st.Conditions)
	if h.Spec.SprayProxy == nil {
		hostBackendsGauge.Reset()
		return
	}
	hostBackendsGauge.WithLabelValues().Set(float64(len(st.Backends)))
}

// forget removes every series: the PipelineServiceHost is gone.
func (m *hostMetrics) forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range []*prometheus.GaugeVec{hostReadyGauge, hostConditionGauge, hostBackendsGauge} {
		v.Reset()
	}
}
