package pipelineservice

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
)

// parts are the PipelineService's parts, one condition each, in the order Ready ranks them.
// The exporter and the mirrors have one only while the spec asks for them. A new condition is
// declared here, with its check in internal/health and its type in the API: the metrics and
// Ready's message follow from this list.
var parts = []parent.Part[*observation]{
	{Type: psv1alpha1.ConditionCatalogSourceReady, Name: "the catalog", Check: func(o *observation) (health.Check, bool) {
		return health.CatalogSourceReady(o.catalog, o.catalogErr), true
	}},
	{Type: psv1alpha1.ConditionOperatorInstalled, Name: "the OpenShift Pipelines operator", Check: func(o *observation) (health.Check, bool) {
		return health.OperatorInstalled(o.operator, o.approval), true
	}},
	{Type: psv1alpha1.ConditionTektonConfigReady, Name: "the TektonConfig", Check: func(o *observation) (health.Check, bool) {
		if !o.tektonServed {
			return health.TektonConfigCRDMissing(), true
		}
		return health.TektonConfigReady(o.tekton, o.tektonErr, o.tektonCause), true
	}},
	{Type: psv1alpha1.ConditionExporterAvailable, Name: "the exporter", Check: func(o *observation) (health.Check, bool) {
		return health.ExporterAvailable(o.exporter, o.exporterErr), o.exporterEnabled
	}},
	{Type: psv1alpha1.ConditionMirrorsApplied, Name: "the mirrors", Check: func(o *observation) (health.Check, bool) {
		return health.MirrorsApplied(o.mirrorKind != "", o.mirrorKind), o.mirrorsSet
	}},
	{Type: psv1alpha1.ConditionOverridesApplied, Name: "the component images", Check: func(o *observation) (health.Check, bool) {
		return health.OverridesApplied(o.overrides), o.overridesObserved
	}},
}

func (*kind) Parts() []parent.Part[*observation] { return parts }

// SetFields sets the PipelineService's own status fields, one setter each, and returns the
// Events of an upgrade that started or completed.
func (*kind) SetFields(ps *psv1alpha1.PipelineService, _ *parent.Outcome, obs *observation, now metav1.Time) []parent.Event {
	events := setUpgrade(ps, obs, now)
	setVersions(ps, obs)
	setComponents(ps, obs)
	events = append(events, setImageOverrides(ps, obs)...)
	setStaleContainers(ps, obs)
	return events
}

// Working is Reconciling while an upgrade runs.
func (*kind) Working(ps *psv1alpha1.PipelineService) *metav1.Condition {
	if !health.UpgradeRunning(ps.Status.Upgrade) {
		return nil
	}
	return &metav1.Condition{Reason: psv1alpha1.ReasonUpgrading, Message: upgradeMessage(ps.Status.Upgrade, "running")}
}

// setUpgrade records a change of the installed CSV, and its completion once the new CSV
// has Succeeded. It runs before setVersions, which overwrites the installed CSV it compares.
func setUpgrade(ps *psv1alpha1.PipelineService, obs *observation, now metav1.Time) []parent.Event {
	st := &ps.Status
	installed := st.InstalledCSV
	if csv := obs.operator.InstalledCSV(); csv != "" {
		installed = csv
	}
	step := health.TrackUpgrade(st.Upgrade, st.InstalledCSV, installed, obs.operator.Succeeded(), now)
	st.Upgrade = recordPrevious(st.Upgrade, step, obs)
	var events []parent.Event
	if step.Started {
		events = append(events, parent.Event{Reason: psv1alpha1.ReasonUpgrading, Action: "Upgrade", Message: upgradeMessage(step.Upgrade, "started")})
	}
	if step.Completed {
		e := parent.Event{Reason: psv1alpha1.ReasonUpgradeCompleted, Action: "Upgrade", Message: upgradeMessage(step.Upgrade, "completed")}
		if step.Upgrade.From != "" {
			d := step.Upgrade.CompletedAt.Sub(step.Upgrade.StartedAt.Time).Seconds()
			e.OnEmit = func() { upgradeDuration.Observe(d) }
		}
		events = append(events, e)
	}
	return events
}

