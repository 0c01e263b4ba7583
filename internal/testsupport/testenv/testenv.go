// Package testenv starts a real API server (envtest) with the PipelineService CRD and the
// third-party CRDs the operator works with. OLM, OpenShift Pipelines and External Secrets do
// not run there; package simulate plays their part by writing the status they would write.
//
// The CRDs of Go dependencies are read from the module cache at the versions go.mod pins, so
// they cannot drift from the Go types; the others are stand-ins kept in crds/ (see its README).
package testenv

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	olmcrds "github.com/operator-framework/api/crds"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

//go:embed crds/*.yaml
var standInCRDs embed.FS

const (
	modTektonOperator = "github.com/tektoncd/operator"
	modOpenShiftAPI   = "github.com/openshift/api"
	// ModTektonPipeline holds the pipelines component's payload (simulate.PipelinesPayload).
	ModTektonPipeline = "github.com/tektoncd/pipeline"

	tektonConfigCRDPath = "config/base/generated-crds/operator.tekton.dev_tektonconfigs.yaml"
	icspCRDPath         = "operator/v1alpha1/zz_generated.crd-manifests/0000_10_config-operator_01_imagecontentsourcepolicies.crd.yaml"
	idmsCRDPath         = "config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_imagedigestmirrorsets.crd.yaml"
	routeCRDPath        = "route/v1/zz_generated.crd-manifests/routes.crd.yaml"
)

// RepoRoot is the root of this repository, found from this file's location so that tests in
// any package and `go run ./hack/...` agree on it.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// OwnCRDDir is the directory of the operator's generated CRDs.
func OwnCRDDir() string { return filepath.Join(RepoRoot(), "config", "crd", "bases") }

var (
	moduleDirsOnce sync.Once
	moduleDirs     map[string]string
	moduleDirsErr  error
)

// moduleDir returns where the Go module cache holds the version of mod that go.mod selects.
func moduleDir(mod string) (string, error) {
	moduleDirsOnce.Do(func() {
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Dir}}", modTektonOperator, modOpenShiftAPI, ModTektonPipeline)
		cmd.Dir = RepoRoot()
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			moduleDirsErr = fmt.Errorf("go list -m: %w", err)
			return
		}
		moduleDirs = map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			path, dir, ok := strings.Cut(line, " ")
			if ok && dir != "" {
				moduleDirs[path] = dir
			}
		}
	})
	if moduleDirsErr != nil {
		return "", moduleDirsErr
	}
	dir, ok := moduleDirs[mod]
	if !ok {
		return "", fmt.Errorf("module %s is not downloaded; run 'go mod download'", mod)
	}
	return dir, nil
}

func readCRD(data []byte, source string) (*apiextensionsv1.CustomResourceDefinition, error) {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.Unmarshal(data, crd); err != nil {
		return nil, fmt.Errorf("decode CRD %s: %w", source, err)
	}
	return crd, nil
}

func moduleCRD(mod, path string) (*apiextensionsv1.CustomResourceDefinition, error) {
	dir, err := moduleDir(mod)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, path)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return readCRD(data, file)
}

func standInCRD(name string) (*apiextensionsv1.CustomResourceDefinition, error) {
	data, err := standInCRDs.ReadFile("crds/" + name)
	if err != nil {
		return nil, err
	}
	return readCRD(data, name)
}

// OLMCRDs are CatalogSource, Subscription, InstallPlan, ClusterServiceVersion and
// OperatorGroup, as embedded by operator-framework/api.
func OLMCRDs() []*apiextensionsv1.CustomResourceDefinition {
	return []*apiextensionsv1.CustomResourceDefinition{
		olmcrds.CatalogSource(), olmcrds.Subscription(), olmcrds.InstallPlan(),
		olmcrds.ClusterServiceVersion(), olmcrds.OperatorGroup(),
	}
}

// TektonConfigCRD is the TektonConfig CRD of tektoncd/operator: from v0.80 a full schema with
// required fields that OSP's mutating webhook would otherwise fill.
func TektonConfigCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	return moduleCRD(modTektonOperator, tektonConfigCRDPath)
}

// TektonPipelineCRD and TektonInstallerSetCRD are tektoncd/operator's, for the stand-in that
// runs OSP's installer-set code (simulate.Pipelines).
func TektonPipelineCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	return moduleCRD(modTektonOperator, "config/base/generated-crds/operator.tekton.dev_tektonpipelines.yaml")
}

func TektonInstallerSetCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	return moduleCRD(modTektonOperator, "config/base/generated-crds/operator.tekton.dev_tektoninstallersets.yaml")
}

// ModuleDir is the directory of module mod, at the version this module builds against.
func ModuleDir(mod string) (string, error) { return moduleDir(mod) }

// SchemalessTektonConfigCRD is the TektonConfig CRD in the shape tektoncd/operator shipped up
// to v0.79: the same names with an open schema. The operator must render what both accept.
func SchemalessTektonConfigCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	crd, err := TektonConfigCRD()
	if err != nil {
		return nil, err
	}
	preserve := true
	for i := range crd.Spec.Versions {
		crd.Spec.Versions[i].Schema = &apiextensionsv1.CustomResourceValidation{
			OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: &preserve},
		}
		crd.Spec.Versions[i].AdditionalPrinterColumns = nil
	}
	return crd, nil
}

// ICSPCRD is OpenShift's ImageContentSourcePolicy CRD.
func ICSPCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	return moduleCRD(modOpenShiftAPI, icspCRDPath)
}

// IDMSCRD is OpenShift's ImageDigestMirrorSet CRD.
func IDMSCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	return moduleCRD(modOpenShiftAPI, idmsCRDPath)
}

