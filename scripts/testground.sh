#!/usr/bin/env bash
# The test ground: a real kube-apiserver + etcd + kube-controller-manager (Kubernetes 1.20,
# built from Debian's `kubernetes` source package) and ministack (an AWS emulator), all on
# loopback, all installed by this script on a fresh machine.
#
#   scripts/testground.sh up      install what is missing, start everything, write env + kubeconfig
#   scripts/testground.sh down    stop everything started by `up` (state dir is removed)
#   scripts/testground.sh status  print what is running
#   scripts/testground.sh env     print the path of the env file to source
#
# Caches (kept across runs, outside the work tree):  $LIVENESS_CACHE_DIR (default ~/.cache/liveness-operator)
# Runtime state (per test ground):                  $LIVENESS_TESTGROUND_DIR (default /tmp/liveness-testground)
set -euo pipefail

CACHE_DIR="${LIVENESS_CACHE_DIR:-$HOME/.cache/liveness-operator}"
STATE_DIR="${LIVENESS_TESTGROUND_DIR:-/tmp/liveness-testground}"
ETCD_PORT="${TESTGROUND_ETCD_PORT:-23790}"
APISERVER_PORT="${TESTGROUND_APISERVER_PORT:-26443}"
MINISTACK_PORT="${TESTGROUND_MINISTACK_PORT:-24566}"
MINISTACK_VERSION="1.5.33"
BOTO3_SPEC="boto3>=1.34,<2"
# Without cryptography, ministack's Cognito user-pool tokens carry random bytes as their
# signature; with it they are RS256-signed with the keys its JWKS publishes.
CRYPTOGRAPHY_SPEC="cryptography>=42,<51"
# Bump when the venv's packages change, so an existing venv is rebuilt.
MINISTACK_VENV="venv-ministack-$MINISTACK_VERSION-signed"

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
  apt_install golang-go etcd-server rsync golang-github-modern-go-reflect2-dev openssl curl ca-certificates make
}

