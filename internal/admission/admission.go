// Package admission rules on a PipelineService or PipelineServiceHost offline, as the API
// server's custom resource handler does, from the generated CRDs embedded in the binary
// (config/crd): the strict decode's unknown fields, the structural defaults, the OpenAPI schema,
// the embedded metadata, the list types and the CEL rules, transition rules included when the
// previous version is given. It runs the API-extensions libraries the API server runs, in the
// order k8s.io/apiextensions-apiserver v0.36 runs them (pkg/apiserver/customresource_handler.go,
// unstructuredSchemaCoercer.apply; pkg/registry/customresource/strategy.go and validator.go,
// Validate and ValidateUpdate), so it cannot drift from the cluster's verdict as a second copy
// of the rules would.
//
// Nothing is parsed or compiled before the first call: the manager links this package through
// the validate subcommand and must not pay for it at start-up.
package admission

import (
	"context"
	"fmt"
	"io/fs"
	"sync"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/common"
	"sigs.k8s.io/yaml"

	"github.com/openshift-pipelines/pipeline-service-operator/config/crd"
)

// Verdict is the API server's answer to one object.
type Verdict struct {
	// Unknown are the paths of fields the schema does not declare. With strict field
	// validation (kubectl's and ArgoCD's default) the server refuses the request for them
	// before it validates anything, so Errs is then empty.
	Unknown []string
	// Errs are the validation errors, as the server lists them in its 422 Invalid.
	Errs field.ErrorList
	// Object is the object as the server would store it: pruned and defaulted.
	Object *unstructured.Unstructured
}

// Allowed is whether the server would accept the object.
func (v Verdict) Allowed() bool { return len(v.Unknown) == 0 && len(v.Errs) == 0 }

// Problem is one of a Verdict's refusals: the field's path ("" for the object as a whole) and
// the server's message for it.
type Problem struct{ Field, Message string }

func (p Problem) String() string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

// Problems lists the refusals, unknown fields first, as the server words them.
func (v Verdict) Problems() []Problem {
	var out []Problem
	for _, path := range v.Unknown {
		out = append(out, Problem{Field: path, Message: unknownFieldMessage(path)})
	}
	for _, e := range v.Errs {
		f := e.Field
		if f == "<nil>" {
			// A rule on the object as a whole, which the server names no field for.
			f = ""
		}
		out = append(out, Problem{Field: f, Message: e.ErrorBody()})
	}
	return out
}

// unknownFieldMessage is the server's strict decoding message for an undeclared field
// (customresource_handler.go, schemaCoercingDecoder.Decode).
func unknownFieldMessage(path string) string { return fmt.Sprintf("unknown field %q", path) }

// kindSchema is one served version of one embedded CRD, ready to rule.
type kindSchema struct {
	gvk        schema.GroupVersionKind
	namespaced bool
	structural *structuralschema.Structural
	validator  validation.SchemaValidator
	cel        *cel.Validator
}

// schemas are built from the embedded CRDs on first use.
var schemas = sync.OnceValues(load)

// Default applies the CRD's structural defaults to obj in place, as the API server does on
// decoding, with no other check: for tests and tools that want what a cluster would store
// of a sample.
func Default(obj *unstructured.Unstructured) error {
	all, err := schemas()
	if err != nil {
		return err
	}
	s, ok := all[obj.GroupVersionKind()]
	if !ok {
		return fmt.Errorf("%s is not a kind of this operator", obj.GroupVersionKind())
	}
	structuraldefaulting.Default(obj.Object, s.structural)
	return nil
}

