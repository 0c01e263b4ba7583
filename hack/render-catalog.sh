#!/usr/bin/env bash
# Renders bundle/ into a file-based catalog fragment, catalog/pipeline-service-operator/
# catalog.yaml: the package, its channel, and the bundle as `opm render` renders it (the
# manifests inline as olm.bundle.object). `opm validate catalog` checks it in `make test`, and
# a catalog index can take the directory as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

package="$(sed -n 's/^ *operators.operatorframework.io.bundle.package.v1: *//p' bundle/metadata/annotations.yaml)"
channel="$(sed -n 's/^ *operators.operatorframework.io.bundle.channel.default.v1: *//p' bundle/metadata/annotations.yaml)"
version="$(sed -n 's/^  version: *//p' bundle/manifests/*.clusterserviceversion.yaml)"
opm="$(hack/setup-olm.sh)/opm"

out="catalog/${package}"
mkdir -p "${out}"
{
  printf -- '---\nschema: olm.package\nname: %s\ndefaultChannel: %s\n' "${package}" "${channel}"
  printf -- '---\nschema: olm.channel\npackage: %s\nname: %s\nentries:\n  - name: %s.v%s\n' "${package}" "${channel}" "${package}" "${version}"
  "${opm}" render bundle/ -o yaml
} > "${out}/catalog.yaml.tmp"
mv "${out}/catalog.yaml.tmp" "${out}/catalog.yaml"
