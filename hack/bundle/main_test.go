package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"github.com/operator-framework/api/pkg/manifests"
	"github.com/operator-framework/api/pkg/validation"
	"github.com/operator-framework/api/pkg/validation/errors"

	"github.com/openshift-pipelines/pipeline-service-operator/controllers"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// TestBundleIsValid runs the operator-framework validators over the committed bundle: the
// default bundle validators, OperatorHub's and the good-practices one. Any error fails;
// warnings are printed.
func TestBundleIsValid(t *testing.T) {
	g := NewWithT(t)
	bundle, err := manifests.GetBundleFromDir(filepath.Join(testenv.RepoRoot(), "bundle"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(bundle.CSV).NotTo(BeNil())
	g.Expect(bundle.V1CRDs).To(HaveLen(len(controllers.Kinds)), "one CRD per parent kind")

	validators := validation.DefaultBundleValidators.WithValidators(
		validation.OperatorHubV2Validator, validation.GoodPracticesValidator)
	results := validators.Validate(append(bundle.ObjectsToValidate(), bundle)...)
	var failures []errors.Error
	for _, r := range results {
		for _, e := range r.Errors {
			failures = append(failures, e)
		}
		for _, w := range r.Warnings {
			t.Logf("warning: %s", w)
		}
	}
	g.Expect(failures).To(BeEmpty())

	csv := bundle.CSV
	g.Expect(csv.Spec.Maturity).To(Equal("alpha"))
	g.Expect(csv.Spec.MinKubeVersion).NotTo(BeEmpty())
	g.Expect(csv.Spec.Icon).NotTo(BeEmpty())
	for _, m := range csv.Spec.InstallModes {
		g.Expect(m.Supported).To(Equal(m.Type == "AllNamespaces"), string(m.Type))
	}
	owned := csv.Spec.CustomResourceDefinitions.Owned
	g.Expect(owned).To(HaveLen(2))
	for _, o := range owned {
		g.Expect(o.SpecDescriptors).NotTo(BeEmpty(), o.Kind)
		g.Expect(o.StatusDescriptors).NotTo(BeEmpty(), o.Kind)
	}
	g.Expect(csv.Spec.InstallStrategy.StrategySpec.ClusterPermissions[0].Rules).NotTo(BeEmpty())
}

// TestBundleIsCurrent regenerates the bundle into a temporary directory and compares it with
// the committed one: a change to config/ or the API without `make bundle` fails here.
func TestBundleIsCurrent(t *testing.T) {
	g := NewWithT(t)
	root := testenv.RepoRoot()
	tmp := t.TempDir()
	g.Expect(write(root, tmp, "0.1.0", "")).To(Succeed())
	var files []string
	g.Expect(filepath.Walk(filepath.Join(tmp), func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(tmp, path)
			files = append(files, rel)
		}
		return err
	})).To(Succeed())
	g.Expect(files).To(ContainElement("bundle.Dockerfile"))
	for _, rel := range files {
		want, err := os.ReadFile(filepath.Join(tmp, rel))
		g.Expect(err).NotTo(HaveOccurred())
		got, err := os.ReadFile(filepath.Join(root, rel))
		g.Expect(err).NotTo(HaveOccurred(), "%s is not committed; run make bundle", rel)
		g.Expect(string(got)).To(Equal(string(want)), "%s is stale; run make bundle", rel)
	}
	committed, err := filepath.Glob(filepath.Join(root, "bundle", "*", "*"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(committed).To(HaveLen(len(files)-1), "bundle/ holds files make bundle does not write")
}

// TestCatalogFragmentValidates runs `opm validate` over catalog/, the file-based catalog
// fragment `make bundle` renders from the bundle with `opm render`.
func TestCatalogFragmentValidates(t *testing.T) {
	dir, err := testenv.OLMDir()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(dir, "opm"), "validate", filepath.Join(testenv.RepoRoot(), "catalog"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("opm validate catalog: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "catalog", "pipeline-service-operator", "catalog.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"schema: olm.package", "schema: olm.channel", "schema: olm.bundle", "name: pipeline-service-operator.v"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("catalog.yaml has no %q", want)
		}
	}
}
