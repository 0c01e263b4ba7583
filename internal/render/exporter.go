package render

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

const (
	// ExporterMetricsPort is where the exporter serves Prometheus metrics.
	ExporterMetricsPort = 9117
	// ExporterProbePort is where the exporter serves /healthz and /readyz.
	ExporterProbePort = 8081
	// ExporterScrapeInterval is the ServiceMonitor's scrape interval.
	ExporterScrapeInterval = "15s"
	// LabelApp selects the exporter's pods.
	LabelApp = "app"
)

// ExternalSecret makes External Secrets copy the GitHub App credentials into the
// pipelines-as-code-secret Secret in targetNamespace, owned by the ExternalSecret: an entry of
// spec.externalSecrets that the gitHubApp field spells for this one Secret.
func ExternalSecret(ps *psv1alpha1.PipelineService, version string) *unstructured.Unstructured {
	return externalSecret(ps, extractedSecret(GitHubAppSecretName, "", *ps.Spec.TektonConfig.PipelinesAsCode.GitHubApp), version)
}

// extractedSecret is the ExternalSecret that copies every key of one store entry (the GitHub
// App's credentials, SprayProxy's webhook secret) into the Secret name, owned by it.
func extractedSecret(name, namespace string, src psv1alpha1.GitHubAppSpec) psv1alpha1.ExternalSecretSpec {
	es := psv1alpha1.ExternalSecretSpec{
		Name:            name,
		Namespace:       namespace,
		SecretStoreRef:  src.SecretStoreRef,
		DataFrom:        []psv1alpha1.ExternalSecretDataFrom{{Extract: psv1alpha1.RemoteKey{Key: src.Key}}},
		RefreshInterval: src.RefreshInterval,
	}
	if src.DeletionPolicy != "" {
		es.Target = &psv1alpha1.ExternalSecretTarget{DeletionPolicy: src.DeletionPolicy}
	}
	return es
}

// ExternalSecrets renders spec.externalSecrets as ExternalSecrets of the given version.
func ExternalSecrets(ps *psv1alpha1.PipelineService, version string) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, len(ps.Spec.ExternalSecrets))
	for _, es := range ps.Spec.ExternalSecrets {
		out = append(out, externalSecret(ps, es, version))
	}
	return out
}

// externalSecret renders one ExternalSecret: the store, the data to copy and the Secret to
// write, each only as set; an empty namespace is targetNamespace.
func externalSecret(ps *psv1alpha1.PipelineService, es psv1alpha1.ExternalSecretSpec, version string) *unstructured.Unstructured {
	return renderExternalSecret(es, ps.Spec.TektonConfig.TargetNamespace, version)
}

// renderExternalSecret renders es, in defaultNamespace when it names none.
func renderExternalSecret(es psv1alpha1.ExternalSecretSpec, defaultNamespace, version string) *unstructured.Unstructured {
	namespace := es.Namespace
	if namespace == "" {
		namespace = defaultNamespace
	}
	u := newObject(children.GVKExternalSecretV1.GroupKind().WithVersion(version), namespace, es.Name)
	spec := map[string]any{
		"secretStoreRef": map[string]any{"kind": es.SecretStoreRef.Kind, "name": es.SecretStoreRef.Name},
		"target":         externalSecretTarget(es),
	}
	if len(es.Data) > 0 {
		data := make([]any, 0, len(es.Data))
		for _, d := range es.Data {
			ref := map[string]any{"key": d.RemoteRef.Key}
			if d.RemoteRef.Property != "" {
				ref["property"] = d.RemoteRef.Property
			}
			data = append(data, map[string]any{"secretKey": d.SecretKey, "remoteRef": ref})
		}
		spec["data"] = data
	}
	if len(es.DataFrom) > 0 {
		from := make([]any, 0, len(es.DataFrom))
		for _, d := range es.DataFrom {
			from = append(from, map[string]any{"extract": map[string]any{"key": d.Extract.Key}})
		}
		spec["dataFrom"] = from
	}
	if es.RefreshInterval != nil {
		spec["refreshInterval"] = Duration(es.RefreshInterval.Duration)
	}
	u.Object["spec"] = spec
	return u
}

// externalSecretTarget is the target of an ExternalSecret: the Secret named like it and owned
// by it unless the spec says otherwise.
func externalSecretTarget(es psv1alpha1.ExternalSecretSpec) map[string]any {
	target := map[string]any{"name": es.Name, "creationPolicy": "Owner"}
	t := es.Target
	if t == nil {
		return target
	}
	if t.Name != "" {
		target["name"] = t.Name
	}
	if t.CreationPolicy != "" {
		target["creationPolicy"] = t.CreationPolicy
	}
	if t.DeletionPolicy != "" {
		target["deletionPolicy"] = t.DeletionPolicy
	}
	if t.Template != nil {
		meta := map[string]any{}
		if len(t.Template.Metadata.Labels) > 0 {
			meta["labels"] = stringMap(t.Template.Metadata.Labels)
		}
		if len(t.Template.Metadata.Annotations) > 0 {
			meta["annotations"] = stringMap(t.Template.Metadata.Annotations)
		}
		template := map[string]any{}
		if len(meta) > 0 {
			template["metadata"] = meta
		}
		if len(t.Template.Data) > 0 {
			template["data"] = stringMap(t.Template.Data)
		}
		if len(template) > 0 {
			target["template"] = template
		}
	}
	return target
}

