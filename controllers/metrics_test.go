package controllers_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/dashboard"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/samples"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// freeAddr returns a local address nothing listens on.
func freeAddr(t *testing.T) string {
	addr, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// scrape reads the metrics endpoint and returns the value of each series of the
// pipelineservice_* families, keyed by name and labels as Prometheus prints them.
func scrape(g Gomega, url string) map[string]float64 {
	resp, err := http.Get(url)
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.Metric {
			key := name + labelString(m.Label)
			switch {
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				out[name+"_count"+labelString(m.Label)] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

func labelString(labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return ""
	}
	s := "{"
	for i, l := range labels {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	return s + "}"
}

// TestMetricsEndpoint scrapes the manager's metrics endpoint as Prometheus would, one step
// after another on one operator: a healthy install with its soak and break-glass signals, a
// component short of replicas, a blocking InstallPlan and an upgrade, a PipelineServiceHost's
// rollout, the dashboard's and the AnalysisTemplate's queries against what is served, then a
// host part turned off and the host deleted.
func TestMetricsEndpoint(t *testing.T) {
	alone(t) // the metrics registry is the process's, shared by every manager in it
	addr := freeAddr(t)
	e := startOperatorWith(t, nil, manager.Options{MetricsAddr: addr, ProbeAddr: "0", InsecureMetrics: true})
	m := &metricsRun{e: e, url: "http://" + addr + "/metrics"}
	e.create(samples.Full, nil)
	e.waitForGolden("full.yaml")
	e.becomeHealthy(stack505)
	for _, step := range []struct {
		name string
		run  func()
	}{
		{"member health, soak and suspension", m.memberSoak},
		{"member upgrade", m.memberUpgrade},
		{"host rollout", m.hostRollout},
		{"dashboard and analysis queries", m.queriesServed},
		{"host part off, host deleted", m.hostGone},
	} {
		if !t.Run(step.name, func(st *testing.T) {
			defer e.reportTo(st)()
			step.run()
		}) {
			return
		}
	}
}

// metricsRun is the state TestMetricsEndpoint's steps pass along.
type metricsRun struct {
	e   *operatorEnv
	url string
	// before is the upgrade histogram's count before the upgrade; readySince Ready's first
	// transition; restartedAt the last restart played; servedWhileSuspended the families
	// served while the PipelineService was suspended (the suspension's series exist only then).
	before               float64
	readySince           *metav1.Time
	restartedAt          time.Time
	servedWhileSuspended map[string]bool
}

// memberSoak: the healthy install's series, then since when it is Ready and suspended, and the
// component restarts a kubelet would report.
func (r *metricsRun) memberSoak() {
	e, url, t := r.e, r.url, r.e.t
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_ready", 1.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservice_condition{status="True",type="Ready"}`, 1.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservice_condition{status="False",type="Ready"}`, 0.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservice_condition{status="True",type="OperatorInstalled"}`, 1.0))
		g.Expect(m).NotTo(HaveKey(`pipelineservice_condition{status="True",type="Stalled"}`))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservice_component_ready{component="tekton-pipelines-controller",namespace="openshift-pipelines"}`, 1.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservice_operator_info{channel="latest",csv="`+csv505+`",version="5.0.5"}`, 1.0))
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_installplan_pending", 0.0))
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_upgrade_running", 0.0))
	}, timeout, poll).Should(Succeed())
	r.before = scrape(NewWithT(t), url)["pipelineservice_upgrade_duration_seconds_count"]

	// Soak and break-glass signals: since when it is Ready, and since when it is suspended.
	readySince := e.get().Status.ReadySince
	e.Expect(readySince).NotTo(BeNil())
	r.readySince = readySince
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_ready_since_timestamp_seconds", float64(readySince.Unix())))
		g.Expect(m).NotTo(HaveKey("pipelineservice_suspended_since_timestamp_seconds"))
	}, timeout, poll).Should(Succeed())
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Suspend = true })
	suspended := e.waitCondition(psv1alpha1.ConditionSuspended, psv1alpha1.ReasonSuspended, "suspended since")
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_suspended_since_timestamp_seconds", float64(suspended.LastTransitionTime.Unix())))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservice_condition{status="True",type="Suspended"}`, 1.0))
	}, timeout, poll).Should(Succeed())
	r.servedWhileSuspended = families(NewWithT(t), url)
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Suspend = false })
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).NotTo(HaveKey("pipelineservice_suspended_since_timestamp_seconds"))
		g.Expect(m).NotTo(HaveKey(`pipelineservice_condition{status="True",type="Suspended"}`))
	}, timeout, poll).Should(Succeed())

	// The kubelet restarts a controller container twice, then once more: the component's
	// restarts follow, in the status and the metric. envtest runs no kubelet, so
	// simulate.ContainerRestarts writes the container status a kubelet reports.
	restarts := func(n int32) {
		e.Expect(simulate.ContainerRestarts(ctx, e.c, stackSpec.TargetNamespace, "tekton-pipelines-controller", n)).To(Succeed())
		e.Eventually(func(g Gomega) {
			var got int32 = -1
			for _, c := range e.get().Status.Components {
				if c.Name == "tekton-pipelines-controller" && c.Restarts != nil {
					got = *c.Restarts
				}
			}
			g.Expect(got).To(Equal(n))
			g.Expect(scrape(g, url)).To(HaveKeyWithValue(`pipelineservice_component_restarts{component="tekton-pipelines-controller",namespace="openshift-pipelines"}`, float64(n)))
		}, timeout, poll).Should(Succeed())
	}
	restarts(2)
	restarts(3)
	r.restartedAt = time.Now()

}

