package v1alpha1

// Condition types of a PipelineService. Ready is the summary; Reconciling and Stalled follow
// kstatus (present only while True), so that ArgoCD and kstatus-aware tools read them.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
	// ConditionSuspended is True while spec.suspend is: the operator writes no child. Present
	// only while True, as Stalled.
	ConditionSuspended          = "Suspended"
	ConditionCatalogSourceReady = "CatalogSourceReady"
	ConditionOperatorInstalled  = "OperatorInstalled"
	ConditionTektonConfigReady  = "TektonConfigReady"
	ConditionExporterAvailable  = "ExporterAvailable"
	ConditionMirrorsApplied     = "MirrorsApplied"
	// ConditionOverridesApplied: every container of Tekton's components runs the image the
	// OSP operator's environment (its CSV's images, with the hot-fix overrides) names for it.
	ConditionOverridesApplied = "OverridesApplied"
)

// Condition reasons.
const (
	// ReasonInvalidTektonConfig: the rendered TektonConfig (overrides included) is not one OSP
	// accepts; the message names the field.
	ReasonInvalidTektonConfig = "InvalidTektonConfig"
	// ReasonTektonConfigCRDMissing: OSP has not installed the TektonConfig CRD yet.
	ReasonTektonConfigCRDMissing = "TektonConfigCRDMissing"
	// ReasonAPIsMissing: a child's API is not served (ExternalSecret, ServiceMonitor, ...).
	ReasonAPIsMissing = "APIsMissing"
	// ReasonMirrorAPIMissing: neither ImageContentSourcePolicy nor ImageDigestMirrorSet is served.
	ReasonMirrorAPIMissing = "MirrorAPIMissing"
	// ReasonApplied: every child was applied.
	ReasonApplied = "Applied"
	// ReasonApplyFailed: a child could not be applied (the API server was unreachable, a
	// timeout); retried with backoff. The message says which and why.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonApplyRejected: the API server or its admission (a webhook such as OSP's, a
	// ValidatingAdmissionPolicy, a quota) refused a child; the message names the object and
	// gives the server's words. Retried with backoff; the other children are applied.
	ReasonApplyRejected = "ApplyRejected"
	// ReasonObjectOwnedElsewhere: a child the spec names already exists and another controller
	// owns it (an ownerReference with controller: true, or the other parent kind applied it);
	// the operator refuses to take it over, names the object and its owner, and applies the
	// other children. Retried with backoff.
	ReasonObjectOwnedElsewhere = "ObjectOwnedElsewhere"
	// ReasonSuspended: spec.suspend is true (the Suspended condition, and its Event).
	ReasonSuspended = "Suspended"
	// ReasonProgressing: the spec is being applied.
	ReasonProgressing = "Progressing"
	// ReasonDeleting: deletionPolicy Delete is removing the children.
	ReasonDeleting = "Deleting"
	// ReasonHealthy: every part is applied and healthy (Ready=True).
	ReasonHealthy = "Healthy"
	// ReasonReadFailed: an object could not be read; the status is Unknown, never a guess.
	ReasonReadFailed = "ReadFailed"
	// ReasonUpgrading: the installed CSV changed and the new one has not reached Succeeded.
	ReasonUpgrading = "Upgrading"
	// ReasonUpgradeCompleted: the new CSV reached Succeeded (Event reason).
	ReasonUpgradeCompleted = "UpgradeCompleted"
	// ReasonDriftHealed: a child was edited or deleted and has been restored (Event reason).
	ReasonDriftHealed = "DriftHealed"
	// ReasonInstallPlanApproved: the operator approved the InstallPlan of the pinned CSV (Event reason).
	ReasonInstallPlanApproved = "InstallPlanApproved"

	// CatalogSourceReady reasons, from status.connectionState.lastObservedState.
	ReasonCatalogSourceReady       = "CatalogSourceReady"
	ReasonCatalogSourceConnecting  = "CatalogSourceConnecting"
	ReasonCatalogSourceUnhealthy   = "CatalogSourceUnhealthy"
	ReasonCatalogSourceNotObserved = "CatalogSourceNotObserved"

	// OperatorInstalled reasons, from the Subscription, its InstallPlans and the installed CSV.
	ReasonCSVSucceeded               = "CSVSucceeded"
	ReasonCSVInstalling              = "CSVInstalling"
	ReasonCSVPending                 = "CSVPending"
	ReasonCSVReplacing               = "CSVReplacing"
	ReasonCSVFailed                  = "CSVFailed"
	ReasonCSVNotFound                = "CSVNotFound"
	ReasonSubscriptionNotObserved    = "SubscriptionNotObserved"
	ReasonOperatorInstalling         = "OperatorInstalling"
	ReasonResolutionFailed           = "ResolutionFailed"
	ReasonCatalogSourcesUnhealthy    = "CatalogSourcesUnhealthy"
	ReasonInstallPlanFailed          = "InstallPlanFailed"
	ReasonInstallPlanPendingApproval = "InstallPlanPendingApproval"
	ReasonUpgradePending             = "UpgradePending"
	ReasonDowngradeNotSupported      = "DowngradeNotSupported"

	// TektonConfigReady reasons, mirroring the TektonConfig's Ready condition.
	ReasonTektonConfigReady       = "TektonConfigReady"
	ReasonTektonConfigNotReady    = "TektonConfigNotReady"
	ReasonTektonConfigInstalling  = "TektonConfigInstalling"
	ReasonTektonConfigNotObserved = "TektonConfigNotObserved"

	// ExporterAvailable reasons, from the exporter Deployment.
	ReasonExporterAvailable   = "ExporterAvailable"
	ReasonExporterRollingOut  = "ExporterRollingOut"
	ReasonExporterUnavailable = "ExporterUnavailable"
	ReasonExporterNotObserved = "ExporterNotObserved"

	// OverridesApplied reasons.
	// ReasonComponentsCurrent: every component container runs its wanted image.
	ReasonComponentsCurrent = "ComponentsCurrent"
	// ReasonComponentsStale: a component container runs another image than the one the OSP
	// operator's environment names; the message names each workload, container, running and
	// wanted image.
	ReasonComponentsStale = "ComponentsStale"
	// ReasonOperatorRolling: OLM has not yet rolled the OSP operator with the Subscription's
	// environment, so the wanted images are not known yet.
	ReasonOperatorRolling = "OperatorRolling"
	// ReasonComponentsRefreshing: the operator asked OSP to re-render the stale components,
	// or OSP's rollout of their new images is under way.
	ReasonComponentsRefreshing = "ComponentsRefreshing"
	// ReasonComponentsNotObserved: the OSP operator or the components cannot be read yet.
	ReasonComponentsNotObserved = "ComponentsNotObserved"
	// ReasonComponentsRefreshed: the Event of a refresh the operator asked OSP for.
	ReasonComponentsRefreshed = "ComponentsRefreshed"
	// ReasonOverrideRedundant: an image override names the image the installed CSV ships, and
	// can be removed (Event reason).
	ReasonOverrideRedundant = "OverrideRedundant"
	// ReasonRevertNotRecorded: revertImagesTo names a build whose images are not recorded in
	// status.upgrade.previous (Stalled).
	ReasonRevertNotRecorded = "RevertNotRecorded"
)

