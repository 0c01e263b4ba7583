package osp_test

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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
		{"replicas alone: OSP's defaulting sets the buckets", `{"pipeline": {"performance": {"statefulset-ordinals": true, "replicas": 3}}}`, "", ""},
		{"buckets out of range", `{"pipeline": {` + ordinal + `, "options": {
			"configMaps": {"config-leader-election-controller": {"data": {"buckets": "12"}}}}}}`,
			"spec.pipeline.options.configMaps.config-leader-election-controller.data.buckets", `from 1 to 10, not "12"`},
		{"buckets not a number", `{"pipeline": {` + ordinal + `, "options": {
			"configMaps": {"config-leader-election-controller": {"data": {"buckets": "four"}}}}}}`,
			"spec.pipeline.options.configMaps.config-leader-election-controller.data.buckets", `not "four"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			// PaC off, as the operator renders it when off: defaulting an absent PaC turns it
			// on and asks the hub's API for its catalog type.
			u := config(t, tc.spec)
			g.Expect(unstructured.SetNestedField(u.Object, false, "spec", "platforms", "openshift", "pipelinesAsCode", "enable")).To(Succeed())
			defaulted := typed(t, u)
			g.Expect(osp.Default(t.Context(), defaulted)).To(BeNil())
			g.Expect(osp.Validate(t.Context(), defaulted, nil)).To(BeEmpty(), "OSP's webhook admits it")
			errs := osp.ReconcileRules(defaulted)
			g.Expect(osp.Review(u, nil)).To(ContainElements(errs), "Review keeps the rules too")
			if tc.wantPath == "" {
				g.Expect(errs).To(BeEmpty())
				return
			}
			g.Expect(errs).To(HaveEach(HaveField("Path", tc.wantPath)))
			g.Expect(errs).To(ContainElement(HaveField("Message", ContainSubstring(tc.wantIn))))
		})
	}
}