// stringMap is m as an unstructured map.
func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Exporter renders the pipeline-metrics exporter: ServiceAccount, ClusterRoleBinding, Service,
// Deployment and NetworkPolicy, in targetNamespace. The binding grants the ClusterRole of the same name that
// ships with the operator (config/rbac/children_roles.yaml).
func Exporter(ps *psv1alpha1.PipelineService) []*unstructured.Unstructured {
	ns := ps.Spec.TektonConfig.TargetNamespace
	out := []*unstructured.Unstructured{
		newObject(children.GVKServiceAccount, ns, exporterServiceAccount(ps)),
		exporterClusterRoleBinding(ns, exporterServiceAccount(ps)),
		exporterService(ns),
		exporterDeployment(ps),
	}
	if ps.Spec.Exporter.NetworkPolicy {
		out = append(out, exporterNetworkPolicy(ns))
	}
	return out
}

func exporterClusterRoleBinding(ns, serviceAccount string) *unstructured.Unstructured {
	u := newObject(children.GVKClusterRoleBinding, "", ExporterName)
	u.Object["roleRef"] = map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ExporterName}
	u.Object["subjects"] = []any{map[string]any{"kind": "ServiceAccount", "name": serviceAccount, "namespace": ns}}
	return u
}

// exporterServiceAccount is the exporter's ServiceAccount: spec.exporter.serviceAccountName,
// which the schema defaults to the exporter's name.
func exporterServiceAccount(ps *psv1alpha1.PipelineService) string {
	if name := ps.Spec.Exporter.ServiceAccountName; name != "" {
		return name
	}
	return ExporterName
}

func exporterSelector() map[string]any { return map[string]any{LabelApp: ExporterName} }

func exporterService(ns string) *unstructured.Unstructured {
	u := newObject(children.GVKService, ns, ExporterName)
	u.SetLabels(merge(u.GetLabels(), map[string]string{LabelApp: ExporterName}))
	u.Object["spec"] = map[string]any{
		"selector": exporterSelector(),
		"ports": []any{map[string]any{
			"name": "metrics", "port": int64(ExporterMetricsPort), "targetPort": "metrics", "protocol": "TCP",
		}},
	}
	return u
}

func exporterDeployment(ps *psv1alpha1.PipelineService) *unstructured.Unstructured {
	e := ps.Spec.Exporter
	u := newObject(children.GVKDeployment, ps.Spec.TektonConfig.TargetNamespace, ExporterName)
	probe := func(path string) map[string]any {
		return map[string]any{"httpGet": map[string]any{"path": path, "port": int64(ExporterProbePort)}}
	}
	container := map[string]any{
		"name":  ExporterName,
		"image": string(e.Image),
		"ports": []any{
			map[string]any{"name": "metrics", "containerPort": int64(ExporterMetricsPort), "protocol": "TCP"},
			map[string]any{"name": "probes", "containerPort": int64(ExporterProbePort), "protocol": "TCP"},
		},
		"livenessProbe":   probe("/healthz"),
		"readinessProbe":  probe("/readyz"),
		"securityContext": restrictedContainer(),
	}
	if len(e.Args) > 0 {
		args := make([]any, 0, len(e.Args))
		for _, a := range e.Args {
			args = append(args, a)
		}
		container["args"] = args
	}
	if res := resources(e.Resources); len(res) > 0 {
		container["resources"] = res
	}
	u.Object["spec"] = map[string]any{
		"replicas": int64(e.Replicas),
		"selector": map[string]any{"matchLabels": exporterSelector()},
		"template": map[string]any{
			"metadata": map[string]any{"labels": exporterSelector()},
			"spec": map[string]any{
				"serviceAccountName": exporterServiceAccount(ps),
				"securityContext":    restrictedPod(),
				"containers":         []any{container},
			},
		},
	}
	return u
}

// resources renders requests and limits with canonical quantities, as the API server stores
// them, so that a live Deployment compares equal to the rendered one.
func resources(r corev1.ResourceRequirements) map[string]any {
	out := map[string]any{}
	for key, list := range map[string]corev1.ResourceList{"requests": r.Requests, "limits": r.Limits} {
		if len(list) == 0 {
			continue
		}
		m := map[string]any{}
		for name, q := range list {
			m[string(name)] = q.String()
		}
		out[key] = m
	}
	return out
}

// ExporterServiceMonitor makes Prometheus scrape the exporter every 15 s, keeping the
// exporter's own namespace and pod labels (honorLabels).
func ExporterServiceMonitor(ps *psv1alpha1.PipelineService) *unstructured.Unstructured {
	u := newObject(children.GVKServiceMonitor, ps.Spec.TektonConfig.TargetNamespace, ExporterName)
	u.Object["spec"] = map[string]any{
		"selector": map[string]any{"matchLabels": map[string]any{LabelApp: ExporterName}},
		"endpoints": []any{map[string]any{
			"port": "metrics", "interval": ExporterScrapeInterval, "honorLabels": true, "scheme": "http",
		}},
	}
	return u
}

func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
