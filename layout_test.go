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

// layer ranks a package of this module: imports may only point to a lower layer, or within a
// layer where the rule says so.
func layer(pkg string) int {
	switch {
	case strings.HasPrefix(pkg, "api/"), strings.HasPrefix(pkg, "config/"):
		// config/ packages only embed generated files (the CRDs) and import nothing.
		return 0
	case strings.HasPrefix(pkg, "internal/"):
		return 1
	case strings.HasPrefix(pkg, "controllers"):
		return 2
	}
	return 3 // main, hack/...
}

// TestImportsFlowOneWay: main -> controllers -> internal -> api, with nothing pointing back
// up; a kind's package imports no other kind's (nothing kind-specific is shared: what both
// need belongs in internal/parent); and no production package imports test support. It reads
// `go list -deps` of every package, so a new package is covered without a list to keep.
func TestImportsFlowOneWay(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports,Standard", "./...")
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("go list: %v\n%s", err, exit.Stderr)
		}
		t.Fatal(err)
	}
	checked := 0
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		from, ok := local(p.ImportPath)
		if !ok {
			continue
		}
		checked++
		for _, imp := range p.Imports {
			to, ok := local(imp)
			if !ok {
				continue
			}
			for _, problem := range backEdge(from, to) {
				t.Errorf("%s imports %s: %s", from, to, problem)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("go list gave %d of the module's packages; expected every one", checked)
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

// backEdge names what is wrong with from importing to, nothing when the edge is allowed.
func backEdge(from, to string) []string {
	var problems []string
	if layer(to) > layer(from) {
		problems = append(problems, "an import that points back up (main -> controllers -> internal -> api)")
	}
	if kindPackage(from) && kindPackage(to) && from != to {
		problems = append(problems, "one kind's package imports another's; move what both need to internal/parent")
	}
	if from != "." && layer(from) < 3 && slices.Contains(testSupport, to) && !slices.Contains(testSupport, from) {
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
		bad      bool
	}{
		{".", "controllers", false},
		{"controllers", "controllers/pipelineservice", false},
		{"controllers/pipelineservice", "internal/parent", false},
		{"internal/parent", "internal/apply", false},
		{"internal/render", "api/v1alpha1", false},
		{"internal/admission", "config/crd", false},
		{"config/crd", "internal/render", true},
		{"hack/bench", "internal/testsupport/simulate", false},
		{"internal/testsupport/simulate", "internal/testsupport/testenv", false},
		{"internal/importer", "controllers/pipelineservice", true},
		{"internal/manager", "controllers", true},
		{"api/v1alpha1", "internal/children", true},
		{"controllers/pipelineservice", "controllers/pipelineservicehost", true},
		{"internal/parent", "internal/testsupport/testenv", true},
		{"controllers/pipelineservice", "internal/testsupport/simulate", true},
	} {
		if got := len(backEdge(tc.from, tc.to)) > 0; got != tc.bad {
			t.Errorf("%s -> %s: refused %v, want %v", tc.from, tc.to, got, tc.bad)
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
