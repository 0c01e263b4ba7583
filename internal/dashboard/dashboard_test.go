package dashboard

import (
	"strings"
	"testing"
)

func TestEveryPanelQueriesPrometheus(t *testing.T) {
	d, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	exprs := Exprs(d)
	if len(exprs) < 12 {
		t.Fatalf("the dashboard has %d queries, want at least 12: %v", len(exprs), exprs)
	}
	for _, want := range []string{"pipelineservice_ready", "pipelineservice_condition", "pipelineservice_component_ready",
		"pipelineservice_operator_info", "pipelineservice_upgrade_duration_seconds", "pipelineservice_installplan_pending",
		"pipelineservice_stale_containers", "controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total", "workqueue_depth"} {
		if !strings.Contains(strings.Join(exprs, "\n"), want) {
			t.Errorf("no panel shows %s", want)
		}
	}
}
