"""Turns bench/run.sh's wrk results into a Markdown table of medians and ratios.

Usage: report.py runs.jsonl RUST_IDLE_KIB RUST_PEAK_KIB NEXT_IDLE_KIB NEXT_PEAK_KIB
                 ROUNDS DURATION CONNECTIONS WRK_THREADS
"""

import json
import os
import platform
import statistics
import subprocess
import sys


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, "
        f"{platform.system()} {platform.release()}; {rustc}; node {node}"
    )


def main():
    path = sys.argv[1]
    rust_idle, rust_peak, next_idle, next_peak = (int(v) / 1024 for v in sys.argv[2:6])
    rounds, duration, connections, threads = sys.argv[6:10]
    runs = [json.loads(line) for line in open(path) if line.strip()]

    def median(target, op, key):
        return statistics.median(r[key] for r in runs if r["target"] == target and r["op"] == op)

    def total(target, op, key):
        return sum(r[key] for r in runs if r["target"] == target and r["op"] == op)

    print(f"Machine: {machine()}")
    print(
        f"Load: wrk, {threads} thread(s), {connections} connections, {duration} s per run, "
        f"median of {rounds} rounds; both services call the same Rekognition stub on loopback "
        f"({os.environ.get('STUB_THREADS', '1')} runtime thread(s))."
    )
    if os.environ.get("SYMBOL_ORDER"):
        print(f"liveness-api's symbol order: {os.environ['SYMBOL_ORDER']}.")
    print()
    print("| | liveness-api (Rust) | Next.js API route (JS SDK v3) | ratio |")
    print("|---|---:|---:|---:|")
    for op, label in (("create", "POST create"), ("get", "GET results")):
        r_rps, n_rps = median("rust", op, "rps"), median("next", op, "rps")
        print(f"| {label}: req/s | {r_rps:,.0f} | {n_rps:,.0f} | {r_rps / n_rps:.1f}x |")
        for key, name in (("p50_ms", "p50"), ("p99_ms", "p99")):
            r, n = median("rust", op, key), median("next", op, key)
            print(f"| {label}: {name} latency | {r:.2f} ms | {n:.2f} ms | {n / r:.1f}x lower |")
    print(f"| RSS idle after start | {rust_idle:.1f} MiB | {next_idle:.1f} MiB | {next_idle / rust_idle:.1f}x less |")
    print(f"| RSS peak (whole run) | {rust_peak:.1f} MiB | {next_peak:.1f} MiB | {next_peak / rust_peak:.1f}x less |")
    errors = {
        t: sum(total(t, op, "non_2xx") + total(t, op, "socket_errors") for op in ("create", "get"))
        for t in ("rust", "next")
    }
    print()
    print(
        f"Failed requests (non-2xx or socket errors): liveness-api {errors['rust']}, "
        f"Next.js {errors['next']}."
    )


if __name__ == "__main__":
    main()