# Builds kube-apiserver, kube-controller-manager and kubectl once per source version.
# Prints the directory holding the binaries.
ensure_kubernetes_build() {
  local existing
  existing=$(ls -d "$CACHE_DIR"/kubernetes-*/bin 2>/dev/null | sort | tail -n 1 || true)
  if [ -n "$existing" ] && [ -x "$existing/kube-apiserver" ] && [ -x "$existing/kube-controller-manager" ] && [ -x "$existing/kubectl" ]; then
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
  orig=$(ls "$apt_dir"/download/kubernetes_*.orig.tar.* | head -n 1)
  local version
  version=$(basename "$orig" | sed -E 's/^kubernetes_(.*)\.orig\.tar\..*$/\1/')
  local build="$CACHE_DIR/kubernetes-$version"
  local work="$build/src"
  log "building kubernetes $version (kube-apiserver, kube-controller-manager, kubectl; ~6 min on 2 cores)"
  rm -rf "$work"; mkdir -p "$work"
  tar -xf "$orig" -C "$work" --strip-components=1
  # The vendored reflect2 1.0.1 segfaults under Go >= 1.18 on the first CRD create.
  rm -rf "$work/vendor/github.com/modern-go/reflect2"
  mkdir -p "$work/vendor/github.com/modern-go/reflect2"
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2/. "$work/vendor/github.com/modern-go/reflect2/"
  mkdir -p "$work/.go/src/k8s.io"
  ln -sfn ../../.. "$work/.go/src/k8s.io/kubernetes"
  (cd "$work/.go/src/k8s.io/kubernetes" && GOPATH="$work/.go" GOFLAGS=-mod=vendor CGO_ENABLED=0 GO111MODULE=auto \
     make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kubectl" >"$build/build.log" 2>&1) \
     || { tail -n 40 "$build/build.log" >&2; die "kubernetes build failed (log: $build/build.log)"; }
  mkdir -p "$build/bin"
  for b in kube-apiserver kube-controller-manager kubectl; do
    cp "$(find "$work/_output" -type f -name "$b" -perm -u+x | head -n 1)" "$build/bin/$b"
  done
  rm -rf "$work"
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

wait_for() { # description, seconds, command...
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what did not become ready within ${secs}s (logs: $STATE_DIR/logs)"
    sleep 0.5
  done
}

make_credentials() {
  local pki="$STATE_DIR/pki"
  [ -f "$pki/sa.key" ] && return 0
  mkdir -p "$pki"
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  local token
  token=$(openssl rand -hex 24)
  echo "$token,testground-admin,testground-admin,system:masters" > "$pki/tokens.csv"
  echo "$token" > "$pki/admin.token"
}

write_kubeconfig() {
  local bin=$1
  cat > "$STATE_DIR/kubeconfig" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: testground
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    insecure-skip-tls-verify: true
users:
- name: testground-admin
  user:
    token: $(cat "$STATE_DIR/pki/admin.token")
contexts:
- name: testground
  context: {cluster: testground, user: testground-admin, namespace: default}
current-context: testground
KCFG
  chmod 600 "$STATE_DIR/kubeconfig"
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
ENV
}

cmd_up() {
  install_packages
  local bin venv
  bin=$(ensure_kubernetes_build)
  venv=$(ensure_ministack)
  mkdir -p "$STATE_DIR/logs" "$STATE_DIR/etcd"
  make_credentials
  write_kubeconfig "$bin"
  write_env "$bin"

  if ! alive etcd; then
    log "starting etcd on 127.0.0.1:$ETCD_PORT"
    start_bg etcd etcd --data-dir "$STATE_DIR/etcd" \
      --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 10))" \
      --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 10))" \
      --initial-cluster "default=http://127.0.0.1:$((ETCD_PORT + 10))"
  fi
  wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"

  if ! alive kube-apiserver; then
    log "starting kube-apiserver on 127.0.0.1:$APISERVER_PORT"
    start_bg kube-apiserver "$bin/kube-apiserver" \
      --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
      --bind-address 127.0.0.1 --secure-port "$APISERVER_PORT" --advertise-address 127.0.0.1 \
      --token-auth-file "$STATE_DIR/pki/tokens.csv" --cert-dir "$STATE_DIR/pki" \
      --service-account-issuer https://kubernetes.default.svc \
      --service-account-key-file "$STATE_DIR/pki/sa.pub" \
      --service-account-signing-key-file "$STATE_DIR/pki/sa.key" \
      --service-cluster-ip-range 10.96.0.0/16 \
      --authorization-mode RBAC --disable-admission-plugins ServiceAccount \
      --allow-privileged=false
  fi
  wait_for kube-apiserver 90 "$bin/kubectl" --kubeconfig "$STATE_DIR/kubeconfig" get --raw /readyz

  if ! alive kube-controller-manager; then
    log "starting kube-controller-manager"
    start_bg kube-controller-manager "$bin/kube-controller-manager" \
      --kubeconfig "$STATE_DIR/kubeconfig" --controllers '*' \
      --service-account-private-key-file "$STATE_DIR/pki/sa.key" \
      --bind-address 127.0.0.1 --secure-port 0 --port 0 --leader-elect=false
  fi

  # A ministack started from an older venv (unsigned Cognito tokens) is replaced once.
  if alive ministack && [ "$(cat "$STATE_DIR/ministack.venv" 2>/dev/null)" != "$venv" ]; then
    log "restarting ministack from $venv"
    stop_process ministack
  fi
  if ! alive ministack; then
    log "starting ministack on 127.0.0.1:$MINISTACK_PORT"
    BIND_HOST=127.0.0.1 GATEWAY_PORT="$MINISTACK_PORT" start_bg ministack "$venv/bin/ministack"
    echo "$venv" > "$STATE_DIR/ministack.venv"
  fi
  wait_for ministack 60 curl -s -o /dev/null "http://127.0.0.1:$MINISTACK_PORT/"
  sleep 1
  alive kube-controller-manager || die "kube-controller-manager exited (log: $STATE_DIR/logs/kube-controller-manager.log)"
  log "ready: source $STATE_DIR/env"
}

stop_process() { # name
  alive "$1" || return 0
  local pid; pid=$(cat "$STATE_DIR/$1.pid")
  kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 -- "-$pid" 2>/dev/null || true
  rm -f "$STATE_DIR/$1.pid"
}

cmd_down() {
  for name in kube-controller-manager kube-apiserver ministack etcd; do
    stop_process "$name"
  done
  rm -rf "$STATE_DIR"
  log "stopped"
}

cmd_status() {
  for name in etcd kube-apiserver kube-controller-manager ministack; do
    if alive "$name"; then echo "$name: running (pid $(cat "$STATE_DIR/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-}" in
  up)
    # Concurrent test processes may all ask for the test ground: one brings it up.
    mkdir -p "$CACHE_DIR"
    exec 9>"$CACHE_DIR/testground.lock"
    flock 9
    cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) echo "$STATE_DIR/env" ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