// recordPrevious records in the upgrade step the build it replaces, with its images: the
// outgoing CSV, or, when this upgrade replaces one that never completed, the build that one
// replaced, the last that ran. Images that could not be read are filled in by a later pass
// while the outgoing CSV exists.
func recordPrevious(last *psv1alpha1.UpgradeStatus, step health.UpgradeStep, obs *observation) *psv1alpha1.UpgradeStatus {
	u := step.Upgrade
	switch {
	case u == nil:
		return nil
	case step.Started && u.From != "":
		u.Previous = &psv1alpha1.BuildImages{CSV: u.From}
		if obs.outgoing != nil && obs.outgoingName == u.From {
			u.Previous = obs.outgoing.DeepCopy()
		}
		if health.UpgradeRunning(last) && last.Previous != nil {
			u.Previous = last.Previous.DeepCopy()
		}
	case u.Previous != nil && len(u.Previous.Images) == 0 && obs.outgoing != nil && obs.outgoingName == u.Previous.CSV:
		u = u.DeepCopy()
		u.Previous = obs.outgoing.DeepCopy()
	}
	return u
}

// setImageOverrides lists the image overrides against the installed CSV's images, with one
// Event when an override becomes redundant. The list is kept when the CSV cannot be read.
func setImageOverrides(ps *psv1alpha1.PipelineService, obs *observation) []parent.Event {
	if !obs.overridesObserved {
		ps.Status.ImageOverrides = nil
		return nil
	}
	if obs.overrideStates == nil {
		return nil
	}
	var events []parent.Event
	for _, o := range obs.overrideStates {
		if o.State != psv1alpha1.ImageOverrideRedundant {
			continue
		}
		was := slices.IndexFunc(ps.Status.ImageOverrides, func(p psv1alpha1.ImageOverrideStatus) bool { return p.Name == o.Name })
		if was >= 0 && ps.Status.ImageOverrides[was] == o {
			continue
		}
		events = append(events, parent.Event{Reason: psv1alpha1.ReasonOverrideRedundant, Action: "Observe", Message: fmt.Sprintf(
			"imageOverrides %s names %s, the image %s ships: the override is redundant and can be removed", o.Name, o.Image, obs.overrides.InstalledCSV)})
	}
	ps.Status.ImageOverrides = obs.overrideStates
	return events
}

// setStaleContainers counts the component containers that do not run their wanted image,
// and keeps the last count while they cannot be read.
func setStaleContainers(ps *psv1alpha1.PipelineService, obs *observation) {
	switch ov := obs.overrides; {
	case !obs.overridesObserved:
		ps.Status.StaleContainers = 0
	case ov.OperatorErr == nil && ov.StaleErr == nil && ov.Operator != nil:
		ps.Status.StaleContainers = int32(len(ov.Stale))
	}
}

// setVersions sets the installed, desired and Tekton versions and the catalog's state. The
// installed CSV is kept when the Subscription cannot be read or is gone: deletion needs it to
// find the CSV.
func setVersions(ps *psv1alpha1.PipelineService, obs *observation) {
	st := &ps.Status
	last := st.InstalledCSV
	if csv := obs.operator.InstalledCSV(); csv != "" {
		st.InstalledCSV = csv
	}
	if v := obs.operator.InstalledVersion(); v != "" || st.InstalledCSV != last {
		st.InstalledVersion = v
	}
	st.DesiredCSV = obs.operator.DesiredCSV()
	st.TektonVersion = health.TektonVersion(obs.tekton)
	st.CatalogState = health.CatalogState(obs.catalog)
}

// setComponents lists the Deployments of the target namespace, with their pods' restarts since
// the upgrade the status records completed (set before it, in the same pass). A failed list keeps the last
// components rather than reporting none: the status and the component metrics would
// otherwise say every Deployment is gone.
func setComponents(ps *psv1alpha1.PipelineService, obs *observation) {
	if obs.componentsErr == nil {
		var since *metav1.Time
		if u := ps.Status.Upgrade; u != nil {
			since = u.CompletedAt
		}
		ps.Status.Components = health.Components(obs.components, obs.pods, obs.podsRead, since)
	}
}

func upgradeMessage(u *psv1alpha1.UpgradeStatus, what string) string {
	if u.From == "" {
		return fmt.Sprintf("install of %s %s", u.To, what)
	}
	return fmt.Sprintf("upgrade from %s to %s %s", u.From, u.To, what)
}
