package importer

import (
	"context"
	"errors"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/children"
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
// as testdata/production holds stone-prod-p01's), with DefaultOptions: every kind Read reads,
// the exporter's objects by the exporter's name, and the mirror policy the operator's label
// marks.
func FromObjects(objs []*unstructured.Unstructured) *Cluster {
	cl := &Cluster{}
	exporter := DefaultOptions().Exporter
	for _, u := range objs {
		switch gvk := u.GroupVersionKind(); {
		case gvk == children.GVKTektonConfig:
			cl.TektonConfig = u
		case gvk == children.GVKSubscription:
			cl.Subscription = u
		case gvk == children.GVKCatalogSource:
			cl.CatalogSource = u
		case gvk == children.GVKDeployment && u.GetName() == exporter:
			cl.Exporter = u
		case gvk == children.GVKServiceMonitor && u.GetName() == exporter:
			cl.ServiceMonitor = u
		case gvk == children.GVKNetworkPolicy && u.GetName() == exporter:
			cl.NetworkPolicy = u
		case (gvk == children.GVKICSP || gvk == children.GVKIDMS) && u.GetLabels()[render.LabelPartOf] == children.Member.Info().PartOf:
			cl.Mirrors = u
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
