package v1alpha1

// Condition types of a PipelineService. Ready is the summary; Reconciling and Stalled follow
// kstatus (present only while True), so that ArgoCD and kstatus-aware tools read them.
const (
	ConditionReady              = "Ready"
	ConditionReconciling        = "Reconciling"
	ConditionStalled            = "Stalled"
	ConditionCatalogSourceReady = "CatalogSourceReady"
	ConditionOperatorInstalled  = "OperatorInstalled"
	ConditionTektonConfigReady  = "TektonConfigReady"
	ConditionExporterAvailable  = "ExporterAvailable"
	ConditionMirrorsApplied     = "MirrorsApplied"
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
	// ReasonApplyFailed: the API server refused a child; the message says which and why.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonProgressing: the spec is being applied.
	ReasonProgressing = "Progressing"
	// ReasonDeleting: deletionPolicy Delete is removing the children.
	ReasonDeleting = "Deleting"
	// ReasonHealthNotObserved: everything is applied, but the health of OLM, TektonConfig and
	// the exporter is not observed by this version of the operator.
	ReasonHealthNotObserved = "HealthNotObserved"
)
