// Package importer reads what a cluster runs for Pipeline Service (the TektonConfig, the OSP
// Subscription and its CatalogSource, the mirror policy, the exporter, the ExternalSecrets) and
// writes the PipelineService that reproduces it: dedicated fields where the API has them, and
// spec.tektonConfig.overrides for the rest, no more of it than the values OSP's defaulting
// would not give anyway. It reads no Secret, so it cannot print one.
package importer

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// Result is the imported PipelineService and what it could not reproduce, each note naming
// the live field.
type Result struct {
	PipelineService *psv1alpha1.PipelineService
	Notes           []string
}

// Convert builds the PipelineService that reproduces cl.
func Convert(cl *Cluster) (*Result, error) {
	r := &Result{PipelineService: &psv1alpha1.PipelineService{
		TypeMeta:   metav1.TypeMeta{APIVersion: psv1alpha1.GroupVersion.String(), Kind: "PipelineService"},
		ObjectMeta: metav1.ObjectMeta{Name: psv1alpha1.Name},
	}}
	spec := &r.PipelineService.Spec
	// Orphan: deleting the PipelineService must never uninstall what ran before it.
	spec.DeletionPolicy = psv1alpha1.DeletionPolicyOrphan
	switch {
	case cl.TektonConfig == nil:
		return nil, errors.New("the cluster has no TektonConfig named config: there is nothing to import")
	case cl.Subscription == nil:
		return nil, fmt.Errorf("the cluster has no Subscription to the package %s", DefaultOptions().Package)
	case cl.CatalogSource == nil:
		return nil, errors.New("the Subscription's CatalogSource does not exist: its spec.source and spec.sourceNamespace name none")
	}
	r.catalogSource(cl.CatalogSource)
	if err := r.subscription(cl.Subscription); err != nil {
		return nil, err
	}
	r.mirrors(cl.Mirrors)
	if err := r.exporter(cl.Exporter, cl.ServiceMonitor != nil, cl.NetworkPolicy != nil); err != nil {
		return nil, err
	}
	if err := r.tektonConfig(cl.TektonConfig); err != nil {
		return nil, err
	}
	if err := r.externalSecrets(cl.ExternalSecrets); err != nil {
		return nil, err
	}
	sort.Strings(r.Notes)
	return r, nil
}

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r *Result) catalogSource(u *unstructured.Unstructured) {
	cs := &r.PipelineService.Spec.Operator.CatalogSource
	cs.Name, cs.Namespace = u.GetName(), u.GetNamespace()
	image, _, _ := unstructured.NestedString(u.Object, "spec", "image")
	cs.Image = psv1alpha1.ImageReference(image)
	address, _, _ := unstructured.NestedString(u.Object, "spec", "address")
	if address != "" {
		// OLM connects to the address first and ignores the image; so does the import.
		cs.Image, cs.Address = "", address
	}
	if image == "" && address == "" {
		r.note("CatalogSource %s/%s has neither spec.image nor spec.address: set spec.operator.catalogSource.image by hand", u.GetNamespace(), u.GetName())
	}
	cs.DisplayName, _, _ = unstructured.NestedString(u.Object, "spec", "displayName")
	if s, ok, _ := unstructured.NestedString(u.Object, "spec", "updateStrategy", "registryPoll", "interval"); ok {
		if d, err := time.ParseDuration(s); err == nil {
			cs.PollInterval = &metav1.Duration{Duration: d}
		} else {
			r.note("CatalogSource spec.updateStrategy.registryPoll.interval %q is not a duration: left out", s)
		}
	}
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	for _, k := range slices.Sorted(maps.Keys(spec)) {
		if !slices.Contains([]string{"image", "address", "displayName", "updateStrategy", "sourceType", "publisher"}, k) {
			r.note("CatalogSource spec.%s has no PipelineService field: it stays as it is, unmanaged", k)
		}
	}
}

