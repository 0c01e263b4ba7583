// Package children is the registry of the kinds the operator creates or reads. Each kind is
// declared once, here, with what the rest of the operator needs to know about it: whether
// it is pruned, when deletionPolicy Delete removes it, which CRD
// serves it, and the RBAC that lets the operator manage it. Pruning, deletion, watches, the
// late-CRD list and the capabilities passed to render are all derived from Kinds; adding a
// child means adding it here and rendering it.
package children

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// Kind is one kind of object the operator creates (a child) or only reads (Observed).
type Kind struct {
	// GVK is the group, preferred version and kind.
	GVK schema.GroupVersionKind
	// OlderVersions are served versions the operator falls back to, in order, where the
	// preferred one is not served (ExternalSecret v1beta1 on External Secrets < 0.17).
	OlderVersions []string
	// Resource is the plural resource name, for RBAC and the CRD's name.
	Resource string
	// BuiltIn kinds are served by every API server; the others by a CRD that may arrive late
	// (TektonConfig once OLM installs OSP) or never (ServiceMonitor without monitoring).
	BuiltIn bool
	// Optional kinds may be missing from a cluster: a wanted object of one is named in Ready's
	// message and the rest proceeds. Kinds that are not optional have a condition that says
	// what their absence means (TektonConfig, the mirror policies).
	Optional bool
	// Prune: an object of this kind that the spec no longer renders is deleted.
	Prune bool
	// DeleteStep is the step of deletionPolicy Delete that removes this kind (0: never
	// deleted). Each step waits until the objects of the previous one are gone.
	DeleteStep int
	// Awaited kinds hold the generation back while their CRD is not served, and this is the
	// Reconciling reason meanwhile: the CRD is expected to arrive (TektonConfig once OLM
	// installs OSP, ProxyPlugin once CodeReadyToolchain is installed), and the parent is not
	// wholly applied without them.
	Awaited string
	// Observed kinds are written by OLM, not by the operator: they carry no label of ours and
	// are watched in the Subscription's namespace only.
	Observed bool
	// Profiles are the reconcilers that create or read the kind: the member side
	// (PipelineService), the host side (PipelineServiceHost) or both.
	Profiles Profile
	// Import is what the import subcommand does with the kind's objects on a live cluster;
	// every kind the member side renders must say (TestEveryMemberKindSaysHowItIsImported).
	Import Import
}

// Import is how `import` reproduces a member child kind in the PipelineService it prints.
type Import uint8

const (
	// importUnset is a declaration that forgot to say.
	importUnset Import = iota
	// ImportRead: import reads the kind's objects and turns them into spec fields
	// (internal/importer; TestReadReadsTheImportedKinds checks it does).
	ImportRead
	// ImportDerived: the kind's objects follow from others import reads (the exporter's
	// ServiceAccount and RBAC from its Deployment, the target namespace from the TektonConfig).
	ImportDerived
)

// Says is whether the declaration says how the kind is imported.
func (i Import) Says() bool { return i != importUnset }

// Profile is one side of Pipeline Service, each reconciled by its own controller.
type Profile uint8

const (
	// Member is the PipelineService: OSP, its TektonConfig and the exporter.
	Member Profile = 1 << iota
	// Host is the PipelineServiceHost: SprayProxy and the Results proxy plugin.
	Host
)

// Profiles are the sides, one row each: the value of app.kubernetes.io/part-of that tells its
// children from the other sides' in the caches they share, and the parent kind that owns them.
// The first is the default side: an object with the operator's label and a part-of value no
// other side claims is its child (children applied before part-of told the sides apart). A new
// parent kind is a new Profile and its row here.
var Profiles = []ProfileInfo{
	{Profile: Member, PartOf: "pipeline-service", Parent: "PipelineService"},
	{Profile: Host, PartOf: "pipeline-service-host", Parent: "PipelineServiceHost"},
}

// ProfileInfo describes one side.
type ProfileInfo struct {
	Profile Profile
	// PartOf is the app.kubernetes.io/part-of value of the side's children.
	PartOf string
	// Parent is the kind of the side's parent.
	Parent string
}