// Review rules on obj as the API server would on its create, or on an update of old when old
// is not nil. Neither is changed. An error says the embedded CRDs do not load, or obj is not
// one of their kinds.
func Review(ctx context.Context, obj, old *unstructured.Unstructured) (Verdict, error) {
	all, err := schemas()
	if err != nil {
		return Verdict{}, err
	}
	s, ok := all[obj.GroupVersionKind()]
	if !ok {
		return Verdict{}, fmt.Errorf("%s is not a kind of this operator", obj.GroupVersionKind())
	}
	v := Verdict{Object: obj.DeepCopy()}
	unknown, err := s.coerce(v.Object, true)
	if err != nil {
		return Verdict{}, err
	}
	if len(unknown) > 0 {
		v.Unknown = unknown
		return v, nil
	}
	structuraldefaulting.Default(v.Object.Object, s.structural)
	if old == nil {
		v.Errs = s.validateCreate(ctx, v.Object)
		return v, nil
	}
	// The old object is as the server stored it: pruned and defaulted, its unknown fields
	// long gone.
	stored := old.DeepCopy()
	if _, err := s.coerce(stored, false); err != nil {
		return Verdict{}, fmt.Errorf("the previous version: %w", err)
	}
	keepServerMetadata(v.Object, stored)
	structuraldefaulting.Default(stored.Object, s.structural)
	v.Errs = s.validateUpdate(ctx, v.Object, stored)
	return v, nil
}

// keepServerMetadata gives u the metadata the server keeps on the stored object, as an apply
// would: it sends the change as a patch of the stored object, and a manifest carries no
// resourceVersion, uid, creationTimestamp or generation of its own.
func keepServerMetadata(u, stored *unstructured.Unstructured) {
	if stored.GetResourceVersion() == "" {
		stored.SetResourceVersion("1")
	}
	if u.GetResourceVersion() == "" {
		u.SetResourceVersion(stored.GetResourceVersion())
	}
	if u.GetUID() == "" {
		u.SetUID(stored.GetUID())
	}
	if created := u.GetCreationTimestamp(); created.IsZero() {
		u.SetCreationTimestamp(stored.GetCreationTimestamp())
	}
	if u.GetGeneration() == 0 {
		u.SetGeneration(stored.GetGeneration())
	}
}

// coerce prunes what the schema does not declare, as unstructuredSchemaCoercer.apply does on
// decoding, and returns the pruned paths when track is set.
func (s *kindSchema) coerce(u *unstructured.Unstructured, track bool) ([]string, error) {
	kind, apiVersion := u.GetKind(), u.GetAPIVersion()
	meta, found, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u.Object, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: track})
	if err != nil {
		return nil, err
	}
	unknown = append(unknown, structuralpruning.PruneWithOptions(u.Object, s.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: track})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, s.structural)
	ferr, paths := schemaobjectmeta.CoerceWithOptions(nil, u.Object, s.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: track})
	if ferr != nil {
		return nil, ferr
	}
	unknown = append(unknown, paths...)
	u.SetKind(kind)
	u.SetAPIVersion(apiVersion)
	if found {
		if err := schemaobjectmeta.SetObjectMeta(u.Object, meta); err != nil {
			return nil, err
		}
	}
	return unknown, nil
}

// validateCreate is customResourceStrategy.Validate.
func (s *kindSchema) validateCreate(ctx context.Context, u *unstructured.Unstructured) field.ErrorList {
	if errs := s.validateTypeMeta(u); len(errs) > 0 {
		return errs
	}
	var errs field.ErrorList
	errs = append(errs, apivalidation.ValidateObjectMetaAccessor(u, s.namespaced, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	errs = append(errs, validation.ValidateCustomResource(nil, u.Object, s.validator)...)
	errs = append(errs, schemaobjectmeta.Validate(nil, u.Object, s.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, s.structural, u.Object)...)
	return s.validateRules(ctx, errs, u, nil)
}

// validateUpdate is customResourceStrategy.ValidateUpdate, with validation ratcheting
// (CRDValidationRatcheting, GA and locked on since Kubernetes 1.33): a value that was
// already invalid and did not change is not refused again.
func (s *kindSchema) validateUpdate(ctx context.Context, u, old *unstructured.Unstructured) field.ErrorList {
	if errs := s.validateTypeMeta(u); len(errs) > 0 {
		return errs
	}
	correlated := common.NewCorrelatedObject(u.Object, old.Object, &model.Structural{Structural: s.structural})
	var errs field.ErrorList
	errs = append(errs, apivalidation.ValidateObjectMetaAccessorUpdate(u, old, field.NewPath("metadata"))...)
	errs = append(errs, validation.ValidateCustomResourceUpdate(nil, u.Object, old.Object, s.validator, validation.WithRatcheting(correlated))...)
	errs = append(errs, schemaobjectmeta.Validate(nil, u.Object, s.structural, false)...)
	if oldErrs := structurallisttype.ValidateListSetsAndMaps(nil, s.structural, old.Object); len(oldErrs) == 0 {
		errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, s.structural, u.Object)...)
	}
	return s.validateRules(ctx, errs, u, old, cel.WithRatcheting(correlated))
}

