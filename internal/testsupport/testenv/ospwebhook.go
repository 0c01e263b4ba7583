package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	knativejson "knative.dev/pkg/webhook/json"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
)

// OSP's admission webhooks for TektonConfig, as tektoncd/operator registers them
// (pkg/webhook: webhook.operator.tekton.dev on /defaulting, validation.webhook.operator.tekton.dev
// on /resource-validation, unknown fields disallowed). The webhook server is this process:
// OSP's webhook pod cannot run without a cluster's injection machinery, so these handlers
// follow knative's defaulting and validation admission controllers step by step and call
// tektoncd/operator's own SetDefaults and Validate (through package osp, which keeps them
// off the network).
const (
	ospDefaultingName = "webhook.operator.tekton.dev"
	ospValidationName = "validation.webhook.operator.tekton.dev"
	ospDefaultingPath = "/defaulting"
	ospValidationPath = "/resource-validation"
)

// ospWebhooks is what envtest installs: both webhooks on tektonconfigs, failing closed as
// OSP's do. envtest rewrites each service path into a URL of the local webhook server.
func ospWebhooks() envtest.WebhookInstallOptions {
	rules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule: admissionregistrationv1.Rule{
			APIGroups: []string{"operator.tekton.dev"}, APIVersions: []string{"v1alpha1"}, Resources: []string{"tektonconfigs"},
		},
	}}
	client := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
			Namespace: "openshift-operators", Name: "tekton-operator-webhook", Path: ptr.To(strings.TrimPrefix(path, "/")),
		}}
	}
	none := admissionregistrationv1.SideEffectClassNone
	fail := admissionregistrationv1.Fail
	return envtest.WebhookInstallOptions{
		MutatingWebhooks: []*admissionregistrationv1.MutatingWebhookConfiguration{{
			ObjectMeta: metav1.ObjectMeta{Name: ospDefaultingName},
			Webhooks: []admissionregistrationv1.MutatingWebhook{{
				Name: ospDefaultingName, ClientConfig: client(ospDefaultingPath), Rules: rules,
				SideEffects: &none, FailurePolicy: &fail, AdmissionReviewVersions: []string{"v1"},
			}},
		}},
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{{
			ObjectMeta: metav1.ObjectMeta{Name: ospValidationName},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name: ospValidationName, ClientConfig: client(ospValidationPath), Rules: rules,
				SideEffects: &none, FailurePolicy: &fail, AdmissionReviewVersions: []string{"v1"},
			}},
		}},
	}
}

// serveOSPWebhooks serves OSP's webhooks where envtest pointed the API server. It returns once
// the server answers, with the function that stops it and waits until it has stopped.
func serveOSPWebhooks(o envtest.WebhookInstallOptions) (stop func(), err error) {
	srv := webhook.NewServer(webhook.Options{Host: o.LocalServingHost, Port: o.LocalServingPort, CertDir: o.LocalServingCertDir})
	srv.Register(ospDefaultingPath, &webhook.Admission{Handler: admission.HandlerFunc(ospDefault)})
	srv.Register(ospValidationPath, &webhook.Admission{Handler: admission.HandlerFunc(ospValidate)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	stop = func() { cancel(); <-done }
	check := srv.StartedChecker()
	deadline := time.Now().Add(30 * time.Second)
	for check(&http.Request{}) != nil {
		select {
		case err := <-done:
			cancel()
			return nil, fmt.Errorf("OSP webhook server: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("OSP webhook server did not start within 30s")
		}
	}
	return stop, nil
}

// decodeTektonConfigs decodes the request's object and old object as knative does, with
// unknown fields refused.
func decodeTektonConfigs(req admission.Request) (obj, old *tektonv1alpha1.TektonConfig, err error) {
	if len(req.Object.Raw) > 0 {
		obj = &tektonv1alpha1.TektonConfig{}
		if err := knativejson.Decode(req.Object.Raw, obj, true); err != nil {
			return nil, nil, fmt.Errorf("cannot decode incoming new object: %w", err)
		}
	}
	if len(req.OldObject.Raw) > 0 {
		old = &tektonv1alpha1.TektonConfig{}
		if err := knativejson.Decode(req.OldObject.Raw, old, true); err != nil {
			return nil, nil, fmt.Errorf("cannot decode incoming old object: %w", err)
		}
	}
	return obj, old, nil
}

// ospDefault is knative's defaulting.mutate for TektonConfig: the patch that round-trips the
// object through the Go type (adding the non-omitempty zero values), then the one SetDefaults
// makes.
func ospDefault(_ context.Context, req admission.Request) admission.Response {
	obj, _, err := decodeTektonConfigs(req)
	if err != nil {
		return knativeDenied("mutation failed: %v", err)
	}
	if obj == nil {
		return admission.Allowed("")
	}
	roundTripped, err := json.Marshal(obj)
	if err != nil {
		return knativeDenied("mutation failed: %v", err)
	}
	patch, err := jsonpatch.CreatePatch(req.Object.Raw, roundTripped)
	if err != nil {
		return knativeDenied("mutation failed: cannot create patch for round tripped newBytes: %v", err)
	}
	defaulted := obj.DeepCopy()
	if fe := osp.Default(context.Background(), defaulted); fe != nil {
		return knativeDenied("mutation failed: %v", fe)
	}
	after, err := json.Marshal(defaulted)
	if err != nil {
		return knativeDenied("mutation failed: %v", err)
	}
	defaults, err := jsonpatch.CreatePatch(roundTripped, after)
	if err != nil {
		return knativeDenied("mutation failed: %v", err)
	}
	return admission.Patched("", append(patch, defaults...)...)
}

// ospValidate is knative's validation admission for TektonConfig: Validate within a create,
// or within an update of the old object as stored.
func ospValidate(_ context.Context, req admission.Request) admission.Response {
	obj, old, err := decodeTektonConfigs(req)
	if err != nil {
		return knativeDenied("%v", err)
	}
	if obj == nil || req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	if errs := osp.Validate(context.Background(), obj, old); len(errs) > 0 {
		msgs := make([]string, 0, len(errs))
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		return knativeDenied("validation failed: %s", strings.Join(msgs, "\n"))
	}
	return admission.Allowed("")
}

// knativeDenied is knative's webhook.MakeErrorStatus: a failure with a message and no code,
// which the API server returns as 400 Bad Request.
func knativeDenied(format string, args ...any) admission.Response {
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		Allowed: false,
		Result:  &metav1.Status{Status: metav1.StatusFailure, Message: fmt.Sprintf(format, args...)},
	}}
}
