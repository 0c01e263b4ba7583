package osp_test

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
)

// TestReconcileRulesOrdinalBuckets: in StatefulSet ordinal mode, each pipelines controller's
// effective buckets (options, else performance, else 1) must equal its effective replicas;
// OSP's webhook admits every case below (checked), and its reconciler refuses the mismatches.
func TestReconcileRulesOrdinalBuckets(t *testing.T) {
	const ordinal = `"performance": {"statefulset-ordinals": true, "buckets": 4, "replicas": 4}`
	for _, tc := range []struct {
		name, spec       string
		wantPath, wantIn string
	}{
		{"performance alone", `{"pipeline": {` + ordinal + `}}`, "", ""},
		{"not in ordinal mode", `{"pipeline": {"performance": {"buckets": 4, "replicas": 2},
			"options": {"configMaps": {"config-leader-election-resolvers": {"data": {"buckets": "8"}}}}}}`, "", ""},
		{"options matching on both sides", `{"pipeline": {` + ordinal + `, "options": {
			"configMaps": {"config-leader-election-resolvers": {"data": {"buckets": "6"}}},
			"statefulSets": {"tekton-pipelines-remote-resolvers": {"spec": {"replicas": 6}}}}}}`, "", ""},
		{"production's resolvers: 8 buckets, 4 replicas (tektoncd/operator#3957)", `{"pipeline": {` + ordinal + `, "options": {
			"configMaps": {"config-leader-election-resolvers": {"data": {"buckets": "8"}}},
			"statefulSets": {"tekton-pipelines-remote-resolvers": {"spec": {"replicas": 4}}}}}}`,
			"spec.pipeline.options.configMaps.config-leader-election-resolvers.data.buckets",
			"tekton-pipelines-remote-resolvers's leader-election buckets (8, from spec.pipeline.options.configMaps.config-leader-election-resolvers.data.buckets) must equal its replicas (4, from spec.pipeline.options.statefulSets.tekton-pipelines-remote-resolvers.spec.replicas)"},
		{"the controller's replicas through options", `{"pipeline": {` + ordinal + `, "options": {
			"statefulSets": {"tekton-pipelines-controller": {"spec": {"replicas": 2}}}}}}`,
			"spec.pipeline.options.statefulSets.tekton-pipelines-controller.spec.replicas",
			"buckets (4, from spec.pipeline.performance.buckets) must equal its replicas (2, from spec.pipeline.options.statefulSets.tekton-pipelines-controller.spec.replicas)"},
		// Both controllers: OSP's defaulting sets buckets from replicas, not replicas from buckets.
		{"buckets set, replicas left to the payload", `{"pipeline": {"performance": {"statefulset-ordinals": true, "buckets": 3}}}`,
			"spec.pipeline.performance.buckets", "replicas (1, from the payload's default)"},
		{"buckets out of range", `{"pipeline": {` + ordinal + `, "options": {
			"configMaps": {"config-leader-election-controller": {"data": {"buckets": "12"}}}}}}`,
			"spec.pipeline.options.configMaps.config-leader-election-controller.data.buckets", `from 1 to 10, not "12"`},
		{"buckets not a number", `{"pipeline": {` + ordinal + `, "options": {
			"configMaps": {"config-leader-election-controller": {"data": {"buckets": "four"}}}}}}`,
			"spec.pipeline.options.configMaps.config-leader-election-controller.data.buckets", `not "four"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			tc2 := config(t, tc.spec)
			g.Expect(osp.Review(tc2, nil)).To(BeEmpty(), "OSP's webhook admits it")
			errs := osp.ReconcileRules(tc2)
			if tc.wantPath == "" {
				g.Expect(errs).To(BeEmpty())
				return
			}
			g.Expect(errs).To(HaveEach(HaveField("Path", tc.wantPath)))
			g.Expect(errs).To(ContainElement(HaveField("Message", ContainSubstring(tc.wantIn))))
		})
	}
}
