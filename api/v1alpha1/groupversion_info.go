// Package v1alpha1 holds the PipelineService API: one cluster-scoped object named `cluster` that
// is the whole desired state of Pipeline Service (Tekton through OpenShift Pipelines) on a cluster.
//
// +kubebuilder:object:generate=true
// +groupName=pipelineservice.appstudio.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the API group and version of PipelineService.
	GroupVersion = schema.GroupVersion{Group: "pipelineservice.appstudio.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
