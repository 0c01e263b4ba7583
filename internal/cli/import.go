package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/openshift-pipelines/pipeline-service-operator/internal/importer"
	"github.com/openshift-pipelines/pipeline-service-operator/internal/manager"
)

// Import is `manager import`: it reads the cluster $KUBECONFIG (or --kubeconfig) names and
// prints the PipelineService that reproduces it on standard output, what it could not
// reproduce as comments at the top. It only reads, and never a Secret.
func (c *Commands) Import(args []string) int {
	opts := importer.DefaultOptions()
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: manager import [flags] > pipelineservice.yaml\n\n"+
			"Reads what the cluster runs for Pipeline Service (the TektonConfig, the OpenShift Pipelines\n"+
			"Subscription and its CatalogSource, the mirror policy, the exporter, the ExternalSecrets) and\n"+
			"prints the PipelineService that reproduces it. Review it before applying it; see\n"+
			"docs/migration.md.")
		fs.PrintDefaults()
	}
	fs.StringVar(&opts.Package, "package", opts.Package, "OLM package of OpenShift Pipelines, whose Subscription is imported.")
	fs.StringVar(&opts.MirrorSet, "mirror-set", "", "ImageContentSourcePolicy or ImageDigestMirrorSet to import; empty: the one labelled app.kubernetes.io/part-of=pipeline-service, if any.")
	fs.StringVar(&opts.Exporter, "exporter", opts.Exporter, "Name of the pipeline-metrics exporter Deployment in targetNamespace.")
	namespaces := fs.String("external-secret-namespaces", "", "Comma-separated namespaces whose ExternalSecrets are imported; empty: targetNamespace.")
	timeout := fs.Duration("timeout", 30*time.Second, "How long the reads may take.")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *namespaces != "" {
		opts.SecretNamespaces = strings.Split(*namespaces, ",")
	}
	cfg, err := config.GetConfig()
	if err != nil {
		fmt.Fprintln(c.Stderr, "import:", err)
		return 1
	}
	cl, err := client.New(cfg, client.Options{Scheme: manager.NewScheme()})
	if err != nil {
		fmt.Fprintln(c.Stderr, "import:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	live, err := importer.Read(ctx, cl, opts)
	if err != nil {
		fmt.Fprintln(c.Stderr, "import:", err)
		return 1
	}
	r, err := importer.Convert(live)
	if err != nil {
		fmt.Fprintln(c.Stderr, "import:", err)
		return 1
	}
	header := fmt.Sprintf("Imported from %s by `pipeline-service-operator import` on %s.", cfg.Host, time.Now().UTC().Format(time.DateOnly))
	if err := importer.Write(c.Stdout, r, header); err != nil {
		fmt.Fprintln(c.Stderr, "import:", err)
		return 1
	}
	return 0
}
