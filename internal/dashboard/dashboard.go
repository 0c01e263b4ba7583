// Package dashboard builds the operator's Grafana dashboard with Grafana's Foundation SDK:
// Ready over time, conditions, component readiness, the installed version, upgrades, pending
// InstallPlans, the host's readiness, backends and conditions, and the controller's reconcile
// rate, errors, latency and work queue. hack/dashboard
// writes it to config/grafana as JSON and as a GrafanaDashboard resource.
package dashboard

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

const (
	// UID is the dashboard's uid, stable so that links and provisioning keep working.
	UID = "pipeline-service-operator"
	// controller is the controller-runtime controller name of the reconciler.
	controller = `controller="pipelineservice"`
)

// datasource is the Prometheus the dashboard's variable selects.
var datasource = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource).Expr(expr).LegendFormat(legend)
}

func instant(expr, legend string) *prometheus.DataqueryBuilder {
	return query(expr, legend).Instant()
}

func statPanel(title, description, expr, legend, unit string) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Unit(unit).Span(6).Height(4).WithTarget(instant(expr, legend))
}

func graph(title, description, unit string, span uint32, targets ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Unit(unit).Span(span).Height(8).Min(0)
	for _, t := range targets {
		p = p.WithTarget(t)
	}
	return p
}

// Build returns the dashboard.
func Build() (dashboard.Dashboard, error) {
	return dashboard.NewDashboardBuilder("Pipeline Service operator").
		Uid(UID).
		Description("Health of Pipeline Service (OpenShift Pipelines, its TektonConfig and the exporter) as pipeline-service-operator reports it, and the operator's own work.").
		Tags([]string{"pipeline-service", "tekton", "openshift-pipelines", "operator"}).
		Refresh("1m").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Prometheus").Type("prometheus")).
		WithRow(dashboard.NewRowBuilder("Health")).
		WithPanel(statPanel("Ready", "1 when the PipelineService is Ready (the whole stack healthy).",
			"max(pipelineservice_ready)", "", "bool_yes_no")).
		WithPanel(statPanel("Installed version", "The OpenShift Pipelines operator version OLM has installed, and its channel.",
			"max by (version, channel) (pipelineservice_operator_info)", "{{version}} ({{channel}})", "none").
			TextMode(common.BigValueTextModeName)).
		WithPanel(statPanel("InstallPlan pending", "1 when an InstallPlan the operator will not approve blocks the desired CSV: move the pin or approve it by hand.",
			"max(pipelineservice_installplan_pending)", "", "bool_yes_no")).
		WithPanel(statPanel("Upgrade running", "1 while an upgrade of the OpenShift Pipelines operator has started and not completed.",
			"max(pipelineservice_upgrade_running)", "", "bool_yes_no")).
		WithPanel(graph("Ready over time", "pipelineservice_ready: 1 Ready, 0 not.", "bool_yes_no", 12,
			query("max(pipelineservice_ready)", "Ready")).Max(1)).
		WithPanel(statetimeline.NewPanelBuilder().Title("Conditions").
			Description("Each condition of the PipelineService that is True, over time (CatalogSourceReady, OperatorInstalled, TektonConfigReady, ExporterAvailable, Reconciling, Stalled, ...).").
			Datasource(datasource).Span(12).Height(8).
			WithTarget(query(`max by (type) (pipelineservice_condition{status="True"})`, "{{type}}"))).
		WithRow(dashboard.NewRowBuilder("Components and upgrades")).
		WithPanel(graph("Component readiness", "Ready over desired replicas of each Deployment in the target namespace.", "percentunit", 12,
			query("max by (namespace, component) (pipelineservice_component_ready)", "{{component}}")).Max(1)).
		WithPanel(graph("Stale component containers", "Component containers that do not run the image the OpenShift Pipelines operator's environment names: a hot-fix or revert not yet rolled out (OverridesApplied names them).", "short", 12,
			query("max(pipelineservice_stale_containers)", "stale"))).
		WithPanel(graph("Upgrade duration", "From a change of the installed CSV to the new CSV reaching Succeeded: the 90th percentile and the number of upgrades.", "s", 12,
			query("histogram_quantile(0.9, sum by (le) (increase(pipelineservice_upgrade_duration_seconds_bucket[$__range])))", "p90"),
			query("sum(increase(pipelineservice_upgrade_duration_seconds_count[$__range]))", "upgrades"))).
		WithRow(dashboard.NewRowBuilder("Soak signals (ring promotion)")).
		WithPanel(statPanel("Ready for", "Time since Ready last became True (status.readySince); no value while not Ready. config/rollout's AnalysisTemplate asks for N days.",
			"time() - max(pipelineservice_ready_since_timestamp_seconds)", "", "s")).
		WithPanel(statPanel("Restarts since the upgrade", "Container restarts of the target namespace's component pods since the last upgrade completed (status.components[].restarts).",
			"sum(pipelineservice_component_restarts)", "", "short")).
		WithPanel(statPanel("Tekton version", "The Tekton version the TektonConfig reports (status.tektonVersion).",
			"max by (version) (pipelineservice_tekton_info)", "{{version}}", "none").TextMode(common.BigValueTextModeName)).
		WithPanel(statPanel("Suspended for", "Time since spec.suspend was set: the operator writes no child meanwhile. No value while not suspended; PipelineServiceSuspended fires after 4 hours.",
			"time() - max(pipelineservice_suspended_since_timestamp_seconds)", "", "s")).
		WithPanel(graph("Component restarts", "Restarts of each Deployment's pods since the last upgrade completed.", "short", 24,
			query("max by (namespace, component) (pipelineservice_component_restarts)", "{{component}}"))).
		WithRow(dashboard.NewRowBuilder("Host (CodeReadyToolchain)")).
		WithPanel(statPanel("Host ready", "1 when the PipelineServiceHost is Ready: SprayProxy available, its Route admitted, the Results proxy plugin applied. No value on clusters without a host.",
			"max(pipelineservicehost_ready)", "", "bool_yes_no")).
		WithPanel(statPanel("SprayProxy backends", "The member clusters' webhook URLs the SprayProxy Deployment forwards to (those registered at run time not counted).",
			"max(pipelineservicehost_backends)", "", "none")).
		WithPanel(statetimeline.NewPanelBuilder().Title("Host conditions").
			Description("Each condition of the PipelineServiceHost that is True, over time.").
			Datasource(datasource).Span(12).Height(4).
			WithTarget(query(`max by (type) (pipelineservicehost_condition{status="True"})`, "{{type}}"))).
		WithRow(dashboard.NewRowBuilder("Operator")).
		WithPanel(graph("Reconciles", "Reconciles of the PipelineService per second, by result.", "ops", 8,
			query("sum by (result) (rate(controller_runtime_reconcile_total{"+controller+"}[$__rate_interval]))", "{{result}}"))).
		WithPanel(graph("Reconcile errors", "Reconciles that returned an error, per second.", "ops", 8,
			query("sum(rate(controller_runtime_reconcile_errors_total{"+controller+"}[$__rate_interval]))", "errors"))).
		WithPanel(graph("Reconcile latency", "50th and 99th percentile of the time one reconcile takes.", "s", 8,
			query("histogram_quantile(0.5, sum by (le) (rate(controller_runtime_reconcile_time_seconds_bucket{"+controller+"}[$__rate_interval])))", "p50"),
			query("histogram_quantile(0.99, sum by (le) (rate(controller_runtime_reconcile_time_seconds_bucket{"+controller+"}[$__rate_interval])))", "p99"))).
		WithPanel(graph("Work queue", "Items waiting in the reconciler's work queue, and how long the oldest has waited.", "short", 12,
			query(`max(workqueue_depth{name="pipelineservice"})`, "depth"),
			query(`max(workqueue_longest_running_processor_seconds{name="pipelineservice"})`, "longest running (s)"))).
		WithPanel(graph("Work queue latency", "99th percentile of the time an item waits in the queue before a reconcile takes it.", "s", 12,
			query(`histogram_quantile(0.99, sum by (le) (rate(workqueue_queue_duration_seconds_bucket{name="pipelineservice"}[$__rate_interval])))`, "p99"))).
		Build()
}

// Exprs are the PromQL expressions of every panel of d.
func Exprs(d dashboard.Dashboard) []string {
	var out []string
	add := func(p *dashboard.Panel) {
		for _, t := range p.Targets {
			switch q := t.(type) {
			case prometheus.Dataquery:
				out = append(out, q.Expr)
			case *prometheus.Dataquery:
				out = append(out, q.Expr)
			}
		}
	}
	for _, item := range d.Panels {
		if item.Panel != nil {
			add(item.Panel)
		}
		if item.RowPanel != nil {
			for i := range item.RowPanel.Panels {
				add(&item.RowPanel.Panels[i])
			}
		}
	}
	return out
}