// Condition types of a PipelineServiceHost, besides Ready and Reconciling.
const (
	ConditionSprayProxyAvailable = "SprayProxyAvailable"
	ConditionRouteAdmitted       = "RouteAdmitted"
	ConditionProxyPluginReady    = "ProxyPluginReady"
)

// PipelineServiceHost condition reasons.
const (
	// SprayProxyAvailable reasons, from the SprayProxy Deployment.
	ReasonSprayProxyAvailable   = "SprayProxyAvailable"
	ReasonSprayProxyRollingOut  = "SprayProxyRollingOut"
	ReasonSprayProxyUnavailable = "SprayProxyUnavailable"
	ReasonSprayProxyNotObserved = "SprayProxyNotObserved"

	// RouteAdmitted reasons, from the Route's status.ingress.
	ReasonRouteAdmitted    = "RouteAdmitted"
	ReasonRouteNotAdmitted = "RouteNotAdmitted"
	ReasonRoutePending     = "RoutePending"

	// ProxyPluginReady reasons.
	ReasonProxyPluginReady       = "ProxyPluginReady"
	ReasonProxyPluginNotReady    = "ProxyPluginNotReady"
	ReasonProxyPluginNotObserved = "ProxyPluginNotObserved"
	// ReasonProxyPluginCRDMissing: CodeReadyToolchain's ProxyPlugin CRD is not installed.
	ReasonProxyPluginCRDMissing = "ProxyPluginCRDMissing"
)
