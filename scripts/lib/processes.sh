# Sourced by bench/run.sh, bench/instructions.sh and scripts/symbol-order.sh: a scratch
# directory and background processes that go away when the script exits, and free
# loopback ports.
#   WORK          the scratch directory (removed on exit)
#   PIDS+=($!)    a background process to kill on exit
#   free_port     prints a free TCP port on 127.0.0.1
WORK=$(mktemp -d)
PIDS=()
cleanup_processes() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup_processes EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
