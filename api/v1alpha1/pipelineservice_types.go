package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Name is the only accepted name of a PipelineService: there is one per cluster.
const Name = "cluster"

// PipelineService is the whole desired state of Pipeline Service on one cluster: the OpenShift
// Pipelines operator delivered by OLM, its TektonConfig, and the pipeline-metrics exporter.
// Its status says whether that stack is healthy and which operator version runs.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=ps
// +kubebuilder:subresource:status
// +kubebuilder:validation:XValidation:rule="self.metadata.name == 'cluster'",message="metadata.name: a PipelineService must be named 'cluster' (one per cluster)"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Suspended",type=boolean,JSONPath=`.spec.suspend`
// +kubebuilder:printcolumn:name="Installed",type=string,JSONPath=`.status.installedCSV`
// +kubebuilder:printcolumn:name="Desired",type=string,JSONPath=`.status.desiredCSV`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Catalog",type=string,JSONPath=`.status.catalogState`,priority=1
// +kubebuilder:printcolumn:name="Tekton",type=string,JSONPath=`.status.tektonVersion`,priority=1
type PipelineService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of Pipeline Service on this cluster.
	// +required
	Spec PipelineServiceSpec `json:"spec"`

	// Status is what the operator observed: health of each part and the installed versions.
	// +optional
	Status PipelineServiceStatus `json:"status,omitempty"`
}

// PipelineServiceSpec is the desired state of Pipeline Service.
// +kubebuilder:validation:XValidation:rule="!has(self.externalSecrets) || self.externalSecrets.all(a, a.namespace != self.tektonConfig.targetNamespace)",message="externalSecrets: leave namespace empty for tektonConfig.targetNamespace",fieldPath=".externalSecrets"
// +kubebuilder:validation:XValidation:rule="!has(self.externalSecrets) || !has(self.tektonConfig.pipelinesAsCode) || !has(self.tektonConfig.pipelinesAsCode.gitHubApp) || !self.externalSecrets.exists(a, a.name == 'pipelines-as-code-secret' && size(a.namespace) == 0)",message="externalSecrets: pipelines-as-code-secret in the target namespace is delivered by tektonConfig.pipelinesAsCode.gitHubApp",fieldPath=".externalSecrets"
type PipelineServiceSpec struct {
	// Operator says where the OpenShift Pipelines operator comes from (an OLM CatalogSource) and
	// how it is subscribed to (channel, optional exact CSV pin, hot-fix image overrides).
	// +required
	Operator OperatorSpec `json:"operator"`

	// Mirrors become one ImageContentSourcePolicy named "pipeline-service" (or an
	// ImageDigestMirrorSet where ICSP is not served), so that images of the nightly index can be
	// pulled from mirror repositories. Empty: no mirror policy, and a previous one is removed.
	// +optional
	// +listType=map
	// +listMapKey=source
	// +kubebuilder:validation:MaxItems=32
	Mirrors []Mirror `json:"mirrors,omitempty"`

	// TektonConfig holds the settings of the TektonConfig named "config" that the operator
	// creates for OpenShift Pipelines.
	// +optional
	// +kubebuilder:default={}
	TektonConfig TektonConfigSpec `json:"tektonConfig"`

	// Exporter configures the pipeline-metrics exporter Deployment and its Service,
	// ServiceMonitor and RBAC.
	// +optional
	// +kubebuilder:default={}
	Exporter ExporterSpec `json:"exporter"`

	// ExternalSecrets are further Secrets that External Secrets delivers from a store, such as
	// the chains signing keys and the Results database and S3 credentials. The operator never
	// reads a Secret: it writes only the ExternalSecrets. An entry removed from the list is
	// deleted. The GitHub App secret stays under tektonConfig.pipelinesAsCode.gitHubApp.
	// +optional
	// +listType=map
	// +listMapKey=namespace
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	ExternalSecrets []ExternalSecretSpec `json:"externalSecrets,omitempty"`

	// DeletionPolicy says what happens to the children when this object is deleted. Orphan
	// leaves OpenShift Pipelines running, so that a mistaken prune does not uninstall Tekton
	// from a production cluster. Delete removes the exporter, ExternalSecret, mirrors,
	// TektonConfig, Subscription, the installed CSV and the CatalogSource, in that order.
	// +optional
	// +kubebuilder:default=Orphan
	DeletionPolicy DeletionPolicy `json:"deletionPolicy"`

	// Suspend is the break-glass switch for an incident: while true the operator writes no
	// child (no apply, prune, InstallPlan approval or component refresh), so that an SRE can
	// patch a component by hand without the operator undoing it, and it keeps observing: the
	// status, the Suspended condition and the metrics stay current. Set it back to false to
	// resume: the next pass applies the spec and restores every drifted child at once. Deleting
	// the object while suspended leaves every child in place, whatever deletionPolicy says.
	// +optional
	// +kubebuilder:default=false
	Suspend bool `json:"suspend"`
}

