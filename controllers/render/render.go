// Package render turns a PipelineService into the objects that should exist on the cluster.
//
// It is pure: no client, no I/O. What the cluster serves (ICSP or IDMS, which ExternalSecret
// version, whether ServiceMonitor exists) comes in as Capabilities, observed by the caller.
// Objects are unstructured and carry exactly the fields the operator owns, so that server-side
// apply never claims a zero value we did not mean (TektonConfig's Go types have non-omitempty
// bools that a typed marshal would send). Output is deterministic: sorted env, maps marshalled
// with sorted keys, so a pass with nothing changed renders byte-identical objects.
package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

const (
	// LabelManagedBy marks every object the operator creates; caches and garbage collection
	// select on it. Owner references are not used: garbage collection would delete the
	// children with the PipelineService and defeat deletionPolicy Orphan.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is LabelManagedBy's value.
	ManagedByValue = "pipeline-service-operator"
	// LabelPartOf groups the objects of one Pipeline Service install.
	LabelPartOf = "app.kubernetes.io/part-of"
	// PartOfValue is LabelPartOf's value.
	PartOfValue = "pipeline-service"
	// AnnotationAppliedHash is the hash of what the operator last applied to an object. With
	// the live object still matching the rendered fields, an equal hash lets a pass skip the
	// write; a different hash means the rendered fields changed (or some were dropped).
	AnnotationAppliedHash = "pipelineservice.appstudio.io/applied-hash"

	// TektonConfigName is the only TektonConfig name OSP accepts.
	TektonConfigName = "config"
	// MirrorPolicyName names the ImageContentSourcePolicy or ImageDigestMirrorSet.
	MirrorPolicyName = "pipeline-service"
	// GitHubAppSecretName is the Secret Pipelines-as-Code reads the GitHub App from, and the
	// ExternalSecret that fills it.
	GitHubAppSecretName = "pipelines-as-code-secret"
	// ExporterName names the exporter's Deployment, Service, ServiceAccount, RBAC and
	// ServiceMonitor.
	ExporterName = "pipeline-metrics-exporter"
	// EnvAutoinstallComponents stops OSP from creating its own TektonConfig, so that the one
	// the operator renders is the only one.
	EnvAutoinstallComponents = "AUTOINSTALL_COMPONENTS"
)

// Group-version-kinds of the objects the operator renders.
var (
	GVKNamespace          = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	GVKCatalogSource      = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "CatalogSource"}
	GVKSubscription       = schema.GroupVersionKind{Group: "operators.coreos.com", Version: "v1alpha1", Kind: "Subscription"}
	GVKICSP               = schema.GroupVersionKind{Group: "operator.openshift.io", Version: "v1alpha1", Kind: "ImageContentSourcePolicy"}
	GVKIDMS               = schema.GroupVersionKind{Group: "config.openshift.io", Version: "v1", Kind: "ImageDigestMirrorSet"}
	GVKTektonConfig       = schema.GroupVersionKind{Group: "operator.tekton.dev", Version: "v1alpha1", Kind: "TektonConfig"}
	GVKExternalSecretV1   = schema.GroupVersionKind{Group: "external-secrets.io", Version: "v1", Kind: "ExternalSecret"}
	GVKExternalSecretBeta = schema.GroupVersionKind{Group: "external-secrets.io", Version: "v1beta1", Kind: "ExternalSecret"}
	GVKServiceAccount     = schema.GroupVersionKind{Version: "v1", Kind: "ServiceAccount"}
	GVKService            = schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	GVKDeployment         = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	GVKClusterRole        = schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}
	GVKClusterRoleBinding = schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"}
	GVKServiceMonitor     = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "ServiceMonitor"}
)

// ChildKinds are the kinds of every child, in apply order (ExternalSecret once, as v1).
var ChildKinds = []schema.GroupVersionKind{
	GVKNamespace, GVKCatalogSource, GVKICSP, GVKIDMS, GVKSubscription, GVKTektonConfig, GVKExternalSecretV1,
	GVKServiceAccount, GVKClusterRole, GVKClusterRoleBinding, GVKService, GVKDeployment, GVKServiceMonitor,
}

