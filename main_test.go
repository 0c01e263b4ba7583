package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift-pipelines/pipeline-service-operator/controllers"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/cli"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/simulate"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// plane is the one control plane the subcommands' tests share, with every third-party CRD and
// the namespaces of an OpenShift host and member: started by the first test that needs it,
// stopped by TestMain.
var plane struct {
	once sync.Once
	env  *testenv.Env
	cfg  *rest.Config
	err  error
}

// controlPlane returns the shared control plane.
func controlPlane(t *testing.T) (*testenv.Env, *rest.Config) {
	t.Helper()
	plane.once.Do(func() {
		crds, err := testenv.AllThirdPartyCRDs()
		if err != nil {
			plane.err = err
			return
		}
		if plane.env, plane.cfg, plane.err = testenv.Start(crds); plane.err != nil {
			return
		}
		c, err := client.New(plane.cfg, client.Options{Scheme: manager.NewScheme()})
		if err == nil {
			err = simulate.EnsureNamespaces(context.Background(), c, append(testenv.PlatformNamespaces, "toolchain-host-operator")...)
		}
		plane.err = err
	})
	if plane.err != nil {
		t.Fatal(plane.err)
	}
	return plane.env, plane.cfg
}

func TestMain(m *testing.M) {
	code := m.Run()
	if plane.env != nil {
		if err := plane.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
	}
	os.Exit(code)
}

// The subcommands as main.go runs them: over controllers.Kinds, the manager's own table.
const (
	exitOK       = cli.ExitOK
	exitProblems = cli.ExitProblems
	exitError    = cli.ExitError
)

func commands(stdin io.Reader, stdout, stderr io.Writer) *cli.Commands {
	return &cli.Commands{Kinds: controllers.Kinds, Stdin: stdin, Stdout: stdout, Stderr: stderr}
}

func runValidate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return commands(stdin, stdout, stderr).Validate(args)
}

func runRender(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return commands(stdin, stdout, stderr).Render(args)
}

func runDiff(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return commands(stdin, stdout, stderr).Diff(args)
}
