package main

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is this repository's module path.
const module = "github.com/openshift-pipelines/pipeline-service-operator"

// testSupport are the packages that play the neighbours that cannot run here (OLM's and
// OSP's controllers, a kubelet) or start a control plane: production code must not import
// them, so that it has no test branches.
var testSupport = []string{"internal/testsupport/testenv", "internal/testsupport/simulate", "internal/testsupport/samples"}

// internalRank orders the packages of internal/: an import may point to a lower rank or within
// one. The leaves (the registry, field comparison, the checks of what was observed, the API
// server's verdict) come first, then the pure steps and the engine, then what composes them,
// then the one reconciler, then the subcommands; test support sits above all of them. A new
// package of internal/ fails TestImportsFlowOneWay until it is ranked here.
var internalRank = map[string]int{
	"internal/fields": 0, "internal/children": 0, "internal/dashboard": 0, "internal/admission": 0, "internal/health": 0,
	"internal/apply": 1, "internal/render": 1, "internal/osp": 1,
	"internal/inventory": 2, "internal/watches": 2, "internal/importer": 2, "internal/manager": 2,
	"internal/parent":              3,
	"internal/cli":                 4,
	"internal/testsupport/testenv": 5, "internal/testsupport/simulate": 5, "internal/testsupport/samples": 5,
}

// rank places a package of this module: imports may only point to a lower rank, or within a
// rank. The first number is the room (api and config; internal; controllers; main and hack),
// the second the place inside internal/ (internalRank); -1 for an internal package not ranked.
func rank(pkg string) (int, int) {
	switch {
	case strings.HasPrefix(pkg, "api/"), strings.HasPrefix(pkg, "config/"):
		// config/ packages only embed generated files (the CRDs) and import nothing.
		return 0, 0
	case strings.HasPrefix(pkg, "internal/"):
		r, ok := internalRank[pkg]
		if !ok {
			return 1, -1
		}
		return 1, r
	case strings.HasPrefix(pkg, "controllers"):
		return 2, 0
	}
	return 3, 0 // main, hack/...
}

// above is whether a package of rank a sits above one of rank b.
func above(aRoom, aPlace, bRoom, bPlace int) bool {
	return aRoom > bRoom || (aRoom == bRoom && aPlace > bPlace)
}

// listed is one package as go list -test gives it.
type listed struct {
	ImportPath string
	Imports    []string
	ForTest    string
}

// TestImportsFlowOneWay: main -> controllers -> internal -> api, and inside internal/ by
// internalRank, with nothing pointing back up; a kind's package imports no other kind's
// (nothing kind-specific is shared: what both need belongs in internal/parent); and no
// production package (the root's included) imports test support. Test files keep the same
// flow but may use test support wherever they are. It reads `go list -test` of every package,
// test files included, so a new package or test is covered without a list to keep.
func TestImportsFlowOneWay(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-test", "-json=ImportPath,Imports,ForTest", "./...")
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("go list: %v\n%s", err, exit.Stderr)
		}
		t.Fatal(err)
	}
	checked, tests := 0, 0
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		path, _, _ := strings.Cut(p.ImportPath, " ")
		if strings.HasSuffix(path, ".test") {
			continue // the generated test main
		}
		isTest := p.ForTest != ""
		from, ok := local(strings.TrimSuffix(path, "_test"))
		if !ok {
			continue
		}
		checked++
		if isTest {
			tests++
		}
		if _, place := rank(from); place < 0 {
			t.Errorf("%s is not ranked in internalRank", from)
		}
		for _, imp := range p.Imports {
			imp, _, _ = strings.Cut(imp, " ")
			to, ok := local(imp)
			if !ok || to == from {
				continue
			}
			for _, problem := range backEdge(from, to, isTest) {
				t.Errorf("%s%s imports %s: %s", from, map[bool]string{true: " (tests)"}[isTest], to, problem)
			}
		}
	}
	if checked < 10 || tests < 10 {
		t.Fatalf("go list gave %d of the module's packages, %d of them tests; expected every one", checked, tests)
	}
}

