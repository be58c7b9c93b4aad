#!/usr/bin/env bash
# Builds the project's image (the repo's Dockerfile) with podman, without any registry, and
# loads it into the test ground node's containerd. The image reference is the LAST line of
# stdout (everything else goes to stderr):
#
#   scripts/image.sh                 the full multi-stage build (Rust compiled in the image)
#   scripts/image.sh --runtime-only  the Dockerfile's runtime stage around host-built release
#                                    binaries (cargo build --release on this bookworm host: the
#                                    same glibc as the image); seconds when cargo is up to date
#
# The reference is localhost/liveness-operator:<first 12 hex of the image id>: a content tag
# (podman's layer cache gives the same id for the same inputs, any change of binaries or base
# gives a new one), so a Deployment updated to it never runs a stale image. Pods use it with
# imagePullPolicy: Never. The reference is also written to the test ground's state dir
# ($LIVENESS_TESTGROUND_DIR/endpoint-image) and as TESTGROUND_ENDPOINT_IMAGE to its env file.
#
# No registry is reachable here, so the base images are made locally from Debian's packages:
#   - docker.io/library/debian:bookworm-slim: `mmdebstrap --variant=minbase bookworm`, with the
#     machine's own apt sources (no mirror host is written here), then `podman import`;
#   - docker.io/library/rust:<RUST_VERSION>-slim-bookworm (full build only): the same plus
#     Debian's rustc-web/cargo-web (bookworm-security; newer than RUST_VERSION, which is the
#     crate's minimum), gcc, libc6-dev; the machine's CA bundle replaces the image's, since
#     crates.io is reached through a TLS proxy with its own CA (that image is only the build
#     stage: nothing of it reaches the runtime image).
# Caches: the base tarballs in $LIVENESS_CACHE_DIR/image (delete them to refresh the bases),
# podman's layer cache (/var/lib/containers), the Dockerfile's cargo cache mounts
# (/var/tmp/buildah-cache-*), cargo's target dir ($CARGO_TARGET_DIR) for --runtime-only.
#
# Measured on a 2-core machine (details in docs/testground-node.md): --runtime-only cold
# (no base image, podman cache empty, cargo release build up to date) 65 s, warm 3 s; the
# release build itself ~20 min from nothing; the full build ~43 min cold.
#
# Environment: LIVENESS_CACHE_DIR, LIVENESS_TESTGROUND_DIR (whose containerd to load into; no
# running node there: the image is built but not loaded), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE_DIR="${LIVENESS_CACHE_DIR:-$HOME/.cache/liveness-operator}"
STATE_DIR="${LIVENESS_TESTGROUND_DIR:-/tmp/liveness-testground}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE_DIR/target}"
IMAGE_REPO=localhost/liveness-operator
IMAGE_CACHE="$CACHE_DIR/image"
SOURCES=/etc/apt/sources.list.d/debian.sources
HOST_CA=/etc/ssl/certs/ca-certificates.crt
export DEBIAN_FRONTEND=noninteractive

log() { printf '[image] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

mode=full
case "${1:-}" in
  "") ;;
  --runtime-only) mode=runtime ;;
  *) echo "usage: $0 [--runtime-only]" >&2; exit 2 ;;
esac

mkdir -p "$IMAGE_CACHE"
# One build per mode at a time (a full build takes half an hour; a runtime-only one need
# not wait for it); the base images are made under a lock of their own.
exec 7>"$CACHE_DIR/image-$mode.lock"
flock 7

# --- tools ---------------------------------------------------------------------------------
missing=()
for pkg in podman mmdebstrap containerd; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# podman on this VM: no CAP_SYS_RESOURCE, so the default rlimits (raised above the hard
# limit) make every container fail with "error setting rlimit type 7: operation not
# permitted"; no systemd, so cgroupfs and a file event log. Kept here, not in /etc.
export CONTAINERS_CONF="$IMAGE_CACHE/containers.conf"
cat > "$CONTAINERS_CONF.new" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
mv -f "$CONTAINERS_CONF.new" "$CONTAINERS_CONF"

# --- base images ---------------------------------------------------------------------------
[ -f "$SOURCES" ] || die "$SOURCES not found: cannot make the base images"

# name, tarball, mmdebstrap options...: imports the tarball (made once) as the image name.
ensure_base() {
  local name=$1 tar=$2; shift 2
  podman image exists "$name" && return 0
  exec 6>"$CACHE_DIR/image-base.lock"
  flock 6
  podman image exists "$name" && { flock -u 6; return 0; }
  if [ ! -s "$tar" ]; then
    log "mmdebstrap $(basename "$tar" .tar) (~30 s)"
    # The output's name must end in .tar: mmdebstrap picks the format from it.
    local tmp="${tar%.tar}.tmp.tar"
    mmdebstrap --quiet --variant=minbase "$@" bookworm "$tmp" "$SOURCES" >&2 \
      || { rm -rf "$tmp"; die "mmdebstrap failed"; }
    mv -f "$tmp" "$tar"
  fi
  log "podman import $name"
  podman import "${IMPORT_CHANGES[@]}" "$tar" "$name" >/dev/null
  flock -u 6
}

