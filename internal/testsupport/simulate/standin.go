package simulate

import (
	"context"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// The versions the stand-in's one-entry catalog offers when the Subscription pins none.
const (
	DefaultVersion       = "5.0.5"
	DefaultTektonVersion = "1.21.0"
)

// StandIn plays OLM and OpenShift Pipelines against a control plane where neither runs
// (`make run`): it turns the CatalogSource READY, resolves the Subscription (through an
// InstallPlan that waits for approval when the Subscription's approval is Manual, as OLM
// does), installs the CSV, creates OSP's Deployments, makes every Deployment in the target
// namespace ready and reports the TektonConfig Ready. It writes only what is not so already,
// so an idle cluster stays idle.
type StandIn struct {
	Client client.Client
	// Interval between passes; 250ms when zero.
	Interval time.Duration
}

// Run plays until ctx ends. Errors are logged and retried on the next pass: the objects it
// needs come and go as the operator works.
func (s *StandIn) Run(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("standin")
	interval := s.Interval
	if interval == 0 {
		interval = 250 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastErr string
	for {
		if err := s.Step(ctx); err != nil && err.Error() != lastErr && ctx.Err() == nil {
			logger.Info("stand-in step failed; retrying", "error", err.Error())
			lastErr = err.Error()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Step makes one pass.
func (s *StandIn) Step(ctx context.Context) error {
	ps := &psv1alpha1.PipelineService{}
	if err := s.Client.Get(ctx, client.ObjectKey{Name: psv1alpha1.Name}, ps); err != nil {
		return client.IgnoreNotFound(err)
	}
	op := ps.Spec.Operator
	cs, err := get(ctx, s.Client, children.GVKCatalogSource, op.CatalogSource.Namespace, op.CatalogSource.Name)
	if err != nil || cs == nil {
		return err
	}
	if state, _, _ := unstructured.NestedString(cs.Object, "status", "connectionState", "lastObservedState"); state != "READY" {
		return CatalogState(ctx, s.Client, cs.GetNamespace(), cs.GetName(), "READY")
	}
	if err := s.resolveSubscription(ctx, op.Subscription.Namespace, op.Subscription.Name); err != nil {
		return err
	}
	return s.runTekton(ctx, ps.Spec.TektonConfig.TargetNamespace)
}

// resolveSubscription installs the Subscription's startingCSV (or the default version): at
// once with Automatic approval, through an approved InstallPlan with Manual.
func (s *StandIn) resolveSubscription(ctx context.Context, namespace, name string) error {
	sub, err := get(ctx, s.Client, children.GVKSubscription, namespace, name)
	if err != nil || sub == nil {
		return err
	}
	pkg, _, _ := unstructured.NestedString(sub.Object, "spec", "name")
	want, _, _ := unstructured.NestedString(sub.Object, "spec", "startingCSV")
	if want == "" {
		want = pkg + ".v" + DefaultVersion
	}
	installed, _, _ := unstructured.NestedString(sub.Object, "status", "installedCSV")
	version := health.VersionFromCSVName(want)
	if installed == want || (installed != "" && !health.IsOlder(health.VersionFromCSVName(installed), version)) {
		return nil // OLM does not roll back
	}
	if approval, _, _ := unstructured.NestedString(sub.Object, "spec", "installPlanApproval"); approval != "Manual" {
		return InstallCSV(ctx, s.Client, namespace, name, want, version)
	}
	planName := "install-" + strings.NewReplacer(".", "-").Replace(version)
	plan, err := get(ctx, s.Client, children.GVKInstallPlan, namespace, planName)
	if err != nil {
		return err
	}
	if plan == nil {
		return CreateInstallPlan(ctx, s.Client, namespace, name, planName, "RequiresApproval", want)
	}
	if approved, _, _ := unstructured.NestedBool(plan.Object, "spec", "approved"); approved {
		return CompleteInstallPlan(ctx, s.Client, namespace, name, planName, want, version)
	}
	return nil
}

// runTekton does OSP's part once its TektonConfig exists.
func (s *StandIn) runTekton(ctx context.Context, namespace string) error {
	return OSP(ctx, s.Client, namespace)
}

// OSP plays OpenShift Pipelines' controllers, which cannot run without a kubelet, once its
// TektonConfig exists: Deployments in the target namespace, all of them ready, and the
// TektonConfig Ready. With the real OLM in the loop, this is the only part still played.
func OSP(ctx context.Context, c client.Client, namespace string) error {
	tc, err := get(ctx, c, children.GVKTektonConfig, "", render.TektonConfigName)
	if err != nil || tc == nil {
		return err
	}
	if err := CreateComponents(ctx, c, namespace, 1); err != nil {
		return err
	}
	list := &appsv1.DeploymentList{}
	if err := c.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return err
	}
	for _, d := range list.Items {
		desired := ptr.Deref(d.Spec.Replicas, 1)
		if d.Status.ObservedGeneration != d.Generation || d.Status.ReadyReplicas != desired {
			if err := DeploymentReady(ctx, c, namespace, d.Name, desired); err != nil {
				return err
			}
		}
	}
	if readyCondition(tc) {
		return nil
	}
	return TektonConfigReady(ctx, c, DefaultTektonVersion)
}

func readyCondition(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Ready" && m["status"] == "True" {
			return true
		}
	}
	return false
}

func get(ctx context.Context, c client.Client, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return u, nil
}
