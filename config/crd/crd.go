// Package crd embeds the generated CustomResourceDefinitions (bases/, written by
// `make manifests`), so that the binary rules on a PipelineService offline with the very
// schema, defaults and CEL rules the cluster serves, rather than a second copy of them.
package crd

import "embed"

// Bases are the generated CRDs, one file per kind.
//
//go:embed bases/*.yaml
var Bases embed.FS