IMPORT_CHANGES=(--change 'CMD ["bash"]')
ensure_base docker.io/library/debian:bookworm-slim "$IMAGE_CACHE/debian-bookworm-minbase.tar"

if [ "$mode" = full ]; then
  rust_version=$(sed -n 's/^ARG RUST_VERSION=//p' Dockerfile)
  [ -n "$rust_version" ] || die "no ARG RUST_VERSION in the Dockerfile"
  ca_hash=$(sha256sum "$HOST_CA" | cut -c1-12)
  IMPORT_CHANGES=(--change 'CMD ["bash"]' --change 'ENV CARGO_HOME=/usr/local/cargo'
                  --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
  ensure_base "docker.io/library/rust:$rust_version-slim-bookworm" "$IMAGE_CACHE/rust-bookworm-ca$ca_hash.tar" \
    --include=rustc-web,cargo-web,gcc,libc6-dev,ca-certificates \
    --customize-hook="cp $HOST_CA \"\$1$HOST_CA\""
fi

# --- build ---------------------------------------------------------------------------------
# --build-arg BINARIES is always given: podman 4.3 (buildah 1.28) resolves a stage named by
# an ARG in FROM only from --build-arg, not from the ARG's default.
build=(podman build --pull=never --network=host --layers --file "$PWD/Dockerfile" --tag "$IMAGE_REPO:latest-$mode")
started=$SECONDS
if [ "$mode" = runtime ]; then
  log "cargo build --release (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  cargo build --release --locked --bin liveness-operator --bin liveness-api >&2
  # A context of just the two binaries (the `prebuilt` stage copies them from its root).
  ctx="$IMAGE_CACHE/prebuilt-context"
  mkdir -p "$ctx"
  for b in liveness-operator liveness-api; do
    cmp -s "$CARGO_TARGET_DIR/release/$b" "$ctx/$b" || cp "$CARGO_TARGET_DIR/release/$b" "$ctx/$b"
  done
  started=$SECONDS
  log "podman build (runtime stage, prebuilt binaries)"
  "${build[@]}" --build-arg BINARIES=prebuilt "$ctx" >&2
else
  log "podman build (multi-stage; cargo's release build inside dominates)"
  "${build[@]}" --build-arg BINARIES=build . >&2
fi
id=$(podman image inspect --format '{{.Id}}' "$IMAGE_REPO:latest-$mode")
ref="$IMAGE_REPO:${id:0:12}"
podman tag "$IMAGE_REPO:latest-$mode" "$ref"
log "built $ref in $((SECONDS - started)) s"
# Older content tags go (their layers with them), except the other mode's latest; podman's
# build cache (untagged intermediate images) is left alone.
keep=$(podman image inspect --format '{{.Id}}' "$IMAGE_REPO:latest-full" "$IMAGE_REPO:latest-runtime" 2>/dev/null || true)
podman images --format '{{.Repository}}:{{.Tag}} {{.ID}}' --no-trunc "$IMAGE_REPO" 2>/dev/null \
  | while read -r name iid; do
      [[ "${name##*:}" =~ ^[0-9a-f]{12}$ ]] || continue
      grep -qF "${iid#sha256:}" <<<"$keep" || podman rmi "$name" >/dev/null 2>&1 || true
    done

# --- load into the test ground's containerd ------------------------------------------------
sock="$STATE_DIR/containerd/containerd.sock"
if [ -S "$sock" ] && ctr --address "$sock" version >/dev/null 2>&1; then
  ctr_() { ctr --address "$sock" --namespace k8s.io "$@"; }
  if ! ctr_ images ls -q | grep -xF "$ref" >/dev/null; then
    archive=$(mktemp "$STATE_DIR/image.XXXXXX.tar")
    trap 'rm -f "$archive"' EXIT
    rm -f "$archive"   # podman save refuses to overwrite
    podman save --quiet --format oci-archive --output "$archive" "$ref" >&2
    ctr_ images import --base-name "$IMAGE_REPO" "$archive" >&2
    rm -f "$archive"
    ctr_ images ls -q | grep -xF "$ref" >/dev/null || die "containerd has no $ref after the import"
  fi
  echo "$ref" > "$STATE_DIR/endpoint-image"
  if [ -f "$STATE_DIR/env" ]; then
    sed -i '/^export TESTGROUND_ENDPOINT_IMAGE=/d' "$STATE_DIR/env"
    echo "export TESTGROUND_ENDPOINT_IMAGE=$ref" >> "$STATE_DIR/env"
  fi
  log "loaded into the node's containerd ($sock)"
else
  log "no running containerd at $sock (scripts/testground.sh up starts it): image not loaded"
fi
echo "$ref"
