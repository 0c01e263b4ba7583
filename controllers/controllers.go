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
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
)

// Kinds are the parent kinds the operator runs, one row each: the manager sets up their
// controllers, and the subcommands (render, validate, diff, import) plan their parents, from
// this one table. A cluster may have a PipelineService, a PipelineServiceHost, or both.
var Kinds = []parent.Registration{pipelineservice.Registration, pipelineservicehost.Registration}

// NewManager returns the operator's manager with the controller of every kind.
func NewManager(cfg *rest.Config, opts manager.Options) (ctrl.Manager, error) {
	setups := make([]manager.Setup, 0, len(Kinds))
	for _, k := range Kinds {
		setups = append(setups, k.Setup)
	}
	return manager.New(cfg, opts, setups...)
}
