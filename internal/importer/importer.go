// Package importer reads what a cluster runs for Pipeline Service (the TektonConfig, the OSP
// Subscription and its CatalogSource, the mirror policy, the exporter, the ExternalSecrets) and
// writes the PipelineService that reproduces it: dedicated fields where the API has them, and
// spec.tektonConfig.overrides for the rest, no more of it than the values OSP's defaulting
// would not give anyway. It reads no Secret, so it cannot print one.
package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	tektonv1alpha1 "github.com/tektoncd/operator/pkg/apis/operator/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	psv1alpha1 "github.com/openshift-pipelines/pipeline-service-operator/api/v1alpha1"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/fields"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/health"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/osp"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/render"
)

// Options say where to look.
type Options struct {
	// Package is the OSP package whose Subscription is imported.
	Package string
	// MirrorSet names the ImageContentSourcePolicy or ImageDigestMirrorSet to import; empty
	// imports the one labelled app.kubernetes.io/part-of=pipeline-service, if any.
	MirrorSet string
	// Exporter names the exporter Deployment in targetNamespace.
	Exporter string
	// SecretNamespaces are the namespaces whose ExternalSecrets are imported; empty is
	// targetNamespace.
	SecretNamespaces []string
}

// DefaultOptions are what the import subcommand's flags default to.
func DefaultOptions() Options {
	return Options{Package: "openshift-pipelines-operator-rh", Exporter: render.ExporterName}
}

// Cluster is what import read, each object nil where the cluster has none.
type Cluster struct {
	TektonConfig    *unstructured.Unstructured
	Subscription    *unstructured.Unstructured
	CatalogSource   *unstructured.Unstructured
	Mirrors         *unstructured.Unstructured
	Exporter        *unstructured.Unstructured
	ServiceMonitor  *unstructured.Unstructured
	NetworkPolicy   *unstructured.Unstructured
	ExternalSecrets []*unstructured.Unstructured
}

// FromObjects is the Cluster import would read from a cluster holding objs (a snapshot's files,
// as testdata/production holds stone-prod-p01's): the TektonConfig, the Subscription, the
// CatalogSource, the exporter's Deployment (named as DefaultOptions names it) and the
// ExternalSecrets.
func FromObjects(objs []*unstructured.Unstructured) *Cluster {
	cl := &Cluster{}
	for _, u := range objs {
		switch gvk := u.GroupVersionKind(); {
		case gvk == children.GVKTektonConfig:
			cl.TektonConfig = u
		case gvk == children.GVKSubscription:
			cl.Subscription = u
		case gvk == children.GVKCatalogSource:
			cl.CatalogSource = u
		case gvk == children.GVKDeployment && u.GetName() == DefaultOptions().Exporter:
			cl.Exporter = u
		case gvk.GroupKind() == children.GVKExternalSecretV1.GroupKind():
			cl.ExternalSecrets = append(cl.ExternalSecrets, u)
		}
	}
	return cl
}

// Read reads the objects import needs with c (a direct client: nothing is cached). A kind the
// cluster does not serve is as good as no object of it; a TektonConfig and a Subscription for
// the package are required.
func Read(ctx context.Context, c client.Reader, opts Options) (*Cluster, error) {
	cl := &Cluster{}
	var err error
	if cl.TektonConfig, err = get(ctx, c, children.GVKTektonConfig, "", render.TektonConfigName); err != nil {
		return nil, err
	}
	if cl.TektonConfig == nil {
		return nil, errors.New("the cluster has no TektonConfig named config: there is nothing to import")
	}
	subs, err := list(ctx, c, children.GVKSubscription, "", nil)
	if err != nil {
		return nil, err
	}
	for _, s := range subs {
		if pkg, _, _ := unstructured.NestedString(s.Object, "spec", "name"); pkg == opts.Package {
			if cl.Subscription != nil {
				return nil, fmt.Errorf("two Subscriptions to %s (%s/%s and %s/%s): remove one first",
					opts.Package, cl.Subscription.GetNamespace(), cl.Subscription.GetName(), s.GetNamespace(), s.GetName())
			}
			cl.Subscription = s
		}
	}
	if cl.Subscription == nil {
		return nil, fmt.Errorf("the cluster has no Subscription to the package %s", opts.Package)
	}
	source, _, _ := unstructured.NestedString(cl.Subscription.Object, "spec", "source")
	sourceNamespace, _, _ := unstructured.NestedString(cl.Subscription.Object, "spec", "sourceNamespace")
	if cl.CatalogSource, err = get(ctx, c, children.GVKCatalogSource, sourceNamespace, source); err != nil {
		return nil, err
	}
	if cl.Mirrors, err = readMirrors(ctx, c, opts.MirrorSet); err != nil {
		return nil, err
	}
	target, _, _ := unstructured.NestedString(cl.TektonConfig.Object, "spec", "targetNamespace")
	if cl.Exporter, err = get(ctx, c, children.GVKDeployment, target, opts.Exporter); err != nil {
		return nil, err
	}
	if cl.ServiceMonitor, err = get(ctx, c, children.GVKServiceMonitor, target, opts.Exporter); err != nil {
		return nil, err
	}
	if cl.NetworkPolicy, err = get(ctx, c, children.GVKNetworkPolicy, target, opts.Exporter); err != nil {
		return nil, err
	}
	namespaces := opts.SecretNamespaces
	if len(namespaces) == 0 {
		namespaces = []string{target}
	}
	for _, ns := range namespaces {
		for _, gvk := range []schema.GroupVersionKind{children.GVKExternalSecretV1, children.GVKExternalSecretBeta} {
			items, err := list(ctx, c, gvk, ns, nil)
			if err != nil {
				return nil, err
			}
			if items != nil {
				cl.ExternalSecrets = append(cl.ExternalSecrets, items...)
				break
			}
		}
	}
	return cl, nil
}

