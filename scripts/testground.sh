#!/usr/bin/env bash
# The test ground: a real kube-apiserver + etcd + kube-controller-manager (Kubernetes 1.20,
# built from Debian's `kubernetes` source package), a node (containerd + runc + a CNI
# bridge, kubelet, kube-scheduler, kube-proxy in iptables mode) and ministack (an AWS
# emulator), all on this machine, all installed by this script on a fresh machine.
#
#   scripts/testground.sh up      install what is missing, start everything, write env + kubeconfig
#   scripts/testground.sh down    stop everything started by `up`, remove pods, containers, mounts,
#                                 cgroups, the CNI bridge and its iptables chains (state dir is removed)
#   scripts/testground.sh status  print what is running
#   scripts/testground.sh env     print the path of the env file to source
#   scripts/testground.sh build   only install and build (cached); print the Kubernetes bin dir
#
# Caches (kept across runs, outside the work tree):  $LIVENESS_CACHE_DIR (default ~/.cache/liveness-operator)
# Runtime state (per test ground):                  $LIVENESS_TESTGROUND_DIR (default /tmp/liveness-testground)
#
# The node is machine-wide (one kubelet, the bridge, KUBE-*/CNI-* iptables chains, the
# cgroup $NODE_CGROUP_ROOT, /var/log/pods): one test ground per machine may run it; set
# TESTGROUND_WITH_NODE=0 for a second one (apiserver and AWS emulator only, pods stay Pending).
# Why the node is started the way it is (this VM: cgroups v1, no CAP_SYS_RESOURCE, a
# read-only view of some /proc/sys entries) is in docs/testground-node.md.
#
# Pods reach the host at the bridge's gateway ($TESTGROUND_POD_GATEWAY, 10.244.0.1 by
# default); the host reaches pod IPs through the bridge and ClusterIPs through kube-proxy.
set -euo pipefail

CACHE_DIR="${LIVENESS_CACHE_DIR:-$HOME/.cache/liveness-operator}"
STATE_DIR="${LIVENESS_TESTGROUND_DIR:-/tmp/liveness-testground}"
ETCD_PORT="${TESTGROUND_ETCD_PORT:-23790}"
APISERVER_PORT="${TESTGROUND_APISERVER_PORT:-26443}"
MINISTACK_PORT="${TESTGROUND_MINISTACK_PORT:-24566}"
SERVICE_CIDR=10.96.0.0/16
# The node (ports on 127.0.0.1; the pod network must not clash with podman's 10.88.0.0/16).
WITH_NODE="${TESTGROUND_WITH_NODE:-1}"
NODE_NAME=localhost
# Every pod may run on the node (the end-to-end tests run the operator's Deployments for
# real). TESTGROUND_NODE_TAINT=<key>=<value>:<effect> taints it, for pods that opt in only.
NODE_TAINT="${TESTGROUND_NODE_TAINT-}"
KUBELET_PORT="${TESTGROUND_KUBELET_PORT:-20250}"
KUBELET_HEALTHZ_PORT="${TESTGROUND_KUBELET_HEALTHZ_PORT:-20248}"
SCHEDULER_PORT="${TESTGROUND_SCHEDULER_PORT:-20251}"
PROXY_HEALTHZ_PORT="${TESTGROUND_PROXY_HEALTHZ_PORT:-20256}"
PROXY_METRICS_PORT="${TESTGROUND_PROXY_METRICS_PORT:-20249}"
POD_CIDR="${TESTGROUND_POD_CIDR:-10.244.0.0/24}"
POD_GATEWAY="${POD_CIDR%.*}.1"
CNI_BRIDGE="${TESTGROUND_CNI_BRIDGE:-lvtg0}"
CNI_NETWORK=liveness-testground
NODE_CGROUP_ROOT=liveness-testground
NODE_OWNER=/run/liveness-testground-node   # which state dir runs the machine's node
MINISTACK_VERSION="1.5.33"
BOTO3_SPEC="boto3>=1.34,<2"
# Without cryptography, ministack's Cognito user-pool tokens carry random bytes as their
# signature; with it they are RS256-signed with the keys its JWKS publishes.
CRYPTOGRAPHY_SPEC="cryptography>=42,<51"
# Bump when the venv's packages change, so an existing venv is rebuilt.
MINISTACK_VENV="venv-ministack-$MINISTACK_VERSION-signed"

CTRD="$STATE_DIR/containerd"
CTRD_SOCK="$CTRD/containerd.sock"
KUBELET_ROOT="$STATE_DIR/kubelet"

