// Command bundle writes the OLM bundle of this operator (`make bundle`): bundle/manifests (the
// ClusterServiceVersion, the CRDs, the metrics Service, the metrics-reader ClusterRole and the
// ClusterRoles the operator binds its children to),
// bundle/metadata/annotations.yaml and bundle.Dockerfile. operator-sdk is not on the module
// proxy, so the CSV is built here from config/ with the operator-framework/api types; the
// output is deterministic, so `make verify` can tell a stale bundle.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/blang/semver/v4"
	"github.com/operator-framework/api/pkg/lib/version"
	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/controllers"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

const (
	operatorName = "pipeline-service-operator"
	packageName  = "pipeline-service-operator"
	imageRepo    = "quay.io/konflux-ci/pipeline-service-operator"
	crdName      = "pipelineservices.pipelineservice.appstudio.io"
	hostCRDName  = "pipelineservicehosts.pipelineservice.appstudio.io"
)

func main() {
	v := os.Getenv("VERSION")
	if v == "" {
		v = "0.1.0"
	}
	if err := write(".", ".", v, os.Getenv("CHANNELS")); err != nil {
		fmt.Fprintln(os.Stderr, "make bundle:", err)
		os.Exit(1)
	}
}

// write renders the bundle of version v from the config/ under root into out/bundle and
// out/bundle.Dockerfile.
func write(root, out, v, channels string) error {
	ver, err := semver.Parse(v)
	if err != nil {
		return fmt.Errorf("VERSION %q: %w", v, err)
	}
	if channels == "" {
		channels = "candidate"
	}
	read := func(rel string) ([]map[string]any, error) { return readObjects(filepath.Join(root, rel)) }

	// Every generated CRD, by its name: one per kind of controllers.Kinds.
	crds := map[string][]byte{}
	crdFiles, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil {
		return err
	}
	for _, file := range crdFiles {
		crd, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		var named struct {
			Metadata struct{ Name string } `json:"metadata"`
		}
		if err := yaml.Unmarshal(crd, &named); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		crds[named.Metadata.Name] = crd
	}
	clusterRules, err := rulesOf(read, filepath.Join("config", "rbac", "role.yaml"), "ClusterRole")
	if err != nil {
		return err
	}
	leaderRules, err := rulesOf(read, filepath.Join("config", "rbac", "leader_election_role.yaml"), "Role")
	if err != nil {
		return err
	}
	deployment, err := managerDeployment(read, ver)
	if err != nil {
		return err
	}
	var example []map[string]any
	for _, sample := range []string{"pipelineservice_full.yaml", "pipelineservicehost.yaml"} {
		objs, err := read(filepath.Join("config", "samples", sample))
		if err != nil {
			return err
		}
		example = append(example, objs...)
	}
	icon, err := os.ReadFile(filepath.Join(root, "hack", "bundle", "icon.svg"))
	if err != nil {
		return err
	}
	csv, err := clusterServiceVersion(ver, clusterRules, leaderRules, deployment, example, icon)
	if err != nil {
		return err
	}

	manifests := filepath.Join(out, "bundle", "manifests")
	metadata := filepath.Join(out, "bundle", "metadata")
	for _, dir := range []string{manifests, metadata} {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	files := map[string]any{
		filepath.Join(manifests, operatorName+".clusterserviceversion.yaml"): csv,
	}
	// The other objects OLM installs with the operator, one file each, named as operator-sdk
	// names them (<name>_<group>_<version>_<kind>.yaml): the metrics Service and NetworkPolicy
	// (OLM 0.46 installs them from a bundle: pkg/controller/operators/catalog/supportedresources.go), the
	// metrics-reader ClusterRole and the ClusterRoles the operator binds its children to.
	for _, rel := range []string{
		filepath.Join("config", "manager", "metrics_service.yaml"),
		filepath.Join("config", "manager", "network_policy.yaml"),
		filepath.Join("config", "rbac", "metrics_reader_role.yaml"),
		filepath.Join("config", "rbac", "children_roles.yaml"),
	} {
		objs, err := read(rel)
		if err != nil {
			return err
		}
		for _, o := range objs {
			meta := o["metadata"].(map[string]any)
			delete(meta, "namespace") // OLM places it in the install namespace
			files[filepath.Join(manifests, bundleFileName(o))] = o
		}
	}
	for path, obj := range files {
		if err := writeYAML(path, obj); err != nil {
			return err
		}
	}
	for name, crd := range crds {
		if err := os.WriteFile(filepath.Join(manifests, name+".yaml"), crd, 0o644); err != nil {
			return err
		}
	}

	labels := [][2]string{
		{"operators.operatorframework.io.bundle.mediatype.v1", "registry+v1"},
		{"operators.operatorframework.io.bundle.manifests.v1", "manifests/"},
		{"operators.operatorframework.io.bundle.metadata.v1", "metadata/"},
		{"operators.operatorframework.io.bundle.package.v1", packageName},
		{"operators.operatorframework.io.bundle.channels.v1", channels},
		{"operators.operatorframework.io.bundle.channel.default.v1", strings.Split(channels, ",")[0]},
	}
	var ann, docker strings.Builder
	ann.WriteString("# Generated by `make bundle` (hack/bundle). Do not edit.\nannotations:\n")
	docker.WriteString("# Generated by `make bundle` (hack/bundle). Do not edit.\nFROM scratch\n\n")
	for _, l := range labels {
		fmt.Fprintf(&ann, "  %s: %s\n", l[0], l[1])
		fmt.Fprintf(&docker, "LABEL %s=%s\n", l[0], l[1])
	}
	docker.WriteString("\nCOPY bundle/manifests /manifests/\nCOPY bundle/metadata /metadata/\n")
	if err := os.WriteFile(filepath.Join(metadata, "annotations.yaml"), []byte(ann.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "bundle.Dockerfile"), []byte(docker.String()), 0o644)
}

// bundleFileName is operator-sdk's name for a bundle manifest: the object's name, its API
// group with dots kept, its version and its kind in lower case.
func bundleFileName(o map[string]any) string {
	group, version, ok := strings.Cut(o["apiVersion"].(string), "/")
	if !ok {
		group, version = "", group
	}
	name := o["metadata"].(map[string]any)["name"].(string)
	parts := []string{name}
	if group != "" {
		parts = append(parts, group)
	}
	return strings.Join(append(parts, version, strings.ToLower(o["kind"].(string))), "_") + ".yaml"
}

// clusterServiceVersion describes the operator to OLM and OperatorHub.
func clusterServiceVersion(ver semver.Version, clusterRules, leaderRules []rbacv1.PolicyRule, deployment appsv1.DeploymentSpec,
	example []map[string]any, icon []byte) (map[string]any, error) {
	examples, err := json.Marshal(example)
	if err != nil {
		return nil, err
	}
	image := fmt.Sprintf("%s:v%s", imageRepo, ver)
	csv := &olmv1alpha1.ClusterServiceVersion{
		TypeMeta: metav1.TypeMeta{APIVersion: olmv1alpha1.SchemeGroupVersion.String(), Kind: olmv1alpha1.ClusterServiceVersionKind},
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("%s.v%s", operatorName, ver),
			Annotations: map[string]string{
				"alm-examples":   string(examples),
				"capabilities":   "Seamless Upgrades",
				"categories":     "Developer Tools,Integration & Delivery",
				"containerImage": image,
				"description":    "Runs Tekton as a service on OpenShift: installs OpenShift Pipelines through OLM, configures it and reports its health.",
				"repository":     "https://github.com/openshift-pipelines/pipeline-service-operator",
				"support":        "Konflux",
				"operatorframework.io/suggested-namespace":         operatorName,
				"operators.operatorframework.io/project_layout":    "go.kubebuilder.io/v4",
				"operators.openshift.io/valid-subscription":        `["OpenShift Container Platform"]`,
				"features.operators.openshift.io/disconnected":     "true",
				"features.operators.openshift.io/fips-compliant":   "false",
				"features.operators.openshift.io/proxy-aware":      "false",
				"features.operators.openshift.io/tls-profiles":     "false",
				"features.operators.openshift.io/token-auth-aws":   "false",
				"features.operators.openshift.io/token-auth-azure": "false",
				"features.operators.openshift.io/token-auth-gcp":   "false",
			},
		},
		Spec: olmv1alpha1.ClusterServiceVersionSpec{
			DisplayName:    "Pipeline Service",
			Description:    description,
			Version:        version.OperatorVersion{Version: ver},
			Maturity:       "alpha",
			MinKubeVersion: "1.28.0",
			Keywords:       []string{"tekton", "pipelines", "openshift-pipelines", "pipelines-as-code", "konflux", "ci", "cd"},
			Links: []olmv1alpha1.AppLink{
				{Name: "Source", URL: "https://github.com/openshift-pipelines/pipeline-service-operator"},
				{Name: "OpenShift Pipelines", URL: "https://docs.openshift.com/pipelines/latest/about/understanding-openshift-pipelines.html"},
			},
			Maintainers: []olmv1alpha1.Maintainer{{Name: "Pipeline Service team", Email: "pipeline-service@redhat.com"}},
			Provider:    olmv1alpha1.AppLink{Name: "Red Hat Konflux", URL: "https://konflux-ci.dev"},
			Icon:        []olmv1alpha1.Icon{{MediaType: "image/svg+xml", Data: base64.StdEncoding.EncodeToString(icon)}},
			InstallModes: []olmv1alpha1.InstallMode{
				{Type: olmv1alpha1.InstallModeTypeOwnNamespace, Supported: false},
				{Type: olmv1alpha1.InstallModeTypeSingleNamespace, Supported: false},
				{Type: olmv1alpha1.InstallModeTypeMultiNamespace, Supported: false},
				{Type: olmv1alpha1.InstallModeTypeAllNamespaces, Supported: true},
			},
			CustomResourceDefinitions: olmv1alpha1.CustomResourceDefinitions{Owned: ownedCRDs()},
			InstallStrategy: olmv1alpha1.NamedInstallStrategy{
				StrategyName: olmv1alpha1.InstallStrategyNameDeployment,
				StrategySpec: olmv1alpha1.StrategyDetailsDeployment{
					ClusterPermissions: []olmv1alpha1.StrategyDeploymentPermissions{{ServiceAccountName: operatorName, Rules: clusterRules}},
					Permissions:        []olmv1alpha1.StrategyDeploymentPermissions{{ServiceAccountName: operatorName, Rules: leaderRules}},
					DeploymentSpecs:    []olmv1alpha1.StrategyDeploymentSpec{{Name: operatorName, Label: map[string]string{"app.kubernetes.io/name": operatorName}, Spec: deployment}},
				},
			},
		},
	}
	// Through JSON, to drop the zero-valued status and creationTimestamp that the Go types
	// would print.
	raw, err := json.Marshal(csv)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	delete(out, "status")
	delete(out["metadata"].(map[string]any), "creationTimestamp")
	tmpl := out["spec"].(map[string]any)["install"].(map[string]any)["spec"].(map[string]any)["deployments"].([]any)[0].(map[string]any)["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)
	delete(tmpl, "creationTimestamp")
	return out, nil
}

const description = `Pipeline Service runs Tekton as a service on OpenShift. One cluster-scoped
PipelineService object named ` + "`cluster`" + ` (applied by ArgoCD, once per cluster) is
reconciled into everything the service needs:

* an OLM CatalogSource for a nightly index image pinned by digest, an ImageContentSourcePolicy
  (or ImageDigestMirrorSet) for mirrors, and a Subscription to the OpenShift Pipelines operator
  with an exact CSV pin: the operator approves the InstallPlan of the pinned CSV only, and rolls
  hot-fix images forward through the Subscription's env;
* the TektonConfig with the settings of a shared CI service: Triggers off, the pruner off where
  Tekton Results prunes, Pipelines-as-Code named after the GitHub App and pointed at an external
  console, the GitHub App secret delivered by an ExternalSecret, performance settings and
  free-form overrides, checked against the TektonConfig schema before anything is applied;
* the pipeline-metrics exporter with its RBAC, Service and ServiceMonitor.

The status says whether the whole stack is healthy and which operator version runs: conditions
for the catalog, the operator install, the TektonConfig and the exporter, the installed and
desired CSV, the Tekton version, replica counts of every Tekton Deployment and the last upgrade.
The same facts are Prometheus metrics, with alert rules in the source repository.

On the host cluster of a CodeReadyToolchain (Kubesaw) installation, a PipelineServiceHost named
` + "`cluster`" + ` runs SprayProxy, which forwards each Pipelines-as-Code webhook of the GitHub App to
every member cluster, behind kube-rbac-proxy with a re-encrypting Route, and registers Tekton
Results with the toolchain's proxy through a ProxyPlugin.`

// ownedCRDs describe every kind of controllers.Kinds for the console: with the descriptors
// written for it where there are some (consoleDescriptions), else with its name, its
// resources and its conditions.
func ownedCRDs() []olmv1alpha1.CRDDescription {
	described := map[string]func() olmv1alpha1.CRDDescription{"PipelineService": ownedCRD, "PipelineServiceHost": ownedHostCRD}
	var out []olmv1alpha1.CRDDescription
	for _, k := range controllers.Kinds {
		if describe, ok := described[k.GVK.Kind]; ok {
			out = append(out, describe())
			continue
		}
		out = append(out, olmv1alpha1.CRDDescription{
			Name: k.Resource + "." + k.GVK.Group, Version: k.GVK.Version, Kind: k.GVK.Kind, DisplayName: k.GVK.Kind,
			Resources: resources(k.Profile),
			StatusDescriptors: []olmv1alpha1.StatusDescriptor{{Path: "conditions", DisplayName: "Conditions",
				Description: conditionsDescription(k.GVK.Kind), XDescriptors: []string{"urn:alm:descriptor:io.kubernetes.conditions"}}},
		})
	}
	return out
}

// ownedCRD describes the PipelineService for the console: the fields people set most, and
// the status they read.
func ownedCRD() olmv1alpha1.CRDDescription {
	spec := func(path, name, desc string, x ...string) olmv1alpha1.SpecDescriptor {
		return olmv1alpha1.SpecDescriptor{Path: path, DisplayName: name, Description: desc, XDescriptors: x}
	}
	status := func(path, name, desc string, x ...string) olmv1alpha1.StatusDescriptor {
		return olmv1alpha1.StatusDescriptor{Path: path, DisplayName: name, Description: desc, XDescriptors: x}
	}
	text := "urn:alm:descriptor:com.tectonic.ui:text"
	return olmv1alpha1.CRDDescription{
		Name: crdName, Version: "v1alpha1", Kind: "PipelineService", DisplayName: "Pipeline Service",
		Description: "The desired state of Pipeline Service on this cluster; only one, named cluster.",
		Resources:   resources(children.Member),
		SpecDescriptors: []olmv1alpha1.SpecDescriptor{
			spec("operator.catalogSource.image", "Index image", "The catalog index image, pinned by digest in production.", text),
			spec("operator.subscription.channel", "Channel", "The OLM channel of the OpenShift Pipelines operator.", text),
			spec("operator.subscription.csv", "Pinned CSV", "The exact CSV to install; InstallPlans for other CSVs are not approved.", text),
			spec("tektonConfig.targetNamespace", "Target namespace", "Where OpenShift Pipelines runs Tekton.", "urn:alm:descriptor:io.kubernetes:Namespace"),
			spec("tektonConfig.pruner.mode", "Pruner mode", "Auto disables the operator's pruner where Tekton Results prunes.",
				"urn:alm:descriptor:com.tectonic.ui:select:Auto", "urn:alm:descriptor:com.tectonic.ui:select:Enabled", "urn:alm:descriptor:com.tectonic.ui:select:Disabled"),
			spec("exporter.enabled", "Metrics exporter", "Run the pipeline-metrics exporter.", "urn:alm:descriptor:com.tectonic.ui:booleanSwitch"),
			spec("deletionPolicy", "Deletion policy", "Orphan keeps OpenShift Pipelines when this object is deleted; Delete uninstalls it.",
				"urn:alm:descriptor:com.tectonic.ui:select:Orphan", "urn:alm:descriptor:com.tectonic.ui:select:Delete"),
		},
		StatusDescriptors: []olmv1alpha1.StatusDescriptor{
			status("conditions", "Conditions", conditionsDescription("PipelineService"), "urn:alm:descriptor:io.kubernetes.conditions"),
			status("installedCSV", "Installed CSV", "The CSV OLM has installed.", text),
			status("installedVersion", "Installed version", "The installed CSV's version.", text),
			status("desiredCSV", "Desired CSV", "The pinned CSV, or where OLM is heading.", text),
			status("tektonVersion", "Tekton version", "The TektonConfig's version.", text),
			status("catalogState", "Catalog state", "The CatalogSource's connection state.", text),
		},
	}
}

// conditionsDescription lists the condition types of kind, from the table of kinds the operator
// runs, so that the console's description cannot drift from what the operator sets.
func conditionsDescription(kind string) string {
	for _, k := range controllers.Kinds {
		if k.GVK.Kind != kind {
			continue
		}
		types := make([]string, 0, len(k.Conditions))
		for _, c := range k.Conditions {
			types = append(types, c.Type)
		}
		return strings.Join(types[:len(types)-1], ", ") + " and " + types[len(types)-1] + "."
	}
	panic(kind + " is not among the kinds the operator runs")
}

// resources are the kinds of the objects a kind creates, from the registry, for the console's
// resources tab. OLM's Name is the plural of a custom resource's type and empty for a built-in
// one (operator-framework/api, APIResourceReference), not an object's name.
func resources(p children.Profile) []olmv1alpha1.APIResourceReference {
	var out []olmv1alpha1.APIResourceReference
	for _, k := range children.Rendered(p) {
		ref := olmv1alpha1.APIResourceReference{Kind: k.GVK.Kind, Version: k.GVK.Version}
		if !k.BuiltIn {
			ref.Name = k.Resource
		}
		out = append(out, ref)
	}
	return out
}

// ownedHostCRD describes the PipelineServiceHost for the console.
func ownedHostCRD() olmv1alpha1.CRDDescription {
	text := "urn:alm:descriptor:com.tectonic.ui:text"
	return olmv1alpha1.CRDDescription{
		Name: hostCRDName, Version: "v1alpha1", Kind: "PipelineServiceHost", DisplayName: "Pipeline Service Host",
		Description: "The host side of a CodeReadyToolchain installation: SprayProxy and the Tekton Results proxy plugin; only one, named cluster.",
		Resources:   resources(children.Host),
		SpecDescriptors: []olmv1alpha1.SpecDescriptor{
			{Path: "sprayProxy.backends", DisplayName: "Backends", Description: "The Pipelines-as-Code webhook URLs of the member clusters."},
			{Path: "sprayProxy.route.host", DisplayName: "Route host", Description: "The host of SprayProxy's Route.", XDescriptors: []string{text}},
			{Path: "resultsProxyPlugin.enabled", DisplayName: "Results proxy plugin", Description: "Register Tekton Results with the toolchain's proxy.",
				XDescriptors: []string{"urn:alm:descriptor:com.tectonic.ui:booleanSwitch"}},
			{Path: "deletionPolicy", DisplayName: "Deletion policy", Description: "Orphan keeps SprayProxy when this object is deleted; Delete removes it.",
				XDescriptors: []string{"urn:alm:descriptor:com.tectonic.ui:select:Orphan", "urn:alm:descriptor:com.tectonic.ui:select:Delete"}},
		},
		StatusDescriptors: []olmv1alpha1.StatusDescriptor{
			{Path: "conditions", DisplayName: "Conditions", Description: conditionsDescription("PipelineServiceHost"),
				XDescriptors: []string{"urn:alm:descriptor:io.kubernetes.conditions"}},
			{Path: "webhookURL", DisplayName: "Webhook URL", Description: "The URL to give the GitHub App as its webhook URL.", XDescriptors: []string{text}},
		},
	}
}

// managerDeployment is the Deployment of config/manager, with the image of this version.
func managerDeployment(read func(string) ([]map[string]any, error), ver semver.Version) (appsv1.DeploymentSpec, error) {
	objs, err := read(filepath.Join("config", "manager", "manager.yaml"))
	if err != nil {
		return appsv1.DeploymentSpec{}, err
	}
	for _, o := range objs {
		if o["kind"] != "Deployment" {
			continue
		}
		d := &appsv1.Deployment{}
		if err := convert(o, d); err != nil {
			return appsv1.DeploymentSpec{}, err
		}
		for i := range d.Spec.Template.Spec.Containers {
			d.Spec.Template.Spec.Containers[i].Image = fmt.Sprintf("%s:v%s", imageRepo, ver)
		}
		return d.Spec, nil
	}
	return appsv1.DeploymentSpec{}, fmt.Errorf("config/manager/manager.yaml holds no Deployment")
}

// rulesOf reads the rules of the first object of kind in rel.
func rulesOf(read func(string) ([]map[string]any, error), rel, kind string) ([]rbacv1.PolicyRule, error) {
	objs, err := read(rel)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o["kind"] == kind {
			var r struct {
				Rules []rbacv1.PolicyRule `json:"rules"`
			}
			return r.Rules, convert(o, &r)
		}
	}
	return nil, fmt.Errorf("%s holds no %s", rel, kind)
}

func convert(in any, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// readObjects reads every YAML document of a file.
func readObjects(path string) ([]map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []map[string]any
	for {
		o := map[string]any{}
		if err := dec.Decode(&o); err != nil {
			if err.Error() == "EOF" {
				return out, nil
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(o) > 0 {
			out = append(out, o)
		}
	}
}

func writeYAML(path string, obj any) error {
	raw, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte("# Generated by `make bundle` (hack/bundle). Do not edit.\n"), raw...), 0o644)
}