// readMirrors reads the named ICSP or IDMS, or the one the operator's label marks.
func readMirrors(ctx context.Context, c client.Reader, name string) (*unstructured.Unstructured, error) {
	for _, gvk := range []schema.GroupVersionKind{children.GVKICSP, children.GVKIDMS} {
		if name != "" {
			u, err := get(ctx, c, gvk, "", name)
			if err != nil || u != nil {
				return u, err
			}
			continue
		}
		items, err := list(ctx, c, gvk, "", client.MatchingLabels{render.LabelPartOf: children.Member.Info().PartOf})
		if err != nil {
			return nil, err
		}
		if len(items) > 1 {
			return nil, fmt.Errorf("%d %s objects are labelled %s=%s: name one with --mirror-set", len(items), gvk.Kind, render.LabelPartOf, children.Member.Info().PartOf)
		}
		if len(items) == 1 {
			return items[0], nil
		}
	}
	if name != "" {
		return nil, fmt.Errorf("no ImageContentSourcePolicy or ImageDigestMirrorSet named %s", name)
	}
	return nil, nil
}

// get reads one object; nil when it does not exist or its kind is not served.
func get(ctx context.Context, c client.Reader, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u)
	switch {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read %s %s: %w", gvk.Kind, name, err)
	}
	return u, nil
}

// list lists the objects of a kind; nil (not empty) when the kind is not served.
func list(ctx context.Context, c client.Reader, gvk schema.GroupVersionKind, namespace string, labels client.MatchingLabels) ([]*unstructured.Unstructured, error) {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	opts := []client.ListOption{client.InNamespace(namespace)}
	if labels != nil {
		opts = append(opts, labels)
	}
	if err := c.List(ctx, l, opts...); err != nil {
		if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %s: %w", gvk.Kind, err)
	}
	out := make([]*unstructured.Unstructured, 0, len(l.Items))
	for i := range l.Items {
		out = append(out, &l.Items[i])
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].GetNamespace()+"/"+out[i].GetName() < out[j].GetNamespace()+"/"+out[j].GetName()
	})
	return out, nil
}

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
	if cl.CatalogSource == nil {
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

// tektonConfig maps the TektonConfig to the dedicated fields, then puts in overrides what
// they and OSP's defaulting would not give.
func (r *Result) tektonConfig(u *unstructured.Unstructured) error {
	live, _, _ := unstructured.NestedMap(u.Object, "spec")
	withoutRefreshes(live)
	tc := &r.PipelineService.Spec.TektonConfig
	str := func(path ...string) string {
		s, _, _ := unstructured.NestedFieldNoCopy(live, path...)
		v, _ := s.(string)
		return v
	}
	flag := func(path ...string) bool {
		b, _, _ := unstructured.NestedFieldNoCopy(live, path...)
		v, _ := b.(bool)
		return v
	}
	tc.TargetNamespace, tc.Profile = str("targetNamespace"), str("profile")
	tc.Triggers.Enabled = !flag("trigger", "disabled")
	r.pruner(live)
	tc.Results.Enabled = !flag("result", "disabled")
	if tc.Results.Enabled {
		grace := time.Duration(0)
		if s := str("result", "watcher", "completed_run_grace_period"); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("TektonConfig spec.result.watcher.completed_run_grace_period %q: %w", s, err)
			}
			grace = d
		}
		// 0s where the live one has none: Results keeps runs, as it does now.
		tc.Results.CompletedRunGracePeriod = &metav1.Duration{Duration: grace}
	}
	pac, _, _ := unstructured.NestedMap(live, "platforms", "openshift", "pipelinesAsCode")
	tc.PipelinesAsCode.Enabled = pac["enable"] == true

	// Settings, performance and overrides are kept to what differs from the render of the
	// fields set so far, defaulted as OSP's webhook defaults it.
	base, err := defaultedSpec(r.PipelineService)
	if err != nil {
		return err
	}
	r.pacSettings(live, base)
	perfLive, _, _ := unstructured.NestedMap(live, "pipeline", "performance")
	perfBase, _, _ := unstructured.NestedMap(base, "pipeline", "performance")
	if len(fields.Diff(perfBase, perfLive)) > 0 {
		tc.Performance = performance(perfLive)
	}
	if base, err = defaultedSpec(r.PipelineService); err != nil {
		return err
	}
	alignParams(base, live)
	if patch := fields.Patch(base, live); patch != nil {
		data, err := json.Marshal(patch)
		if err != nil {
			return err
		}
		tc.Overrides = &apiextensionsv1.JSON{Raw: data}
	}
	// What the operator would apply, checked as OSP would check it against the live object.
	rendered, err := render.TektonConfig(r.PipelineService)
	if err != nil {
		return fmt.Errorf("the imported TektonConfig does not render: %w", err)
	}
	for _, e := range osp.Review(rendered, u) {
		r.note("OpenShift Pipelines would refuse the rendered TektonConfig: %s", e.Error())
	}
	return nil
}

