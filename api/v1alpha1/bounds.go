package v1alpha1

// The bounds of the fields that markers cannot reach: those of the Kubernetes types the API
// embeds (corev1.EnvVar, corev1.ResourceRequirements, rbacv1.Subject) and the values of maps.
// They are API contract, as the markers are: hack/crd-descriptions writes them into the CRDs
// (make manifests), and TestEverySpecFieldIsBounded fails on a field left unbounded.

// Bound is the bound of the fields whose path (spec. omitted, [] for a list's items, {} for a
// map's values) ends in suffix, in the CRD of kind crd: maxLength for a string, maxItems for a
// list, maxProperties for a map. A bound a marker already set is kept.
// +kubebuilder:object:generate=false
type Bound struct {
	CRD, Suffix string
	N           int64
}

// Bounds fit real use with room to spare; each says where it comes from. Kubernetes' own names
// are 253 (DNS subdomain) or 63 (DNS label) long.
var Bounds = []Bound{
	// corev1.EnvVar in spec.operator.subscription.env, which OLM copies into OSP's Deployment.
	// Names of variables are C identifiers; values are image references and flags, under 1 KiB
	// in production; 8 KiB is the size of a long Java-style option string.
	{"PipelineService", "env[].name", 256},
	{"PipelineService", "env[].value", 8192},
	{"PipelineService", "valueFrom.configMapKeyRef.name", 253},
	{"PipelineService", "valueFrom.configMapKeyRef.key", 253},
	{"PipelineService", "valueFrom.secretKeyRef.name", 253},
	{"PipelineService", "valueFrom.secretKeyRef.key", 253},
	{"PipelineService", "valueFrom.fieldRef.apiVersion", 64},
	{"PipelineService", "valueFrom.fieldRef.fieldPath", 256},
	{"PipelineService", "valueFrom.resourceFieldRef.containerName", 63},
	{"PipelineService", "valueFrom.resourceFieldRef.resource", 64},
	{"PipelineService", "valueFrom.fileKeyRef.key", 253},
	{"PipelineService", "valueFrom.fileKeyRef.path", 4096},
	{"PipelineService", "valueFrom.fileKeyRef.volumeName", 63},
	// corev1.ResourceRequirements of the exporter and SprayProxy: a handful of resource names
	// (cpu, memory, ephemeral-storage, hugepages-*), and dynamic resource claims by name.
	{"PipelineService", "resources.limits", 16},
	{"PipelineService", "resources.requests", 16},
	{"PipelineService", "resources.claims", 16},
	{"PipelineService", "resources.claims[].name", 63},
	{"PipelineService", "resources.claims[].request", 63},
	{"PipelineServiceHost", "resources.limits", 16},
	{"PipelineServiceHost", "resources.requests", 16},
	{"PipelineServiceHost", "resources.claims", 16},
	{"PipelineServiceHost", "resources.claims[].name", 63},
	{"PipelineServiceHost", "resources.claims[].request", 63},
	// Map values and list items of the API's own types.
	{"PipelineService", "exporter.args[]", 4096},
	// Pipelines-as-Code's settings are its ConfigMap's keys (about 40 in PaC 0.29); the longest
	// values are URL templates.
	{"PipelineService", "pipelinesAsCode.settings{}", 4096},
	// An ExternalSecret template's data are Go templates of a Secret's keys: certificates and
	// kubeconfigs run to a few KiB, and a Secret holds 1 MiB in all.
	{"PipelineService", "template.data{}", 65536},
	{"PipelineService", "template.metadata.labels{}", 63},
	{"PipelineService", "template.metadata.annotations{}", 4096},
	// rbac Subjects of SprayProxy's metrics readers and registrants: user names may be e-mail
	// addresses or OIDC subjects, hence 256 rather than 253.
	{"PipelineServiceHost", "[].apiGroup", 253},
	{"PipelineServiceHost", "[].kind", 64},
	{"PipelineServiceHost", "[].name", 256},
	{"PipelineServiceHost", "[].namespace", 63},
}
