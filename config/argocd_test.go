package config_test

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"
	"sigs.k8s.io/yaml"
)

// runHealth runs config/argocd/health.lua the way ArgoCD does: the object as the global obj,
// the returned table's status and message.
func runHealth(t *testing.T, object string) (string, string) {
	t.Helper()
	script, err := os.ReadFile(filepath.Join("argocd", "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(object), &obj); err != nil {
		t.Fatal(err)
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(string(script)); err != nil {
		t.Fatalf("health.lua: %v", err)
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("health.lua returned %v, not a table", L.Get(-1))
	}
	return hs.RawGetString("status").String(), hs.RawGetString("message").String()
}

// toLua converts a decoded JSON value into Lua values, as ArgoCD hands objects to scripts.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	}
	return lua.LNil
}

// TestArgoCDHealth feeds health.lua a PipelineService in every state the operator reports.
func TestArgoCDHealth(t *testing.T) {
	const head = "apiVersion: pipelineservice.appstudio.io/v1alpha1\nkind: PipelineService\nmetadata: {name: cluster, generation: 3}\n"
	for name, tc := range map[string]struct {
		status  string
		health  string
		message string
	}{
		"no status yet": {"", "Progressing", "Waiting for pipeline-service-operator"},
		"healthy": {`
status:
  observedGeneration: 3
  conditions:
  - {type: Ready, status: "True", reason: Healthy, message: all healthy, observedGeneration: 3}`, "Healthy", "all healthy"},
		"ready but for an older generation": {`
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "True", reason: Healthy, message: all healthy, observedGeneration: 2}`, "Progressing", "generation 3"},
		"ready condition current, spec not applied yet": {`
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "True", reason: Healthy, message: all healthy, observedGeneration: 3}`, "Progressing", "apply generation 3"},
		"reconciling": {`
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "Unknown", reason: TektonConfigCRDMissing, message: waiting for CRD, observedGeneration: 3}
  - {type: Reconciling, status: "True", reason: TektonConfigCRDMissing, message: the TektonConfig waits for its CRD, observedGeneration: 3}`, "Progressing", "waits for its CRD"},
		"upgrade running": {`
status:
  observedGeneration: 3
  upgrade: {from: a.v1.0.0, to: a.v1.1.0, startedAt: "2026-11-26T10:00:00Z"}
  conditions:
  - {type: Ready, status: "Unknown", reason: CSVInstalling, message: installing, observedGeneration: 3}`, "Progressing", "a.v1.1.0"},
		"upgrade running, reported through Reconciling": {`
status:
  observedGeneration: 3
  upgrade: {from: a.v1.0.0, to: a.v1.1.0, startedAt: "2026-11-26T10:00:00Z"}
  conditions:
  - {type: Ready, status: "Unknown", reason: CSVInstalling, message: installing, observedGeneration: 3}
  - {type: Reconciling, status: "True", reason: Upgrading, message: upgrade from a.v1.0.0 to a.v1.1.0 running, observedGeneration: 3}`, "Progressing", "upgrade from a.v1.0.0"},
		"upgrade completed": {`
status:
  observedGeneration: 3
  upgrade: {from: a.v1.0.0, to: a.v1.1.0, startedAt: "2026-11-26T10:00:00Z", completedAt: "2026-11-26T10:03:00Z"}
  conditions:
  - {type: Ready, status: "True", reason: Healthy, message: all healthy, observedGeneration: 3}`, "Healthy", "all healthy"},
		"unknown while the catalog connects": {`
status:
  observedGeneration: 3
  conditions:
  - {type: Ready, status: "Unknown", reason: CatalogSourceConnecting, message: "CatalogSourceReady: CONNECTING", observedGeneration: 3}`, "Progressing", "CONNECTING"},
		"catalog in transient failure": {`
status:
  observedGeneration: 3
  conditions:
  - {type: Ready, status: "False", reason: CatalogSourceUnhealthy, message: "CatalogSourceReady: TRANSIENT_FAILURE", observedGeneration: 3}`, "Degraded", "TRANSIENT_FAILURE"},
		"install plan pending approval": {`
status:
  observedGeneration: 3
  conditions:
  - {type: Ready, status: "False", reason: InstallPlanPendingApproval, message: "OperatorInstalled: InstallPlan install-x waits", observedGeneration: 3}`, "Degraded", "install-x"},
		"ready false with a progress reason": {`
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "False", reason: TektonConfigCRDMissing, message: waiting for the CRD, observedGeneration: 3}`, "Progressing", "waiting for the CRD"},
		"stalled": {`
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "False", reason: InvalidTektonConfig, message: "spec.pruner.disable: unknown field", observedGeneration: 3}
  - {type: Stalled, status: "True", reason: InvalidTektonConfig, message: "spec.pruner.disable: unknown field", observedGeneration: 3}`, "Degraded", "spec.pruner.disable"},
		"stalled on a downgrade, otherwise applied": {`
status:
  observedGeneration: 3
  conditions:
  - {type: Ready, status: "False", reason: DowngradeNotSupported, message: "OLM cannot roll back", observedGeneration: 3}
  - {type: Stalled, status: "True", reason: DowngradeNotSupported, message: "OLM cannot roll back", observedGeneration: 3}`, "Degraded", "cannot roll back"},
		"apply failing": {`
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "False", reason: ApplyFailed, message: "apply Subscription: forbidden", observedGeneration: 3}
  - {type: Reconciling, status: "True", reason: ApplyFailed, message: "apply Subscription: forbidden", observedGeneration: 3}`, "Degraded", "forbidden"},
		"apply rejected by admission": {`
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "False", reason: ApplyRejected, message: "apply Deployment openshift-pipelines/pipeline-metrics-exporter: denied by policy freeze-exporter; retrying with backoff", observedGeneration: 3}
  - {type: Reconciling, status: "True", reason: ApplyRejected, message: "apply Deployment openshift-pipelines/pipeline-metrics-exporter: denied by policy freeze-exporter", observedGeneration: 3}`, "Degraded", "denied by policy"},
		"upgrade failed": {`
status:
  observedGeneration: 3
  upgrade: {from: a.v1.0.0, to: a.v1.1.0, startedAt: "2026-11-26T10:00:00Z"}
  conditions:
  - {type: Ready, status: "False", reason: CSVFailed, message: "OperatorInstalled: CSV a.v1.1.0 is Failed", observedGeneration: 3}
  - {type: Reconciling, status: "True", reason: Upgrading, message: upgrade running, observedGeneration: 3}`, "Degraded", "is Failed"},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			status, message := runHealth(t, head+tc.status)
			g.Expect(status).To(Equal(tc.health), message)
			g.Expect(message).To(ContainSubstring(tc.message))
		})
	}
}