// withoutRefreshes removes from a TektonConfig spec the annotations with which the operator
// asked OSP to re-render a component (render.AnnotationRefreshedImages), and the maps they
// leave empty: they are the refresh's, under its own field manager, not the spec's.
func withoutRefreshes(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	emptied := false
	for k, child := range m {
		switch {
		case k == render.AnnotationRefreshedImages:
			delete(m, k)
			emptied = true
		case withoutRefreshes(child):
			if len(child.(map[string]any)) == 0 {
				delete(m, k)
			}
			emptied = true
		}
	}
	return emptied
}

func (r *Result) pruner(live map[string]any) {
	p := &r.PipelineService.Spec.TektonConfig.Pruner
	pruner, _, _ := unstructured.NestedMap(live, "pruner")
	if pruner["disabled"] == true {
		p.Mode = psv1alpha1.PrunerModeDisabled
		return
	}
	p.Mode = psv1alpha1.PrunerModeEnabled
	p.Schedule, _ = pruner["schedule"].(string)
	p.Keep, p.KeepSince = int32Field(pruner["keep"]), int32Field(pruner["keep-since"])
	list, _ := pruner["resources"].([]any)
	for _, x := range list {
		s, _ := x.(string)
		p.Resources = append(p.Resources, psv1alpha1.PrunerResource(s))
	}
}

// pacSettings keeps the Pipelines-as-Code settings whose live values differ from the
// defaulted render's, the application name and console ones in their dedicated fields.
func (r *Result) pacSettings(live, base map[string]any) {
	pac := &r.PipelineService.Spec.TektonConfig.PipelinesAsCode
	settings, _, _ := unstructured.NestedStringMap(live, "platforms", "openshift", "pipelinesAsCode", "settings")
	defaults, _, _ := unstructured.NestedStringMap(base, "platforms", "openshift", "pipelinesAsCode", "settings")
	console := &psv1alpha1.ConsoleSpec{}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		v := settings[k]
		if d, ok := defaults[k]; ok && d == v {
			continue
		}
		switch k {
		case render.PACApplicationName:
			pac.ApplicationName = v
		case render.PACConsoleName:
			console.Name = v
		case render.PACConsoleURL:
			console.URL = v
		case render.PACConsolePRDetails:
			console.PRDetailsURL = v
		case render.PACConsolePRTaskLog:
			console.TaskLogURL = v
		case render.PACConsoleNamespaceURL:
			console.NamespaceURL = v
		default:
			if pac.Settings == nil {
				pac.Settings = map[string]string{}
			}
			pac.Settings[k] = v
		}
	}
	if *console != (psv1alpha1.ConsoleSpec{}) {
		if console.URL == "" {
			// The console's fields hang on its URL: without one, the others stay settings.
			for k, v := range map[string]string{render.PACConsoleName: console.Name, render.PACConsolePRDetails: console.PRDetailsURL,
				render.PACConsolePRTaskLog: console.TaskLogURL, render.PACConsoleNamespaceURL: console.NamespaceURL} {
				if v != "" {
					if pac.Settings == nil {
						pac.Settings = map[string]string{}
					}
					pac.Settings[k] = v
				}
			}
			return
		}
		pac.Console = console
	}
}

