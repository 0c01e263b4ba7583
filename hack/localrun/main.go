// Command localrun is `make run`: it runs the operator against the cluster that KUBECONFIG (or
// ~/.kube/config) names, or, with no cluster configured or LOCAL=1, against a local control
// plane built from the same kube-apiserver and etcd as the tests, with the CRDs and the full
// sample installed. There, once hack/setup-olm.sh has built it (`make olm`), the real OLM
// installs OpenShift Pipelines from a catalog that opm serves, and only OpenShift Pipelines
// itself is simulated; without it, a stand-in plays OLM too. HOST=1 also applies the
// PipelineServiceHost sample, whose SprayProxy rollout and Route admission are simulated.
// Ctrl-C stops the manager and the control plane. -v shows the debug logs.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

func main() {
	verbose := flag.Bool("v", false, "show the debug logs of the control plane and the operator")
	flag.Parse()
	level := zapcore.InfoLevel
	if *verbose {
		level = zapcore.DebugLevel
	}
	logger := zap.New(zap.UseDevMode(true), zap.Level(level))
	if !*verbose {
		logger = logger.WithSink(quiet{logger.GetSink()})
	}
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
	if err := run(ctrl.SetupSignalHandler(), *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
		os.Exit(1)
	}
}

// startupNoise are controller-runtime's start-up messages, one per watch, controller and server:
// about thirty lines before the first one a person reads. make run shows them with -v only.
var startupNoise = []string{"Starting EventSource", "Starting Controller", "Starting workers",
	"Starting metrics server", "Serving metrics server", "starting server"}

// quiet drops startupNoise and passes everything else on.
type quiet struct{ logr.LogSink }

func (q quiet) Info(level int, msg string, keysAndValues ...any) {
	if !slices.Contains(startupNoise, msg) {
		q.LogSink.Info(level, msg, keysAndValues...)
	}
}

func (q quiet) WithValues(keysAndValues ...any) logr.LogSink {
	return quiet{q.LogSink.WithValues(keysAndValues...)}
}

func (q quiet) WithName(name string) logr.LogSink { return quiet{q.LogSink.WithName(name)} }

func run(ctx context.Context, verbose bool) error {
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
	var plane *localPlane
	if local {
		var err error
		if plane, err = startLocal(ctx, verbose); err != nil {
			return err
		}
		defer plane.stop()
		cfg = plane.cfg
	}

	// The usual development ports, or free ones when they are taken.
	metricsAddr, err := devAddr("METRICS_ADDR", "127.0.0.1:8080")
	if err != nil {
		return err
	}
	probeAddr, err := devAddr("PROBE_ADDR", "127.0.0.1:8081")
	if err != nil {
		return err
	}
	mgr, err := controllers.NewManager(cfg, manager.Options{MetricsAddr: metricsAddr, InsecureMetrics: true, ProbeAddr: probeAddr})
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return err
	}
	fmt.Printf("Operator metrics: http://%s/metrics   probes: http://%s/readyz\n", metricsAddr, probeAddr)
	if local {
		fmt.Printf("\nLocal control plane ready.\n  export KUBECONFIG=%s\n  kubectl get pipelineservice cluster -o wide -w\n", plane.kubeconfig)
		if plane.host {
			fmt.Println("  kubectl get pipelineservicehost cluster -o wide -w")
		}
		fmt.Println()
		plane.play(ctx, c)
	}
	start := time.Now()
	go reportProgress(ctx, c, start, &psv1alpha1.PipelineService{}, func(o client.Object) []metav1.Condition {
		return o.(*psv1alpha1.PipelineService).Status.Conditions
	}, func(o client.Object, after time.Duration) { printSummary(o.(*psv1alpha1.PipelineService), after) })
	if local && plane.host {
		go reportProgress(ctx, c, start, &psv1alpha1.PipelineServiceHost{}, func(o client.Object) []metav1.Condition {
			return o.(*psv1alpha1.PipelineServiceHost).Status.Conditions
		}, func(o client.Object, after time.Duration) {
			printHostSummary(o.(*psv1alpha1.PipelineServiceHost), after)
		})
	}
	log.Info("starting the operator; Ctrl-C stops it")
	return mgr.Start(ctx)
}