// Info is p's row of Profiles.
func (p Profile) Info() ProfileInfo {
	for _, i := range Profiles {
		if i.Profile == p {
			return i
		}
	}
	panic(fmt.Sprintf("profile %d has no row in children.Profiles", p))
}

// Claimant is the side whose part-of value is partOf, false when no side claims it.
func Claimant(partOf string) (ProfileInfo, bool) {
	for _, i := range Profiles {
		if i.PartOf == partOf {
			return i, true
		}
	}
	return ProfileInfo{}, false
}

// OwnerOf is the side whose children carry part-of value partOf: the side that claims it, else
// the default side.
func OwnerOf(partOf string) ProfileInfo {
	if i, ok := Claimant(partOf); ok {
		return i
	}
	return Profiles[0]
}

// In is whether profile p creates or reads the kind.
func (k Kind) In(p Profile) bool { return k.Profiles&p != 0 }

// CRD is the name of the CustomResourceDefinition that serves the kind, "" when built in.
func (k Kind) CRD() string {
	if k.BuiltIn {
		return ""
	}
	return k.Resource + "." + k.GVK.Group
}

// Versions are the kind's GVKs, preferred first.
func (k Kind) Versions() []schema.GroupVersionKind {
	out := []schema.GroupVersionKind{k.GVK}
	for _, v := range k.OlderVersions {
		out = append(out, k.GVK.GroupKind().WithVersion(v))
	}
	return out
}

// Deletion steps of deletionPolicy Delete: the exporter and secrets first, the CatalogSource
// last, so that OSP is uninstalled only after its TektonConfig is gone and OLM never
// reinstalls what was removed. On the host the workloads go in the first step (SprayProxy, its
// Route and the proxy plugin) and the webhook secret's ExternalSecret in the second.
const (
	deleteNever = iota
	// DeleteExporter removes the workloads and what serves them.
	DeleteExporter
	DeleteSecrets
	DeleteMirrors
	DeleteTektonConfig
	DeleteSubscription
	DeleteCSV
	DeleteCatalogSource
)

// Group-version-kinds, defined here only.
var (
	GVKNamespace                = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	GVKServiceAccount           = schema.GroupVersionKind{Version: "v1", Kind: "ServiceAccount"}
	GVKService                  = schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	GVKDeployment               = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	GVKNetworkPolicy            = schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	GVKClusterRole              = schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}
	GVKClusterRoleBinding       = schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"}
	GVKCatalogSource            = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "CatalogSource"}
	GVKSubscription             = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "Subscription"}
	GVKClusterServiceVersion    = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "ClusterServiceVersion"}
	GVKInstallPlan              = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "InstallPlan"}
	GVKICSP                     = schema.GroupVersionKind{Group: "operator.openshift.io", Version: "v1alpha1", Kind: "ImageContentSourcePolicy"}
	GVKIDMS                     = schema.GroupVersionKind{Group: "config.openshift.io", Version: "v1", Kind: "ImageDigestMirrorSet"}
	GVKTektonConfig             = schema.GroupVersionKind{Group: "operator.tekton.dev", Version: "v1alpha1", Kind: "TektonConfig"}
	GVKExternalSecretV1         = schema.GroupVersionKind{Group: "external-secrets.io", Version: "v1", Kind: "ExternalSecret"}
	GVKExternalSecretBeta       = schema.GroupVersionKind{Group: "external-secrets.io", Version: "v1beta1", Kind: "ExternalSecret"}
	GVKServiceMonitor           = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"}
	GVKCustomResourceDefinition = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}
	GVKRoute                    = schema.GroupVersionKind{Group: "route.openshift.io", Version: "v1", Kind: "Route"}
	GVKProxyPlugin              = schema.GroupVersionKind{Group: "toolchain.dev.openshift.com", Version: "v1alpha1", Kind: "ProxyPlugin"}
)