log() { printf '[testground] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

export DEBIAN_FRONTEND=noninteractive

# --- installation (idempotent) -------------------------------------------------------------

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_packages() {
  apt_install golang-go etcd-server rsync golang-github-modern-go-reflect2-dev openssl curl ca-certificates make \
    gcc libc6-dev
  if [ "$WITH_NODE" = 1 ]; then
    # conntrack: kube-proxy clears UDP entries with it; util-linux (unshare, mount) is essential.
    apt_install containerd runc containernetworking-plugins iptables conntrack iproute2 util-linux
  fi
}

# The binaries built from the Debian `kubernetes` source package, all in one `make WHAT=...`,
# once per source version, into $CACHE_DIR/kubernetes-<version>/bin (plus `pause`, the
# sandbox process, compiled from the same tree). A cache that lacks some of them (one made
# before the node existed) gets only the missing ones, installed beside the others with an
# atomic rename: a binary a running test ground uses is never rewritten in place.
K8S_BINARIES=(kube-apiserver kube-controller-manager kubectl kube-scheduler kubelet kube-proxy)

k8s_bin_complete() { # dir
  local b
  for b in "${K8S_BINARIES[@]}" pause; do [ -x "$1/$b" ] || return 1; done
}

# Prints the directory holding the binaries.
ensure_kubernetes_build() {
  local existing
  existing=$(ls -d "$CACHE_DIR"/kubernetes-*/bin 2>/dev/null | sort | tail -n 1 || true)
  if [ -n "$existing" ] && k8s_bin_complete "$existing"; then
    echo "$existing"; return 0
  fi
  local apt_dir="$CACHE_DIR/apt-src"
  mkdir -p "$apt_dir/sources" "$apt_dir/lists/partial" "$apt_dir/download"
  # deb-src entries derived from the system's own sources (no mirror host is written here).
  local src=/etc/apt/sources.list.d/debian.sources
  [ -f "$src" ] || die "$src not found: cannot derive a deb-src entry"
  sed 's/^Types: deb$/Types: deb-src/' "$src" > "$apt_dir/sources/debian-src.sources"
  local opts=(-o APT::Sandbox::User=root -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/sources"
              -o "Dir::State::Lists=$apt_dir/lists")
  log "fetching the kubernetes source package index"
  apt-get "${opts[@]}" update -qq
  (cd "$apt_dir/download" && apt-get "${opts[@]}" source --download-only kubernetes >/dev/null)
  local orig
  orig=$(ls "$apt_dir"/download/kubernetes_*.orig.tar.* | sort | tail -n 1)
  local version
  version=$(basename "$orig" | sed -E 's/^kubernetes_(.*)\.orig\.tar\..*$/\1/')
  local build="$CACHE_DIR/kubernetes-$version"
  mkdir -p "$build/bin"
  local missing=() targets=() b
  for b in "${K8S_BINARIES[@]}"; do
    [ -x "$build/bin/$b" ] || { missing+=("$b"); targets+=("cmd/$b"); }
  done
  local work
  work=$(mktemp -d "$build/work.XXXXXX")
  tar -xf "$orig" -C "$work" --strip-components=1
  if [ ${#targets[@]} -gt 0 ]; then
    log "building kubernetes $version: ${missing[*]} (all six: ~15 min on 2 cores, once per machine)"
    # The vendored reflect2 1.0.1 segfaults under Go >= 1.18 on the first CRD create.
    rm -rf "$work/vendor/github.com/modern-go/reflect2"
    mkdir -p "$work/vendor/github.com/modern-go/reflect2"
    cp -r /usr/share/gocode/src/github.com/modern-go/reflect2/. "$work/vendor/github.com/modern-go/reflect2/"
    mkdir -p "$work/.go/src/k8s.io"
    ln -sfn ../../.. "$work/.go/src/k8s.io/kubernetes"
    local started=$SECONDS
    (cd "$work/.go/src/k8s.io/kubernetes" && GOPATH="$work/.go" GOFLAGS=-mod=vendor CGO_ENABLED=0 GO111MODULE=auto \
       make WHAT="${targets[*]}" >"$build/build.log" 2>&1) \
       || { tail -n 40 "$build/build.log" >&2; rm -rf "$work"; die "kubernetes build failed (log: $build/build.log)"; }
    log "kubernetes build took $((SECONDS - started)) s"
  fi
  if [ ! -x "$build/bin/pause" ]; then
    # The sandbox ("pause") process of every pod, as upstream builds it (build/pause/Makefile).
    local tag
    tag=$(sed -n 's/^TAG = //p' "$work/build/pause/Makefile")
    gcc -Os -Wall -Werror -static -DVERSION="v$tag-testground" -o "$work/pause" "$work/build/pause/linux/pause.c" \
      || { rm -rf "$work"; die "building pause failed"; }
    echo "$tag" > "$build/bin/pause.version"
    missing+=(pause)
  fi
  for b in "${missing[@]}"; do
    local out
    if [ "$b" = pause ]; then out="$work/pause"; else
      out=$(find "$work/_output" -type f -name "$b" -perm -u+x | head -n 1)
    fi
    [ -n "$out" ] || { rm -rf "$work"; die "the build produced no $b"; }
    cp "$out" "$build/bin/.$b.new" && mv -f "$build/bin/.$b.new" "$build/bin/$b"
  done
  rm -rf "$work"
  k8s_bin_complete "$build/bin" || die "incomplete kubernetes build in $build/bin"
  echo "$build/bin"
}

ensure_ministack() {
  local venv="$CACHE_DIR/$MINISTACK_VENV"
  if [ ! -x "$venv/bin/ministack" ] || ! "$venv/bin/python" -c 'import cryptography' 2>/dev/null; then
    log "creating the ministack venv ($venv)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "ministack==$MINISTACK_VERSION" "$BOTO3_SPEC" "$CRYPTOGRAPHY_SPEC"
  fi
  echo "$venv"
}

# --- processes -----------------------------------------------------------------------------

alive() { [ -f "$STATE_DIR/$1.pid" ] && kill -0 "$(cat "$STATE_DIR/$1.pid")" 2>/dev/null; }

start_bg() { # name, command...
  local name=$1; shift
  # 9>&-: the daemon must not inherit the `up` lock, or it holds it for its whole life.
  setsid "$@" >"$STATE_DIR/logs/$name.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$STATE_DIR/$name.pid"
}

# Starts NAME unless it runs already with the same command line (and inputs): a process
# left by an earlier `up` with other flags (or by an older version of this script, which
# wrote no .cmd file) is restarted, so `up` always ends with what this script describes.
ensure_started() { # name, extra-fingerprint, command...
  local name=$1 extra=$2; shift 2
  local want
  want="$(printf '%q ' "$@")# $extra"
  if alive "$name"; then
    [ "$(cat "$STATE_DIR/$name.cmd" 2>/dev/null)" = "$want" ] && return 0
    log "restarting $name (its command line changed)"
    stop_process "$name"
  fi
  log "starting $name"
  start_bg "$name" "$@"
  printf '%s' "$want" > "$STATE_DIR/$name.cmd"
}

wait_for() { # description, seconds, command...
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what did not become ready within ${secs}s (logs: $STATE_DIR/logs)"
    sleep 0.5
  done
}

stop_process() { # name
  if alive "$1"; then
    local pid; pid=$(cat "$STATE_DIR/$1.pid")
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE_DIR/$1.pid" "$STATE_DIR/$1.cmd"
}

# Writes stdin to FILE only if the content differs: kube-proxy exits when its config file
# changes, and an unchanged file keeps a running component running.
install_file() { # file
  cat > "$1.new"
  if cmp -s "$1.new" "$1"; then rm -f "$1.new"; else mv -f "$1.new" "$1"; fi
}

# --- credentials ---------------------------------------------------------------------------

new_token() { # user, groups: appends a token line (once per user) and prints the token
  local csv="$STATE_DIR/pki/tokens.csv" line
  line=$(grep -m1 ",$1,$1," "$csv" 2>/dev/null || true)
  if [ -z "$line" ]; then
    line="$(openssl rand -hex 24),$1,$1,$2"
    echo "$line" >> "$csv"
  fi
  echo "${line%%,*}"
}

make_credentials() {
  local pki="$STATE_DIR/pki"
  mkdir -p "$pki"
  if [ ! -f "$pki/sa.key" ]; then
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  fi
  [ -f "$pki/admin.token" ] || new_token testground-admin system:masters > "$pki/admin.token"
  # The node's identities: the Node authorizer knows the kubelet by system:node:<name> in
  # system:nodes; the scheduler and kube-proxy users are bound by the bootstrap RBAC policy.
  new_token "system:node:$NODE_NAME" system:nodes > "$pki/kubelet.token"
  new_token system:kube-scheduler "" > "$pki/scheduler.token"
  new_token system:kube-proxy "" > "$pki/proxy.token"
  # The apiserver's client certificate for the kubelet (logs, exec, port-forward): the kubelet
  # trusts ca.crt; the certificate's organisation system:masters passes its authorization check.
  if [ ! -f "$pki/apiserver-kubelet-client.crt" ]; then
    openssl req -x509 -new -nodes -newkey rsa:2048 -keyout "$pki/ca.key" -out "$pki/ca.crt" \
      -subj /CN=testground-ca -days 3650 2>/dev/null
    openssl req -new -nodes -newkey rsa:2048 -keyout "$pki/apiserver-kubelet-client.key" \
      -out "$pki/apiserver-kubelet-client.csr" -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > "$pki/client.ext"
    openssl x509 -req -in "$pki/apiserver-kubelet-client.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
      -CAcreateserial -days 3650 -extfile "$pki/client.ext" -out "$pki/apiserver-kubelet-client.crt" 2>/dev/null
  fi
}

write_kubeconfig() { # path, user, token
  install_file "$1" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: testground
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    insecure-skip-tls-verify: true
users:
- name: $2
  user:
    token: $3
contexts:
- name: testground
  context: {cluster: testground, user: $2, namespace: default}
current-context: testground
KCFG
  chmod 600 "$1"
}

write_env() {
  local bin=$1
  cat > "$STATE_DIR/env" <<ENV
# generated by scripts/testground.sh up; source it
export KUBECONFIG=$STATE_DIR/kubeconfig
export PATH=$bin:\$PATH
export TESTGROUND_DIR=$STATE_DIR
export TESTGROUND_AWS_ENDPOINT=http://127.0.0.1:$MINISTACK_PORT
export AWS_ENDPOINT_URL=http://127.0.0.1:$MINISTACK_PORT
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export TESTGROUND_SERVICE_CIDR=$SERVICE_CIDR
ENV
  if [ "$WITH_NODE" = 1 ]; then
    cat >> "$STATE_DIR/env" <<ENV
# the node: pods run (images from containerd's k8s.io namespace, imagePullPolicy: Never)
export TESTGROUND_NODE=$NODE_NAME
export TESTGROUND_CONTAINERD_SOCKET=$CTRD_SOCK
export TESTGROUND_CONTAINERD_NAMESPACE=k8s.io
export TESTGROUND_SANDBOX_IMAGE=$(sandbox_image)
export TESTGROUND_POD_CIDR=$POD_CIDR
export TESTGROUND_POD_GATEWAY=$POD_GATEWAY
export TESTGROUND_CNI_BRIDGE=$CNI_BRIDGE
export TESTGROUND_KUBELET_PORT=$KUBELET_PORT
# a pod needs a toleration of this taint to run (empty: none)
export TESTGROUND_NODE_TAINT=$NODE_TAINT
ENV
    # scripts/image.sh writes the endpoint image it loaded into this ground's containerd.
    if [ -s "$STATE_DIR/endpoint-image" ]; then
      echo "export TESTGROUND_ENDPOINT_IMAGE=$(cat "$STATE_DIR/endpoint-image")" >> "$STATE_DIR/env"
    fi
  fi
}

# --- the node ------------------------------------------------------------------------------

K8S_BIN=
sandbox_image() { echo "localhost/pause:$(cat "$K8S_BIN/pause.version" 2>/dev/null || echo 3.4)"; }
ctr_() { ctr --address "$CTRD_SOCK" --namespace k8s.io "$@"; }

# The cgroup v1 hierarchies (and the unified one of a hybrid setup) the node's cgroups live in.
cgroup_hierarchies() {
  awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts | grep '^/sys/fs/cgroup/'
}

# kubelet wants cgroupRoot to exist in every hierarchy; cpuset children start with empty
# cpus/mems, so they are copied from the parent.
make_node_cgroups() {
  local h
  for h in $(cgroup_hierarchies); do
    mkdir -p "$h/$NODE_CGROUP_ROOT"
    if [ -f "$h/cpuset.cpus" ]; then
      cat "$h/cpuset.cpus" > "$h/$NODE_CGROUP_ROOT/cpuset.cpus"
      cat "$h/cpuset.mems" > "$h/$NODE_CGROUP_ROOT/cpuset.mems"
    fi
  done
}

# A shim that runs a command with some /proc/sys entries showing the values it expects, in
# its own mount namespace only: kubelet 1.20 rewrites vm.overcommit_memory, kernel.panic and
# kernel.panic_on_oops at start (kube-proxy net.ipv4.conf.all.route_localnet), which this VM
# refuses; bind-mounting small files over them (never the real values) lets them start.
write_sysctl_shim() {
  install_file "$STATE_DIR/node/sysctl-shim.sh" <<'SHIM'
#!/bin/sh
# usage: sysctl-shim.sh DIR KEY=VALUE... -- COMMAND...
set -eu
dir=$1; shift
while [ "$1" != -- ]; do
  key=${1%%=*}; val=${1#*=}; shift
  f=/proc/sys/$key
  [ -e "$f" ] || continue
  [ "$(cat "$f")" = "$val" ] && continue
  file=$dir/$(echo "$key" | tr / _)
  echo "$val" > "$file"
  mount --bind "$file" "$f"
done
shift
exec "$@"
SHIM
  chmod +x "$STATE_DIR/node/sysctl-shim.sh"
}

write_containerd_config() {
  mkdir -p "$CTRD/root" "$CTRD/state" "$CTRD/opt" "$STATE_DIR/cni/net.d" "$STATE_DIR/cni/ipam"
  install_file "$CTRD/config.toml" <<TOML
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD/containerd.sock.ttrpc"
[debug]
  address = "$CTRD/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$(sandbox_image)"
  # runc cannot lower oom_score_adj on this VM (no CAP_SYS_RESOURCE): without this every
  # sandbox fails with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$CTRD/runc"
        SystemdCgroup = false
TOML
  # The pod network: a bridge of its own, host-local addresses (state under the state dir),
  # the host as gateway (pods reach it at $POD_GATEWAY), masquerading for traffic leaving it.
  install_file "$STATE_DIR/cni/net.d/10-$CNI_NETWORK.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {"type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$STATE_DIR/cni/ipam",
              "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
  # The bridge exists (with its gateway address) before the first pod, so a process pods
  # must call can listen on $POD_GATEWAY right after `up`; the bridge plugin adopts it.
  if ! ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then
    ip link add "$CNI_BRIDGE" type bridge
  fi
  ip addr show dev "$CNI_BRIDGE" | grep -F " $POD_GATEWAY/" >/dev/null \
    || ip addr add "$POD_GATEWAY/${POD_CIDR#*/}" dev "$CNI_BRIDGE"
  ip link set "$CNI_BRIDGE" up
}

# The sandbox image: pause (compiled with the Kubernetes build) in a FROM-scratch OCI image,
# written by hand (no registry, no image builder) and imported into containerd.
ensure_sandbox_image() {
  local ref; ref=$(sandbox_image)
  ctr_ images ls -q | grep -xF "$ref" >/dev/null && return 0
  local dir; dir=$(mktemp -d "$STATE_DIR/node/pause-image.XXXXXX")
  mkdir -p "$dir/rootfs" "$dir/oci/blobs/sha256"
  cp "$K8S_BIN/pause" "$dir/rootfs/pause"
  tar --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$dir/layer.tar" -C "$dir/rootfs" pause
  blob() { # file: moves it into the blob store, prints "sha256:<hex> <size>"
    local hex size; hex=$(sha256sum "$1" | cut -d' ' -f1); size=$(stat -c %s "$1")
    mv "$1" "$dir/oci/blobs/sha256/$hex"; echo "sha256:$hex $size"
  }
  local layer config manifest
  layer=$(blob "$dir/layer.tar")
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "${layer% *}" > "$dir/config.json"
  config=$(blob "$dir/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
    "${config% *}" "${config#* }" "${layer% *}" "${layer#* }" > "$dir/manifest.json"
  manifest=$(blob "$dir/manifest.json")
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "${manifest% *}" "${manifest#* }" "$ref" "${ref##*:}" > "$dir/oci/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$dir/oci/oci-layout"
  tar -cf "$dir/pause.tar" -C "$dir/oci" .
  ctr_ images import "$dir/pause.tar" >/dev/null
  rm -rf "$dir"
  log "sandbox image $ref imported"
}

write_node_configs() {
  local pki="$STATE_DIR/pki" node="$STATE_DIR/node"
  write_kubeconfig "$node/kubelet.kubeconfig" "system:node:$NODE_NAME" "$(cat "$pki/kubelet.token")"
  write_kubeconfig "$node/scheduler.kubeconfig" system:kube-scheduler "$(cat "$pki/scheduler.token")"
  write_kubeconfig "$node/proxy.kubeconfig" system:kube-proxy "$(cat "$pki/proxy.token")"
  install_file "$node/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
cgroupRoot: /$NODE_CGROUP_ROOT
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
# kubelet's own KUBE-MARK-* / KUBE-FIREWALL chains are not needed (kube-proxy has its own)
# and fail on this VM.
makeIPTablesUtilChains: false
protectKernelDefaults: false
failSwapOn: false
volumePluginDir: $KUBELET_ROOT/volume-plugins
# Images are imported by hand (imagePullPolicy: Never): never garbage-collect them, never
# evict for a fairly full disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1%}
serializeImagePulls: false
resolvConf: /etc/resolv.conf
YAML
  install_file "$node/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $node/proxy.kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
healthzBindAddress: 127.0.0.1:$PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$PROXY_METRICS_PORT
# 0: leave the machine's conntrack table size and timeouts alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {syncPeriod: 30s, minSyncPeriod: 0s}
YAML
}

node_ready() {
  [ "$("$K8S_BIN/kubectl" --kubeconfig "$STATE_DIR/kubeconfig" get node "$NODE_NAME" \
      -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

start_node() {
  local owner
  owner=$(cat "$NODE_OWNER" 2>/dev/null || true)
  if [ -n "$owner" ] && [ "$owner" != "$STATE_DIR" ]; then
    if [ -f "$owner/kubelet.pid" ] && kill -0 "$(cat "$owner/kubelet.pid")" 2>/dev/null; then
      die "the test ground in $owner runs this machine's node; bring it down or set TESTGROUND_WITH_NODE=0"
    fi
    log "cleaning up the node left by $owner"
    (STATE_DIR=$owner; CTRD="$owner/containerd"; CTRD_SOCK="$CTRD/containerd.sock"; node_machine_cleanup)
  fi
  mkdir -p "$STATE_DIR/node" "$KUBELET_ROOT"
  echo "$STATE_DIR" > "$NODE_OWNER"
  touch "$STATE_DIR/node/owner"
  [ -f "$STATE_DIR/node/ip_forward.orig" ] || cat /proc/sys/net/ipv4/ip_forward > "$STATE_DIR/node/ip_forward.orig"
  make_node_cgroups
  write_sysctl_shim
  write_containerd_config
  write_node_configs

  ensure_started containerd "$(sha256sum "$CTRD/config.toml" | cut -c1-16)" \
    containerd --config "$CTRD/config.toml"
  wait_for containerd 30 ctr --address "$CTRD_SOCK" version
  ensure_sandbox_image

  # kubelet's volume mounts (Secrets are tmpfs) are made in its own mount namespace; its
  # root dir is a shared mount made here first, so they propagate to this namespace, where
  # runc bind-mounts them into the containers.
  mountpoint -q "$KUBELET_ROOT" || mount --bind "$KUBELET_ROOT" "$KUBELET_ROOT"
  mount --make-rshared "$KUBELET_ROOT"
  local node="$STATE_DIR/node"
  ensure_started kubelet "$(cat "$node/kubelet.yaml" "$node/kubelet.kubeconfig" | sha256sum | cut -c1-16)" \
    unshare -m --propagation unchanged "$node/sysctl-shim.sh" "$node" \
      vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
      kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000 -- \
    "$K8S_BIN/kubelet" --config "$node/kubelet.yaml" --kubeconfig "$node/kubelet.kubeconfig" \
      --root-dir "$KUBELET_ROOT" --cert-dir "$KUBELET_ROOT/pki" \
      --container-runtime remote --container-runtime-endpoint "unix://$CTRD_SOCK" \
      --runtime-request-timeout 5m --hostname-override "$NODE_NAME" \
      ${NODE_TAINT:+--register-with-taints "$NODE_TAINT"}
  ensure_started kube-scheduler "$(sha256sum "$node/scheduler.kubeconfig" | cut -c1-16)" \
    "$K8S_BIN/kube-scheduler" --kubeconfig "$node/scheduler.kubeconfig" --leader-elect=false \
      --secure-port 0 --address 127.0.0.1 --port "$SCHEDULER_PORT"
  ensure_started kube-proxy "$(cat "$node/kube-proxy.yaml" "$node/proxy.kubeconfig" | sha256sum | cut -c1-16)" \
    unshare -m "$node/sysctl-shim.sh" "$node" net/ipv4/conf/all/route_localnet=1 -- \
    "$K8S_BIN/kube-proxy" --config "$node/kube-proxy.yaml"
  wait_for "the node (kubelet)" 120 node_ready
  # --register-with-taints applies at registration only: keep the Node's taint as configured.
  local kubectl=("$K8S_BIN/kubectl" --kubeconfig "$STATE_DIR/kubeconfig")
  local have
  have=$("${kubectl[@]}" get node "$NODE_NAME" -o 'jsonpath={range .spec.taints[*]}{.key}={.value}:{.effect}{"\n"}{end}' \
    | grep '^testground\.' || true)
  if [ "$have" != "$NODE_TAINT" ]; then
    [ -z "$have" ] || "${kubectl[@]}" taint node "$NODE_NAME" "${have%%=*}-" >/dev/null
    [ -z "$NODE_TAINT" ] || "${kubectl[@]}" taint node "$NODE_NAME" "$NODE_TAINT" --overwrite >/dev/null
  fi
  wait_for kube-scheduler 30 curl -sf "http://127.0.0.1:$SCHEDULER_PORT/healthz"
  wait_for kube-proxy 30 curl -sf "http://127.0.0.1:$PROXY_HEALTHZ_PORT/healthz"
}

# --- up ------------------------------------------------------------------------------------

cmd_up() {
  (
    # Installing and building are machine-wide (the cache): one at a time, but not under the
    # per-ground lock, so a long first build does not hold up other test grounds.
    exec 8>"$CACHE_DIR/install.lock"
    flock 8
    install_packages
    ensure_kubernetes_build >/dev/null
    ensure_ministack >/dev/null
  )
  local bin venv
  bin=$(ensure_kubernetes_build)
  venv=$(ensure_ministack)
  K8S_BIN=$bin
  mkdir -p "$STATE_DIR/logs" "$STATE_DIR/etcd"
  make_credentials
  write_kubeconfig "$STATE_DIR/kubeconfig" testground-admin "$(cat "$STATE_DIR/pki/admin.token")"
  write_env "$bin"

  ensure_started etcd "" etcd --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 10))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 10))" \
    --initial-cluster "default=http://127.0.0.1:$((ETCD_PORT + 10))"
  wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"

  local pki="$STATE_DIR/pki"
  ensure_started kube-apiserver "tokens $(sha256sum "$pki/tokens.csv" | cut -c1-16)" "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --secure-port "$APISERVER_PORT" --advertise-address 127.0.0.1 \
    --token-auth-file "$pki/tokens.csv" --cert-dir "$pki" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$pki/sa.pub" \
    --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --disable-admission-plugins ServiceAccount \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types Hostname,InternalIP \
    --allow-privileged=false
  wait_for kube-apiserver 90 "$bin/kubectl" --kubeconfig "$STATE_DIR/kubeconfig" get --raw /readyz

  ensure_started kube-controller-manager "" "$bin/kube-controller-manager" \
    --kubeconfig "$STATE_DIR/kubeconfig" --controllers '*' \
    --service-account-private-key-file "$pki/sa.key" \
    --bind-address 127.0.0.1 --secure-port 0 --port 0 --leader-elect=false

  BIND_HOST=127.0.0.1 GATEWAY_PORT="$MINISTACK_PORT" ensure_started ministack "port $MINISTACK_PORT" "$venv/bin/ministack"
  wait_for ministack 60 curl -s -o /dev/null "http://127.0.0.1:$MINISTACK_PORT/"

  if [ "$WITH_NODE" = 1 ]; then start_node; fi
  sleep 1
  alive kube-controller-manager || die "kube-controller-manager exited (log: $STATE_DIR/logs/kube-controller-manager.log)"
  log "ready: source $STATE_DIR/env"
}

# --- down ----------------------------------------------------------------------------------

# Mounts under a directory, deepest first.
mounts_under() { awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r | uniq; }

# The processes in the node's cgroups (the pods' processes, even when their shim is gone).
node_cgroup_pids() {
  local h
  for h in $(cgroup_hierarchies); do
    [ -d "$h/$NODE_CGROUP_ROOT" ] && find "$h/$NODE_CGROUP_ROOT" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -u
}

# containerd's shims outlive containerd; they are found by our containerd's socket address.
shim_pids() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    tr '\0' ' ' < "$f" 2>/dev/null | grep -q -- "-address $CTRD_SOCK " && echo "$pid"
  done
  return 0
}

# The node's pods go first, while kubelet runs: it stops their sandboxes through the CRI,
# which runs the CNI DEL (veth, address, CNI-* masquerade chains).
remove_pods() {
  local kubectl=("$K8S_BIN/kubectl" --kubeconfig "$STATE_DIR/kubeconfig" --request-timeout=10s)
  alive kubelet && alive kube-apiserver || return 0
  [ -x "$K8S_BIN/kubectl" ] || return 0
  log "removing the node's pods"
  stop_process kube-controller-manager   # no replacement pods
  stop_process kube-scheduler
  "${kubectl[@]}" delete pods --all-namespaces --all --force --grace-period=0 >/dev/null 2>&1 || true
  local deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    [ -z "$(ctr_ tasks ls -q 2>/dev/null)" ] && break
    sleep 1
  done
}

# Everything of the node outside the state dir; also run for a node whose ground vanished.
node_machine_cleanup() {
  local pid
  # Leftover pod processes (kubelet gone before its pods): by our cgroup, never by name.
  for pid in $(shim_pids) $(node_cgroup_pids); do kill -9 "$pid" 2>/dev/null || true; done
  local h
  for h in $(cgroup_hierarchies); do
    [ -d "$h/$NODE_CGROUP_ROOT" ] || continue
    for _ in 1 2 3 4 5; do
      find "$h/$NODE_CGROUP_ROOT" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -d "$h/$NODE_CGROUP_ROOT" ] || break
      sleep 0.5
    done
  done
  ip link delete "$CNI_BRIDGE" 2>/dev/null || true
  # kube-proxy's KUBE-* and the CNI plugins' CNI-* chains: jumps to them, then the chains.
  local ipt t chains c
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for t in filter nat mangle raw; do
      "$ipt-save" -t "$t" >/dev/null 2>&1 || continue
      "$ipt-save" -t "$t" 2>/dev/null | grep -E '^-A ' | grep -E -- '-j (KUBE|CNI)-' | grep -vE '^-A (KUBE|CNI)-' \
        | sed 's/^-A /-D /' | while read -r rule; do eval "$ipt -t $t $rule" 2>/dev/null || true; done || true
      chains=$("$ipt-save" -t "$t" 2>/dev/null | sed -nE 's/^:((KUBE|CNI)-[^ ]+) .*/\1/p')
      for c in $chains; do "$ipt" -t "$t" -F "$c" 2>/dev/null || true; done
      for c in $chains; do "$ipt" -t "$t" -X "$c" 2>/dev/null || true; done
    done
  done
  # libcni's result cache (fixed path) and the pods' logs (fixed path in kubelet 1.20).
  rm -f /var/lib/cni/results/"$CNI_NETWORK"-* 2>/dev/null || true
  rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true
  if [ -d /var/log/pods ]; then find /var/log/pods -mindepth 1 -maxdepth 1 -exec rm -rf {} +; rmdir /var/log/pods 2>/dev/null || true; fi
  rm -rf /var/log/containers
  rmdir /run/containerd/s /run/containerd 2>/dev/null || true
  if [ -f "$STATE_DIR/node/ip_forward.orig" ]; then
    cat "$STATE_DIR/node/ip_forward.orig" > /proc/sys/net/ipv4/ip_forward 2>/dev/null || true
  fi
  [ "$(cat "$NODE_OWNER" 2>/dev/null)" = "$STATE_DIR" ] && rm -f "$NODE_OWNER"
  return 0
}

cmd_down() {
  K8S_BIN=$(ls -d "$CACHE_DIR"/kubernetes-*/bin 2>/dev/null | sort | tail -n 1 || true)
  local has_node=0
  if [ -f "$STATE_DIR/node/owner" ] || [ "$(cat "$NODE_OWNER" 2>/dev/null)" = "$STATE_DIR" ]; then has_node=1; fi
  if [ "$has_node" = 1 ]; then
    remove_pods
    stop_process kube-proxy
    stop_process kubelet
    # What kubelet did not stop: every task and container, through our containerd.
    if alive containerd; then
      local id
      for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
      sleep 0.5
      for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true; done
      for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$id" >/dev/null 2>&1 || true; done
    fi
    stop_process containerd
    if [ -x "$K8S_BIN/kube-proxy" ]; then
      "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
    fi
  fi
  for name in kube-scheduler kube-controller-manager kube-apiserver ministack etcd; do
    stop_process "$name"
  done
  if [ "$has_node" = 1 ]; then node_machine_cleanup; fi
  # Mounts under the state dir: kubelet's volumes, its root's own bind mount, containerd's
  # snapshots and network namespaces.
  local m
  for m in $(mounts_under "$STATE_DIR"); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  rm -rf "$STATE_DIR"
  log "stopped"
}

cmd_status() {
  local names=(etcd kube-apiserver kube-controller-manager ministack)
  [ -f "$STATE_DIR/node/owner" ] && names+=(containerd kubelet kube-scheduler kube-proxy)
  for name in "${names[@]}"; do
    if alive "$name"; then echo "$name: running (pid $(cat "$STATE_DIR/$name.pid"))"; else echo "$name: stopped"; fi
  done
  if [ -f "$STATE_DIR/node/owner" ] && alive kube-apiserver; then
    K8S_BIN=$(ls -d "$CACHE_DIR"/kubernetes-*/bin 2>/dev/null | sort | tail -n 1 || true)
    if node_ready; then echo "node $NODE_NAME: Ready"; else echo "node $NODE_NAME: not ready"; fi
    local pods
    pods=$("$K8S_BIN/kubectl" --kubeconfig "$STATE_DIR/kubeconfig" get pods -A --no-headers 2>/dev/null | wc -l || true)
    echo "pods: $pods; containerd images (k8s.io): $(ctr_ images ls -q 2>/dev/null | wc -l)"
  fi
  return 0
}

lock_ground() {
  mkdir -p "$CACHE_DIR"
  # The default ground keeps the lock file older scripts use, so they and this one serialise.
  local lock="$CACHE_DIR/testground.lock"
  [ "$STATE_DIR" = /tmp/liveness-testground ] || lock="$CACHE_DIR/testground-$(echo "$STATE_DIR" | sha256sum | cut -c1-12).lock"
  exec 9>"$lock"
  flock 9
}

case "${1:-}" in
  up)
    # Concurrent test processes may all ask for the test ground: one brings it up.
    lock_ground
    cmd_up ;;
  down) lock_ground; cmd_down ;;
  status) cmd_status ;;
  env) echo "$STATE_DIR/env" ;;
  build) # only the Kubernetes build (cached); prints the bin directory
    mkdir -p "$CACHE_DIR"
    exec 8>"$CACHE_DIR/install.lock"
    flock 8
    install_packages
    ensure_kubernetes_build ;;
  *) echo "usage: $0 up|down|status|env|build" >&2; exit 2 ;;
esac