// DeletionPolicy is what deleting the PipelineService does to its children.
// +kubebuilder:validation:Enum=Orphan;Delete
type DeletionPolicy string

const (
	// DeletionPolicyOrphan leaves every child in place.
	DeletionPolicyOrphan DeletionPolicy = "Orphan"
	// DeletionPolicyDelete removes every child, OpenShift Pipelines included.
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// ImageReference is a container image reference with a tag, a digest, or both, such as
// quay.io/org/repo:tag or quay.io/org/repo@sha256:<64 hex>.
// +kubebuilder:validation:MaxLength=512
// +kubebuilder:validation:XValidation:rule="self.matches('^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:[.][a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(?:@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$')",message="must be an image reference with a tag or a digest, such as quay.io/org/repo:tag or quay.io/org/repo@sha256:<64 hex>"
type ImageReference string

// Repository is an image repository without tag or digest, such as registry.redhat.io/org.
// +kubebuilder:validation:MaxLength=512
// +kubebuilder:validation:XValidation:rule="self.matches('^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:[.][a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$')",message="must be an image repository without tag or digest, such as registry.redhat.io/openshift-pipelines"
type Repository string

// OperatorSpec is how the OpenShift Pipelines operator is delivered by OLM.
type OperatorSpec struct {
	// CatalogSource is the OLM CatalogSource that serves the operator's index image.
	// +required
	CatalogSource CatalogSourceSpec `json:"catalogSource"`

	// Subscription is the OLM Subscription to the operator's package.
	// +required
	Subscription SubscriptionSpec `json:"subscription"`
}

// CatalogSourceSpec becomes an operators.coreos.com/v1alpha1 CatalogSource of type grpc,
// served from an index image or by a catalog server that already runs.
// +kubebuilder:validation:XValidation:rule="has(self.image) != has(self.address)",message="set exactly one of image (OLM runs the index image) and address (a catalog server that already runs)"
// +kubebuilder:validation:XValidation:rule="!has(self.address) || !has(self.pollInterval)",message="pollInterval polls an index image; a catalog served by address is not polled",fieldPath=".pollInterval"
type CatalogSourceSpec struct {
	// Name of the CatalogSource.
	// +optional
	// +kubebuilder:default=pipeline-service-catalog
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Namespace of the CatalogSource. openshift-marketplace makes it visible to every namespace.
	// +optional
	// +kubebuilder:default=openshift-marketplace
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace"`

	// Image is the operator index image, with a tag or (better, for a reproducible install) a
	// digest: quay.io/openshift-pipeline/pipelines-index-4.19@sha256:<64 hex>. OLM runs it as
	// a registry pod. Exclusive with address.
	// +optional
	Image ImageReference `json:"image,omitempty"`

	// Address is the host:port of a gRPC catalog server that already runs (a Service's
	// cluster address, or opm serve), for clusters that serve their catalogs themselves. OLM
	// connects to it and runs no registry pod. Exclusive with image.
	// +optional
	// +kubebuilder:validation:MaxLength=261
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?:[0-9]{1,5}$') && int(self.split(':')[1]) > 0 && int(self.split(':')[1]) <= 65535",message="must be host:port, such as catalog.openshift-marketplace.svc:50051"
	Address string `json:"address,omitempty"`

	// PollInterval makes OLM poll the index image for updates at this interval (a Go duration
	// such as 30m, at least 1m). Unset: OLM does not poll, which suits a digest.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="self.matches('^(?:[0-9]+(?:[.][0-9]+)?(?:ns|us|ms|s|m|h))+$')",message="must be a Go duration such as 30m or 1h30m"
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(?:[0-9]+(?:[.][0-9]+)?(?:ns|us|ms|s|m|h))+$') || duration(self) >= duration('1m')",message="must be at least 1m: polling a registry faster only adds load"
	PollInterval *metav1.Duration `json:"pollInterval,omitempty"`

	// DisplayName is the name the OpenShift console shows for the catalog.
	// +optional
	// +kubebuilder:default="Pipeline Service"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName"`
}

// SubscriptionSpec becomes an operators.coreos.com/v1alpha1 Subscription.
//
// +kubebuilder:validation:XValidation:rule="!has(self.csv) || (self.csv.startsWith(self.__package__ + '.v') && self.csv.substring(size(self.__package__) + 2).matches('^(0|[1-9][0-9]*)[.](0|[1-9][0-9]*)[.](0|[1-9][0-9]*)(-[0-9A-Za-z-]+([.][0-9A-Za-z-]+)*)?([+][0-9A-Za-z-]+([.][0-9A-Za-z-]+)*)?$'))",message="must be <package>.v<semver>, such as openshift-pipelines-operator-rh.v5.0.5",fieldPath=".csv"
// +kubebuilder:validation:XValidation:rule="!has(self.env) || self.env.all(e, e.name != 'AUTOINSTALL_COMPONENTS')",message="AUTOINSTALL_COMPONENTS is set by the operator (false, so that it owns the TektonConfig) and cannot be overridden",fieldPath=".env"
// +kubebuilder:validation:XValidation:rule="!has(self.env) || !has(self.imageOverrides) || self.env.all(e, !(e.name in self.imageOverrides))",message="a variable cannot be set both in env and in imageOverrides",fieldPath=".env"
type SubscriptionSpec struct {
	// Name of the Subscription.
	// +optional
	// +kubebuilder:default=openshift-pipelines-operator
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Namespace of the Subscription; it needs an OperatorGroup (openshift-operators has the
	// global one).
	// +optional
	// +kubebuilder:default=openshift-operators
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Namespace string `json:"namespace"`

	// Package is the name of the operator's package in the catalog.
	// +optional
	// +kubebuilder:default=openshift-pipelines-operator-rh
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Package string `json:"package"`

	// Channel is the package channel to follow, such as latest or pipelines-5.0.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$`
	Channel string `json:"channel"`

	// CSV pins the exact ClusterServiceVersion, <package>.v<semver>. With a pin the
	// Subscription gets startingCSV and Manual InstallPlan approval, and the operator approves
	// only the InstallPlan that installs this CSV. Unset: OLM upgrades automatically along the
	// channel.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	CSV string `json:"csv,omitempty"`

	// ImageOverrides maps an operator environment variable (such as IMAGE_PIPELINES_CONTROLLER)
	// to a hot-fix image. They are rolled forward through the Subscription's spec.config.env, so
	// OLM restarts the operator with them and they survive operator upgrades.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Za-z_][A-Za-z0-9_]*$'))",message="keys must be environment variable names, such as IMAGE_PIPELINES_CONTROLLER"
	// +kubebuilder:validation:XValidation:rule="!('AUTOINSTALL_COMPONENTS' in self)",message="AUTOINSTALL_COMPONENTS is set by the operator and cannot be overridden"
	ImageOverrides map[string]ImageReference `json:"imageOverrides,omitempty"`

	// OverridesRollout says what the operator does when Tekton's components do not run the
	// images the OSP operator's environment names, as after a hot-fix override: OSP re-renders
	// a component only when its spec changes, not when its operator's environment does.
	// Refresh (the default) asks OSP to re-render each stale component, once the OSP operator
	// runs the new environment and no upgrade is running; Report only reports them, in the
	// OverridesApplied condition.
	// +optional
	// +kubebuilder:default=Refresh
	OverridesRollout OverridesRollout `json:"overridesRollout,omitempty"`

	// RevertImagesTo names the CSV the last upgrade replaced, as status.upgrade.previous.csv
	// records it, to run that build's images again: the images recorded for it become image
	// overrides (those in imageOverrides and env win over them), which reach the components as
	// overridesRollout says. It is for builds within one minor version: a component that the
	// new build renamed, added or removed is not reverted, and OSP's own reconciler stays the
	// new one. Any other name stalls with a message saying what is recorded.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	RevertImagesTo string `json:"revertImagesTo,omitempty"`

	// Env is further environment for the OpenShift Pipelines operator pod.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Env []corev1.EnvVar `json:"env,omitempty"`
}

// OverridesRollout is how image overrides reach the running components.
// +kubebuilder:validation:Enum=Refresh;Report
type OverridesRollout string

const (
	// OverridesRefresh asks OSP to re-render the stale components.
	OverridesRefresh OverridesRollout = "Refresh"
	// OverridesReport only reports them.
	OverridesReport OverridesRollout = "Report"
)

// Mirror is one source repository and the repositories that mirror it.
type Mirror struct {
	// Source is the repository that image references name, such as
	// registry.redhat.io/openshift-pipelines.
	// +required
	Source Repository `json:"source"`

	// Mirrors are the repositories to pull from instead, tried in order.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Mirrors []Repository `json:"mirrors"`
}

// TektonConfigSpec holds the settings rendered into the TektonConfig named "config".
type TektonConfigSpec struct {
	// TargetNamespace is where OpenShift Pipelines runs Tekton's components. It cannot change
	// once set: OSP refuses to move a TektonConfig.
	// +optional
	// +kubebuilder:default=openshift-pipelines
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="is immutable: OpenShift Pipelines refuses to move a TektonConfig. To move Tekton, delete the PipelineService with deletionPolicy Orphan (the default: OpenShift Pipelines keeps running), delete TektonConfig 'config' (OSP removes Tekton from the old namespace), then create the PipelineService with the new targetNamespace"
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	TargetNamespace string `json:"targetNamespace"`

	// Profile is the TektonConfig profile; always written, never left to OSP's default.
	// +optional
	// +kubebuilder:default=all
	// +kubebuilder:validation:Enum=all;basic;lite
	Profile string `json:"profile"`

	// Triggers turns Tekton Triggers on or off (off for RHTAP).
	// +optional
	// +kubebuilder:default={}
	Triggers TriggersSpec `json:"triggers"`

	// Pruner configures the operator's pruner of completed runs.
	// +optional
	// +kubebuilder:default={}
	Pruner PrunerSpec `json:"pruner"`

	// Results configures Tekton Results.
	// +optional
	// +kubebuilder:default={}
	Results ResultsSpec `json:"results"`

	// PipelinesAsCode configures Pipelines-as-Code.
	// +optional
	// +kubebuilder:default={}
	PipelinesAsCode PipelinesAsCodeSpec `json:"pipelinesAsCode"`

	// Performance tunes the Tekton Pipelines controller (spec.pipeline.performance).
	// +optional
	Performance *PerformanceSpec `json:"performance,omitempty"`

	// Overrides is a free-form TektonConfig spec fragment, merged last (RFC 7386 JSON merge
	// patch) over what the fields above render. It is checked against the TektonConfig schema
	// before anything is applied: an unknown field stops the reconcile with Stalled.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	Overrides *apiextensionsv1.JSON `json:"overrides,omitempty"`
}

// TriggersSpec turns Tekton Triggers on or off.
type TriggersSpec struct {
	// Enabled installs Tekton Triggers; false renders spec.trigger.disabled: true.
	// +optional
	// +kubebuilder:default=false
	Enabled bool `json:"enabled"`
}

// PrunerMode says whether the operator's pruner runs.
// +kubebuilder:validation:Enum=Auto;Enabled;Disabled
type PrunerMode string

const (
	// PrunerModeAuto disables the operator's pruner when Tekton Results is enabled with a
	// positive completedRunGracePeriod (Results deletes runs once stored), and enables it
	// otherwise.
	PrunerModeAuto PrunerMode = "Auto"
	// PrunerModeEnabled always runs the operator's pruner.
	PrunerModeEnabled PrunerMode = "Enabled"
	// PrunerModeDisabled never runs the operator's pruner.
	PrunerModeDisabled PrunerMode = "Disabled"
)

// PrunerResource is a kind of run the pruner deletes.
// +kubebuilder:validation:Enum=pipelinerun;taskrun
type PrunerResource string

// PrunerSpec configures the operator's pruner (spec.pruner and spec.tektonpruner).
// +kubebuilder:validation:XValidation:rule="!(has(self.keep) && has(self.keepSince))",message="keep and keepSince are mutually exclusive: set one"
type PrunerSpec struct {
	// Mode is Auto, Enabled or Disabled. Auto disables the pruner when Tekton Results deletes
	// runs after storing them (results enabled with a positive completedRunGracePeriod).
	// +optional
	// +kubebuilder:default=Auto
	Mode PrunerMode `json:"mode"`

	// KeepSince keeps runs completed within this many minutes; exclusive with keep.
	// +optional
	// +kubebuilder:validation:Minimum=1
	KeepSince *int32 `json:"keepSince,omitempty"`

	// Keep keeps this many most recent runs per resource; exclusive with keepSince.
	// +optional
	// +kubebuilder:validation:Minimum=1
	Keep *int32 `json:"keep,omitempty"`

	// Schedule is the cron schedule of the pruner job.
	// +optional
	// +kubebuilder:default="*/10 * * * *"
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^(@(yearly|annually|monthly|weekly|daily|hourly)|[^\s]+(\s+[^\s]+){4})$`
	Schedule string `json:"schedule"`

	// Resources are the kinds of runs to prune.
	// +optional
	// +listType=set
	// +kubebuilder:default={pipelinerun}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=2
	Resources []PrunerResource `json:"resources"`
}

// ResultsSpec configures Tekton Results.
type ResultsSpec struct {
	// Enabled installs Tekton Results; renders spec.result.disabled.
	// +optional
	// +kubebuilder:default=true
	Enabled bool `json:"enabled"`

	// CompletedRunGracePeriod is how long after completion Results' watcher deletes a stored
	// run (a Go duration; 0s keeps runs). Positive, with Results enabled, turns the operator's
	// pruner off in mode Auto.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="self.matches('^(?:0|(?:[0-9]+(?:[.][0-9]+)?(?:ns|us|ms|s|m|h))+)$')",message="must be a Go duration such as 10m or 1h (0 for none)"
	// +kubebuilder:validation:MaxLength=32
	CompletedRunGracePeriod *metav1.Duration `json:"completedRunGracePeriod,omitempty"`
}

// PipelinesAsCodeSpec configures Pipelines-as-Code.
type PipelinesAsCodeSpec struct {
	// Enabled installs Pipelines-as-Code.
	// +optional
	// +kubebuilder:default=true
	Enabled bool `json:"enabled"`

	// ApplicationName is the GitHub App's name, shown on check runs (settings.application-name).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	ApplicationName string `json:"applicationName,omitempty"`

	// Console points Pipelines-as-Code's links at an external console rather than the
	// cluster's own.
	// +optional
	Console *ConsoleSpec `json:"console,omitempty"`

	// GitHubApp delivers the GitHub App secret (pipelines-as-code-secret) by an ExternalSecret.
	// +optional
	GitHubApp *GitHubAppSpec `json:"gitHubApp,omitempty"`

	// Settings are further Pipelines-as-Code settings, passed through. The keys that the
	// fields above set (application-name, custom-console-*) are not accepted here.
	// +optional
	// +kubebuilder:validation:MaxProperties=128
	// +kubebuilder:validation:XValidation:rule="self.all(k, !(k in ['application-name', 'custom-console-name', 'custom-console-url', 'custom-console-url-pr-details', 'custom-console-url-pr-tasklog', 'custom-console-url-namespace']))",message="application-name and custom-console-* are set through applicationName and console, not settings"
	Settings map[string]string `json:"settings,omitempty"`
}

// ConsoleSpec is the external console (such as Konflux) that Pipelines-as-Code links to.
// Templates such as {{ namespace }}, {{ pr }} and {{ task }} are expanded by Pipelines-as-Code.
type ConsoleSpec struct {
	// Name is the console's name (settings.custom-console-name).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Name string `json:"name,omitempty"`

	// URL is the console's https URL (settings.custom-console-url).
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",message="must be an https URL"
	URL string `json:"url"`

	// PRDetailsURL links to a PipelineRun (settings.custom-console-url-pr-details).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",message="must be an https URL"
	PRDetailsURL string `json:"prDetailsURL,omitempty"`

	// TaskLogURL links to a task's log (settings.custom-console-url-pr-tasklog).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",message="must be an https URL"
	TaskLogURL string `json:"taskLogURL,omitempty"`

	// NamespaceURL links to a namespace (settings.custom-console-url-namespace).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname() != ''",message="must be an https URL"
	NamespaceURL string `json:"namespaceURL,omitempty"`
}

// GitHubAppSpec says where the GitHub App's credentials are stored; an ExternalSecret copies
// them into the pipelines-as-code-secret Secret.
type GitHubAppSpec struct {
	// SecretStoreRef is the External Secrets store that holds the credentials.
	// +required
	SecretStoreRef SecretStoreRef `json:"secretStoreRef"`

	// Key is the path of the credentials in the store (dataFrom.extract.key).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Key string `json:"key"`

	// RefreshInterval is how often External Secrets re-reads the store (a Go duration).
	// +optional
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="self.matches('^(?:0|(?:[0-9]+(?:[.][0-9]+)?(?:ns|us|ms|s|m|h))+)$')",message="must be a Go duration such as 10m or 1h (0 for none)"
	// +kubebuilder:validation:MaxLength=32
	RefreshInterval *metav1.Duration `json:"refreshInterval,omitempty"`

	// DeletionPolicy is what External Secrets does to the Secret when the store no longer
	// holds the credentials (target.deletionPolicy): Retain (its default), Delete or Merge.
	// +optional
	// +kubebuilder:validation:Enum=Retain;Delete;Merge
	DeletionPolicy string `json:"deletionPolicy,omitempty"`
}

// ExternalSecretSpec is one ExternalSecret: which store, what to read, and the Secret to write.
// +kubebuilder:validation:XValidation:rule="has(self.data) || has(self.dataFrom)",message="set data, dataFrom or both"
type ExternalSecretSpec struct {
	// Name of the ExternalSecret.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// Namespace of the ExternalSecret and its Secret; empty (the default) for
	// tektonConfig.targetNamespace, which is not written out, so that an entry is named once.
	// +optional
	// +kubebuilder:default=""
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$`
	Namespace string `json:"namespace"`

	// SecretStoreRef is the store to read from.
	// +required
	SecretStoreRef SecretStoreRef `json:"secretStoreRef"`

	// Data copies single values: each remote key (and property) into one key of the Secret.
	// +optional
	// +listType=map
	// +listMapKey=secretKey
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Data []ExternalSecretData `json:"data,omitempty"`

	// DataFrom copies every property of each remote key into the Secret.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	DataFrom []ExternalSecretDataFrom `json:"dataFrom,omitempty"`

	// Target is the Secret to write; by default one named like the ExternalSecret, owned by it.
	// +optional
	Target *ExternalSecretTarget `json:"target,omitempty"`

	// RefreshInterval is how often External Secrets re-reads the store (a Go duration).
	// +optional
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="self.matches('^(?:0|(?:[0-9]+(?:[.][0-9]+)?(?:ns|us|ms|s|m|h))+)$')",message="must be a Go duration such as 10m or 1h (0 for none)"
	// +kubebuilder:validation:MaxLength=32
	RefreshInterval *metav1.Duration `json:"refreshInterval,omitempty"`
}

// ExternalSecretData copies one remote value into one key of the Secret.
type ExternalSecretData struct {
	// SecretKey is the key in the Secret.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	SecretKey string `json:"secretKey"`

	// RemoteRef is where the value is in the store.
	// +required
	RemoteRef RemoteRef `json:"remoteRef"`
}

// RemoteRef is a key in the store, and optionally one property of it.
type RemoteRef struct {
	// Key is the path in the store.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Key string `json:"key"`

	// Property is one field of the key's value.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Property string `json:"property,omitempty"`
}

// ExternalSecretDataFrom copies every property of a remote key.
type ExternalSecretDataFrom struct {
	// Extract names the key whose properties are copied.
	// +required
	Extract RemoteKey `json:"extract"`
}

// RemoteKey is a key in the store.
type RemoteKey struct {
	// Key is the path in the store.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Key string `json:"key"`
}

// ExternalSecretTarget is the Secret an ExternalSecret writes.
type ExternalSecretTarget struct {
	// Name of the Secret; the ExternalSecret's name when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name,omitempty"`

	// CreationPolicy: Owner (the ExternalSecret owns the Secret, and deleting it deletes the
	// Secret), Orphan (the Secret stays), Merge (into an existing Secret) or None.
	// +optional
	// +kubebuilder:default=Owner
	// +kubebuilder:validation:Enum=Owner;Orphan;Merge;None
	CreationPolicy string `json:"creationPolicy,omitempty"`

	// DeletionPolicy: what happens to the Secret when the store no longer holds the data.
	// +optional
	// +kubebuilder:validation:Enum=Retain;Delete;Merge
	DeletionPolicy string `json:"deletionPolicy,omitempty"`

	// Template sets labels and annotations on the Secret, and its keys as templates.
	// +optional
	Template *SecretTemplate `json:"template,omitempty"`
}

// SecretTemplate shapes the Secret External Secrets writes.
type SecretTemplate struct {
	// Metadata of the Secret.
	// +optional
	Metadata SecretTemplateMetadata `json:"metadata,omitempty"`

	// Data are the Secret's keys as templates over the store's values, such as
	// "s3://{{ .bucket }}"; External Secrets expands them.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Data map[string]string `json:"data,omitempty"`
}

// SecretTemplateMetadata are the Secret's labels and annotations.
type SecretTemplateMetadata struct {
	// Labels of the Secret.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Labels map[string]string `json:"labels,omitempty"`

	// Annotations of the Secret.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Annotations map[string]string `json:"annotations,omitempty"`
}

// SecretStoreRef names an External Secrets SecretStore or ClusterSecretStore.
type SecretStoreRef struct {
	// Kind is SecretStore (in targetNamespace) or ClusterSecretStore.
	// +optional
	// +kubebuilder:default=ClusterSecretStore
	// +kubebuilder:validation:Enum=SecretStore;ClusterSecretStore
	Kind string `json:"kind"`

	// Name of the store.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// PerformanceSpec tunes the Tekton Pipelines controller. Unset fields keep OSP's defaults.
// +kubebuilder:validation:XValidation:rule="!has(self.kubeAPIQPS) || !has(self.kubeAPIBurst) || self.kubeAPIBurst >= self.kubeAPIQPS",message="kubeAPIBurst must be at least kubeAPIQPS",fieldPath=".kubeAPIBurst"
type PerformanceSpec struct {
	// Buckets is the number of buckets the controller's work is sharded into (1-10).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	Buckets *int32 `json:"buckets,omitempty"`

	// Replicas of the Tekton Pipelines controller.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Replicas *int32 `json:"replicas,omitempty"`

	// ThreadsPerController is the number of workers per controller (threads-per-controller).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1024
	ThreadsPerController *int32 `json:"threadsPerController,omitempty"`

	// KubeAPIQPS is the controller's queries per second to the API server (kube-api-qps).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	KubeAPIQPS *int32 `json:"kubeAPIQPS,omitempty"`

	// KubeAPIBurst is the controller's burst to the API server (kube-api-burst).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	KubeAPIBurst *int32 `json:"kubeAPIBurst,omitempty"`

	// DisableHA turns off the controller's leader election (disable-ha).
	// +optional
	DisableHA *bool `json:"disableHA,omitempty"`

	// StatefulsetOrdinals runs the controller as a StatefulSet whose pods each own the buckets
	// of their ordinal, instead of electing a leader per bucket (statefulset-ordinals).
	// +optional
	StatefulsetOrdinals *bool `json:"statefulsetOrdinals,omitempty"`
}

// ExporterSpec configures the pipeline-metrics exporter.
type ExporterSpec struct {
	// Enabled deploys the exporter; false removes what existed.
	// +optional
	// +kubebuilder:default=true
	Enabled bool `json:"enabled"`

	// Image of the exporter. Tag, not digest: the default is the build Konflux production runs
	// (infra-deployments e952b760), which names it by this commit tag and no digest.
	// +optional
	// +kubebuilder:default="quay.io/konflux-ci/pipeline-service-exporter:9d2439c8a77d2ce0527cc5aea3fc6561b7671b48"
	Image ImageReference `json:"image"`

	// Replicas of the exporter Deployment.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	Replicas int32 `json:"replicas"`

	// Resources of the exporter container.
	// +optional
	// +kubebuilder:default={requests: {cpu: "250m", memory: "128Mi"}, limits: {memory: "512Mi"}}
	Resources corev1.ResourceRequirements `json:"resources"`

	// Args are extra arguments to the exporter.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Args []string `json:"args,omitempty"`

	// ServiceAccountName is the exporter's ServiceAccount, which the operator creates and binds
	// to the exporter's ClusterRole. Set it to keep the account of an existing installation
	// (GitOps manifests name it pipeline-service-exporter), so that taking over does not
	// restart the exporter under a new identity.
	// +optional
	// +kubebuilder:default=pipeline-metrics-exporter
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	ServiceAccountName string `json:"serviceAccountName"`

	// ServiceMonitor creates a ServiceMonitor for the exporter where the CRD is served.
	// +optional
	// +kubebuilder:default=true
	ServiceMonitor bool `json:"serviceMonitor"`

	// NetworkPolicy admits traffic to the exporter's pods only on its metrics port and only
	// from the cluster's monitoring namespaces (OpenShift labels them
	// network.openshift.io/policy-group: monitoring). Anything else the exporter listens on,
	// such as pprof when args ask for it, is then unreachable from other pods.
	// +optional
	// +kubebuilder:default=true
	NetworkPolicy bool `json:"networkPolicy"`
}

// PipelineServiceStatus is what the operator observed.
type PipelineServiceStatus struct {
	ParentStatus `json:",inline"`

	// InstalledCSV is the Subscription's installed ClusterServiceVersion.
	// +optional
	InstalledCSV string `json:"installedCSV,omitempty"`

	// InstalledVersion is the installed CSV's spec.version.
	// +optional
	InstalledVersion string `json:"installedVersion,omitempty"`

	// DesiredCSV is the pinned CSV, or the Subscription's currentCSV when unpinned.
	// +optional
	DesiredCSV string `json:"desiredCSV,omitempty"`

	// TektonVersion is the TektonConfig's status.version.
	// +optional
	TektonVersion string `json:"tektonVersion,omitempty"`

	// CatalogState is the CatalogSource's connection state (READY, CONNECTING, ...).
	// +optional
	CatalogState string `json:"catalogState,omitempty"`

	// Upgrade records the last change of the installed CSV.
	// +optional
	Upgrade *UpgradeStatus `json:"upgrade,omitempty"`

	// ImageOverrides are the image variables the Subscription sets (imageOverrides, and the
	// images revertImagesTo reverts), each beside the image the installed CSV ships for it:
	// Holding where an override keeps the components away from the bundle's image, Redundant
	// where it names the bundle's very image and can be removed.
	// +optional
	// +listType=map
	// +listMapKey=name
	ImageOverrides []ImageOverrideStatus `json:"imageOverrides,omitempty"`

	// StaleContainers is the number of component containers that do not run the image the
	// OpenShift Pipelines operator's environment names for them (OverridesApplied lists them).
	// +optional
	StaleContainers int32 `json:"staleContainers,omitempty"`

	// Components are the Deployments in targetNamespace with their ready and desired replicas,
	// and their restarts since the last upgrade completed.
	// +optional
	// +listType=map
	// +listMapKey=name
	Components []ComponentStatus `json:"components,omitempty"`
}

// UpgradeStatus records one change of the installed CSV.
type UpgradeStatus struct {
	// From is the CSV installed before.
	// +optional
	From string `json:"from,omitempty"`
	// To is the CSV being installed.
	To string `json:"to"`
	// StartedAt is when the change was first seen.
	StartedAt metav1.Time `json:"startedAt"`
	// CompletedAt is when the new CSV reached Succeeded.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
	// Previous is the build the upgrade replaced, the last one that ran, with its images, for
	// spec.operator.subscription.revertImagesTo. They are read from that CSV while it exists:
	// OLM deletes it once the new one has Succeeded.
	// +optional
	Previous *BuildImages `json:"previous,omitempty"`
}

// BuildImages are the images one CSV ships: its operator Deployment's IMAGE_* variables and
// the relatedImages of the same names.
type BuildImages struct {
	// CSV is the ClusterServiceVersion's name.
	CSV string `json:"csv"`
	// Images are its image variables; empty when the CSV was gone before it could be read.
	// +optional
	// +listType=map
	// +listMapKey=name
	Images []ImageVariable `json:"images,omitempty"`
}

// ImageVariable is one IMAGE_* variable of the OpenShift Pipelines operator.
type ImageVariable struct {
	// Name of the variable, such as IMAGE_PIPELINES_CONTROLLER.
	Name string `json:"name"`
	// Image it names.
	Image string `json:"image"`
}

// ImageOverrideStatus is one image variable the Subscription sets, against the installed CSV.
type ImageOverrideStatus struct {
	// Name of the variable.
	Name string `json:"name"`
	// Image the Subscription sets.
	Image string `json:"image"`
	// Source is the spec field it comes from: imageOverrides or revertImagesTo.
	Source string `json:"source"`
	// BundleImage is the image the installed CSV ships for the variable; empty when the CSV
	// names none, or is not read yet.
	// +optional
	BundleImage string `json:"bundleImage,omitempty"`
	// State: Holding (the components run Image, not BundleImage), Redundant (Image is
	// BundleImage), or Unknown (the CSV names no image for the variable).
	State ImageOverrideState `json:"state"`
}

// ImageOverrideState is how an override compares with the installed CSV's image.
type ImageOverrideState string

const (
	// ImageOverrideHolding: the override keeps the components away from the bundle's image.
	ImageOverrideHolding ImageOverrideState = "Holding"
	// ImageOverrideRedundant: the override names the bundle's own image.
	ImageOverrideRedundant ImageOverrideState = "Redundant"
	// ImageOverrideUnknown: the installed CSV names no image for the variable.
	ImageOverrideUnknown ImageOverrideState = "Unknown"
)

// Sources of an image override.
const (
	OverrideSourceImageOverrides = "imageOverrides"
	OverrideSourceRevert         = "revertImagesTo"
)

// ComponentStatus is the replica availability of one Deployment, and how often its pods'
// containers restarted.
type ComponentStatus struct {
	// Name of the Deployment.
	Name string `json:"name"`
	// Ready replicas.
	Ready int32 `json:"ready"`
	// Desired replicas.
	Desired int32 `json:"desired"`
	// Restarts of the containers of the Deployment's pods since the last upgrade completed
	// (status.upgrade.completedAt), or since they started when none has: the soak evidence
	// for promoting a build. A container counts only once it has restarted after that
	// moment, and then with all its restarts, as a pod's status keeps no earlier count.
	// Absent when the operator may not read the target namespace's pods (config/rbac grants
	// it in openshift-pipelines).
	// +optional
	Restarts *int32 `json:"restarts,omitempty"`
}

// PipelineServiceList is a list of PipelineService.
//
// +kubebuilder:object:root=true
type PipelineServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PipelineService `json:"items"`
}

func init() {
	SchemeBuilder.Register(&PipelineService{}, &PipelineServiceList{})
}