// The RBAC each kind needs: the verbs follow from the declaration (every kind is read and
// watched; children are created and patched; pruned or deleted kinds are deleted), and
// TestRBACCoversEveryKind checks config/rbac/role.yaml against Kinds.
//
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=serviceaccounts;services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
//
// RBAC by name: the operator writes only its own ClusterRoleBindings and binds only the
// ClusterRoles that ship with it (config/rbac/children_roles.yaml), which it holds `bind` on
// instead of the permissions inside them. A create by server-side apply is authorized with the
// object's name (k8s.io/apiserver endpoints/handlers/patch.go, createAuthorizerAttributes), so
// resourceNames holds for create too. The names are render.GrantedRoles
// (TestRBACBindsByName).
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterrolebindings,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterrolebindings,verbs=create;update;patch;delete,resourceNames=pipeline-metrics-exporter;sprayproxy-kube-rbac-proxy;sprayproxy-metrics-reader;sprayproxy-backend-register
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=pipeline-metrics-exporter;sprayproxy-kube-rbac-proxy;sprayproxy-metrics-reader;sprayproxy-backend-register
//
// NetworkPolicies by name too: the operator cannot remove or loosen a policy it did not write.
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=create;update;patch;delete,resourceNames=pipeline-metrics-exporter;sprayproxy
// +kubebuilder:rbac:groups=operators.coreos.com,resources=catalogsources;subscriptions,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=operators.coreos.com,resources=clusterserviceversions,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=operators.coreos.com,resources=installplans,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=operator.openshift.io,resources=imagecontentsourcepolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=config.openshift.io,resources=imagedigestmirrorsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=operator.tekton.dev,resources=tektonconfigs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=external-secrets.io,resources=externalsecrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=servicemonitors,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=route.openshift.io,resources=routes,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=toolchain.dev.openshift.com,resources=proxyplugins,verbs=get;list;watch;create;update;patch;delete
//
// OpenShift lets only a subject that may create routes/custom-host set a Route's spec.host.
// +kubebuilder:rbac:groups=route.openshift.io,resources=routes/custom-host,verbs=create

// Kinds is every kind the operator creates or reads.
var Kinds = []Kind{
	// The namespaces are never pruned or deleted: OSP runs in the target namespace, and
	// SprayProxy's may hold what others put there.
	{GVK: GVKNamespace, Resource: "namespaces", BuiltIn: true, Profiles: Member | Host, Import: ImportDerived},
	{GVK: GVKClusterRoleBinding, Resource: "clusterrolebindings", BuiltIn: true, Prune: true, DeleteStep: DeleteExporter, Profiles: Member | Host, Import: ImportDerived},
	{GVK: GVKServiceAccount, Resource: "serviceaccounts", BuiltIn: true, Prune: true, DeleteStep: DeleteExporter, Profiles: Member | Host, Import: ImportDerived},
	{GVK: GVKService, Resource: "services", BuiltIn: true, Prune: true, DeleteStep: DeleteExporter, Profiles: Member | Host, Import: ImportDerived},
	{GVK: GVKDeployment, Resource: "deployments", BuiltIn: true, Prune: true, DeleteStep: DeleteExporter, Profiles: Member | Host, Import: ImportRead},
	{GVK: GVKNetworkPolicy, Resource: "networkpolicies", BuiltIn: true, Prune: true, DeleteStep: DeleteExporter, Profiles: Member | Host, Import: ImportRead},
	{GVK: GVKServiceMonitor, Resource: "servicemonitors", Optional: true, Prune: true, DeleteStep: DeleteExporter, Profiles: Member | Host, Import: ImportRead},
	{GVK: GVKCatalogSource, Resource: "catalogsources", Prune: true, DeleteStep: DeleteCatalogSource, Profiles: Member, Import: ImportRead},
	{GVK: GVKSubscription, Resource: "subscriptions", Prune: true, DeleteStep: DeleteSubscription, Profiles: Member, Import: ImportRead},
	{GVK: GVKClusterServiceVersion, Resource: "clusterserviceversions", Observed: true, DeleteStep: DeleteCSV, Profiles: Member},
	{GVK: GVKInstallPlan, Resource: "installplans", Observed: true, Profiles: Member},
	{GVK: GVKICSP, Resource: "imagecontentsourcepolicies", Prune: true, DeleteStep: DeleteMirrors, Profiles: Member, Import: ImportRead},
	{GVK: GVKIDMS, Resource: "imagedigestmirrorsets", Prune: true, DeleteStep: DeleteMirrors, Profiles: Member, Import: ImportRead},
	// TektonConfig is not pruned: only deletionPolicy Delete removes it.
	{GVK: GVKTektonConfig, Resource: "tektonconfigs", DeleteStep: DeleteTektonConfig, Awaited: psv1alpha1.ReasonTektonConfigCRDMissing, Profiles: Member, Import: ImportRead},
	{GVK: GVKExternalSecretV1, OlderVersions: []string{"v1beta1"}, Resource: "externalsecrets", Optional: true, Prune: true, DeleteStep: DeleteSecrets, Profiles: Member | Host, Import: ImportRead},
	// SprayProxy's Route exists only on OpenShift; elsewhere the Service is exposed by other
	// means, so the Route is optional. The ProxyPlugin is the point of resultsProxyPlugin and
	// has a condition of its own that waits for CodeReadyToolchain's CRD.
	{GVK: GVKRoute, Resource: "routes", Optional: true, Prune: true, DeleteStep: DeleteExporter, Profiles: Host},
	{GVK: GVKProxyPlugin, Resource: "proxyplugins", Prune: true, DeleteStep: DeleteExporter, Awaited: psv1alpha1.ReasonProxyPluginCRDMissing, Profiles: Host},
}