func (r *Result) subscription(u *unstructured.Unstructured) error {
	sub := &r.PipelineService.Spec.Operator.Subscription
	sub.Name, sub.Namespace = u.GetName(), u.GetNamespace()
	sub.Package, _, _ = unstructured.NestedString(u.Object, "spec", "name")
	sub.Channel, _, _ = unstructured.NestedString(u.Object, "spec", "channel")
	if sub.Channel == "" {
		r.note("Subscription %s/%s follows the package's default channel: spec.operator.subscription.channel must be set by hand", sub.Namespace, sub.Name)
	}
	approval, _, _ := unstructured.NestedString(u.Object, "spec", "installPlanApproval")
	starting, _, _ := unstructured.NestedString(u.Object, "spec", "startingCSV")
	if approval == "Manual" {
		sub.CSV = starting
		if starting == "" {
			r.note("Subscription approval is Manual with no startingCSV: set spec.operator.subscription.csv to the CSV to keep, or OLM upgrades automatically")
		}
	} else if starting != "" {
		r.note("Subscription startingCSV %s with Automatic approval only chose the first install: left out", starting)
	}
	envList, _, _ := unstructured.NestedSlice(u.Object, "spec", "config", "env")
	for _, e := range envList {
		var v corev1.EnvVar
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(e.(map[string]any), &v); err != nil {
			return fmt.Errorf("Subscription spec.config.env: %w", err)
		}
		switch {
		case v.Name == render.EnvAutoinstallComponents:
			if v.Value != "false" {
				r.note("Subscription env AUTOINSTALL_COMPONENTS=%q becomes false: the operator owns the TektonConfig", v.Value)
			}
		case health.ImageVariable(v.Name) && v.ValueFrom == nil:
			if sub.ImageOverrides == nil {
				sub.ImageOverrides = map[string]psv1alpha1.ImageReference{}
			}
			sub.ImageOverrides[v.Name] = psv1alpha1.ImageReference(v.Value)
		default:
			sub.Env = append(sub.Env, v)
		}
	}
	config, _, _ := unstructured.NestedMap(u.Object, "spec", "config")
	for _, k := range slices.Sorted(maps.Keys(config)) {
		if k != "env" {
			r.note("Subscription spec.config.%s has no PipelineService field: it stays as it is, unmanaged", k)
		}
	}
	return nil
}

func (r *Result) mirrors(u *unstructured.Unstructured) {
	if u == nil {
		return
	}
	key := "repositoryDigestMirrors"
	if u.GroupVersionKind().Kind == children.GVKIDMS.Kind {
		key = "imageDigestMirrors"
	}
	items, _, _ := unstructured.NestedSlice(u.Object, "spec", key)
	for _, item := range items {
		m, _ := item.(map[string]any)
		source, _ := m["source"].(string)
		mirror := psv1alpha1.Mirror{Source: psv1alpha1.Repository(source)}
		list, _ := m["mirrors"].([]any)
		for _, x := range list {
			s, _ := x.(string)
			mirror.Mirrors = append(mirror.Mirrors, psv1alpha1.Repository(s))
		}
		r.PipelineService.Spec.Mirrors = append(r.PipelineService.Spec.Mirrors, mirror)
	}
	if u.GetName() != render.MirrorPolicyName {
		r.note("%s %s is reproduced as %s %s; the old one stays until you delete it", u.GetKind(), u.GetName(), u.GetKind(), render.MirrorPolicyName)
	}
}

