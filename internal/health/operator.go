package health

import (
	"fmt"
	"slices"
	"strings"

	"github.com/blang/semver/v4"
	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// Operator is what OLM shows about the OpenShift Pipelines operator.
type Operator struct {
	Subscription    *olmv1alpha1.Subscription
	SubscriptionErr error
	// CSV is the Subscription's installed CSV.
	CSV    *olmv1alpha1.ClusterServiceVersion
	CSVErr error
	// InstallPlans are the Subscription's InstallPlans.
	InstallPlans []olmv1alpha1.InstallPlan
	// Pin is spec.operator.subscription.csv, "" when unpinned.
	Pin string
}

// InstalledCSV is the Subscription's installed CSV, "" before the first install.
func (o Operator) InstalledCSV() string {
	if o.Subscription == nil {
		return ""
	}
	return o.Subscription.Status.InstalledCSV
}

// DesiredCSV is the pin, or the Subscription's currentCSV (where OLM is heading) when unpinned.
func (o Operator) DesiredCSV() string {
	if o.Pin != "" || o.Subscription == nil {
		return o.Pin
	}
	return o.Subscription.Status.CurrentCSV
}

// InstalledVersion is the installed CSV's spec.version.
func (o Operator) InstalledVersion() string {
	if o.CSV == nil || o.CSV.Name != o.InstalledCSV() {
		return ""
	}
	return o.CSV.Spec.Version.String()
}

// Succeeded is whether the installed CSV reached phase Succeeded.
func (o Operator) Succeeded() bool {
	return o.CSV != nil && o.CSV.Name == o.InstalledCSV() && o.CSV.Status.Phase == olmv1alpha1.CSVPhaseSucceeded
}

// Approval is what the operator does with the Subscription's InstallPlans.
type Approval struct {
	// Approve are the plans to approve: they hold the pinned CSV and wait in RequiresApproval.
	Approve []string
	// Pending are plans waiting for approval that the operator leaves alone.
	Pending []olmv1alpha1.InstallPlan
	// Downgrade explains why nothing is approved when the pin is older than what is installed.
	Downgrade string
}

// Approvals decides which InstallPlans to approve. With a pin, only a plan whose
// clusterServiceVersionNames is the pinned CSV and nothing else (a plan that also installs
// another operator's CSV would approve that one too), and only once its phase is
// RequiresApproval:
// approving a plan that is still Planning makes OLM create a second plan for the same CSV and
// the Subscription sticks in UpgradePending. A plan for any other CSV (the channel's next
// version, past the pin) is left for a person. OLM cannot roll an operator back, so a pin older
// than the installed CSV approves nothing. Without a pin the Subscription approves
// automatically and there is nothing to do.
func Approvals(o Operator) Approval {
	var a Approval
	if o.Pin != "" && o.InstalledCSV() != "" && o.InstalledCSV() != o.Pin {
		installed := o.InstalledVersion()
		if installed == "" {
			installed = VersionFromCSVName(o.InstalledCSV())
		}
		if IsOlder(VersionFromCSVName(o.Pin), installed) {
			a.Downgrade = fmt.Sprintf("spec.operator.subscription.csv %s is older than the installed %s and OLM cannot roll an operator back; "+
				"pin %s or newer, or uninstall the operator first", o.Pin, o.InstalledCSV(), o.InstalledCSV())
		}
	}
	for _, p := range o.InstallPlans {
		if p.Status.Phase != olmv1alpha1.InstallPlanPhaseRequiresApproval || p.Spec.Approved {
			continue
		}
		if o.Pin != "" && a.Downgrade == "" && len(foreignCSVs(p, o.Pin)) == 0 && slices.Contains(p.Spec.ClusterServiceVersionNames, o.Pin) {
			a.Approve = append(a.Approve, p.Name)
			continue
		}
		a.Pending = append(a.Pending, p)
	}
	return a
}

// VersionFromCSVName reads the version out of OLM's naming convention <package>.v<semver>.
func VersionFromCSVName(name string) string {
	i := strings.LastIndex(name, ".v")
	if i < 0 {
		return ""
	}
	return name[i+2:]
}

// IsOlder is whether version a is older than b; false when either does not parse, so that an
// unusual CSV name never blocks an upgrade.
func IsOlder(a, b string) bool {
	va, errA := semver.ParseTolerant(a)
	vb, errB := semver.ParseTolerant(b)
	return errA == nil && errB == nil && va.LT(vb)
}

// OperatorInstalled follows the chain Subscription -> InstallPlan -> installed CSV -> phase
// and reports the first link that is not in place. approval is Approvals(o), with the plans
// the reconciler has just approved.
func OperatorInstalled(o Operator, approval Approval) Check {
	const t = psv1alpha1.ConditionOperatorInstalled
	if o.SubscriptionErr != nil {
		return readFailed(t, "the Subscription", o.SubscriptionErr)
	}
	sub := o.Subscription
	if sub == nil {
		return unknown(t, psv1alpha1.ReasonSubscriptionNotObserved, "the Subscription does not exist yet")
	}
	if approval.Downgrade != "" {
		return failing(t, psv1alpha1.ReasonDowngradeNotSupported, approval.Downgrade)
	}
	for _, sc := range []struct {
		cond   olmv1alpha1.SubscriptionConditionType
		reason string
		advice string
	}{
		{olmv1alpha1.SubscriptionResolutionFailed, psv1alpha1.ReasonResolutionFailed,
			"check that spec.operator.subscription names a package, channel and CSV the catalog holds"},
		{olmv1alpha1.SubscriptionCatalogSourcesUnhealthy, psv1alpha1.ReasonCatalogSourcesUnhealthy,
			"check the CatalogSources in openshift-marketplace"},
		{olmv1alpha1.SubscriptionInstallPlanFailed, psv1alpha1.ReasonInstallPlanFailed,
			"read the InstallPlan's status.conditions; delete it to let OLM plan again"},
	} {
		if c := sub.Status.GetCondition(sc.cond); c.Status == corev1.ConditionTrue {
			return failing(t, sc.reason, fmt.Sprintf("Subscription %s/%s: %s: %s; %s",
				sub.Namespace, sub.Name, c.Reason, c.Message, sc.advice))
		}
	}

	installed, desired := o.InstalledCSV(), o.DesiredCSV()
	if len(approval.Pending) > 0 && (installed == "" || installed != desired) {
		return failing(t, psv1alpha1.ReasonInstallPlanPendingApproval, pendingMessage(approval.Pending, o.Pin))
	}
	if installed == "" {
		msg := fmt.Sprintf("OLM is installing %s (Subscription state %q)", orUnknown(desired), sub.Status.State)
		if len(approval.Approve) > 0 {
			msg = fmt.Sprintf("approved InstallPlan %s for %s; OLM is installing it", strings.Join(approval.Approve, ", "), desired)
		}
		return progressing(t, psv1alpha1.ReasonOperatorInstalling, msg)
	}
	if o.CSVErr != nil {
		return readFailed(t, "CSV "+installed, o.CSVErr)
	}
	if o.CSV == nil || o.CSV.Name != installed {
		return unknown(t, psv1alpha1.ReasonCSVNotFound, fmt.Sprintf(
			"the Subscription reports %s installed, but the CSV is not in %s yet", installed, sub.Namespace))
	}
	return csvPhase(o, approval)
}

// csvPhase reports the installed CSV's phase, and, once it Succeeded, whether it is the CSV
// the spec asks for.
func csvPhase(o Operator, approval Approval) Check {
	const t = psv1alpha1.ConditionOperatorInstalled
	csv := o.CSV
	detail := fmt.Sprintf("CSV %s is %s", csv.Name, orUnknown(string(csv.Status.Phase)))
	if csv.Status.Reason != "" || csv.Status.Message != "" {
		detail += fmt.Sprintf(" (%s: %s)", csv.Status.Reason, csv.Status.Message)
	}
	switch csv.Status.Phase {
	case olmv1alpha1.CSVPhaseSucceeded:
	case olmv1alpha1.CSVPhaseFailed:
		return failing(t, psv1alpha1.ReasonCSVFailed, detail+"; check the operator's Deployment in "+csv.Namespace)
	case olmv1alpha1.CSVPhasePending:
		if csv.Status.Reason == olmv1alpha1.CSVReasonRequirementsNotMet {
			return failing(t, psv1alpha1.ReasonCSVPending, detail+"; status.requirementStatus of the CSV lists what is missing")
		}
		return progressing(t, psv1alpha1.ReasonCSVPending, detail)
	case olmv1alpha1.CSVPhaseReplacing, olmv1alpha1.CSVPhaseDeleting:
		return progressing(t, psv1alpha1.ReasonCSVReplacing, detail)
	default:
		return progressing(t, psv1alpha1.ReasonCSVInstalling, detail)
	}

	installed, desired := o.InstalledCSV(), o.DesiredCSV()
	version := o.InstalledVersion()
	if desired != "" && installed != desired {
		msg := fmt.Sprintf("%s (version %s) runs; OLM is rolling forward to %s", installed, version, desired)
		if len(approval.Approve) > 0 {
			msg += fmt.Sprintf(" (approved InstallPlan %s)", strings.Join(approval.Approve, ", "))
		}
		return progressing(t, psv1alpha1.ReasonUpgradePending, msg)
	}
	msg := fmt.Sprintf("%s (version %s) is installed and Succeeded", installed, version)
	if len(approval.Pending) > 0 {
		msg += "; held back by the pin: " + pendingMessage(approval.Pending, o.Pin)
	}
	return healthy(t, psv1alpha1.ReasonCSVSucceeded, msg)
}

// pendingMessage names the plans waiting for approval and their CSVs.
func pendingMessage(plans []olmv1alpha1.InstallPlan, pin string) string {
	parts := make([]string, 0, len(plans))
	for _, p := range plans {
		part := fmt.Sprintf("%s/%s for %s", p.Namespace, p.Name, strings.Join(p.Spec.ClusterServiceVersionNames, ", "))
		switch foreign := foreignCSVs(p, pin); {
		case pin == "":
		case slices.Contains(p.Spec.ClusterServiceVersionNames, pin) && len(foreign) > 0:
			part += fmt.Sprintf(" (it holds the pinned CSV %s but also %s, which other operators own: approving it would install or upgrade them too)",
				pin, strings.Join(foreign, ", "))
		default:
			part += fmt.Sprintf(" (it does not hold the pinned CSV %s)", pin)
		}
		parts = append(parts, part)
	}
	advice := "approve it by hand if it is wanted (spec.approved: true)"
	if pin != "" {
		advice = "the operator leaves it alone; pin a CSV the plan installs alone, or approve it by hand"
	}
	return fmt.Sprintf("InstallPlan %s waits for approval: %s", strings.Join(parts, "; "), advice)
}

// foreignCSVs are the CSVs plan installs besides pin: in a namespace that several operators
// share (openshift-operators), OLM plans one operator's upgrade together with others', and
// approving the plan would approve them all.
func foreignCSVs(plan olmv1alpha1.InstallPlan, pin string) []string {
	var out []string
	for _, name := range plan.Spec.ClusterServiceVersionNames {
		if name != pin {
			out = append(out, name)
		}
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}
