package testenv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	olmcrds "github.com/operator-framework/api/crds"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The real OLM, as hack/setup-olm.sh builds it. Tests run its olm and catalog operators against
// their control plane and serve catalogs with opm; only what needs a kubelet (pods, Deployment
// status) is played by the tests.
const (
	// OLMNamespace is where the olm operator runs (its --namespace).
	OLMNamespace = "openshift-operator-lifecycle-manager"
	// GlobalCatalogNamespace is the catalog operator's --namespace: a CatalogSource there serves
	// every namespace, as openshift-marketplace does on OpenShift.
	GlobalCatalogNamespace = "openshift-marketplace"
)

// AllOLMCRDs are every CRD the olm and catalog operators watch.
func AllOLMCRDs() []*apiextensionsv1.CustomResourceDefinition {
	return append(OLMCRDs(), olmcrds.OperatorCondition(), olmcrds.Operator(), olmcrds.OLMConfig())
}

// OLMDir is the directory with the olm, catalog and opm binaries: OLM_ASSETS, or what
// hack/setup-olm.sh builds (once per machine; the first call takes a few minutes).
func OLMDir() (string, error) {
	if dir := os.Getenv("OLM_ASSETS"); dir != "" {
		return dir, nil
	}
	olmDirOnce.Do(func() {
		cmd := exec.Command(filepath.Join(RepoRoot(), "hack", "setup-olm.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			olmDirErr = fmt.Errorf("hack/setup-olm.sh: %w", err)
			return
		}
		olmDir = strings.TrimSpace(string(out))
	})
	return olmDir, olmDirErr
}

var (
	olmDirOnce sync.Once
	olmDir     string
	olmDirErr  error
)

// OLM is the olm and catalog operators running against a control plane.
type OLM struct {
	cmds []*exec.Cmd
	done []chan struct{}
}

// StartOLM runs the olm and catalog operators against the control plane of env as an admin
// user, their logs to logs. Both try to serve health on :8080 and only log it when the port
// is taken, so several can run on one machine.
func StartOLM(env *Env, logs io.Writer) (*OLM, error) {
	dir, err := OLMDir()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "olm-")
	if err != nil {
		return nil, err
	}
	kubeconfig, err := WriteKubeconfig(env, tmp, "olm")
	if err != nil {
		return nil, err
	}
	o := &OLM{}
	for _, args := range [][]string{
		// olm reads KUBECONFIG; it has no --kubeconfig flag.
		{filepath.Join(dir, "olm"), "--namespace", OLMNamespace, "--writeStatusName", "", "--interval", "10s"},
		{filepath.Join(dir, "catalog"), "--kubeconfig", kubeconfig, "--namespace", GlobalCatalogNamespace, "--writeStatusName", "", "--interval", "10s"},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			o.Stop()
			return nil, err
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		o.cmds, o.done = append(o.cmds, cmd), append(o.done, done)
	}
	return o, nil
}

// Stop stops both operators.
func (o *OLM) Stop() {
	for i, cmd := range o.cmds {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-o.done[i]:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-o.done[i]
		}
	}
}

