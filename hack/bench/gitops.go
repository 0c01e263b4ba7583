package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// --- 9. validate, and what linking it costs the manager ---

// validateRuns is how many times the validate figure runs the command.
const validateRuns = 10

// validateFigure times `manager validate` of the production overlay, as a GitOps repository's
// CI runs it: a process per run, the overlay built by kustomize beforehand. Its floor is the
// same process doing no check (validate --version): what any CI step with this binary pays.
func validateFigure(ctx context.Context, shipped, dir string) (row, error) {
	overlay := exec.CommandContext(ctx, "go", "run", "sigs.k8s.io/kustomize/kustomize/v5@v5.7.1", "build", "config/samples/overlays/production")
	overlay.Dir = testenv.RepoRoot()
	built, err := overlay.Output()
	if err != nil {
		return row{}, fmt.Errorf("kustomize build the production overlay: %w", err)
	}
	file := filepath.Join(dir, "production.yaml")
	if err := os.WriteFile(file, built, 0o600); err != nil {
		return row{}, err
	}
	timeRuns := func(args ...string) ([]time.Duration, error) {
		var out []time.Duration
		for range validateRuns {
			start := time.Now()
			cmd := exec.CommandContext(ctx, shipped, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("%s %v: %w\n%s", shipped, args, err, stderr.String())
			}
			out = append(out, time.Since(start))
		}
		return out, nil
	}
	checks, err := timeRuns("validate", file)
	if err != nil {
		return row{}, err
	}
	floor, err := timeRuns("validate", "--version")
	if err != nil {
		return row{}, err
	}
	r := row{figure: "validate: the production overlay, one process", target: "p50 < 1 s", met: "met"}
	if percentile(checks, 50) >= time.Second {
		r.met = "MISSED"
	}
	r.value = fmt.Sprintf("p50 %s, max %s over %d runs; floor (validate --version, no check) p50 %s",
		ms(percentile(checks, 50)), ms(percentile(checks, 100)), validateRuns, ms(percentile(floor, 50)))
	return r, nil
}

// initCost is the package initialisation of one binary, as GODEBUG=inittrace=1 reports it.
type initCost struct {
	clock    time.Duration
	bytes    int64
	packages int
}

// packageInit compares the package initialisation of the shipped binary with that of the bench
// manager, the same manager without the subcommands: what linking validate's libraries (the
// API server's schema validation, CEL) costs every start of the operator. Each is the median
// of five starts (--help: the inits, then exit).
func packageInit(ctx context.Context, shipped, manager string) (row, error) {
	median := func(bin string) (initCost, error) {
		var runs []initCost
		for range 5 {
			c, err := readInitTrace(ctx, bin)
			if err != nil {
				return initCost{}, err
			}
			runs = append(runs, c)
		}
		slices.SortFunc(runs, func(a, b initCost) int { return int(a.clock - b.clock) })
		return runs[len(runs)/2], nil
	}
	with, err := median(shipped)
	if err != nil {
		return row{}, err
	}
	without, err := median(manager)
	if err != nil {
		return row{}, err
	}
	added := with.clock - without.clock
	r := row{figure: "package init (GODEBUG=inittrace=1)", target: "validate adds <= 10 ms", met: "met"}
	if added > 10*time.Millisecond {
		r.met = "MISSED"
	}
	r.value = fmt.Sprintf("shipped %s, %.1f MiB, %d packages; without the subcommands %s, %.1f MiB, %d packages (validate's own schemas load on first use)",
		ms(with.clock), float64(with.bytes)/(1<<20), with.packages, ms(without.clock), float64(without.bytes)/(1<<20), without.packages)
	return r, nil
}

// readInitTrace starts bin with --help under GODEBUG=inittrace=1 and sums its init lines:
// "init <package> @<start> ms, <clock> ms clock, <bytes> bytes, <allocs> allocs".
func readInitTrace(ctx context.Context, bin string) (initCost, error) {
	cmd := exec.CommandContext(ctx, bin, "--help")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_ = cmd.Run() // --help exits 0 or 2 depending on the flag package; the trace is written first
	var c initCost
	for line := range strings.SplitSeq(stderr.String(), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || f[0] != "init" {
			continue
		}
		clock, err1 := strconv.ParseFloat(f[4], 64)
		size, err2 := strconv.ParseInt(f[7], 10, 64)
		if err1 != nil || err2 != nil {
			return initCost{}, fmt.Errorf("inittrace line %q", line)
		}
		c.clock += time.Duration(clock * float64(time.Millisecond))
		c.bytes += size
		c.packages++
	}
	if c.packages == 0 {
		return initCost{}, fmt.Errorf("%s --help printed no inittrace lines", bin)
	}
	return c, nil
}