func performance(live map[string]any) *psv1alpha1.PerformanceSpec {
	p := &psv1alpha1.PerformanceSpec{
		Buckets: int32Field(live["buckets"]), Replicas: int32Field(live["replicas"]),
		ThreadsPerController: int32Field(live["threads-per-controller"]),
		KubeAPIQPS:           int32Field(live["kube-api-qps"]), KubeAPIBurst: int32Field(live["kube-api-burst"]),
	}
	if b, ok := live["disable-ha"].(bool); ok {
		p.DisableHA = &b
	}
	if b, ok := live["statefulset-ordinals"].(bool); ok {
		p.StatefulsetOrdinals = &b
	}
	return p
}

// defaultedSpec is the TektonConfig spec ps renders, after OSP's SetDefaults, as the webhook
// would store it.
func defaultedSpec(ps *psv1alpha1.PipelineService) (map[string]any, error) {
	u, err := render.TektonConfig(ps)
	if err != nil {
		return nil, fmt.Errorf("render the imported TektonConfig: %w", err)
	}
	tc := &tektonv1alpha1.TektonConfig{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, tc); err != nil {
		return nil, err
	}
	if fe := osp.Default(context.Background(), tc); fe != nil {
		return nil, fe
	}
	data, err := json.Marshal(tc.Spec)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	return out, utiljson.Unmarshal(data, &out)
}

// alignParams orders every list of params ({name, value} items) in base as the same list in
// live orders the names it shares. OSP reads such a list as a map (tektoncd/operator's
// ParseParams), and its SetDefaults appends the missing addon params in Go's map order
// (setAddonDefaults ranges over AddonParams): two defaultings of one spec, in the webhook and
// here or in two processes, list them in different orders. Compared by position, that order
// showed up as overrides now and then; aligned, only a name or a value does, and the overrides
// keep live's order.
func alignParams(base, live any) {
	switch b := base.(type) {
	case map[string]any:
		l, _ := live.(map[string]any)
		for k, e := range b {
			alignParams(e, l[k])
		}
	case []any:
		l, ok := live.([]any)
		if !ok || !isParamList(b) || !isParamList(l) {
			return
		}
		position := map[string]int{}
		for i, e := range l {
			position[e.(map[string]any)["name"].(string)] = i
		}
		at := func(e any) int {
			if i, ok := position[e.(map[string]any)["name"].(string)]; ok {
				return i
			}
			return len(l)
		}
		slices.SortStableFunc(b, func(x, y any) int { return at(x) - at(y) })
	}
}

// isParamList is whether every item of list is a param: a name, and a value at most.
func isParamList(list []any) bool {
	for _, e := range list {
		m, ok := e.(map[string]any)
		if _, named := m["name"].(string); !ok || !named || len(m) > 2 {
			return false
		}
		if _, other := m["value"]; len(m) == 2 && !other {
			return false
		}
	}
	return len(list) > 0
}

func int32Field(v any) *int32 {
	switch n := v.(type) {
	case int64:
		i := int32(n)
		return &i
	case float64:
		i := int32(n)
		return &i
	}
	return nil
}

// Write prints the PipelineService as YAML, its notes first as comments. Fields left empty
// are left out, so that the schema's defaults apply; a disabled exporter is only that.
func Write(w io.Writer, r *Result, header string) error {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(r.PipelineService)
	if err != nil {
		return err
	}
	delete(content, "status")
	unstructured.RemoveNestedField(content, "metadata", "creationTimestamp")
	if !r.PipelineService.Spec.Exporter.Enabled {
		_ = unstructured.SetNestedField(content, map[string]any{"enabled": false}, "spec", "exporter")
	}
	content = compact(content).(map[string]any)
	shortDurations(content)
	data, err := yaml.Marshal(content)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		b.WriteString("# " + line + "\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("#\n# Review before applying:\n")
		for _, n := range r.Notes {
			b.WriteString("# - " + n + "\n")
		}
	}
	b.WriteString("---\n")
	b.Write(data)
	_, err = io.WriteString(w, b.String())
	return err
}

// durationFields are the PipelineService's durations, which the API machinery prints as
// Go does (5m0s).
var durationFields = map[string]bool{"pollInterval": true, "refreshInterval": true, "completedRunGracePeriod": true}

// shortDurations prints the durations as a person writes them (5m).
func shortDurations(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "overrides" {
				continue
			}
			if s, ok := e.(string); ok && durationFields[k] {
				if d, err := time.ParseDuration(s); err == nil {
					t[k] = render.Duration(d)
				}
				continue
			}
			shortDurations(e)
		}
	case []any:
		for _, e := range t {
			shortDurations(e)
		}
	}
}

// compact drops nulls, empty strings and empty maps and lists; false and 0 stay, since they
// can differ from a default.
func compact(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			e = compact(e)
			switch x := e.(type) {
			case nil:
				continue
			case string:
				if x == "" {
					continue
				}
			case map[string]any:
				if len(x) == 0 {
					continue
				}
			case []any:
				if len(x) == 0 {
					continue
				}
			}
			out[k] = e
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = compact(e)
		}
		return out
	}
	return v
}