// devAddr is the address in the environment variable key, else fallback when nothing listens
// there, else a free port on the same host. Port 0 lets the kernel pick when the server binds.
func devAddr(key, fallback string) (string, error) {
	if v := os.Getenv(key); v != "" {
		return v, nil
	}
	l, err := net.Listen("tcp", fallback)
	if err == nil {
		return fallback, l.Close()
	}
	free, err := testenv.FreeAddr()
	if err != nil {
		return "", err
	}
	fmt.Printf("%s is taken: using %s instead (set %s to choose).\n", fallback, free, key)
	return free, nil
}

// reportProgress prints each change of the conditions of obj's kind (the PipelineService or
// PipelineServiceHost named cluster), and, the first time it is Ready, its summary.
func reportProgress(ctx context.Context, c client.Client, start time.Time, obj client.Object,
	conditions func(client.Object) []metav1.Condition, summarize func(client.Object, time.Duration)) {
	kind := strings.TrimPrefix(fmt.Sprintf("%T", obj), "*v1alpha1.")
	prefix := ""
	if kind != "PipelineService" {
		prefix = kind + " "
	}
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
		if err := c.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, obj); err != nil {
			continue
		}
		for _, cond := range conditions(obj) {
			line := fmt.Sprintf("%s%s=%s (%s): %s", prefix, cond.Type, cond.Status, cond.Reason, cond.Message)
			if seen[cond.Type] != line {
				seen[cond.Type] = line
				fmt.Printf("[%6.1fs] %s\n", time.Since(start).Seconds(), line)
			}
		}
		if !summarized && meta.IsStatusConditionTrue(conditions(obj), psv1alpha1.ConditionReady) {
			summarized = true
			summarize(obj, time.Since(start))
		}
	}
}

// printSummary lists the children the status's inventory records and the versions in status,
// and ends with a line that says so.
func printSummary(ps *psv1alpha1.PipelineService, after time.Duration) {
	fmt.Printf("\nPipelineService cluster is Ready after %.1fs: %s (version %s), Tekton %s, catalog %s.\nChildren:\n",
		after.Seconds(), ps.Status.InstalledCSV, ps.Status.InstalledVersion, ps.Status.TektonVersion, ps.Status.CatalogState)
	printInventory(ps.Status.Inventory)
}

// printHostSummary lists the host's children, its webhook URL and backends.
func printHostSummary(h *psv1alpha1.PipelineServiceHost, after time.Duration) {
	fmt.Printf("\nPipelineServiceHost cluster is Ready after %.1fs: webhook URL %s, backends %s.\nChildren:\n",
		after.Seconds(), h.Status.WebhookURL, strings.Join(h.Status.Backends, " "))
	printInventory(h.Status.Inventory)
}

// printInventory lists the children an inventory records, and ends with a line that says so.
func printInventory(inv []psv1alpha1.InventoryEntry) {
	for _, e := range inv {
		name := e.Name
		if e.Namespace != "" {
			name = e.Namespace + "/" + name
		}
		fmt.Printf("  %-26s %s\n", e.Kind, name)
	}
	fmt.Printf("(%d children, from status.inventory)\n\n", len(inv))
}

// localPlane is the local control plane and what plays the parts that cannot run here.
type localPlane struct {
	env        *testenv.Env
	cfg        *rest.Config
	kubeconfig string
	// olm is the real OLM, nil when it is not built: then the stand-in plays it.
	olm         *testenv.OLM
	stopCatalog func()
	catalogAddr string
	olmLogs     string
	// host: the PipelineServiceHost sample is applied too (HOST=1).
	host bool
}

// startLocal starts the control plane (with the real OLM and a served catalog when
// hack/setup-olm.sh has built them), writes an admin kubeconfig, and applies the full sample.
func startLocal(ctx context.Context, verbose bool) (*localPlane, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		// Builds kube-apiserver, etcd and kubectl from source the first time.
		dir, err := script(ctx, "setup-envtest.sh")
		if err != nil {
			return nil, err
		}
		os.Setenv("KUBEBUILDER_ASSETS", dir)
	}
	p := &localPlane{host: os.Getenv("HOST") == "1"}
	withOLM := os.Getenv("OLM") != "0"
	if withOLM && os.Getenv("OLM_ASSETS") == "" {
		if dir, err := script(ctx, "setup-olm.sh", "--check"); err == nil {
			os.Setenv("OLM_ASSETS", dir)
		} else {
			withOLM = false
		}
	}
	crds, err := localCRDs(withOLM)
	if err != nil {
		return nil, err
	}
	if p.env, p.cfg, err = testenv.Start(crds); err != nil {
		return nil, err
	}
	if p.kubeconfig, err = testenv.WriteKubeconfig(p.env, filepath.Join(os.TempDir(), "pipeline-service-operator"), "admin"); err == nil && withOLM {
		err = p.startOLM(ctx, verbose)
	}
	if err == nil {
		err = installChildRoles(ctx, p.cfg)
	}
	if err == nil {
		err = applySample(ctx, p.cfg, p.catalogAddr)
	}
	if err == nil && p.host {
		err = applyHostSample(ctx, p.cfg)
	}
	if err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// localCRDs are every third-party CRD the operator uses; with the real OLM, all of OLM's, no