// Capabilities are the optional APIs the cluster serves, as observed by the caller.
type Capabilities struct {
	// ICSP: operator.openshift.io/v1alpha1 ImageContentSourcePolicy is served.
	ICSP bool
	// IDMS: config.openshift.io/v1 ImageDigestMirrorSet is served (used where ICSP is not).
	IDMS bool
	// ExternalSecretVersion is "v1" or "v1beta1" as served, or "" when ExternalSecret is not.
	ExternalSecretVersion string
	// ServiceMonitor: monitoring.coreos.com/v1 ServiceMonitor is served.
	ServiceMonitor bool
}

// Desired is every object the PipelineService asks for, and what it asks for that the
// cluster cannot take yet.
type Desired struct {
	// Objects in apply order: namespace, OLM, mirrors, TektonConfig, secret, exporter.
	Objects []*unstructured.Unstructured
	// Missing names the APIs a wanted object needs that are not served (for example
	// "ExternalSecret" when gitHubApp is set but External Secrets is not installed).
	Missing []string
}

// Render returns the desired objects for ps on a cluster with caps. An
// InvalidTektonConfigError says the TektonConfig spec, overrides included, does not decode
// into the tektoncd/operator types (terminal: the spec must change); any other error is from
// rendering one object (a Subscription or a hash that cannot be encoded). The values OSP
// accepts are ruled on afterwards by package osp.
func Render(ps *psv1alpha1.PipelineService, caps Capabilities) (*Desired, error) {
	tc, err := TektonConfig(ps)
	if err != nil {
		return nil, err
	}
	d := &Desired{}
	add := func(objs ...*unstructured.Unstructured) {
		for _, o := range objs {
			if o != nil {
				d.Objects = append(d.Objects, o)
			}
		}
	}
	add(TargetNamespace(ps), CatalogSource(ps))
	if len(ps.Spec.Mirrors) > 0 {
		switch {
		case caps.ICSP:
			add(ImageContentSourcePolicy(ps))
		case caps.IDMS:
			add(ImageDigestMirrorSet(ps))
		default:
			d.Missing = append(d.Missing, "ImageContentSourcePolicy")
		}
	}
	sub, err := Subscription(ps)
	if err != nil {
		return nil, err
	}
	add(sub, tc)
	if ps.Spec.TektonConfig.PipelinesAsCode.GitHubApp != nil {
		if caps.ExternalSecretVersion == "" {
			d.Missing = append(d.Missing, "ExternalSecret")
		} else {
			add(ExternalSecret(ps, caps.ExternalSecretVersion))
		}
	}
	if ps.Spec.Exporter.Enabled {
		add(Exporter(ps)...)
		if ps.Spec.Exporter.ServiceMonitor {
			if caps.ServiceMonitor {
				add(ExporterServiceMonitor(ps))
			} else {
				d.Missing = append(d.Missing, "ServiceMonitor")
			}
		}
	}
	for _, o := range d.Objects {
		if err := stampHash(o); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// newObject returns an unstructured object of gvk with the operator's labels.
func newObject(gvk schema.GroupVersionKind, namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(gvk)
	u.SetName(name)
	if namespace != "" {
		u.SetNamespace(namespace)
	}
	u.SetLabels(map[string]string{LabelManagedBy: ManagedByValue, LabelPartOf: PartOfValue})
	return u
}

// stampHash records the hash of the object's rendered content in an annotation.
func stampHash(u *unstructured.Unstructured) error {
	data, err := json.Marshal(u.Object)
	if err != nil {
		return fmt.Errorf("hash %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	sum := sha256.Sum256(data)
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AnnotationAppliedHash] = hex.EncodeToString(sum[:16])
	u.SetAnnotations(ann)
	return nil
}

// sortedKeys returns the keys of m in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
