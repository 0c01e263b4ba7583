// Command dashboard writes the operator's Grafana dashboard (internal/dashboard) to
// config/grafana/dashboard.json, which config/grafana's kustomization ships in a ConfigMap
// that its GrafanaDashboard resource reads. `make dashboard` runs it.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/dashboard"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

func main() {
	d, err := dashboard.Build()
	if err == nil {
		var data []byte
		if data, err = json.MarshalIndent(d, "", "  "); err == nil {
			err = os.WriteFile(filepath.Join(testenv.RepoRoot(), "config", "grafana", "dashboard.json"), append(data, '\n'), 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}
