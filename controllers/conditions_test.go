package controllers_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/openshift-pipelines/pipeline-service-operator/controllers/pipelineservice"
	"github.com/openshift-pipelines/pipeline-service-operator/controllers/pipelineservicehost"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// TestEveryConditionTypeIsSet: each condition type the API declares (a Condition* constant in
// api/v1alpha1) is set by a kind, either as one every parent carries or as one of a kind's
// parts, whose declaration also gives its metric series and its place in Ready's message. A
// type added to the API and to no kind's parts fails here rather than going unset.
func TestEveryConditionTypeIsSet(t *testing.T) {
	file := filepath.Join(testenv.RepoRoot(), "api", "v1alpha1", "conditions.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	set := append(pipelineservice.ConditionTypes(), pipelineservicehost.ConditionTypes()...)
	declared := 0
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Condition") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					continue
				}
				value, _ := strconv.Unquote(lit.Value)
				declared++
				if !slices.Contains(set, value) {
					t.Errorf("%s (%q) is declared in the API and no kind sets it: add it to a kind's parts", name.Name, value)
				}
			}
		}
	}
	if declared < 10 {
		t.Fatalf("found %d condition types in %s; the parse missed them", declared, file)
	}
}
