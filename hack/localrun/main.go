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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
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
	if os.Getenv("LOCAL") != "1" {
		var err error
		if cfg, err = configuredCluster(); err != nil {
			log.Info("no cluster configured: starting a local control plane", "reason", err.Error())
		} else {
			log.Info("running against the configured cluster", "host", cfg.Host)
		}
	}
	if cfg == nil {
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
	log.Info("starting the operator; Ctrl-C stops it")
	return mgr.Start(ctx)
}

// startLocal starts the control plane, writes an admin kubeconfig, and applies the full sample.
func startLocal(ctx context.Context) (*envtest.Environment, *rest.Config, string, error) {
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

func writeKubeconfig(env *envtest.Environment) (string, error) {
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
