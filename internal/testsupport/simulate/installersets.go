package simulate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	mf "github.com/manifestival/manifestival"
	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	"github.com/tektoncd/operator/pkg/client/clientset/versioned"
	"github.com/tektoncd/operator/pkg/reconciler/common"
	tisclient "github.com/tektoncd/operator/pkg/reconciler/kubernetes/tektoninstallerset/client"
	"github.com/tektoncd/operator/pkg/reconciler/shared/hash"
	"github.com/tektoncd/operator/pkg/reconciler/shared/tektonconfig/pipeline"
	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
)

// Pipelines plays OSP for the pipelines component, with OSP's own code wherever it runs in a
// test process:
//   - the TektonConfig reconciler's copy of the TektonConfig into the TektonPipeline
//     (tektoncd/operator pkg/reconciler/shared/tektonconfig/pipeline: GetTektonPipelineCR and
//     UpdatePipeline, called here);
//   - the TektonPipeline reconciler's installer sets: its InstallerSetClient.MainSet (called
//     here: check.go's release-version, namespace and spec-hash checks, then create or an
//     in-place update), with a manifest transformed by OSP's transformers (common.Transform,
//     common.DeploymentImages from the images of the OSP operator's environment, and the
//     additional options), as pkg/reconciler/kubernetes/tektonpipeline/transform.go does;
//   - the TektonInstallerSet reconciler, played: it applies each set's Deployments, owned by
//     the set, and marks the set Ready. Running it needs knative's injection and informers
//     for every kind a manifest holds, and the payload's other kinds (CRDs, webhooks) would
//     need their own servers; the Deployments are what image checks read.
//
// The payload is tektoncd/pipeline's own config/controller.yaml, from the module the operator
// builds against (the release payload in OSP's kodata is fetched at build time and is not in
// any module). The images come from the OSP operator Deployment's environment, which is what
// the real OSP process reads with common.ImagesFromEnv: OLM rolled it from the Subscription.
type Pipelines struct {
	Client   client.Client
	Operator versioned.Interface
	// OperatorNamespace holds the OSP operator Deployment (OperatorName).
	OperatorNamespace string
	// ReleaseVersion is the OSP release, the installer sets' release-version label.
	ReleaseVersion string
	// Manifest is the component's payload.
	Manifest mf.Manifest
}

// PipelinesPayload is the pipelines component's payload: tektoncd/pipeline's controller
// Deployment manifest from the module at dir.
func PipelinesPayload(dir string) (mf.Manifest, error) {
	return mf.ManifestFrom(mf.Path(filepath.Join(dir, "config", "controller.yaml")))
}

// Step runs one pass of the TektonConfig and TektonPipeline reconcilers. It does nothing
// before the TektonConfig and the OSP operator exist. InstallSets, the TektonInstallerSet
// reconciler, must run beside it, as in OSP: creating the sets, MainSet waits up to 9 s for
// the static set's status before it makes the deployment set (client/create.go,
// waitForStatus).
func (p *Pipelines) Step(ctx context.Context) error {
	live, err := get(ctx, p.Client, children.GVKTektonConfig, "", "config")
	if apierrors.IsNotFound(err) || live == nil {
		return nil
	} else if err != nil {
		return err
	}
	tc := &tektonv1alpha1.TektonConfig{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(live.Object, tc); err != nil {
		return err
	}
	operator := &appsv1.Deployment{}
	if err := p.Client.Get(ctx, client.ObjectKey{Namespace: p.OperatorNamespace, Name: OperatorName}, operator); apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	tp, err := p.ensurePipeline(ctx, tc)
	if err != nil {
		return err
	}
	images := map[string]string{}
	for _, e := range operator.Spec.Template.Spec.Containers[0].Env {
		if name, ok := strings.CutPrefix(e.Name, common.PipelinesImagePrefix); ok {
			images[name] = e.Value
		}
	}
	images = common.ToLowerCaseKeys(images)
	sets := p.Operator.OperatorV1alpha1().TektonInstallerSets()
	isc := tisclient.NewInstallerSetClient(sets, p.ReleaseVersion, "v1.14.1", tektonv1alpha1.KindTektonPipeline, noMetrics{})
	manifest := p.Manifest.Filter(mf.Any(mf.ByKind("Deployment")))
	err = isc.MainSet(ctx, tp, &manifest, func(ctx context.Context, m *mf.Manifest, comp tektonv1alpha1.TektonComponent) (*mf.Manifest, error) {
		pipeline := comp.(*tektonv1alpha1.TektonPipeline)
		if err := common.Transform(ctx, m, pipeline,
			common.InjectOperandNameLabelOverwriteExisting(tektonv1alpha1.OperandTektoncdPipeline),
			common.DeploymentImages(images), common.StatefulSetImages(images)); err != nil {
			return nil, err
		}
		if err := common.ExecuteAdditionalOptionsTransformer(ctx, m, pipeline.Spec.GetTargetNamespace(), pipeline.Spec.Options); err != nil {
			return nil, err
		}
		return m, nil
	})
	if err != nil && !isRequeue(err) {
		return fmt.Errorf("TektonPipeline installer sets: %w", err)
	}
	return nil
}

// ensurePipeline creates or updates the TektonPipeline from the TektonConfig, as OSP's
// TektonConfig reconciler does.
func (p *Pipelines) ensurePipeline(ctx context.Context, tc *tektonv1alpha1.TektonConfig) (*tektonv1alpha1.TektonPipeline, error) {
	pipelines := p.Operator.OperatorV1alpha1().TektonPipelines()
	want := pipeline.GetTektonPipelineCR(tc, p.ReleaseVersion)
	existing, err := pipelines.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return pipelines.Create(ctx, want, metav1.CreateOptions{})
	case err != nil:
		return nil, err
	}
	return pipeline.UpdatePipeline(ctx, existing, want, pipelines)
}

