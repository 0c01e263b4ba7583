package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PipelineServiceHost is the host side of Pipeline Service in a CodeReadyToolchain (Kubesaw)
// installation, where users reach several member clusters through one host cluster: SprayProxy,
// which forwards each Pipelines-as-Code webhook of the GitHub App to every member cluster, and
// the proxy plugin that routes Tekton Results requests to the member cluster that holds them.
// A member cluster has a PipelineService; a host cluster has this; a cluster may have both.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=psh
// +kubebuilder:subresource:status
// +kubebuilder:validation:XValidation:rule="self.metadata.name == 'cluster'",message="metadata.name: a PipelineServiceHost must be named 'cluster' (one per cluster)"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Suspended",type=boolean,JSONPath=`.spec.suspend`
// +kubebuilder:printcolumn:name="Webhook URL",type=string,JSONPath=`.status.webhookURL`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Backends",type=string,JSONPath=`.status.backends`,priority=1
type PipelineServiceHost struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the host side.
	// +required
	Spec PipelineServiceHostSpec `json:"spec"`

	// Status is what the operator observed.
	// +optional
	Status PipelineServiceHostStatus `json:"status,omitempty"`
}

// PipelineServiceHostSpec is the desired state of the host side of Pipeline Service.
// +kubebuilder:validation:XValidation:rule="has(self.sprayProxy) || has(self.resultsProxyPlugin)",message="set sprayProxy, resultsProxyPlugin or both"
type PipelineServiceHostSpec struct {
	// SprayProxy receives the GitHub App's webhooks and forwards each one to the
	// Pipelines-as-Code controller of every member cluster. Absent: no SprayProxy, and the one
	// deployed before is removed.
	// +optional
	SprayProxy *SprayProxySpec `json:"sprayProxy,omitempty"`

	// ResultsProxyPlugin registers Tekton Results with CodeReadyToolchain's proxy, so that
	// Results requests made to the host reach the member cluster of the user's workspace.
	// +optional
	ResultsProxyPlugin *ResultsProxyPluginSpec `json:"resultsProxyPlugin,omitempty"`

	// DeletionPolicy says what happens to the children when this object is deleted: Orphan
	// (the default) leaves SprayProxy and the proxy plugin running, so that a mistaken prune
	// does not cut every member cluster off from its webhooks; Delete removes them.
	// +optional
	// +kubebuilder:default=Orphan
	DeletionPolicy DeletionPolicy `json:"deletionPolicy"`

	// Suspend is the break-glass switch for an incident: while true the operator writes no
	// child (no apply or prune), so that an SRE can patch SprayProxy by hand without the
	// operator undoing it, and it keeps observing: the status, the Suspended condition and the
	// metrics stay current. Set it back to false to resume: the next pass applies the spec and
	// restores every drifted child at once. Deleting the object while suspended leaves every
	// child in place, whatever deletionPolicy says.
	// +optional
	// +kubebuilder:default=false
	Suspend bool `json:"suspend"`
}

// SprayProxySpec configures SprayProxy (github.com/konflux-ci/sprayproxy) and the
// kube-rbac-proxy sidecars in front of it.
// +kubebuilder:validation:XValidation:rule="!has(self.dynamicBackends) || !has(self.dynamicBackends.registrants) || size(self.dynamicBackends.registrants) == 0 || self.dynamicBackends.enabled",message="registrants may register backends only when dynamic backends are enabled",fieldPath=".dynamicBackends.registrants"
// +kubebuilder:validation:XValidation:rule="(has(self.backends) && size(self.backends) > 0) || (has(self.dynamicBackends) && self.dynamicBackends.enabled)",message="list at least one backend, or enable dynamic backends so that member clusters register themselves",fieldPath=".backends"
// +kubebuilder:validation:XValidation:rule="!has(self.dynamicBackends) || !self.dynamicBackends.enabled || !has(self.replicas) || self.replicas == 1",message="must be 1 with dynamic backends: each replica keeps the backends registered with it in memory, so a webhook reaching another replica would miss them",fieldPath=".replicas"
type SprayProxySpec struct {
	// Namespace SprayProxy runs in; the operator creates it.
	// +optional
	// +kubebuilder:default=sprayproxy
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace"`

	// Image of SprayProxy. Tag, not digest: no manifest readable here names this build by
	// digest, so the commit tag stays rather than an unchecked digest.
	// +optional
	// +kubebuilder:default="quay.io/konflux-ci/sprayproxy:695281e3f6feb91b59c03a554ac2fb3b0334d130"
	Image ImageReference `json:"image"`

	// KubeRBACProxyImage is the image of the kube-rbac-proxy sidecars, which terminate TLS and
	// authorize every request but webhooks and health checks. Tag, not digest: Konflux
	// production and tektoncd/operator's manifests name it by the tag v4.12 only.
	// +optional
	// +kubebuilder:default="registry.redhat.io/openshift4/ose-kube-rbac-proxy:v4.12"
	KubeRBACProxyImage ImageReference `json:"kubeRBACProxyImage"`

	// Replicas of the SprayProxy Deployment; 1 with dynamic backends, since each replica keeps
	// the backends registered with it in memory.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	Replicas int32 `json:"replicas"`

	// Backends are the Pipelines-as-Code webhook URLs of the member clusters, each an https
	// URL such as https://pipelines-as-code-controller-openshift-pipelines.apps.member-1.example.com.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=2048
	// +kubebuilder:validation:items:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",message="must be an https URL, such as https://pipelines-as-code-controller-openshift-pipelines.apps.member-1.example.com"
	Backends []string `json:"backends,omitempty"`

	// DynamicBackends lets member clusters register and unregister their backend at run time
	// through SprayProxy's /backends endpoint, which kube-rbac-proxy allows only to the
	// registrants.
	// +optional
	// +kubebuilder:default={}
	DynamicBackends DynamicBackendsSpec `json:"dynamicBackends"`

	// WebhookSecret is where the GitHub App's webhook secret is stored: an ExternalSecret copies
	// the store entry at key, which must hold webhook.secret, into the Secret SprayProxy
	// verifies each webhook's signature with.
	// +required
	WebhookSecret GitHubAppSpec `json:"webhookSecret"`

	// Resources of the SprayProxy container.
	// +optional
	// +kubebuilder:default={requests: {cpu: "5m", memory: "64Mi"}, limits: {cpu: "500m", memory: "384Mi"}}
	Resources corev1.ResourceRequirements `json:"resources"`

	// Route exposes SprayProxy outside the cluster, where route.openshift.io is served.
	// +optional
	// +kubebuilder:default={}
	Route SprayProxyRouteSpec `json:"route"`

	// ServiceMonitor creates a ServiceMonitor for SprayProxy's metrics where the CRD is served.
	// +optional
	// +kubebuilder:default=true
	ServiceMonitor bool `json:"serviceMonitor"`

	// NetworkPolicy admits traffic to SprayProxy's pods only on its proxy port, from the
	// cluster's routers (namespaces labelled policy-group.network.openshift.io/ingress), and on
	// its metrics port, from the monitoring namespaces (network.openshift.io/policy-group:
	// monitoring). Turn it off where webhooks reach SprayProxy by other means.
	// +optional
	// +kubebuilder:default=true
	NetworkPolicy bool `json:"networkPolicy"`

	// MetricsReaders may scrape SprayProxy's metrics through kube-rbac-proxy. The default is
	// OpenShift's cluster-monitoring Prometheus.
	// +optional
	// +kubebuilder:default={{kind: ServiceAccount, name: prometheus-k8s, namespace: openshift-monitoring}}
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(s, !(s.kind == 'Group' && s.name in ['system:authenticated', 'system:unauthenticated', 'system:serviceaccounts']) && !(s.kind == 'User' && s.name == 'system:anonymous'))",message="must name who needs it: system:authenticated, system:unauthenticated, system:serviceaccounts and system:anonymous stand for every caller"
	MetricsReaders []rbacv1.Subject `json:"metricsReaders,omitempty"`
}

