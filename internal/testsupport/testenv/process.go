package testenv

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// FreeAddr returns a local address that nothing listens on, for a metrics or probe endpoint.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// RoundTripFunc is an http.RoundTripper made of a function, for the transports with which
// tests and the bench count, cut or refuse requests.
type RoundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f RoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Reconciles is how many reconciles the pipelineservice controller has run in this process,
// from controller-runtime's own counter.
func Reconciles() int {
	families, _ := crmetrics.Registry.Gather()
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "controller" && l.GetValue() == "pipelineservice" {
					total += m.Counter.GetValue()
				}
			}
		}
	}
	return int(total)
}

// Process is a running process, as /proc shows it.
type Process struct {
	PID, PPID int
	// Exe is the executable's path, Args the command line.
	Exe    string
	Args   []string
	Zombie bool
}

// Processes lists the processes of this machine from /proc.
func Processes() []Process {
	entries, _ := os.ReadDir("/proc")
	var out []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndex(s, ")")+1:])
		if len(fields) < 2 {
			continue
		}
		p := Process{PID: pid, Zombie: fields[0] == "Z"}
		p.PPID, _ = strconv.Atoi(fields[1])
		p.Exe, _ = os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil {
			p.Args = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		}
		out = append(out, p)
	}
	return out
}

// Descendants are the processes below root.
func Descendants(root int) []Process {
	all := Processes()
	children := map[int][]Process{}
	for _, p := range all {
		children[p.PPID] = append(children[p.PPID], p)
	}
	var out []Process
	var walk func(int)
	walk = func(pid int) {
		for _, c := range children[pid] {
			out = append(out, c)
			walk(c.PID)
		}
	}
	walk(root)
	return out
}

// Running is whether pid is a live process: not gone, not a zombie.
func Running(pid int) bool {
	for _, p := range Processes() {
		if p.PID == pid {
			return !p.Zombie
		}
	}
	return false
}