// TektonConfig CRD, which OLM installs from the bundle as on a cluster, and nothing of
// config.openshift.io: OLM takes that group being served for OpenShift and then waits, forever,
// for its Proxy and APIServer objects. The mirrors use the ImageContentSourcePolicy there.
func localCRDs(withOLM bool) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	all, err := testenv.AllThirdPartyCRDs()
	if err != nil || !withOLM {
		return all, err
	}
	out := testenv.AllOLMCRDs()
	for _, crd := range all {
		switch {
		case crd.Spec.Group == "operators.coreos.com", crd.Spec.Group == "config.openshift.io", crd.Spec.Names.Kind == "TektonConfig":
		default:
			out = append(out, crd)
		}
	}
	return out, nil
}

// startOLM serves a catalog of OSP-like bundles (5.0.5 and 5.0.6, owning the TektonConfig CRD)
// with opm and runs the real olm and catalog operators, their logs in a file.
func (p *localPlane) startOLM(ctx context.Context, verbose bool) error {
	dir := filepath.Join(os.TempDir(), "pipeline-service-operator")
	crd, err := testenv.TektonConfigCRD()
	if err != nil {
		return err
	}
	bundles := []testenv.Bundle{
		{Version: "5.0.5", CRDs: []*apiextensionsv1.CustomResourceDefinition{crd}},
		{Version: "5.0.6", Replaces: "5.0.5", CRDs: []*apiextensionsv1.CustomResourceDefinition{crd}},
	}
	if err := testenv.WriteCatalog(filepath.Join(dir, "catalog"), "openshift-pipelines-operator-rh", "latest", bundles); err != nil {
		return err
	}
	p.olmLogs = filepath.Join(dir, "olm.log")
	logs, err := os.Create(p.olmLogs)
	if err != nil {
		return err
	}
	if verbose {
		logs = os.Stderr
	}
	if p.catalogAddr, p.stopCatalog, err = testenv.ServeCatalog(filepath.Join(dir, "catalog"), logs); err != nil {
		return err
	}
	c, err := client.New(p.cfg, client.Options{})
	if err != nil {
		return err
	}
	if err := simulate.EnsureNamespaces(ctx, c, append(testenv.PlatformNamespaces, testenv.OLMNamespace)...); err != nil {
		return err
	}
	group := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "operators.coreos.com/v1", "kind": "OperatorGroup",
		"metadata": map[string]any{"namespace": "openshift-operators", "name": "global-operators"},
		"spec":     map[string]any{},
	}}
	if err := c.Create(ctx, group); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	p.olm, err = testenv.StartOLM(p.env, logs)
	return err
}

// play runs what cannot run here: with the real OLM, a kubelet for OLM's Deployments and
// OpenShift Pipelines; without it, the stand-in for OLM and OpenShift Pipelines.
func (p *localPlane) play(ctx context.Context, c client.Client) {
	if os.Getenv("SIMULATE") == "0" {
		fmt.Println("Nothing is simulated (SIMULATE=0): the status shows what the operator waits for.")
		return
	}
	if p.host {
		fmt.Println("The host's SprayProxy rollout and the router's admission of its Route are simulated.")
		go testenv.RunDeployments(ctx, c, hostNamespace, func(string) bool { return true })
		go admitRoutes(ctx, c, hostNamespace)
	}
	if p.olm == nil {
		fmt.Println("OLM and OpenShift Pipelines are simulated: a stand-in writes the status they would write.")
		fmt.Println("(`make olm` builds the real OLM; make run then uses it.)")
		go func() { _ = (&simulate.StandIn{Client: c}).Run(ctx) }()
		return
	}
	fmt.Printf("OLM is real: OLM v0.46.0's olm and catalog operators, with a catalog that opm serves at %s (logs: %s).\n", p.catalogAddr, p.olmLogs)
	fmt.Println("Only OpenShift Pipelines is simulated: its TektonConfig status and its Deployments (no kubelet runs here).")
	go testenv.RunDeployments(ctx, c, "openshift-operators", func(string) bool { return true })
	go func() {
		for ctx.Err() == nil {
			_ = simulate.OSP(ctx, c, "openshift-pipelines")
			time.Sleep(250 * time.Millisecond)
		}
	}()
}

