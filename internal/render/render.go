// Package render turns a PipelineService into the objects that should exist on the cluster.
//
// It is pure: no client, no I/O. What the cluster serves (ICSP or IDMS, which ExternalSecret
// version, whether ServiceMonitor exists) comes in as a children.Served function, observed by
// the caller.
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
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
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
	// AnnotationAppliedHash is the hash of what the operator last applied to an object. With
	// the live object still matching the rendered fields, an equal hash lets a pass skip the
	// write; a different hash means the rendered fields changed (or some were dropped).
	AnnotationAppliedHash = "pipelineservice.appstudio.io/applied-hash"

	// AnnotationRefreshedImages is the annotation with which the operator asks OSP to
	// re-render a component workload, in the TektonConfig's options of that workload, under a
	// field manager of its own: it is not rendered, and an import leaves it out.
	AnnotationRefreshedImages = "pipelineservice.appstudio.io/refreshed-images"

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

// GrantedRoles are the ClusterRoles the operator binds its children to, each through a
// ClusterRoleBinding of the same name. They ship with the operator
// (config/rbac/children_roles.yaml), and the operator may bind these and write these bindings
// only (the RBAC markers in internal/children; TestRBACBindsByName).
var GrantedRoles = []string{ExporterName, sprayProxyAuthRole, sprayProxyMetricsRole, sprayProxyRegistrarRole}

// Desired is every object the PipelineService asks for, in apply order: namespace, OLM,
// mirrors, TektonConfig, secret, exporter. An object whose kind the cluster does not serve is
// still here; the caller reports it missing rather than applying it.
type Desired struct {
	Objects []*unstructured.Unstructured
}

// Render returns the desired objects for ps on a cluster that serves the given kinds, which
// decide between alternatives (ICSP or IDMS, ExternalSecret v1 or v1beta1). An
// InvalidTektonConfigError says the TektonConfig spec, overrides included, does not decode
// into the tektoncd/operator types (terminal: the spec must change); any other error is from
// rendering one object (a Subscription or a hash that cannot be encoded). The values OSP
// accepts are ruled on afterwards by package osp.
func Render(ps *psv1alpha1.PipelineService, served children.Served) (*Desired, error) {
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
		// ImageContentSourcePolicy where it is served (OpenShift up to 4.x), else its
		// successor; on a cluster with neither, the ICSP is reported missing.
		if !served[children.GVKICSP] && served[children.GVKIDMS] {
			add(ImageDigestMirrorSet(ps))
		} else {
			add(ImageContentSourcePolicy(ps))
		}
	}
	sub, err := Subscription(ps)
	if err != nil {
		return nil, err
	}
	add(sub, tc)
	esVersion := served.Version(children.GVKExternalSecretV1.GroupKind()).Version
	if ps.Spec.TektonConfig.PipelinesAsCode.GitHubApp != nil {
		add(ExternalSecret(ps, esVersion))
	}
	add(ExternalSecrets(ps, esVersion)...)
	if ps.Spec.Exporter.Enabled {
		add(Exporter(ps)...)
		if ps.Spec.Exporter.ServiceMonitor {
			add(ExporterServiceMonitor(ps))
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
	u.SetLabels(map[string]string{LabelManagedBy: ManagedByValue, LabelPartOf: children.Member.Info().PartOf})
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

// Duration prints d as people write it in manifests, without zero trailing units (5m, 1h,
// 1h30m), where Go prints 5m0s and 1h0m0s. Both parse the same; printing the short form keeps
// the operator from rewriting a value a GitOps manifest wrote, on taking it over.
func Duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