// memberUpgrade: a component short of replicas, a pin with no plan and a plan past it, then the
// pinned upgrade approved and run to the end.
func (r *metricsRun) memberUpgrade() {
	e, url := r.e, r.url
	subNS, sub := stackSpec.SubscriptionNamespace, stackSpec.SubscriptionName
	readySince, before, restartedAt := r.readySince, r.before, r.restartedAt
	// A component short of replicas.
	e.Expect(simulate.DeploymentReady(ctx, e.c, stackSpec.TargetNamespace, "tekton-pipelines-webhook", 0)).To(Succeed())
	e.Eventually(func(g Gomega) {
		g.Expect(scrape(g, url)).To(HaveKeyWithValue(`pipelineservice_component_ready{component="tekton-pipelines-webhook",namespace="openshift-pipelines"}`, 0.0))
	}, timeout, poll).Should(Succeed())

	// The pin moves to a CSV that OLM offers no plan for; only a plan past it waits.
	e.update(func(ps *psv1alpha1.PipelineService) { ps.Spec.Operator.Subscription.CSV = csv506 })
	e.Expect(simulate.CreateInstallPlan(ctx, e.c, subNS, sub, "install-later", "RequiresApproval", "openshift-pipelines-operator-rh.v5.1.0")).To(Succeed())
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_installplan_pending", 1.0))
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_ready", 0.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservice_condition{status="False",type="Ready"}`, 1.0))
		// Not Ready: readySince goes with it.
		g.Expect(m).NotTo(HaveKey("pipelineservice_ready_since_timestamp_seconds"))
	}, timeout, poll).Should(Succeed())
	e.Expect(e.get().Status.ReadySince).To(BeNil())

	// OLM offers the pin; the operator approves it and the upgrade runs to the end.
	e.Expect(simulate.DeletePlan(ctx, e.c, subNS, "install-later")).To(Succeed())
	e.Expect(simulate.CreateInstallPlan(ctx, e.c, subNS, sub, "install-pin", "RequiresApproval", csv506)).To(Succeed())
	e.Eventually(e.approved("install-pin"), timeout, poll).Should(BeTrue())
	e.Expect(simulate.CreateCSV(ctx, e.c, subNS, csv506, "5.0.6")).To(Succeed())
	e.Expect(simulate.CSVPhase(ctx, e.c, subNS, csv506, "Installing", "InstallWaiting", "")).To(Succeed())
	e.Expect(simulate.SubscriptionInstalled(ctx, e.c, subNS, sub, csv506)).To(Succeed())
	e.Eventually(func(g Gomega) {
		g.Expect(scrape(g, url)).To(HaveKeyWithValue("pipelineservice_upgrade_running", 1.0))
	}, timeout, poll).Should(Succeed())
	// The restarts above fall in an earlier second than the upgrade's completion: times are kept
	// to the second, and a restart in the same second counts (the safe side), so on a fast run
	// the whole sequence above can share one second with the completion.
	time.Sleep(time.Until(restartedAt.Truncate(time.Second).Add(time.Second)))
	e.Expect(simulate.CSVPhase(ctx, e.c, subNS, csv506, "Succeeded", "InstallSucceeded", "")).To(Succeed())
	e.Expect(simulate.DeploymentReady(ctx, e.c, stackSpec.TargetNamespace, "tekton-pipelines-webhook", 1)).To(Succeed())
	e.expectReady(metav1.ConditionTrue, psv1alpha1.ReasonHealthy)
	// Ready again, since now; and the upgrade completed, so the controller's restarts, all
	// before it, no longer count.
	again := e.get().Status.ReadySince
	e.Expect(again).NotTo(BeNil())
	// Cleared while not Ready (above), set again now; times are kept to the second, so the two
	// may be the same second.
	e.Expect(again.Before(readySince)).To(BeFalse())
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_ready_since_timestamp_seconds", float64(again.Unix())))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservice_component_restarts{component="tekton-pipelines-controller",namespace="openshift-pipelines"}`, 0.0))
	}, timeout, poll).Should(Succeed())
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_upgrade_running", 0.0))
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_upgrade_duration_seconds_count", before+1))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservice_operator_info{channel="latest",csv="`+csv506+`",version="5.0.6"}`, 1.0))
		g.Expect(m).NotTo(HaveKey(`pipelineservice_operator_info{channel="latest",csv="` + csv505 + `",version="5.0.5"}`))
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_installplan_pending", 0.0))
		g.Expect(m).To(HaveKeyWithValue("pipelineservice_ready", 1.0))
	}, timeout, poll).Should(Succeed())

}