// ServeCatalog serves the file-based catalog in dir with `opm serve` on a free loopback port
// and returns its address once it answers.
func ServeCatalog(dir string, logs io.Writer) (address string, stop func(), err error) {
	bin, err := OLMDir()
	if err != nil {
		return "", nil, err
	}
	address, err = FreeAddr()
	if err != nil {
		return "", nil, err
	}
	_, port, _ := net.SplitHostPort(address)
	pprof, err := FreeAddr()
	if err != nil {
		return "", nil, err
	}
	// No --cache-dir: opm then builds its cache in a temporary directory at start. Its pprof
	// endpoint gets a port of its own, so that catalogs of parallel tests do not collide.
	cmd := exec.Command(filepath.Join(bin, "opm"), "serve", dir, "--port", port, "--pprof-addr", pprof,
		"--termination-log", os.DevNull)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", address, time.Second)
		if err == nil {
			_ = conn.Close()
			return address, stop, nil
		}
		select {
		case <-done:
			return "", nil, errors.New("opm serve exited")
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("opm serve did not answer on %s: %w", address, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Bundle is one version of an operator in a test catalog: a CSV whose one Deployment is the
// operator, owning the given CRDs, carried inline (olm.bundle.object) so that OLM unpacks
// nothing.
type Bundle struct {
	Version  string
	Replaces string
	CRDs     []*apiextensionsv1.CustomResourceDefinition
	// Image of the operator Deployment; a bundle whose Deployment never becomes available is
	// how a test makes a CSV fail.
	Image string
	// Images are the operator's image variables (IMAGE_* name to image), set on its
	// Deployment's container and listed as relatedImages of the same names, as OSP's bundle
	// generator lists them (tektoncd/operator operatorhub/tools/bundle.py).
	Images map[string]string
}

// CSVName is the CSV name of version v of pkg, as OLM names it.
func CSVName(pkg, v string) string { return pkg + ".v" + v }

// WriteCatalog writes a file-based catalog of package pkg with one channel in which each
// bundle replaces the one before it.
func WriteCatalog(dir, pkg, channel string, bundles []Bundle) error {
	var docs []any
	docs = append(docs, map[string]any{"schema": "olm.package", "name": pkg, "defaultChannel": channel})
	var entries []any
	for _, b := range bundles {
		entry := map[string]any{"name": CSVName(pkg, b.Version)}
		if b.Replaces != "" {
			entry["replaces"] = CSVName(pkg, b.Replaces)
		}
		entries = append(entries, entry)
	}
	docs = append(docs, map[string]any{"schema": "olm.channel", "package": pkg, "name": channel, "entries": entries})
	for _, b := range bundles {
		doc, err := bundleDoc(pkg, b)
		if err != nil {
			return err
		}
		docs = append(docs, doc)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var out strings.Builder
	for _, d := range docs {
		data, err := json.Marshal(d)
		if err != nil {
			return err
		}
		out.Write(data)
		out.WriteString("\n")
	}
	return os.WriteFile(filepath.Join(dir, "catalog.json"), []byte(out.String()), 0o644)
}

func bundleDoc(pkg string, b Bundle) (map[string]any, error) {
	name := CSVName(pkg, b.Version)
	var owned []any
	props := []any{map[string]any{"type": "olm.package", "value": map[string]any{"packageName": pkg, "version": b.Version}}}
	var objects []any
	for _, crd := range b.CRDs {
		for _, v := range crd.Spec.Versions {
			owned = append(owned, map[string]any{"name": crd.Name, "version": v.Name, "kind": crd.Spec.Names.Kind})
			props = append(props, map[string]any{"type": "olm.gvk", "value": map[string]any{
				"group": crd.Spec.Group, "version": v.Name, "kind": crd.Spec.Names.Kind}})
		}
		c := crd.DeepCopy()
		c.TypeMeta.APIVersion, c.TypeMeta.Kind = "apiextensions.k8s.io/v1", "CustomResourceDefinition"
		c.Status = apiextensionsv1.CustomResourceDefinitionStatus{}
		c.ObjectMeta = metaOnlyName(c.Name)
		objects = append(objects, c)
	}
	image := b.Image
	if image == "" {
		image = "registry.example.com/openshift-pipelines/operator:v" + b.Version
	}
	replicas := int32(1)
	template := podTemplate("openshift-pipelines-operator", image)
	var related []any
	for _, name := range slices.Sorted(maps.Keys(b.Images)) {
		template.Spec.Containers[0].Env = append(template.Spec.Containers[0].Env, corev1.EnvVar{Name: name, Value: b.Images[name]})
		related = append(related, map[string]any{"name": name, "image": b.Images[name]})
	}
	deployment := map[string]any{
		"name": "openshift-pipelines-operator",
		"spec": appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: labelSelector("openshift-pipelines-operator"),
			Template: template,
		},
	}
	csv := map[string]any{
		"apiVersion": "operators.coreos.com/v1alpha1",
		"kind":       "ClusterServiceVersion",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"displayName": "Red Hat OpenShift Pipelines (test bundle)",
			"version":     b.Version,
			"installModes": []any{
				map[string]any{"type": "OwnNamespace", "supported": true},
				map[string]any{"type": "SingleNamespace", "supported": true},
				map[string]any{"type": "MultiNamespace", "supported": false},
				map[string]any{"type": "AllNamespaces", "supported": true},
			},
			"customresourcedefinitions": map[string]any{"owned": owned},
			"install": map[string]any{
				"strategy": "deployment",
				"spec":     map[string]any{"deployments": []any{deployment}},
			},
		},
	}
	if b.Replaces != "" {
		csv["spec"].(map[string]any)["replaces"] = CSVName(pkg, b.Replaces)
	}
	if related != nil {
		csv["spec"].(map[string]any)["relatedImages"] = related
	}
	for _, obj := range append([]any{csv}, objects...) {
		data, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		props = append(props, map[string]any{"type": "olm.bundle.object", "value": map[string]any{"data": base64.StdEncoding.EncodeToString(data)}})
	}
	return map[string]any{"schema": "olm.bundle", "name": name, "package": pkg, "image": "", "properties": props}, nil
}

// RunDeployments plays the kubelet and the Deployment controller for the Deployments in
// namespace until ctx ends: each one whose image ready accepts is reported rolled out and
// available, as OLM waits to see before a CSV succeeds; each other one is reported past its
// progress deadline with no replica available, as its pods never start.
func RunDeployments(ctx context.Context, c client.Client, namespace string, ready func(image string) bool) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		list := &appsv1.DeploymentList{}
		if err := c.List(ctx, list, client.InNamespace(namespace)); err == nil {
			for i := range list.Items {
				d := &list.Items[i]
				if len(d.Spec.Template.Spec.Containers) == 0 || d.Status.ObservedGeneration == d.Generation {
					continue
				}
				want := int32(1)
				if d.Spec.Replicas != nil {
					want = *d.Spec.Replicas
				}
				if ready(d.Spec.Template.Spec.Containers[0].Image) {
					d.Status = rolledOut(d.Generation, want)
				} else {
					d.Status = stuck(d.Generation, want)
				}
				_ = c.Status().Update(ctx, d)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func metaOnlyName(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

func labelSelector(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

func podTemplate(app, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: app, Image: image}}},
	}
}

// rolledOut is the status the Deployment controller writes once every replica of generation
// is updated, ready and available.
func rolledOut(generation int64, replicas int32) appsv1.DeploymentStatus {
	now := metav1.Now()
	return appsv1.DeploymentStatus{
		ObservedGeneration: generation, Replicas: replicas, UpdatedReplicas: replicas,
		ReadyReplicas: replicas, AvailableReplicas: replicas,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", LastUpdateTime: now, LastTransitionTime: now},
		},
	}
}

// stuck is the status the Deployment controller writes once a rollout whose pods never become
// ready passes its progress deadline.
func stuck(generation int64, replicas int32) appsv1.DeploymentStatus {
	now := metav1.Now()
	return appsv1.DeploymentStatus{
		ObservedGeneration: generation, Replicas: replicas, UpdatedReplicas: replicas, UnavailableReplicas: replicas,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", LastUpdateTime: now, LastTransitionTime: now},
		},
	}
}