func (p *localPlane) stop() {
	ctrl.Log.WithName("run").Info("stopping the local control plane")
	if p.olm != nil {
		p.olm.Stop()
	}
	if p.stopCatalog != nil {
		p.stopCatalog()
	}
	if p.env != nil {
		if err := p.env.Stop(); err != nil {
			ctrl.Log.WithName("run").Error(err, "stop the local control plane")
		}
	}
}

// script runs one of hack/'s setup scripts and returns the directory it prints.
func script(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(testenv.RepoRoot(), "hack", name), args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/%s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// applySample applies the full sample; with a served catalog, pointed at its address.
func applySample(ctx context.Context, cfg *rest.Config, catalogAddr string) error {
	// A real cluster has these namespaces before anyone installs an operator.
	return createSample(ctx, cfg, "pipelineservice_full.yaml", testenv.PlatformNamespaces, func(obj *unstructured.Unstructured) {
		if catalogAddr == "" {
			return
		}
		unstructured.RemoveNestedField(obj.Object, "spec", "operator", "catalogSource", "image")
		unstructured.RemoveNestedField(obj.Object, "spec", "operator", "catalogSource", "pollInterval")
		_ = unstructured.SetNestedField(obj.Object, catalogAddr, "spec", "operator", "catalogSource", "address")
		_ = unstructured.SetNestedField(obj.Object, "latest", "spec", "operator", "subscription", "channel")
	})
}

// hostNamespace is where the host sample runs SprayProxy.
const hostNamespace = "sprayproxy"

// applyHostSample applies the PipelineServiceHost sample, in the namespace of the
// CodeReadyToolchain host operator that a host cluster has.
func applyHostSample(ctx context.Context, cfg *rest.Config) error {
	return createSample(ctx, cfg, "pipelineservicehost.yaml", []string{"toolchain-host-operator"}, nil)
}

// installChildRoles creates the ClusterRoles the operator binds its children to, which OLM or
// kustomize installs with the operator on a cluster (config/rbac/children_roles.yaml).
func installChildRoles(ctx context.Context, cfg *rest.Config) error {
	file := filepath.Join(testenv.RepoRoot(), "config", "rbac", "children_roles.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			return fmt.Errorf("decode %s: %w", file, err)
		}
		if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("install ClusterRole %s: %w", obj.GetName(), err)
		}
	}
	return nil
}

// createSample creates the object of config/samples/<name>, after edit, once the given
// namespaces exist.
func createSample(ctx context.Context, cfg *rest.Config, name string, namespaces []string, edit func(*unstructured.Unstructured)) error {
	file := filepath.Join("config", "samples", name)
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), file))
	if err != nil {
		return err
	}
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &obj.Object); err != nil {
		return fmt.Errorf("decode %s: %w", file, err)
	}
	if edit != nil {
		edit(obj)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}
	if err := simulate.EnsureNamespaces(ctx, c, namespaces...); err != nil {
		return err
	}
	if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("apply %s: %w", file, err)
	}
	ctrl.Log.WithName("run").Info("applied the sample", "file", file)
	return nil
}

// admitRoutes plays OpenShift's router: each Route in namespace that no router has answered is
// admitted at its spec.host.
func admitRoutes(ctx context.Context, c client.Client, namespace string) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		routes := &unstructured.UnstructuredList{}
		routes.SetGroupVersionKind(children.GVKRoute.GroupVersion().WithKind("RouteList"))
		if err := c.List(ctx, routes, client.InNamespace(namespace)); err == nil {
			for _, r := range routes.Items {
				if ingress, _, _ := unstructured.NestedSlice(r.Object, "status", "ingress"); len(ingress) > 0 {
					continue
				}
				host, _, _ := unstructured.NestedString(r.Object, "spec", "host")
				_ = simulate.RouteAdmitted(ctx, c, namespace, r.GetName(), "default", host, true, "", "")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
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