// hostRollout: the host's series, through a rollout.
func (r *metricsRun) hostRollout() {
	e, url := r.e, r.url
	// The host's series, through a rollout.
	e.createHost(nil)
	e.waitForGolden("host.yaml")
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).To(HaveKeyWithValue("pipelineservicehost_ready", 0.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservicehost_condition{status="Unknown",type="Ready"}`, 1.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservicehost_condition{status="False",type="SprayProxyAvailable"}`, 1.0))
		g.Expect(m).To(HaveKeyWithValue("pipelineservicehost_backends", 2.0))
	}, timeout, poll).Should(Succeed())
	e.hostHealthy()
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).To(HaveKeyWithValue("pipelineservicehost_ready", 1.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservicehost_condition{status="True",type="RouteAdmitted"}`, 1.0))
		g.Expect(m).To(HaveKeyWithValue(`pipelineservicehost_condition{status="True",type="ProxyPluginReady"}`, 1.0))
		g.Expect(m).NotTo(HaveKey(`pipelineservicehost_condition{status="True",type="Reconciling"}`))
	}, timeout, poll).Should(Succeed())

}

// queriesServed: the dashboard and the AnalysisTemplate ask only for what the endpoint serves.
func (r *metricsRun) queriesServed() {
	e, url, t, servedWhileSuspended := r.e, r.url, r.e.t, r.servedWhileSuspended
	// The dashboard asks only for what this endpoint serves: the operator's metrics and
	// controller-runtime's standard ones.
	d, err := dashboard.Build()
	e.Expect(err).NotTo(HaveOccurred())
	served := families(NewWithT(t), url)
	metricRef := regexp.MustCompile(`\b(?:pipelineservice|pipelineservicehost|controller_runtime|workqueue|rest_client)_[a-z_]+\b`)
	exprs := dashboard.Exprs(d)
	e.Expect(len(exprs)).To(BeNumerically(">=", 12))
	for _, expr := range exprs {
		refs := metricRef.FindAllString(expr, -1)
		e.Expect(refs).NotTo(BeEmpty(), "the dashboard query %q uses none of the operator's metrics", expr)
		for _, ref := range refs {
			// The suspension's series exists only while suspended.
			e.Expect(served[ref] || servedWhileSuspended[ref]).To(BeTrue(), "the dashboard query %q uses %s, which the operator does not serve", expr, ref)
		}
	}

	// So does the ring-promotion AnalysisTemplate (config/rollout), with its arguments' defaults.
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rollout", "analysistemplate.yaml"))
	e.Expect(err).NotTo(HaveOccurred())
	var template struct {
		Spec struct {
			Metrics []struct {
				Name     string `json:"name"`
				Provider struct {
					Prometheus struct {
						Query string `json:"query"`
					} `json:"prometheus"`
				} `json:"provider"`
			} `json:"metrics"`
		} `json:"spec"`
	}
	e.Expect(yaml.Unmarshal(raw, &template)).To(Succeed())
	e.Expect(template.Spec.Metrics).To(HaveLen(4))
	for _, m := range template.Spec.Metrics {
		refs := metricRef.FindAllString(m.Provider.Prometheus.Query, -1)
		e.Expect(refs).NotTo(BeEmpty(), "the analysis metric %s uses none of the operator's metrics", m.Name)
		for _, ref := range refs {
			// The not-suspended check's series exists only while suspended.
			e.Expect(served[ref] || servedWhileSuspended[ref]).To(BeTrue(), "the analysis metric %s uses %s, which the operator does not serve", m.Name, ref)
		}
	}
	e.Expect(served).To(HaveKey("pipelineservice_tekton_info"))

}

// hostGone: a plugin turned off takes its condition's series along; the host deleted, all of
// its series.
func (r *metricsRun) hostGone() {
	e, url := r.e, r.url
	// A plugin turned off takes its condition's series along; the host deleted, all of its
	// series.
	e.updateHost(func(h *psv1alpha1.PipelineServiceHost) { h.Spec.ResultsProxyPlugin.Enabled = false })
	e.waitHostCondition(psv1alpha1.ConditionReady, metav1.ConditionTrue, psv1alpha1.ReasonHealthy, "SprayProxy and its Route are healthy")
	e.Eventually(func(g Gomega) {
		g.Expect(scrape(g, url)).NotTo(HaveKey(`pipelineservicehost_condition{status="True",type="ProxyPluginReady"}`))
	}, timeout, poll).Should(Succeed())
	e.Expect(e.c.Delete(ctx, e.getHost())).To(Succeed())
	e.Eventually(func(g Gomega) {
		m := scrape(g, url)
		g.Expect(m).NotTo(HaveKey("pipelineservicehost_ready"))
		g.Expect(m).NotTo(HaveKey("pipelineservicehost_backends"))
		g.Expect(m).To(HaveKey("pipelineservice_ready"), "the PipelineService's series stay")
	}, timeout, poll).Should(Succeed())
}

// families are the metric names the endpoint serves, with a histogram's _bucket, _count and
// _sum series.
func families(g Gomega, url string) map[string]bool {
	resp, err := http.Get(url)
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	out := map[string]bool{}
	for name, f := range parsed {
		out[name] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			out[name+"_bucket"], out[name+"_count"], out[name+"_sum"] = true, true, true
		}
	}
	return out
}
