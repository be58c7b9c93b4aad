"""The fleet benchmark's measuring half (bench/scale.sh starts the test ground, builds the
operator and runs this with the ministack venv's Python, which has boto3).

Starts the release operator against the test ground, applies N LivenessApps at once
(endpoint at 0 replicas: no pods, no pod polling), and prints what converging, one resync
of steady state, and deleting them all cost: seconds, reconciles and AWS calls per app (by
operation), RSS, and the AWS objects left behind. Counts come from the operator's own
/metrics, objects from ministack through boto3.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

N = int(sys.argv[1])
OPERATOR = sys.argv[2]
# Longer than converging takes, so the convergence figures hold no resync of apps that
# were already Ready; steady state is then measured over one whole resync.
RESYNC = int(os.environ.get("RESYNC_SECONDS", "300"))
CONCURRENCY = os.environ.get("CONCURRENCY", "4")
# The operator's default (10 a second per service) would make a thousand fresh apps wait
# ~15 minutes for IAM alone (9 IAM calls each); the benchmark allows more, and reports
# the peak it saw against it.
BUDGET = os.environ.get("AWS_REQUESTS_PER_SECOND", "50")
NS = os.environ.get("NAMESPACE", f"bench-scale-{int(time.time())}")
CLUSTER = NS
TIMEOUT = int(os.environ.get("TIMEOUT_SECONDS", "1800"))
EXTRA = os.environ.get("OPERATOR_ARGS", "").split()
# Peak request rates are taken over windows of this many seconds.
WINDOW = 10


def log(msg):
    print(f"== {msg}", file=sys.stderr, flush=True)


def kubectl(*args, stdin=None):
    out = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"kubectl {' '.join(args)}: {out.stderr}")
    return out.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(addr):
    """Counters of /metrics: reconciles, and AWS calls by operation."""
    body = urllib.request.urlopen(f"http://{addr}/metrics", timeout=10).read().decode()
    calls, reconciles = {}, 0
    for line in body.splitlines():
        if m := re.match(r'liveness_operator_aws_calls_total\{operation="([^"]+)"\} (\S+)', line):
            calls[m[1]] = calls.get(m[1], 0) + float(m[2])
        elif m := re.match(r"liveness_operator_reconciles_total (\S+)", line):
            reconciles = float(m[1])
    return reconciles, calls


def requests_by_service(addr):
    """liveness_operator_aws_requests_total by service (attempts, retries included)."""
    body = urllib.request.urlopen(f"http://{addr}/metrics", timeout=10).read().decode()
    out = {}
    for line in body.splitlines():
        if line.startswith("liveness_operator_aws_requests_total{"):
            service = line.split('service="', 1)[1].split('"', 1)[0]
            out[service] = float(line.rsplit(" ", 1)[1])
    return out


def budget_figures(addr):
    body = urllib.request.urlopen(f"http://{addr}/metrics", timeout=10).read().decode()
    out = {}
    for line in body.splitlines():
        for name in ("aws_throttled_total", "aws_budget_wait_seconds_total", "aws_request_rate"):
            if line.startswith(f"liveness_operator_{name}{{"):
                service = line.split('service="', 1)[1].split('"', 1)[0]
                out.setdefault(service, {})[name] = float(line.rsplit(" ", 1)[1])
    return out


def peak_rate(samples):
    """Highest requests a second of each service over any WINDOW seconds of samples."""
    peak = {}
    for i, (t0, c0) in enumerate(samples):
        for t1, c1 in samples[i + 1:]:
            if t1 - t0 >= WINDOW:
                for service, n in c1.items():
                    rate = (n - c0.get(service, 0)) / (t1 - t0)
                    peak[service] = max(peak.get(service, 0), round(rate, 2))
                break
    return peak


def rss_mb(pid, addr):
    """VmRSS, and its heap-and-stack (RssAnon) and mapped-file (RssFile: the binary's code)
    parts, in MB; with malloc's own account from /metrics: what it has handed out (HeapInUse)
    and holds free (HeapFree)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "RssAnon", "RssFile"):
                out[key] = round(int(line.split()[1]) / 1024, 1)
    body = urllib.request.urlopen(f"http://{addr}/metrics", timeout=10).read().decode()
    for state, key in (("in_use", "HeapInUse"), ("free", "HeapFree")):
        if m := re.search(rf'^liveness_operator_heap_bytes\{{state="{state}"\}} (\S+)$', body, re.M):
            out[key] = round(float(m[1]) / 1048576, 1)
    return out


WRITE = re.compile(r":(Create|Update|Put|Delete|Tag|Untag|Set|Attach|Detach)")


def cost(before, after, apps):
    """Per-app calls between two /metrics snapshots, split into reads and writes."""
    ops = {op: after[1].get(op, 0) - before[1].get(op, 0) for op in after[1]}
    ops = {op: n for op, n in ops.items() if n > 0}
    writes = sum(n for op, n in ops.items() if WRITE.search(op))
    return {
        "reconciles_per_app": round((after[0] - before[0]) / apps, 2),
        "aws_calls_per_app": round(sum(ops.values()) / apps, 2),
        "aws_reads_per_app": round((sum(ops.values()) - writes) / apps, 2),
        "aws_writes_per_app": round(writes / apps, 2),
        "by_operation_per_app": {op: round(n / apps, 3) for op, n in sorted(ops.items())},
    }


def app(i):
    return {
        "apiVersion": "faceliveness.dev/v1alpha1",
        "kind": "LivenessApp",
        "metadata": {"name": f"app-{i:04d}", "namespace": NS},
        "spec": {
            "region": "us-east-1",
            "identityPool": {"allowUnauthenticated": True},
            "endpoint": {"auth": {"mode": "none"}, "replicas": 0},
        },
    }


