// Command localrun is `make run`: it runs the operator against the cluster that KUBECONFIG (or
// ~/.kube/config) names, or, with no cluster configured or LOCAL=1, against a local control
// plane built from the same kube-apiserver and etcd as the tests, with the CRDs and the full
// sample installed. Ctrl-C stops the manager and the control plane.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testenv"
)

func main() {
	logger := zap.New(zap.UseDevMode(true))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
	if err := run(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := ctrl.Log.WithName("run")
	var cfg *rest.Config
	local := os.Getenv("LOCAL") == "1"
	if !local {
		var err error
		if cfg, err = configuredCluster(); err != nil {
			log.Info("no cluster configured: starting a local control plane", "reason", err.Error())
			local = true
		} else {
			log.Info("running against the configured cluster", "host", cfg.Host)
		}
	}
	if local {
		env, localCfg, kubeconfig, err := startLocal(ctx)
		if err != nil {
			return err
		}
		defer func() {
			log.Info("stopping the local control plane")
			if err := env.Stop(); err != nil {
				log.Error(err, "stop the local control plane")
			}
		}()
		cfg = localCfg
		fmt.Printf("\nLocal control plane ready.\n  export KUBECONFIG=%s\n  kubectl get pipelineservice cluster -o wide -w\n\n", kubeconfig)
	}

	mgr, err := manager.New(cfg, manager.Options{
		MetricsAddr:     envOr("METRICS_ADDR", "127.0.0.1:8080"),
		InsecureMetrics: true,
		ProbeAddr:       envOr("PROBE_ADDR", "127.0.0.1:8081"),
	})
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return err
	}
	if local && os.Getenv("SIMULATE") != "0" {
		fmt.Println("OLM and OpenShift Pipelines are simulated: a stand-in writes the status they would write (SIMULATE=0 turns it off).")
		go func() { _ = (&simulate.StandIn{Client: c}).Run(ctx) }()
	} else if local {
		fmt.Println("OLM and OpenShift Pipelines are not simulated (SIMULATE=0): the status shows what the operator waits for.")
	}
	go reportProgress(ctx, c, time.Now())
	log.Info("starting the operator; Ctrl-C stops it")
	return mgr.Start(ctx)
}

// reportProgress prints each change of the PipelineService's conditions, and, the first time
// it is Ready, the children the operator created.
func reportProgress(ctx context.Context, c client.Client, start time.Time) {
	seen := map[string]string{}
	summarized := false
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ps := &psv1alpha1.PipelineService{}
		if err := c.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, ps); err != nil {
			continue
		}
		for _, cond := range ps.Status.Conditions {
			line := fmt.Sprintf("%s=%s (%s): %s", cond.Type, cond.Status, cond.Reason, cond.Message)
			if seen[cond.Type] != line {
				seen[cond.Type] = line
				fmt.Printf("[%6.1fs] %s\n", time.Since(start).Seconds(), line)
			}
		}
		if !summarized && meta.IsStatusConditionTrue(ps.Status.Conditions, psv1alpha1.ConditionReady) {
			summarized = true
			printSummary(ps, time.Since(start))
		}
	}
}

// printSummary lists the children the status's inventory records and the versions in status,
// and ends with a line that says so.
func printSummary(ps *psv1alpha1.PipelineService, after time.Duration) {
	fmt.Printf("\nPipelineService cluster is Ready after %.1fs: %s (version %s), Tekton %s, catalog %s.\nChildren:\n",
		after.Seconds(), ps.Status.InstalledCSV, ps.Status.InstalledVersion, ps.Status.TektonVersion, ps.Status.CatalogState)
	for _, e := range ps.Status.Inventory {
		name := e.Name
		if e.Namespace != "" {
			name = e.Namespace + "/" + name
		}
		fmt.Printf("  %-26s %s\n", e.Kind, name)
	}
	fmt.Printf("(%d children, from status.inventory)\n\n", len(ps.Status.Inventory))
}

// startLocal starts the control plane, writes an admin kubeconfig, and applies the full sample.
func startLocal(ctx context.Context) (*testenv.Env, *rest.Config, string, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		// Builds kube-apiserver and etcd from source the first time (about 6 minutes).
		cmd := exec.CommandContext(ctx, filepath.Join(testenv.RepoRoot(), "hack", "setup-envtest.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, nil, "", fmt.Errorf("hack/setup-envtest.sh: %w", err)
		}
		os.Setenv("KUBEBUILDER_ASSETS", strings.TrimSpace(string(out)))
	}
	crds, err := testenv.AllThirdPartyCRDs()
	if err != nil {
		return nil, nil, "", err
	}
	env, cfg, err := testenv.Start(crds)
	if err != nil {
		return nil, nil, "", err
	}
	kubeconfig, err := writeKubeconfig(env)
	if err == nil {
		err = applySample(ctx, cfg)
	}
	if err != nil {
		return nil, nil, "", errors.Join(err, env.Stop())
	}
	return env, cfg, kubeconfig, nil
}

func writeKubeconfig(env *testenv.Env) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("add admin user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(os.TempDir(), "pipeline-service-operator")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

func applySample(ctx context.Context, cfg *rest.Config) error {
	file := filepath.Join(testenv.RepoRoot(), "config", "samples", "pipelineservice_full.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &obj.Object); err != nil {
		return fmt.Errorf("decode %s: %w", file, err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}
	// A real cluster has these namespaces before anyone installs an operator.
	if err := simulate.EnsureNamespaces(ctx, c, testenv.PlatformNamespaces...); err != nil {
		return err
	}
	if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("apply %s: %w", file, err)
	}
	ctrl.Log.WithName("run").Info("applied the full sample", "file", "config/samples/pipelineservice_full.yaml")
	return nil
}

// configuredCluster loads KUBECONFIG or ~/.kube/config, or the in-cluster config inside a pod.
// Unlike ctrl.GetConfig it does not log an error when there is none: that is the local case.
func configuredCluster() (*rest.Config, error) {
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return rest.InClusterConfig()
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
