// Command manager is the operator's manager as main.go runs it, plus one switch the
// benchmark needs: -scoped=false gives it controller-runtime's default, unscoped cache, so
// that `make bench` can show what the scoped cache saves. It is built and run only by
// hack/bench.
package main

import (
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/openshift-pipelines/pipeline-service-operator/controllers"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
)

func main() {
	scoped := flag.Bool("scoped", true, "use the operator's scoped cache")
	probe := flag.String("probe-addr", "127.0.0.1:8081", "readiness probe address")
	flag.Parse()
	cfg, err := ctrl.GetConfig() // controller-runtime's own --kubeconfig flag
	if err != nil {
		fail(err)
	}
	opts := manager.Options{MetricsAddr: "0", ProbeAddr: *probe}
	if !*scoped {
		opts.Cache = &cache.Options{}
	}
	mgr, err := controllers.NewManager(cfg, opts)
	if err != nil {
		fail(err)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench manager:", err)
	os.Exit(1)
}