// exporter reproduces the exporter Deployment u; serviceMonitor and networkPolicy say whether
// its ServiceMonitor and NetworkPolicy exist, so that taking over adds neither.
func (r *Result) exporter(u *unstructured.Unstructured, serviceMonitor, networkPolicy bool) error {
	e := &r.PipelineService.Spec.Exporter
	if u == nil {
		e.Enabled = false
		return nil
	}
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
		return fmt.Errorf("Deployment %s: %w", u.GetName(), err)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) == 0 {
		return fmt.Errorf("Deployment %s has no container", u.GetName())
	}
	c := pod.Containers[0]
	for _, x := range pod.Containers {
		if x.Name == render.ExporterName {
			c = x
		}
	}
	e.Enabled, e.ServiceMonitor, e.NetworkPolicy = true, serviceMonitor, networkPolicy
	e.Image = psv1alpha1.ImageReference(c.Image)
	e.Replicas = 1
	if d.Spec.Replicas != nil {
		e.Replicas = *d.Spec.Replicas
	}
	e.Resources, e.Args = c.Resources, c.Args
	e.ServiceAccountName = pod.ServiceAccountName
	if len(pod.Containers) > 1 {
		r.note("Deployment %s has %d containers; only %s is reproduced", u.GetName(), len(pod.Containers), c.Name)
	}
	if len(c.Env) > 0 || len(c.Command) > 0 {
		r.note("Deployment %s container %s sets env or command, which the PipelineService has no field for: they stay, unmanaged", u.GetName(), c.Name)
	}
	return nil
}

// externalSecrets maps the GitHub App's ExternalSecret to gitHubApp when it has that shape
// (one dataFrom extract, no data, no target template), and every other to externalSecrets.
func (r *Result) externalSecrets(items []*unstructured.Unstructured) error {
	spec := &r.PipelineService.Spec
	for _, u := range items {
		es, err := externalSecret(u)
		if err != nil {
			return err
		}
		if u.GetNamespace() == spec.TektonConfig.TargetNamespace {
			es.Namespace = ""
		}
		if app := gitHubApp(es); app != nil && es.Namespace == "" {
			spec.TektonConfig.PipelinesAsCode.GitHubApp = app
			continue
		}
		spec.ExternalSecrets = append(spec.ExternalSecrets, es)
	}
	return nil
}

func externalSecret(u *unstructured.Unstructured) (psv1alpha1.ExternalSecretSpec, error) {
	var live struct {
		Spec struct {
			SecretStoreRef  psv1alpha1.SecretStoreRef           `json:"secretStoreRef"`
			Data            []psv1alpha1.ExternalSecretData     `json:"data"`
			DataFrom        []psv1alpha1.ExternalSecretDataFrom `json:"dataFrom"`
			Target          *psv1alpha1.ExternalSecretTarget    `json:"target"`
			RefreshInterval *metav1.Duration                    `json:"refreshInterval"`
		} `json:"spec"`
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &live); err != nil {
		return psv1alpha1.ExternalSecretSpec{}, fmt.Errorf("ExternalSecret %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	es := psv1alpha1.ExternalSecretSpec{
		Name: u.GetName(), Namespace: u.GetNamespace(), SecretStoreRef: live.Spec.SecretStoreRef,
		Data: live.Spec.Data, DataFrom: live.Spec.DataFrom, RefreshInterval: live.Spec.RefreshInterval,
	}
	if t := live.Spec.Target; t != nil {
		// What the render writes anyway (the Secret named like the ExternalSecret, owned by
		// it) is left out.
		if t.Name == u.GetName() {
			t.Name = ""
		}
		if t.CreationPolicy == "Owner" {
			t.CreationPolicy = ""
		}
		if *t != (psv1alpha1.ExternalSecretTarget{}) {
			es.Target = t
		}
	}
	return es, nil
}

func gitHubApp(es psv1alpha1.ExternalSecretSpec) *psv1alpha1.GitHubAppSpec {
	if es.Name != render.GitHubAppSecretName || len(es.Data) > 0 || len(es.DataFrom) != 1 {
		return nil
	}
	app := &psv1alpha1.GitHubAppSpec{SecretStoreRef: es.SecretStoreRef, Key: es.DataFrom[0].Extract.Key, RefreshInterval: es.RefreshInterval}
	if t := es.Target; t != nil {
		if t.Name != "" || t.CreationPolicy != "" || t.Template != nil {
			return nil
		}
		app.DeletionPolicy = t.DeletionPolicy
	}
	return app
}
