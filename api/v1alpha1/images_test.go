package v1alpha1_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// TestDefaultImagesArePinnedOrSayWhy: every image the operator defaults, and every base image
// it is built from, is named by digest, or the comment above it says "Tag, not digest" and
// why: a digest is used only where one could be checked, and never invented.
func TestDefaultImagesArePinnedOrSayWhy(t *testing.T) {
	image := regexp.MustCompile(`^\s*// \+kubebuilder:default="([a-z0-9.-]+\.[a-z]+/[^"]+)"`)
	base := regexp.MustCompile(`^FROM (\S+)`)
	for _, file := range []string{"api/v1alpha1/pipelineservice_types.go", "api/v1alpha1/pipelineservicehost_types.go", "Dockerfile"} {
		data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), file))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		found := 0
		for i, line := range lines {
			m := image.FindStringSubmatch(line)
			if m == nil {
				m = base.FindStringSubmatch(line)
			}
			if m == nil {
				continue
			}
			found++
			if strings.Contains(m[1], "@sha256:") {
				continue
			}
			// The comment block above the line must say why the tag stays.
			j := i - 1
			for j >= 0 && (strings.HasPrefix(strings.TrimSpace(lines[j]), "//") || strings.HasPrefix(lines[j], "#") || base.MatchString(lines[j])) {
				if strings.Contains(lines[j], "Tag, not digest") {
					break
				}
				j--
			}
			if j < 0 || !strings.Contains(lines[j], "Tag, not digest") {
				t.Errorf("%s:%d: %s is named by tag: pin it by a digest you can check, or say \"Tag, not digest\" and why in the comment above", file, i+1, m[1])
			}
		}
		if found == 0 {
			t.Errorf("%s: no image found; the test no longer reads it", file)
		}
	}
}
