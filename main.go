// Command manager runs the pipeline-service-operator. Its subcommands (internal/cli) serve
// people and CI: `import` prints the PipelineService that reproduces what a cluster runs;
// `validate`, `render` and `diff` check a GitOps repository's parents before they merge. Both
// run the kinds of one table, controllers.Kinds.
package main

import (
	"flag"
	"os"
	"time"

	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/openshift-pipelines/pipeline-service-operator/controllers"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/cli"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
)

func main() {
	if len(os.Args) > 1 {
		commands := &cli.Commands{Kinds: controllers.Kinds, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
		if code, ok := commands.Run(os.Args[1], os.Args[2:]); ok {
			os.Exit(code)
		}
	}
	var opts manager.Options
	flag.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8443", "Address the metrics endpoint binds to; 0 disables it.")
	flag.BoolVar(&opts.InsecureMetrics, "metrics-insecure", false, "Serve metrics over plain HTTP with no authentication (local runs only).")
	flag.StringVar(&opts.MetricsCertDir, "metrics-cert-dir", "", "Directory with tls.crt and tls.key for the metrics endpoint; empty makes a self-signed certificate.")
	flag.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.BoolVar(&opts.LeaderElection, "leader-elect", false, "Elect a leader, so that only one replica reconciles at a time.")
	flag.DurationVar(&opts.LeaseDuration, "leader-election-lease-duration", 15*time.Second, "How long a standby waits before taking over from a leader that stopped renewing.")
	flag.DurationVar(&opts.RenewDeadline, "leader-election-renew-deadline", 10*time.Second, "How long the leader retries renewing before it gives up leadership.")
	flag.DurationVar(&opts.RetryPeriod, "leader-election-retry-period", 2*time.Second, "How often candidates try to acquire or renew the lease.")
	flag.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease; defaults to the pod's namespace.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()

	logger := zap.New(zap.UseFlagOptions(&zapOpts))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
	setupLog := ctrl.Log.WithName("setup")

	mgr, err := controllers.NewManager(ctrl.GetConfigOrDie(), opts)
	if err != nil {
		setupLog.Error(err, "unable to set up the manager")
		os.Exit(1)
	}
	setupLog.Info("starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "manager exited")
		os.Exit(1)
	}
}
