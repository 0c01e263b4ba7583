package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// TestDockerfileBuildContextBuilds copies what the Dockerfile's builder stage copies, and
// nothing else, into an empty directory and builds the manager there, as the image build
// would: a source file the Dockerfile forgets to copy, or .dockerignore keeps out of the
// build context, fails here, with no Docker engine.
func TestDockerfileBuildContextBuilds(t *testing.T) {
	t.Parallel()
	root := testenv.RepoRoot()
	admitted := dockerignoreAdmits(t, root)
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		words := strings.Fields(scanner.Text())
		if len(words) < 3 || words[0] != "COPY" || strings.HasPrefix(words[1], "--") {
			continue
		}
		dest := words[len(words)-1]
		for _, src := range words[1 : len(words)-1] {
			matches, err := filepath.Glob(filepath.Join(root, src))
			if err != nil || len(matches) == 0 {
				t.Fatalf("Dockerfile copies %s, which matches nothing", src)
			}
			for _, m := range matches {
				rel, _ := filepath.Rel(root, m)
				if !admitted(rel) {
					t.Errorf("Dockerfile copies %s, which .dockerignore keeps out of the build context", rel)
					continue
				}
				if err := copyInto(m, filepath.Join(dir, dest), strings.HasSuffix(dest, "/")); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	cmd := exec.Command("go", "build", "-o", os.DevNull, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's build context does not build: %v\n%s", err, out)
	}
}

// copyInto copies a file or a directory's content to target, or into target when it is a
// directory (a destination that ends in a slash).
func copyInto(src, target string, intoDir bool) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if info.IsDir() {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
		src += string(filepath.Separator) + "."
	} else if intoDir {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
	}
	if out, err := exec.Command("cp", "-R", src, target).CombinedOutput(); err != nil {
		return fmt.Errorf("copy %s: %v\n%s", src, err, out)
	}
	return nil
}

// dockerignoreAdmits reads .dockerignore, which excludes everything ("*") and then admits
// patterns ("!pattern", a directory with a trailing slash), and says whether a path from the
// repository root is in the build context.
func dockerignoreAdmits(t *testing.T, root string) func(string) bool {
	data, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var admit []string
	for line := range strings.SplitSeq(string(data), "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "!"); ok {
			admit = append(admit, p)
		}
	}
	return func(path string) bool {
		for _, p := range admit {
			if dir, ok := strings.CutSuffix(p, "/"); ok && (path == dir || strings.HasPrefix(path, dir+"/")) {
				return true
			}
			if ok, _ := filepath.Match(p, path); ok {
				return true
			}
		}
		return false
	}
}