// validateRules runs the CEL rules unless an earlier error blocks them, as the strategy does
// (hasBlockingErr): a missing or mistyped field would make a rule fail for the wrong reason.
func (s *kindSchema) validateRules(ctx context.Context, errs field.ErrorList, u, old *unstructured.Unstructured, opts ...cel.Option) field.ErrorList {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return append(errs, field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"))
		}
	}
	var oldObj any
	if old != nil {
		oldObj = old.Object
	}
	ruleErrs, _ := s.cel.Validate(ctx, nil, s.structural, u.Object, oldObj, celconfig.RuntimeCELCostBudget, opts...)
	return append(errs, ruleErrs...)
}

// validateTypeMeta is customResourceValidator.ValidateTypeMeta.
func (s *kindSchema) validateTypeMeta(u *unstructured.Unstructured) field.ErrorList {
	var errs field.ErrorList
	if u.GetKind() != s.gvk.Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), u.GetKind(), fmt.Sprintf("must be %v", s.gvk.Kind)))
	}
	if u.GetAPIVersion() != s.gvk.GroupVersion().String() {
		errs = append(errs, field.Invalid(field.NewPath("apiVersion"), u.GetAPIVersion(), fmt.Sprintf("must be %v", s.gvk.GroupVersion())))
	}
	return errs
}

// load builds a kindSchema for each served version of each embedded CRD.
func load() (map[schema.GroupVersionKind]*kindSchema, error) {
	files, err := fs.Glob(crd.Bases, "bases/*.yaml")
	if err != nil {
		return nil, err
	}
	out := map[schema.GroupVersionKind]*kindSchema{}
	for _, f := range files {
		data, err := crd.Bases.ReadFile(f)
		if err != nil {
			return nil, err
		}
		def := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, def); err != nil {
			return nil, fmt.Errorf("embedded CRD %s: %w", f, err)
		}
		for _, v := range def.Spec.Versions {
			if !v.Served || v.Schema == nil {
				continue
			}
			gvk := schema.GroupVersionKind{Group: def.Spec.Group, Version: v.Name, Kind: def.Spec.Names.Kind}
			s, err := newKindSchema(gvk, def.Spec.Scope == apiextensionsv1.NamespaceScoped, v.Schema)
			if err != nil {
				return nil, fmt.Errorf("embedded CRD %s, version %s: %w", f, v.Name, err)
			}
			out[gvk] = s
		}
	}
	return out, nil
}

func newKindSchema(gvk schema.GroupVersionKind, namespaced bool, v1 *apiextensionsv1.CustomResourceValidation) (*kindSchema, error) {
	internal := &apiextensionsinternal.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(v1, internal, nil); err != nil {
		return nil, err
	}
	structural, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, err
	}
	validator, _, err := validation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, err
	}
	return &kindSchema{
		gvk:        gvk,
		namespaced: namespaced,
		structural: structural,
		validator:  validator,
		cel:        cel.NewValidator(structural, true, celconfig.PerCallLimit),
	}, nil
}
