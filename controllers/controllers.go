// Package controllers holds the operator's controllers, one package per kind
// (pipelineservice, pipelineservicehost), each a kind of the one parent reconciler in
// internal/parent. NewManager runs both, as main.go, the local runner and the benchmark do.
// Its tests run the whole operator against a real API server.
package controllers

import (
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/openshift-pipelines/pipeline-service-operator/controllers/pipelineservice"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/pipelineservicehost"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
)

// NewManager returns the operator's manager with the controllers of both kinds: a cluster may
// have a PipelineService, a PipelineServiceHost, or both.
func NewManager(cfg *rest.Config, opts manager.Options) (ctrl.Manager, error) {
	return manager.New(cfg, opts, pipelineservice.SetupWithManager, pipelineservicehost.SetupWithManager)
}
