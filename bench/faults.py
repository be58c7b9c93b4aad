"""The fault benchmark's measuring half (bench/faults.sh starts the test ground, builds the
operator and microburst, and runs this with the ministack venv's Python, which has boto3).

microburst (an AWS failure-injection proxy, from PyPI) sits between the operator and
ministack and answers a share of IAM and Cognito calls with the real protocol's throttling
error and a smaller share with a 5xx. N LivenessApps are applied at once; this prints how
long until all are Ready, how many pools each app got, how many requests a second each
service saw at most (over any 10 s, against the operator's budget), the throttling the
operator met and absorbed, and deletion under the same faults.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

os.environ.setdefault("NAMESPACE", f"bench-faults-{int(time.time())}")
import scale  # noqa: E402  (the fleet benchmark's helpers; reads N and the operator from argv)

MICROBURST = sys.argv[3]
BUDGET = int(os.environ.get("AWS_REQUESTS_PER_SECOND", "10"))
THROTTLE = float(os.environ.get("THROTTLE_SHARE", "0.25"))
FAIL = float(os.environ.get("FAIL_SHARE", "0.05"))
LIMIT = int(os.environ.get("LIMIT_SECONDS", "600"))


def rules():
    """Throttling first, then a 5xx of what was not throttled (first matching rule wins)."""
    out = []
    for service, throttling, failure in [
        ("iam", "Throttling", "ServiceFailure"),
        ("cognito-identity", "TooManyRequestsException", "InternalErrorException"),
    ]:
        out.append({"service": service, "probability": THROTTLE, "error": {"code": throttling}})
        out.append({
            "service": service,
            "probability": FAIL / (1 - THROTTLE),
            "error": {"code": failure, "status": 500},
        })
    return out


def pools_per_app():
    """How many pools each app of the benchmark has in ministack (read directly)."""
    import boto3

    cognito = boto3.client("cognito-identity", region_name="us-east-1")
    prefix = f"liveness_{scale.NS.replace('-', '_')}_"
    counts = {}
    for page in cognito.get_paginator("list_identity_pools").paginate(MaxResults=60):
        for pool in page["IdentityPools"]:
            if pool["IdentityPoolName"].startswith(prefix):
                counts[pool["IdentityPoolName"]] = counts.get(pool["IdentityPoolName"], 0) + 1
    return counts


def main():
    n = scale.N
    upstream = os.environ["AWS_ENDPOINT_URL"]
    port = scale.free_port()
    config = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    json.dump({"upstream": upstream, "rules": rules()}, config)  # JSON is YAML
    config.close()
    proxy_log = tempfile.NamedTemporaryFile(prefix="faults-microburst-", suffix=".log", delete=False)
    proxy = subprocess.Popen(
        [MICROBURST, "--config", config.name, "--port", str(port), "--no-resign"],
        stdout=proxy_log, stderr=subprocess.STDOUT,
    )
    proxied = f"http://127.0.0.1:{port}"
    scale.wait("microburst", lambda: _health(proxied), 30)

    scale.kubectl("apply", "--validate=false", "-f", os.path.join(os.path.dirname(__file__), "..", "crds"))
    scale.kubectl("create", "namespace", scale.NS)
    addr = f"127.0.0.1:{scale.free_port()}"
    logfile = tempfile.NamedTemporaryFile(prefix="faults-operator-", suffix=".log", delete=False)
    operator = subprocess.Popen(
        [
            scale.OPERATOR, "run",
            "--watch-namespaces", scale.NS, "--lease-namespace", scale.NS, "--pod-name", "bench",
            "--metrics-addr", addr, "--cluster-name", scale.CLUSTER,
            "--oidc-provider", "oidc.eks.us-east-1.amazonaws.com/id/TESTGROUND",
            "--resync-period", "600s", "--concurrency", scale.CONCURRENCY,
            "--aws-requests-per-second", str(BUDGET), "--log-format", "json",
        ],
        stdout=logfile, stderr=subprocess.STDOUT,
        env={**os.environ, "AWS_ENDPOINT_URL": proxied, "RUST_LOG": "warn"},
    )
    samples = []

    def sampled(check):
        def run():
            samples.append((time.monotonic(), scale.requests_by_service(addr)))
            return check()
        return run

    try:
        scale.wait("the operator's /metrics", lambda: scale._up(addr), 60)
        before = scale.metrics(addr)
        manifest = json.dumps({"apiVersion": "v1", "kind": "List", "items": [scale.app(i) for i in range(n)]})
        scale.log(f"applying {n} apps behind microburst ({THROTTLE:.0%} throttled, {FAIL:.0%} 5xx)")
        scale.kubectl("create", "-f", "-", stdin=manifest)
        ready_s = scale.wait(f"{n} apps Ready", sampled(lambda: scale.ready_count() == (n, n)), LIMIT)
        converged = scale.metrics(addr)
        pools = pools_per_app()
        stats_ready = json.loads(urllib.request.urlopen(f"{proxied}/_microburst/stats").read())
        figures = scale.budget_figures(addr)
        scale.log(f"all Ready after {ready_s:.0f}s; deleting them under the same faults")
        scale.kubectl("delete", "lva", "--all", "-n", scale.NS, "--wait=false")
        delete_s = scale.wait("every app gone", sampled(lambda: scale.ready_count()[1] == 0), LIMIT)
        pools_left, roles_left = scale.aws_left()
        report = {
            "apps": n,
            "budget_requests_per_second": BUDGET,
            "faults": {"throttled": THROTTLE, "5xx": FAIL, "services": ["iam", "cognito-identity"]},
            "apply_to_all_ready_seconds": round(ready_s, 1),
            "within_limit": ready_s <= LIMIT,
            "pools_per_app": sorted(set(pools.values())),
            "apps_with_a_pool": len(pools),
            "converge": scale.cost(before, converged, n),
            "peak_requests_per_second_over_10s": scale.peak_rate(samples),
            "operator_budget": figures,
            "microburst_until_ready": {
                "requests": stats_ready["requests"],
                "by_service": stats_ready["by_service"],
                "by_rule": stats_ready["by_rule"],
            },
            "delete_all_seconds": round(delete_s, 1),
            "aws_left": {"identity_pools": pools_left, "roles": roles_left},
            "operator_log": logfile.name,
            "microburst_log": proxy_log.name,
        }
        print(json.dumps(report, indent=2))
    finally:
        operator.terminate()
        operator.wait(timeout=30)
        proxy.terminate()
        proxy.wait(timeout=30)
        subprocess.run(["kubectl", "delete", "namespace", scale.NS, "--wait=false"], capture_output=True)


def _health(url):
    try:
        urllib.request.urlopen(f"{url}/_microburst/health", timeout=5).read()
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
