// Package manager builds the operator's controller-runtime manager: scheme, scoped cache,
// metrics endpoint, leader election, health and readiness. The controllers are passed in
// (controllers.NewManager passes both kinds), so that this package knows none of them and
// main.go, the local runner and the benchmark run exactly the same thing.
package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// LeaderElectionID names the Lease that replicas compete for.
const LeaderElectionID = "pipeline-service-operator.pipelineservice.appstudio.io"

// Options are the manager settings that flags control.
type Options struct {
	MetricsAddr             string
	ProbeAddr               string
	LeaderElection          bool
	LeaderElectionNamespace string
	// LeaseDuration, RenewDeadline and RetryPeriod tune leader election; zero keeps
	// controller-runtime's defaults (15s, 10s, 2s). A standby takes over within about
	// LeaseDuration of a leader that died, at once from one that stopped cleanly.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// InsecureMetrics serves metrics over plain HTTP with no authentication, for local runs.
	// By default they are served over HTTPS, and each scrape must present a token that may
	// `get` the /metrics non-resource URL (the metrics-reader ClusterRole).
	InsecureMetrics bool
	// MetricsCertDir holds tls.crt and tls.key for the metrics endpoint; empty means a
	// self-signed certificate made at start.
	MetricsCertDir string
	// SkipNameValidation lets one process run several managers (tests, benchmarks).
	SkipNameValidation bool
	// Cache replaces the operator's scoped cache options (CacheOptions); the
	// benchmark sets it to the default, unscoped cache to show what scoping saves.
	Cache *cache.Options
}

// Setup registers one controller with a manager.
type Setup func(ctrl.Manager) error

// New returns a manager with the given controllers, health and readiness checks.
func New(cfg *rest.Config, opts Options, controllers ...Setup) (ctrl.Manager, error) {
	cacheOpts := CacheOptions()
	if opts.Cache != nil {
		cacheOpts = *opts.Cache
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  NewScheme(),
		Cache:                   cacheOpts,
		Client:                  client.Options{Cache: &client.CacheOptions{Unstructured: true}},
		Metrics:                 metricsOptions(opts),
		HealthProbeBindAddress:  opts.ProbeAddr,
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		// The Lease is released on a clean stop, so that a rolling update hands over at once
		// rather than after the lease duration.
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 nonZero(opts.LeaseDuration),
		RenewDeadline:                 nonZero(opts.RenewDeadline),
		RetryPeriod:                   nonZero(opts.RetryPeriod),
		Controller:                    config.Controller{SkipNameValidation: &opts.SkipNameValidation},
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	for _, setup := range controllers {
		if err := setup(mgr); err != nil {
			return nil, fmt.Errorf("set up a controller: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("add health check: %w", err)
	}
	// Ready once the caches have synced: before that the operator would decide from an
	// empty cache, and a rolling update should not take the old replica away yet. The manager
	// starts the runnables that need no leader only after its caches synced, so one of them
	// marks the moment; the probe reads a flag rather than waiting on the caches, whose sync
	// check polls every 100 ms.
	synced := &cachesSynced{}
	if err := mgr.Add(synced); err != nil {
		return nil, fmt.Errorf("add the cache-sync marker: %w", err)
	}
	if err := mgr.AddReadyzCheck("caches", synced.check); err != nil {
		return nil, fmt.Errorf("add readiness check: %w", err)
	}
	return mgr, nil
}

// cachesSynced is started by the manager once its caches have synced, on every replica,
// leader or not.
type cachesSynced struct{ done atomic.Bool }

func (c *cachesSynced) Start(ctx context.Context) error {
	c.done.Store(true)
	<-ctx.Done()
	return nil
}

// check is the readiness check: ready once the caches have synced.
func (c *cachesSynced) check(*http.Request) error {
	if !c.done.Load() {
		return errors.New("caches have not synced yet")
	}
	return nil
}

// NeedLeaderElection is false: a standby replica is ready too.
func (*cachesSynced) NeedLeaderElection() bool { return false }

// metricsOptions serve the metrics endpoint over HTTPS behind the API server's authentication
// (TokenReview) and authorization (SubjectAccessReview), unless InsecureMetrics is set. The
// certificate is self-signed unless one is mounted; Prometheus scrapes with the ServiceMonitor
// in config/prometheus.
func metricsOptions(opts Options) metricsserver.Options {
	if opts.InsecureMetrics {
		return metricsserver.Options{BindAddress: opts.MetricsAddr}
	}
	return metricsserver.Options{
		BindAddress:    opts.MetricsAddr,
		SecureServing:  true,
		FilterProvider: metricsAuth,
		CertDir:        opts.MetricsCertDir,
	}
}

func nonZero(d time.Duration) *time.Duration {
	if d == 0 {
		return nil
	}
	return &d
}