// local is pkg's path inside the module ("." for the root), false for other modules'.
func local(pkg string) (string, bool) {
	if pkg == module {
		return ".", true
	}
	rest, ok := strings.CutPrefix(pkg, module+"/")
	return rest, ok
}

// backEdge names what is wrong with from importing to (from's test files when test), nothing
// when the edge is allowed.
func backEdge(from, to string, test bool) []string {
	var problems []string
	fromRoom, fromPlace := rank(from)
	toRoom, toPlace := rank(to)
	support := slices.Contains(testSupport, to)
	if above(toRoom, toPlace, fromRoom, fromPlace) && !(test && support) {
		problems = append(problems, "an import that points back up (main -> controllers -> internal by rank -> api)")
	}
	if kindPackage(from) && kindPackage(to) && from != to {
		problems = append(problems, "one kind's package imports another's; move what both need to internal/parent")
	}
	if !test && support && !slices.Contains(testSupport, from) && !strings.HasPrefix(from, "hack/") {
		problems = append(problems, "production code imports test support")
	}
	return problems
}

// kindPackage is whether pkg is one kind's controller package (controllers/<kind>).
func kindPackage(pkg string) bool {
	return strings.HasPrefix(pkg, "controllers/") && !strings.Contains(strings.TrimPrefix(pkg, "controllers/"), "/")
}

// TestBackEdgeRule checks the rule itself on edges that must pass and edges that must fail, so
// that TestImportsFlowOneWay cannot pass by accepting everything.
func TestBackEdgeRule(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		test     bool
		bad      bool
	}{
		{".", "controllers", false, false},
		{"controllers", "controllers/pipelineservice", false, false},
		{"controllers/pipelineservice", "internal/parent", false, false},
		{"internal/parent", "internal/apply", false, false},
		{"internal/render", "api/v1alpha1", false, false},
		{"internal/admission", "config/crd", false, false},
		{"internal/cli", "internal/parent", false, false},
		{"config/crd", "internal/render", false, true},
		{"hack/bench", "internal/testsupport/simulate", false, false},
		{"internal/testsupport/simulate", "internal/testsupport/testenv", false, false},
		{"internal/importer", "controllers/pipelineservice", false, true},
		{"internal/manager", "controllers", false, true},
		{"internal/render", "internal/parent", false, true},
		{"internal/apply", "internal/inventory", false, true},
		{"internal/parent", "internal/cli", false, true},
		{"api/v1alpha1", "internal/children", false, true},
		{"controllers/pipelineservice", "controllers/pipelineservicehost", false, true},
		{"internal/parent", "internal/testsupport/testenv", false, true},
		{"controllers/pipelineservice", "internal/testsupport/simulate", false, true},
		{".", "internal/testsupport/testenv", false, true},
		{".", "internal/testsupport/testenv", true, false},
		{"api/v1alpha1", "internal/testsupport/testenv", true, false},
		{"internal/parent", "controllers", true, true},
		{"controllers/pipelineservice", "controllers/pipelineservicehost", true, true},
	} {
		if got := len(backEdge(tc.from, tc.to, tc.test)) > 0; got != tc.bad {
			t.Errorf("%s -> %s (test %v): refused %v, want %v", tc.from, tc.to, tc.test, got, tc.bad)
		}
	}
}

// TestNoBinariesAreCommitted: every file git tracks is text, as git itself judges it (a NUL
// byte in the first 8000), so a built manager or a tool's binary cannot slip in with a commit.
func TestNoBinariesAreCommitted(t *testing.T) {
	out, err := exec.Command("git", "ls-files", "--eol").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// "i/lf    w/lf    attr/                 \tpath"
		info, path, _ := strings.Cut(line, "\t")
		if strings.HasPrefix(info, "i/-text") {
			t.Errorf("%s is committed and is not text: build artefacts stay out of the repository", path)
		}
	}
}
