package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/testsupport/testenv"
)

// TestMakeRunLocal runs `make run HOST=1` as a newcomer would, with no cluster configured and
// the usual development ports taken: the full sample must go Ready with the real OLM (make test
// builds it first), and the host sample too; the ports it chose and the children of both be
// printed, no debug line shown, and Ctrl-C (SIGINT to the process group, as a terminal sends
// it) must leave no process behind.
func TestMakeRunLocal(t *testing.T) {
	g := NewWithT(t)
	// 8080 and 8081 taken, as on a developer's machine running something else.
	for _, addr := range []string{"127.0.0.1:8080", "127.0.0.1:8081"} {
		if l, err := net.Listen("tcp", addr); err == nil {
			defer l.Close()
		}
	}
	cmd := exec.Command("make", "--no-print-directory", "run", "HOST=1")
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "LOCAL=1", "KUBECONFIG=/nonexistent", "TMPDIR="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	g.Expect(err).NotTo(HaveOccurred())
	cmd.Stderr = &tail{}
	start := time.Now()
	g.Expect(cmd.Start()).To(Succeed())
	exited := make(chan error, 1)
	defer func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()

	lines := make(chan string, 256)
	go func() {
		defer close(lines)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
	}()
	var kubeconfig string
	var out []string
	deadline := time.After(10 * time.Minute) // includes compiling the operator
	for strings.Count(strings.Join(out, "\n"), "from status.inventory)") < 2 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("make run ended early:\n%s\nstderr:\n%s", strings.Join(out, "\n"), cmd.Stderr)
			}
			out = append(out, l)
			if k, found := strings.CutPrefix(strings.TrimSpace(l), "export KUBECONFIG="); found {
				kubeconfig = k
			}
		case <-deadline:
			t.Fatalf("the sample did not go Ready:\n%s\nstderr:\n%s", strings.Join(out, "\n"), cmd.Stderr)
		}
	}
	t.Logf("make run: Ready and summary printed %.1fs after start (compile included)\n%s", time.Since(start).Seconds(), strings.Join(out, "\n"))
	text := strings.Join(out, "\n")
	g.Expect(text).To(ContainSubstring("OLM is real"))
	g.Expect(text).To(ContainSubstring("Only OpenShift Pipelines is simulated"))
	g.Expect(text).To(MatchRegexp(`127\.0\.0\.1:8080 is taken: using 127\.0\.0\.1:\d+ instead`))
	g.Expect(text).To(MatchRegexp(`127\.0\.0\.1:8081 is taken: using 127\.0\.0\.1:\d+ instead`))
	g.Expect(text).To(MatchRegexp(`Operator metrics: http://127\.0\.0\.1:\d+/metrics`))
	g.Expect(text + cmd.Stderr.(*tail).String()).NotTo(ContainSubstring("DEBUG"))
	// The first screen is what a person reads: controller-runtime's start-up lines and a line
	// per applied child are for -v.
	g.Expect(cmd.Stderr.(*tail).String()).NotTo(ContainSubstring("Starting EventSource"))
	g.Expect(cmd.Stderr.(*tail).String()).NotTo(MatchRegexp(`\tapplied\t`))
	g.Expect(text).To(MatchRegexp(`Ready=True \(Healthy\)`))
	for _, child := range []string{"CatalogSource", "Subscription", "TektonConfig", "Deployment", "ExternalSecret", "Route", "ProxyPlugin"} {
		g.Expect(text).To(MatchRegexp(`\n  ` + child + ` +\S+`))
	}
	g.Expect(text).To(ContainSubstring("PipelineServiceHost cluster is Ready"))
	g.Expect(text).To(ContainSubstring("webhook URL https://sprayproxy.apps.host.example.com/proxy"))
	g.Expect(text).To(ContainSubstring("kubectl get pipelineservicehost cluster -o wide -w"))

	// The printed kubeconfig works, and the object says Ready.
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	g.Expect(err).NotTo(HaveOccurred())
	c, err := client.New(cfg, client.Options{Scheme: manager.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())
	// Right after its first Succeeded, OLM may take the CSV through its phases once more (Ready
	// Unknown for a moment), so this waits for Ready rather than reading it once.
	for _, obj := range []client.Object{&psv1alpha1.PipelineService{}, &psv1alpha1.PipelineServiceHost{}} {
		g.Eventually(func(g Gomega) {
			g.Expect(c.Get(context.Background(), client.ObjectKey{Name: psv1alpha1.Name}, obj)).To(Succeed())
			var conditions []metav1.Condition
			switch o := obj.(type) {
			case *psv1alpha1.PipelineService:
				conditions = o.Status.Conditions
			case *psv1alpha1.PipelineServiceHost:
				conditions = o.Status.Conditions
			}
			g.Expect(meta.IsStatusConditionTrue(conditions, psv1alpha1.ConditionReady)).To(BeTrue(), "%T is not Ready", obj)
		}, time.Minute, 200*time.Millisecond).Should(Succeed())
	}

	// Ctrl-C.
	procs := testenv.Descendants(cmd.Process.Pid)
	var exes []string
	for _, p := range procs {
		exes = append(exes, p.Exe)
	}
	g.Expect(exes).To(ContainElements(HaveSuffix("kube-apiserver"), HaveSuffix("etcd")))
	go func() { exited <- cmd.Wait() }()
	g.Expect(syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)).To(Succeed())
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatalf("make run did not stop within a minute of SIGINT")
	}
	g.Eventually(func() []string {
		var alive []string
		for _, p := range procs {
			if testenv.Running(p.PID) {
				alive = append(alive, fmt.Sprintf("%d %s", p.PID, p.Exe))
			}
		}
		return alive
	}, 30*time.Second, 100*time.Millisecond).Should(BeEmpty(), "processes left behind")
}

// tail keeps the last lines written to it, for failure messages.
type tail struct{ buf []byte }

func (w *tail) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if len(w.buf) > 16<<10 {
		w.buf = w.buf[len(w.buf)-16<<10:]
	}
	return len(p), nil
}

func (w *tail) String() string { return string(w.buf) }
