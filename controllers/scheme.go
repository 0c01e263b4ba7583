package controllers

import (
	configv1 "github.com/openshift/api/config/v1"
	operatorv1alpha1 "github.com/openshift/api/operator/v1alpha1"
	olmv1 "github.com/operator-framework/api/pkg/operators/v1"
	olmv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/render"
)

// NewScheme returns a scheme with every typed API the operator reads or writes: Kubernetes
// built-ins, CRDs, PipelineService, OLM, OpenShift mirrors and TektonConfig. ExternalSecret and
// ServiceMonitor are handled as unstructured objects, so that the operator does not depend on
// those projects' Go modules for two small objects.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	utilruntime.Must(psv1alpha1.AddToScheme(s))
	utilruntime.Must(olmv1alpha1.AddToScheme(s))
	utilruntime.Must(olmv1.AddToScheme(s))
	utilruntime.Must(operatorv1alpha1.AddToScheme(s))
	utilruntime.Must(configv1.AddToScheme(s))
	utilruntime.Must(tektonv1alpha1.AddToScheme(s))
	return s
}

// CacheOptions scope the manager's cache to what the operator manages, so that its memory does
// not grow with the cluster: by default only objects with the operator's managed-by label are
// cached; the PipelineService (created by ArgoCD) is cached whole, and CRDs only as metadata.
func CacheOptions() cache.Options {
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	return cache.Options{
		DefaultLabelSelector: labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedByValue}),
		ByObject: map[client.Object]cache.ByObject{
			&psv1alpha1.PipelineService{}: {Label: labels.Everything()},
			crd:                           {Label: labels.Everything()},
		},
	}
}
