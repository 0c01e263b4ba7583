#!/usr/bin/env bash
# Builds the envtest control plane (kube-apiserver and etcd), and kubectl for the tests that
# check what a person sees, from source through the Go module proxy, because setup-envtest's
# release downloads cannot be reached from our machines or CI.
# Builds once into a cache outside the clone, so a clean clone on the same machine reuses it,
# and prints the directory to use as KUBEBUILDER_ASSETS. An existing KUBEBUILDER_ASSETS wins.
#
# kube-apiserver: k8s.io/kubernetes replaces its staging modules (k8s.io/api, ...) with local
# paths, so `go install k8s.io/kubernetes/cmd/kube-apiserver@vX` refuses. A throwaway module
# requires k8s.io/kubernetes and replaces every staging module with its published v0.Y.Z.
# etcd: go.etcd.io/etcd/server/v3 has the same kind of replace directives; same trick.
set -euo pipefail

K8S_VERSION="${ENVTEST_K8S_VERSION:-1.36.3}"
ETCD_VERSION="${ENVTEST_ETCD_VERSION:-3.6.5}"

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  echo "${KUBEBUILDER_ASSETS}"
  exit 0
fi

cache="${ENVTEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pipeline-service-operator}"
dir="${cache}/k8s/${K8S_VERSION}-etcd${ETCD_VERSION}"
ready() { [[ -x "${dir}/kube-apiserver" && -x "${dir}/etcd" && -x "${dir}/kubectl" ]]; }
if ready; then
  echo "${dir}"
  exit 0
fi

log() { echo "setup-envtest: $*" >&2; }
mkdir -p "${cache}"
# One build at a time per machine: a second caller waits for the first and then reuses its output.
exec 9>"${cache}/.lock"
flock 9
if ready; then
  echo "${dir}"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
mkdir -p "${work}/out"

# throwaway_module DIR MODULE VERSION STAGING_PREFIX STAGING_VERSION
# writes a go.mod requiring MODULE@VERSION and replacing each module that MODULE's own go.mod
# replaces with a local path (./staging/..., ./api, ...) by the published STAGING_VERSION.
throwaway_module() {
  local d="$1" mod="$2" ver="$3" stagingver="$4"
  mkdir -p "$d"
  local gomod
  gomod="$(cd "$d" && go mod download -json "${mod}@${ver}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  {
    echo "module envtest.local/build"
    echo
    echo "go $(go env GOVERSION | sed 's/^go\([0-9]*\.[0-9]*\).*/\1/')"
    echo
    echo "require ${mod} ${ver}"
    echo
    # Lines such as "k8s.io/api => ./staging/src/k8s.io/api" or "go.etcd.io/etcd/api/v3 => ../api".
    grep -E '^[[:space:]]*[^[:space:]]+ => \.\.?/' "${gomod}" | awk '{print $1}' | sort -u | while read -r m; do
      if [[ "$stagingver" == "same" ]]; then
        echo "replace ${m} => ${m} ${ver}"
      else
        echo "replace ${m} => ${m} ${stagingver}"
      fi
    done
  } > "$d/go.mod"
}

start=$(date +%s)
# Each binary is built only when missing, so a cache from before kubectl was added keeps its
# kube-apiserver and etcd.
mkdir -p "${dir}"
if [[ ! -x "${dir}/etcd" ]]; then
  log "building etcd v${ETCD_VERSION} (about 1-3 minutes)"
  throwaway_module "${work}/etcd" go.etcd.io/etcd/server/v3 "v${ETCD_VERSION}" same
  (cd "${work}/etcd" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "${work}/out/etcd" go.etcd.io/etcd/server/v3)
  mv "${work}/out/etcd" "${dir}/etcd"
fi

minor="${K8S_VERSION#*.}"
for cmd in kube-apiserver kubectl; do
  if [[ -x "${dir}/${cmd}" ]]; then
    continue
  fi
  log "building ${cmd} v${K8S_VERSION} (kube-apiserver: about 10 minutes on 2 cores; kubectl: about 3)"
  [[ -f "${work}/kube/go.mod" ]] || throwaway_module "${work}/kube" k8s.io/kubernetes "v${K8S_VERSION}" "v0.${minor}"
  # The version ldflags make both report v${K8S_VERSION} instead of v0.0.0 (OLM compares a
  # CSV's minKubeVersion with the server's version; kubectl prints it).
  ldflags="-X k8s.io/component-base/version.gitVersion=v${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}"
  (cd "${work}/kube" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "${ldflags}" -o "${work}/out/${cmd}" "k8s.io/kubernetes/cmd/${cmd}")
  mv "${work}/out/${cmd}" "${dir}/${cmd}"
done
log "built in $(( $(date +%s) - start ))s into ${dir}"
echo "${dir}"