// Lookup returns the declaration of gk.
func Lookup(gk schema.GroupKind) (Kind, bool) {
	i := slices.IndexFunc(Kinds, func(k Kind) bool { return k.GVK.GroupKind() == gk })
	if i < 0 {
		return Kind{}, false
	}
	return Kinds[i], true
}

// Of are the kinds of profile p.
func Of(p Profile) []Kind {
	return slices.DeleteFunc(slices.Clone(Kinds), func(k Kind) bool { return !k.In(p) })
}

// Rendered are the kinds profile p creates.
func Rendered(p Profile) []Kind {
	return slices.DeleteFunc(Of(p), func(k Kind) bool { return k.Observed })
}

// DeleteSteps are the deletion steps of profile p in order, each with its kinds. The steps run
// up to the last one any kind declares, so a step added after the others is not skipped.
func DeleteSteps(p Profile) [][]Kind {
	last := 0
	for _, k := range Kinds {
		last = max(last, k.DeleteStep)
	}
	var steps [][]Kind
	for step := DeleteExporter; step <= last; step++ {
		var kinds []Kind
		for _, k := range Of(p) {
			if k.DeleteStep == step {
				kinds = append(kinds, k)
			}
		}
		if len(kinds) > 0 {
			steps = append(steps, kinds)
		}
	}
	return steps
}

// CRDKinds maps the CRD name of each kind of profile p that a CRD serves to the kind.
func CRDKinds(p Profile) map[string]Kind {
	out := map[string]Kind{}
	for _, k := range Of(p) {
		if crd := k.CRD(); crd != "" {
			out[crd] = k
		}
	}
	return out
}

// Served is which versions of the kinds the cluster serves.
type Served map[schema.GroupVersionKind]bool

// ServedBy asks served about every version of every kind; built-in kinds are served.
func ServedBy(served func(schema.GroupVersionKind) bool) Served {
	out := Served{}
	for _, k := range Kinds {
		for _, gvk := range k.Versions() {
			out[gvk] = k.BuiltIn || served(gvk)
		}
	}
	return out
}

// ServedOf asks served about every version of the kinds of profile p only: asking about a
// group the cluster lacks costs a discovery request.
func ServedOf(p Profile, served func(schema.GroupVersionKind) bool) Served {
	out := Served{}
	for _, k := range Of(p) {
		for _, gvk := range k.Versions() {
			out[gvk] = k.BuiltIn || served(gvk)
		}
	}
	return out
}

// AllServed is a cluster that serves every kind at its preferred version.
func AllServed() Served {
	return ServedBy(func(schema.GroupVersionKind) bool { return true })
}

// Version is the GVK to write gk as: its first served version, or the preferred one when none
// is served (the object is then reported missing).
func (s Served) Version(gk schema.GroupKind) schema.GroupVersionKind {
	k, ok := Lookup(gk)
	if !ok {
		return schema.GroupVersionKind{}
	}
	for _, gvk := range k.Versions() {
		if s[gvk] {
			return gvk
		}
	}
	return k.GVK
}
