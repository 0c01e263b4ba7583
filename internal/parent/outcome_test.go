package parent

import (
	"errors"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestApplyErrorsAreClassified: a refusal by the API server or its admission is
// ApplyRejected, an optimistic-lock conflict is retried quietly, anything else is a
// transient ApplyFailed; the apply path wraps every error, so the test does too.
func TestApplyErrorsAreClassified(t *testing.T) {
	gr := schema.GroupResource{Group: "apps", Resource: "deployments"}
	wrap := func(err error) error { return fmt.Errorf("apply Deployment a/b: %w", err) }
	for name, tc := range map[string]struct {
		err                error
		rejected, conflict bool
	}{
		"webhook denial (knative: 400)": {wrap(apierrors.NewBadRequest(`admission webhook "validation.webhook.operator.tekton.dev" denied the request`)), true, false},
		"policy denial (422)":           {wrap(apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "b", field.ErrorList{field.Forbidden(field.NewPath("metadata"), "frozen")})), true, false},
		"quota or RBAC (403)":           {wrap(apierrors.NewForbidden(gr, "b", errors.New("exceeded quota"))), true, false},
		"too large (413)":               {wrap(apierrors.NewRequestEntityTooLargeError("limit is 3145728")), true, false},
		"conflict (409)":                {wrap(apierrors.NewConflict(gr, "b", errors.New("the object has been modified"))), false, true},
		"timeout":                       {wrap(apierrors.NewServerTimeout(gr, "patch", 1)), false, false},
		"connection refused":            {wrap(errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")), false, false},
	} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(rejectedByServer(tc.err)).To(Equal(tc.rejected))
			g.Expect(allConflicts([]error{tc.err})).To(Equal(tc.conflict))
		})
	}
	NewWithT(t).Expect(allConflicts(nil)).To(BeFalse(), "no error is no conflict")
}