// ExternalSecretCRD is a stand-in for External Secrets' ExternalSecret (v1 and v1beta1).
func ExternalSecretCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	return standInCRD("external-secrets.io_externalsecrets.yaml")
}

// ServiceMonitorCRD is a stand-in for prometheus-operator's ServiceMonitor.
func ServiceMonitorCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	return standInCRD("monitoring.coreos.com_servicemonitors.yaml")
}

// PrometheusRuleCRD is a stand-in for prometheus-operator's PrometheusRule.
func PrometheusRuleCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	return standInCRD("monitoring.coreos.com_prometheusrules.yaml")
}

// RouteCRD is OpenShift's Route CRD. On OpenShift the API server serves Routes itself; the
// CRD that openshift/api generates has the same schema and validation rules.
func RouteCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	return moduleCRD(modOpenShiftAPI, routeCRDPath)
}

// ProxyPluginCRD is CodeReadyToolchain's ProxyPlugin CRD, a verbatim copy (crds/README.md):
// codeready-toolchain/api is not a Go dependency of the operator.
func ProxyPluginCRD() (*apiextensionsv1.CustomResourceDefinition, error) {
	return standInCRD("toolchain.dev.openshift.com_proxyplugins.yaml")
}

// AllThirdPartyCRDs is every third-party CRD the operator can work with, as on a cluster
// where OSP, External Secrets, the monitoring stack and CodeReadyToolchain's host operator are
// installed, on OpenShift.
func AllThirdPartyCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	crds := OLMCRDs()
	for _, load := range []func() (*apiextensionsv1.CustomResourceDefinition, error){
		TektonConfigCRD, TektonPipelineCRD, TektonInstallerSetCRD, ICSPCRD, IDMSCRD, ExternalSecretCRD, ServiceMonitorCRD, PrometheusRuleCRD, RouteCRD, ProxyPluginCRD,
	} {
		crd, err := load()
		if err != nil {
			return nil, err
		}
		crds = append(crds, crd)
	}
	// Every kind of the registry that a CRD serves must be installable here, so that a new
	// child kind fails the tests until its CRD is added, rather than going untested.
	for _, k := range children.Kinds {
		if k.BuiltIn {
			continue
		}
		if !slices.ContainsFunc(crds, func(c *apiextensionsv1.CustomResourceDefinition) bool { return c.Name == k.CRD() }) {
			return nil, fmt.Errorf("the registry's %s is served by the CRD %s, which testenv does not install: add it to AllThirdPartyCRDs", k.GVK.Kind, k.CRD())
		}
	}
	return crds, nil
}

// Env is a running control plane: envtest's, with OSP's TektonConfig admission webhooks
// registered and served by this process.
type Env struct {
	*envtest.Environment
	stopWebhooks func()
}

// Stop stops the webhook server, then the control plane (which removes the server's
// certificates).
func (e *Env) Stop() error {
	e.stopWebhooks()
	return e.Environment.Stop()
}

// Start starts a control plane with the PipelineService CRD, the given third-party CRDs and
// OSP's TektonConfig admission webhooks (ospwebhook.go). KUBEBUILDER_ASSETS must name the
// binaries that hack/setup-envtest.sh built (`make test` and `make run` set it).
func Start(crds []*apiextensionsv1.CustomResourceDefinition) (*Env, *rest.Config, error) {
	return StartRestartable(crds, "")
}

// StartRestartable is Start with the API server's certificates kept in certDir (when not
// empty), so that its kube-apiserver can be stopped and started again with the same address,
// serving certificate and client CA: clients configured before the restart keep working, as
// against a real API server that restarts. etcd keeps running and keeps the data.
func StartRestartable(crds []*apiextensionsv1.CustomResourceDefinition, certDir string) (*Env, *rest.Config, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, nil, fmt.Errorf("KUBEBUILDER_ASSETS is not set: run the tests with 'make test', " +
			"or export KUBEBUILDER_ASSETS=$(hack/setup-envtest.sh)")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:        []string{OwnCRDDir()},
		CRDs:                     crds,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
		WebhookInstallOptions:    ospWebhooks(),
	}
	if certDir != "" {
		env.ControlPlane.GetAPIServer().CertDir = certDir
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("start envtest: %w", err)
	}
	stop, err := serveOSPWebhooks(env.WebhookInstallOptions)
	if err != nil {
		return nil, nil, errors.Join(err, env.Stop())
	}
	return &Env{Environment: env, stopWebhooks: stop}, cfg, nil
}

// InstallCRDs installs CRDs into a running control plane and waits until they are served, as
// when OSP installs the TektonConfig CRD after the operator started.
func InstallCRDs(cfg *rest.Config, crds ...*apiextensionsv1.CustomResourceDefinition) error {
	_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{CRDs: crds, MaxTime: time.Minute})
	return err
}

// PlatformNamespaces exist on every OpenShift cluster; envtest has to be given them.
var PlatformNamespaces = []string{"openshift-marketplace", "openshift-operators"}

// WriteKubeconfig writes a kubeconfig for a new user of the control plane in system:masters
// (an admin, as a person or OLM would be) to dir/kubeconfig-<user> and returns its path.
func WriteKubeconfig(env *Env, dir, user string) (string, error) {
	u, err := env.AddUser(envtest.User{Name: user, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("add user %s: %w", user, err)
	}
	data, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig-"+user)
	return path, os.WriteFile(path, data, 0o600)
}

// OperatorRole is the operator's generated ClusterRole, config/rbac/role.yaml.
func OperatorRole() (*rbacv1.ClusterRole, error) {
	data, err := os.ReadFile(filepath.Join(RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		return nil, err
	}
	role := &rbacv1.ClusterRole{}
	return role, yaml.Unmarshal(data, role)
}
