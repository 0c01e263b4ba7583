// Package cli holds the subcommands of the manager binary, one file each, as the flux CLI lays
// out its commands: import (a live cluster to a PipelineService), and validate, render and
// diff for a GitOps repository. Each plans parents with the reconciler's own Planner, from the
// table of parent kinds main.go hands it (controllers.Kinds), so what they show is what the
// operator does.
package cli

import (
	"io"

	"k8s.io/client-go/rest"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/parent"
)

// Exit codes of every subcommand, as kubectl diff's: 0 nothing to report, 1 problems (or
// differences), 2 the command could not do its work.
const (
	ExitOK       = 0
	ExitProblems = 1
	ExitError    = 2
)

// Commands are the subcommands, over the parent kinds the operator runs.
type Commands struct {
	// Kinds are the parent kinds: the manager's table.
	Kinds  []parent.Registration
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Config reaches the cluster diff compares with; nil: the one $KUBECONFIG names.
	Config *rest.Config
}

// Run runs the subcommand name with args and returns its exit code; false when name is not a
// subcommand (the manager then runs).
func (c *Commands) Run(name string, args []string) (int, bool) {
	run, ok := map[string]func([]string) int{
		"import":   c.Import,
		"validate": c.Validate,
		"render":   c.Render,
		"diff":     c.Diff,
	}[name]
	if !ok {
		return 0, false
	}
	return run(args), true
}
