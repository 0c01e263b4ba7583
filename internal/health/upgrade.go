package health

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
)

// UpgradeStep is what changed in the upgrade record in one reconcile.
type UpgradeStep struct {
	// Upgrade is the record to store.
	Upgrade *psv1alpha1.UpgradeStatus
	// Started and Completed say an Event is due.
	Started, Completed bool
}

// TrackUpgrade records a change of the installed CSV: started when the Subscription's
// installedCSV differs from the one last recorded, completed when that CSV reaches Succeeded.
// The first install counts too, with an empty From. A new change while one runs starts over.
func TrackUpgrade(prev *psv1alpha1.UpgradeStatus, lastInstalled, installed string, succeeded bool, now metav1.Time) UpgradeStep {
	step := UpgradeStep{Upgrade: prev}
	if installed != "" && installed != lastInstalled {
		step.Upgrade = &psv1alpha1.UpgradeStatus{From: lastInstalled, To: installed, StartedAt: now}
		step.Started = true
	}
	u := step.Upgrade
	if u != nil && u.CompletedAt == nil && u.To == installed && succeeded {
		u = u.DeepCopy()
		u.CompletedAt = &now
		step.Upgrade, step.Completed = u, true
	}
	return step
}

// UpgradeRunning is whether an upgrade has started and not completed.
func UpgradeRunning(u *psv1alpha1.UpgradeStatus) bool {
	return u != nil && u.CompletedAt == nil
}