def ready_count():
    items = json.loads(kubectl("get", "lva", "-n", NS, "-o", "json"))["items"]
    ready = 0
    for item in items:
        conds = (item.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Ready" and c["status"] == "True" for c in conds):
            ready += 1
    return ready, len(items)


def wait(what, check, timeout):
    start = time.monotonic()
    while True:
        value = check()
        if value:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out after {timeout}s waiting for {what}")
        # Each poll lists every app: not so often that the apiserver spends its CPU on it.
        time.sleep(3)


def aws_left():
    """Pools and roles of this benchmark's cluster still in ministack."""
    cognito = boto3.client("cognito-identity", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    pools = [
        p
        for page in cognito.get_paginator("list_identity_pools").paginate(MaxResults=60)
        for p in page["IdentityPools"]
        if p["IdentityPoolName"].startswith(f"liveness_{NS.replace('-', '_')}_")
    ]
    roles = [
        r
        for page in iam.get_paginator("list_roles").paginate(PathPrefix=f"/liveness-operator/{CLUSTER}/")
        for r in page["Roles"]
    ]
    return len(pools), len(roles)


def main():
    kubectl("apply", "--validate=false", "-f", os.path.join(os.path.dirname(__file__), "..", "crds"))
    kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/livenessapps.faceliveness.dev")
    kubectl("create", "namespace", NS)
    addr = f"127.0.0.1:{free_port()}"
    logfile = tempfile.NamedTemporaryFile(prefix="scale-operator-", suffix=".log", delete=False)
    operator = subprocess.Popen(
        [
            OPERATOR, "run",
            "--watch-namespaces", NS, "--lease-namespace", NS, "--pod-name", "bench",
            "--metrics-addr", addr, "--cluster-name", CLUSTER,
            "--oidc-provider", "oidc.eks.us-east-1.amazonaws.com/id/TESTGROUND",
            "--resync-period", f"{RESYNC}s", "--concurrency", CONCURRENCY,
            "--aws-requests-per-second", BUDGET, "--log-format", "json", *EXTRA,
        ],
        stdout=logfile, stderr=subprocess.STDOUT,
        env=operator_env(),
    )
    try:
        wait("the operator's /metrics", lambda: _up(addr), 30)
        idle = metrics(addr)
        rss_idle = rss_mb(operator.pid, addr)
        log(f"applying {N} apps")
        manifest = json.dumps({"apiVersion": "v1", "kind": "List", "items": [app(i) for i in range(N)]})
        start = time.monotonic()
        kubectl("create", "-f", "-", stdin=manifest)
        samples = []

        def ready_sampled():
            samples.append((time.monotonic(), requests_by_service(addr)))
            return ready_count() == (N, N)

        converge_s = wait(f"{N} apps Ready", ready_sampled, TIMEOUT)
        converged = metrics(addr)
        rss_converged = rss_mb(operator.pid, addr)
        log(f"all Ready after {converge_s:.1f}s; settling, then one resync ({RESYNC}s) of steady state")
        # The last reconciles of the burst (status writes waking their app once more) finish.
        time.sleep(5)
        steady_from = metrics(addr)
        time.sleep(RESYNC)
        steady_to = metrics(addr)
        rss_steady = rss_mb(operator.pid, addr)
        log("deleting every app")
        start = time.monotonic()
        kubectl("delete", "lva", "--all", "-n", NS, "--wait=false")
        delete_s = wait("every app gone", lambda: ready_count()[1] == 0, TIMEOUT)
        deleted = metrics(addr)
        # What the operator still holds with no app left: per-app state it forgot is gone,
        # what stays is the allocator's and the runtime's.
        rss_deleted = rss_mb(operator.pid, addr)
        pools_left, roles_left = aws_left()
        report = {
            "apps": N,
            "resync_seconds": RESYNC,
            "concurrency": int(CONCURRENCY),
            "budget_requests_per_second": int(BUDGET),
            "apply_to_all_ready_seconds": round(converge_s, 1),
            "converge": cost(idle, converged, N),
            "converge_peak_requests_per_second_over_10s": peak_rate(samples),
            "aws_budget": budget_figures(addr),
            "steady_state_one_resync": cost(steady_from, steady_to, N),
            "delete_all_seconds": round(delete_s, 1),
            "delete": cost(steady_to, deleted, N),
            "rss_mb": {
                "idle": rss_idle,
                "converged": rss_converged,
                "steady": rss_steady,
                "after_delete": rss_deleted,
            },
            "aws_left": {"identity_pools": pools_left, "roles": roles_left},
            "operator_log": logfile.name,
        }
        print(json.dumps(report, indent=2))
    finally:
        operator.terminate()
        operator.wait(timeout=30)
        subprocess.run(["kubectl", "delete", "namespace", NS, "--wait=false"], capture_output=True)


def operator_env():
    """The shell's environment as a pod would have it: without RUST_BACKTRACE, which
    developer shells often set. With it, an error printed with its backtrace (the one the
    operator exits with) loads the binary's debug info to symbolize it: 25 MB of heap more
    in heaptrack's peak, at exit."""
    env = {k: v for k, v in os.environ.items() if k not in ("RUST_BACKTRACE", "RUST_LIB_BACKTRACE")}
    env["RUST_LOG"] = os.environ.get("OPERATOR_LOG", "warn")
    return env


def _up(addr):
    try:
        metrics(addr)
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
