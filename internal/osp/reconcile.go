package osp

import (
	"fmt"
	"strconv"
	"strings"

	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
)

// ReconcileRules rules on tc, a TektonConfig as OSP's webhook defaulted it, as OSP's
// reconciler would where the webhook admits what the reconcile then refuses or renders broken;
// see each rule. It returns the refusals, sorted by path, or nil. Review runs it.
func ReconcileRules(tc *tektonv1alpha1.TektonConfig) []FieldError {
	return sortErrors(ordinalBuckets(&tc.Spec.Pipeline))
}

// The leader-election ConfigMaps and the StatefulSets of the pipelines component's two
// controllers (tektoncd/operator pkg/reconciler/kubernetes/tektonpipeline/transform.go).
const (
	optionsPath    = "spec.pipeline.options."
	payloadDefault = "the payload's default"
)

var ordinalControllers = []struct{ configMap, statefulSet string }{
	{"config-leader-election-controller", "tekton-pipelines-controller"},
	{"config-leader-election-resolvers", "tekton-pipelines-remote-resolvers"},
}

// ordinalBuckets: in StatefulSet ordinal mode each replica of a controller owns only the
// leader-election bucket at its ordinal (knative.dev/pkg leaderelection), so a controller
// whose buckets outnumber its replicas never reconciles the keys of the unowned buckets, and
// one with more replicas than buckets runs idle replicas. OSP's webhook checks the equality on
// spec.pipeline.performance alone (v1alpha1 PerformanceProperties.Validate), but OSP applies
// spec.pipeline.options after the performance transformers (filterAndTransform runs
// ExecuteAdditionalOptionsTransformer last), and options can change either side: the
// ConfigMap's data.buckets or the StatefulSet's spec.replicas. tektoncd/operator#3957
// reported the resolvers timing out so; PR #3958 refuses it in the reconcile transform, after
// v0.81.0, the version this operator builds against, which still renders it with unowned
// buckets. Either way the configuration cannot work, so it is refused here, with each side's
// effective value: the options' if set, else the performance's, else the payload's, 1.
func ordinalBuckets(p *tektonv1alpha1.Pipeline) []FieldError {
	perf := p.Performance
	if perf.StatefulsetOrdinals == nil || !*perf.StatefulsetOrdinals {
		return nil
	}
	var errs []FieldError
	for _, c := range ordinalControllers {
		buckets, bucketsFrom := int64(1), payloadDefault
		if perf.Buckets != nil {
			buckets, bucketsFrom = int64(*perf.Buckets), "spec.pipeline.performance.buckets"
		}
		cmPath := "spec.pipeline.options.configMaps." + c.configMap + ".data.buckets"
		if v, ok := p.Options.ConfigMaps[c.configMap].Data["buckets"]; ok {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil || n < 1 || n > tektonv1alpha1.MaxBuckets {
				errs = append(errs, FieldError{Path: cmPath, Message: fmt.Sprintf(
					"must be a number from 1 to %d, not %q (OpenShift Pipelines' reconciler refuses it in StatefulSet ordinal mode)", tektonv1alpha1.MaxBuckets, v)})
				continue
			}
			buckets, bucketsFrom = n, cmPath
		}
		replicas, replicasFrom := int64(1), payloadDefault
		if perf.Replicas != nil {
			replicas, replicasFrom = int64(*perf.Replicas), "spec.pipeline.performance.replicas"
		}
		if s, ok := p.Options.StatefulSets[c.statefulSet]; ok && s.Spec.Replicas != nil {
			replicas, replicasFrom = int64(*s.Spec.Replicas), "spec.pipeline.options.statefulSets."+c.statefulSet+".spec.replicas"
		}
		if buckets == replicas || bucketsFrom == "spec.pipeline.performance.buckets" && replicasFrom == "spec.pipeline.performance.replicas" {
			// Equal, or both the performance's, which the webhook checks.
			continue
		}
		// The field named is the side the webhook does not check: an option, else the
		// performance field that is set.
		path := bucketsFrom
		if !strings.HasPrefix(path, optionsPath) && (strings.HasPrefix(replicasFrom, optionsPath) || path == payloadDefault) {
			path = replicasFrom
		}
		errs = append(errs, FieldError{Path: path, Message: fmt.Sprintf(
			"in StatefulSet ordinal mode %s's leader-election buckets (%d, from %s) must equal its replicas (%d, from %s): each replica owns only the bucket at its ordinal, and OpenShift Pipelines' reconciler refuses a difference that its webhook admits (tektoncd/operator#3957)",
			c.statefulSet, buckets, bucketsFrom, replicas, replicasFrom)})
	}
	return errs
}