// InstallSets plays one pass of the TektonInstallerSet reconciler for the pipelines
// component's sets: each set's Deployments are applied, owned by the set, and the set is
// marked Ready. As upstream (tektoninstallerset/install.go), a Deployment is written only when
// the hash of what the set wants differs from what it last wrote, kept here in the
// Deployment's last-applied-hash annotation, so that an idle OSP writes nothing.
func (p *Pipelines) InstallSets(ctx context.Context) error {
	sets := p.Operator.OperatorV1alpha1().TektonInstallerSets()
	list, err := sets.List(ctx, metav1.ListOptions{LabelSelector: tektonv1alpha1.CreatedByKey + "=" + tektonv1alpha1.KindTektonPipeline})
	if err != nil {
		return err
	}
	for i := range list.Items {
		set := &list.Items[i]
		if set.DeletionTimestamp != nil {
			continue
		}
		owner := metav1.NewControllerRef(set, tektonv1alpha1.SchemeGroupVersion.WithKind(tektonv1alpha1.KindTektonInstallerSet))
		for _, res := range set.Spec.Manifests {
			if res.GetKind() != "Deployment" {
				continue
			}
			obj := res.DeepCopy()
			obj.SetOwnerReferences([]metav1.OwnerReference{*owner})
			unstructured.RemoveNestedField(obj.Object, "status")
			want, err := hash.Compute(obj.Object)
			if err != nil {
				return err
			}
			live := &appsv1.Deployment{}
			if err := p.Client.Get(ctx, client.ObjectKey{Namespace: obj.GetNamespace(), Name: obj.GetName()}, live); err == nil &&
				live.Annotations[tektonv1alpha1.LastAppliedHashKey] == want {
				continue
			}
			annotations := obj.GetAnnotations()
			if annotations == nil {
				annotations = map[string]string{}
			}
			annotations[tektonv1alpha1.LastAppliedHashKey] = want
			obj.SetAnnotations(annotations)
			if err := p.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner("tekton-operator"), client.ForceOwnership); err != nil {
				return fmt.Errorf("apply %s of installer set %s: %w", obj.GetName(), set.Name, err)
			}
		}
		if set.Status.IsReady() {
			continue
		}
		set.Status.InitializeConditions()
		set.Status.MarkReady()
		if _, err := sets.UpdateStatus(ctx, set, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) {
			return err
		}
	}
	return nil
}

// isRequeue is whether err is OSP's "come back later" (an installer set not ready yet).
func isRequeue(err error) bool {
	return errors.Is(err, tektonv1alpha1.REQUEUE_EVENT_AFTER) || strings.Contains(err.Error(), "will retry") || strings.Contains(err.Error(), "requeue")
}

type noMetrics struct{}

func (noMetrics) LogMetrics(string, string, *zap.SugaredLogger) {}

// FailDeployments plays OSP when the pipelines component's Deployments do not come up, with
// OSP's own status code at each level of its chain:
//   - the TektonInstallerSet reconciler marks the deployment set's DeploymentsAvailable False
//     with the error its Deployment check gave (tektoninstallerset.go,
//     MarkDeploymentsAvailableFailed);
//   - the TektonPipeline reconciler, whose main set is not ready, marks the TektonPipeline
//     (tektonpipeline/reconcile.go, MarkInstallerSetNotReady);
//   - the TektonConfig reconciler reports only that the component asked to be reconciled again
//     (tektonconfig.go, MarkComponentNotReady with RECONCILE_AGAIN_ERR), the message
//     tektoncd/operator#2006 is about.
//
// It returns the name of the failing set. The sets must exist (Step and InstallSets ran).
func (p *Pipelines) FailDeployments(ctx context.Context, message string) (string, error) {
	ops := p.Operator.OperatorV1alpha1()
	list, err := ops.TektonInstallerSets().List(ctx, metav1.ListOptions{LabelSelector: tektonv1alpha1.CreatedByKey + "=" + tektonv1alpha1.KindTektonPipeline})
	if err != nil {
		return "", err
	}
	var failing *tektonv1alpha1.TektonInstallerSet
	for i := range list.Items {
		if strings.Contains(list.Items[i].Name, "deployment") {
			failing = &list.Items[i]
		}
	}
	if failing == nil {
		return "", errors.New("the pipelines component has no deployment installer set yet")
	}
	failing.Status.InitializeConditions()
	failing.Status.MarkDeploymentsAvailableFailed(message)
	if _, err := ops.TektonInstallerSets().UpdateStatus(ctx, failing, metav1.UpdateOptions{}); err != nil {
		return "", err
	}
	tp, err := ops.TektonPipelines().Get(ctx, tektonv1alpha1.PipelineResourceName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	tp.Status.InitializeConditions()
	tp.Status.MarkInstallerSetNotReady("Main Reconcilation failed")
	if _, err := ops.TektonPipelines().UpdateStatus(ctx, tp, metav1.UpdateOptions{}); err != nil {
		return "", err
	}
	tc, err := ops.TektonConfigs().Get(ctx, tektonv1alpha1.ConfigResourceName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	tc.Status.InitializeConditions()
	tc.Status.MarkPreInstallComplete()
	tc.Status.MarkComponentNotReady(fmt.Sprintf("%s: %s", tektonv1alpha1.KindTektonPipeline, tektonv1alpha1.RECONCILE_AGAIN_ERR))
	if _, err := ops.TektonConfigs().UpdateStatus(ctx, tc, metav1.UpdateOptions{}); err != nil {
		return "", err
	}
	return failing.Name, nil
}
