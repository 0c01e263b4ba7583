package main

import (
	"fmt"
	"strings"

	"go.uber.org/zap/zapcore"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// payload is 1 KiB, about the size of a small real Secret or ConfigMap.
var payload = strings.Repeat("x", 1024)

// noise is one Secret, ConfigMap and Deployment that the operator has no business with, as a
// busy cluster has thousands of.
func noise(namespace string, i int) []client.Object {
	name := fmt.Sprintf("noise-%05d", i)
	labels := map[string]string{"app": name}
	return []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, StringData: map[string]string{"data": payload}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: map[string]string{"data": payload}},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name: "app", Image: "registry.example/app:v1", Args: []string{"--serve", "--port=8080"},
						Env: []corev1.EnvVar{{Name: "MODE", Value: "production"}},
					}}},
				},
			},
		},
	}
}

func freeAddr() string {
	addr, err := testenv.FreeAddr()
	if err != nil {
		panic(err)
	}
	return addr
}

// zapLevelError keeps the operator's logs to errors while the bench prints its table.
type zapLevelError struct{}

func (zapLevelError) Enabled(l zapcore.Level) bool { return l >= zapcore.ErrorLevel }