// DynamicBackendsSpec turns SprayProxy's /backends endpoint on.
type DynamicBackendsSpec struct {
	// Enabled serves /backends (SPRAYPROXY_SERVER_ENABLE_DYNAMIC_BACKENDS).
	// +optional
	// +kubebuilder:default=false
	Enabled bool `json:"enabled"`

	// Registrants may get, register and unregister backends: they are bound to a ClusterRole
	// that grants the /backends URL, which kube-rbac-proxy checks each request against.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(s, !(s.kind == 'Group' && s.name in ['system:authenticated', 'system:unauthenticated', 'system:serviceaccounts']) && !(s.kind == 'User' && s.name == 'system:anonymous'))",message="must name who needs it: system:authenticated, system:unauthenticated, system:serviceaccounts and system:anonymous stand for every caller"
	Registrants []rbacv1.Subject `json:"registrants,omitempty"`
}

// SprayProxyRouteSpec is SprayProxy's Route: TLS re-encrypted to kube-rbac-proxy.
type SprayProxyRouteSpec struct {
	// Host of the Route; empty lets the router pick one from the cluster's domain. The GitHub
	// App's webhook URL is https://<host>/proxy (status.webhookURL).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Host string `json:"host,omitempty"`
}

// ResultsProxyPluginSpec is the CodeReadyToolchain ProxyPlugin of Tekton Results.
type ResultsProxyPluginSpec struct {
	// Enabled creates the ProxyPlugin; false removes it.
	// +optional
	// +kubebuilder:default=true
	Enabled bool `json:"enabled"`

	// Namespace of the ProxyPlugin: where the CodeReadyToolchain host operator runs.
	// +optional
	// +kubebuilder:default=toolchain-host-operator
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace"`

	// Name of the ProxyPlugin, the path users call: https://<proxy host>/plugins/<name>/...
	// +optional
	// +kubebuilder:default=tekton-results
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// TargetRoute is the Route of Tekton Results on each member cluster
	// (spec.openShiftRouteTargetEndpoint).
	// +optional
	// +kubebuilder:default={}
	TargetRoute RouteReference `json:"targetRoute"`
}

// RouteReference names a Route.
type RouteReference struct {
	// Namespace of the Route.
	// +optional
	// +kubebuilder:default=tekton-results
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace"`

	// Name of the Route.
	// +optional
	// +kubebuilder:default=tekton-results
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// PipelineServiceHostStatus is what the operator observed on the host cluster.
type PipelineServiceHostStatus struct {
	ParentStatus `json:",inline"`

	// Backends are the backends the running SprayProxy Deployment was configured with, read
	// from the Deployment rather than the spec. Backends registered at run time (dynamic
	// backends) live in SprayProxy's memory and are not listed.
	// +optional
	// +listType=atomic
	Backends []string `json:"backends,omitempty"`

	// WebhookURL is the URL to give the GitHub App as its webhook URL, once the router has
	// admitted SprayProxy's Route.
	// +optional
	WebhookURL string `json:"webhookURL,omitempty"`
}

// PipelineServiceHostList is a list of PipelineServiceHost.
//
// +kubebuilder:object:root=true
type PipelineServiceHostList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PipelineServiceHost `json:"items"`
}

func init() {
	SchemeBuilder.Register(&PipelineServiceHost{}, &PipelineServiceHostList{})
}
