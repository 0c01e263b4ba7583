#!/usr/bin/env bash
# Builds the real OLM (the olm and catalog operators) and opm from source through the Go module
# proxy, once per machine, into the same cache as the envtest binaries, keyed by version, and
# prints the directory. OLM_ASSETS, when set, wins. With --check it builds nothing and exits 1
# when they are not built yet.
#
# Neither module has replace directives, so a throwaway module that requires the command's
# package builds it as released. The tests run olm and catalog against the envtest control
# plane and serve their catalogs with `opm serve`; `make bundle` renders the bundle with opm.
set -euo pipefail

OLM_VERSION="${OLM_VERSION:-0.46.0}"
OPM_VERSION="${OPM_VERSION:-1.73.0}"

if [[ -n "${OLM_ASSETS:-}" ]]; then
  echo "${OLM_ASSETS}"
  exit 0
fi

cache="${ENVTEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pipeline-service-operator}"
dir="${cache}/olm/${OLM_VERSION}-opm${OPM_VERSION}"
ready() { [[ -x "${dir}/olm" && -x "${dir}/catalog" && -x "${dir}/opm" ]]; }
if ready; then
  echo "${dir}"
  exit 0
fi
# --check: only say whether they are built (exit 1 when not), without building.
if [[ "${1:-}" == "--check" ]]; then
  exit 1
fi

log() { echo "setup-olm: $*" >&2; }
mkdir -p "${cache}"
# One build at a time per machine: a second caller waits for the first and then reuses its output.
exec 9>"${cache}/.olm-lock"
flock 9
if ready; then
  echo "${dir}"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
mkdir -p "${work}/out"

# build NAME PACKAGE VERSION [TAGS]: a throwaway module that requires PACKAGE@VERSION and
# builds it with the build tags TAGS.
build() {
  local name="$1" pkg="$2" ver="$3" tags="${4:-}" d="${work}/$1"
  mkdir -p "$d"
  printf 'module build.local/%s\n\ngo %s\n' "$name" "$(go env GOVERSION | sed 's/^go\([0-9]*\.[0-9]*\).*/\1/')" > "$d/go.mod"
  (cd "$d" && go get "${pkg}@${ver}" >/dev/null 2>&1 && go build -trimpath -tags "${tags}" -o "${work}/out/${name}" "${pkg}")
}

start=$(date +%s)
log "building OLM v${OLM_VERSION} (olm, catalog) and opm v${OPM_VERSION} (a few minutes on 2 cores)"
build olm github.com/operator-framework/operator-lifecycle-manager/cmd/olm "v${OLM_VERSION}"
build catalog github.com/operator-framework/operator-lifecycle-manager/cmd/catalog "v${OLM_VERSION}"
# opm's own build tags: pure-Go OpenPGP instead of libgpgme, and no btrfs or devicemapper
# storage drivers, so that only gcc (for SQLite) is needed.
build opm github.com/operator-framework/operator-registry/cmd/opm "v${OPM_VERSION}" \
  json1,containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper

mkdir -p "$(dirname "${dir}")"
rm -rf "${dir}.tmp"
mv "${work}/out" "${dir}.tmp"
mv "${dir}.tmp" "${dir}"
log "built in $(( $(date +%s) - start ))s into ${dir}"
echo "${dir}"
