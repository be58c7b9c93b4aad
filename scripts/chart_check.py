#!/usr/bin/env python3
"""Checks the Helm chart with the real Helm v4 engine (PyPI `helm-python-sdk`, which
carries Helm's Go library; no helm binary is needed). Run it through
scripts/chart-check.sh, which creates the venv.

  chart_check.py check --chart DIR --out DIR --namespace NS
      lint (strict) with every ci/*.yaml values file, render each into OUT/<name>.*.yaml
      (crd / resources / monitoring, split for `kubectl apply`), assert the default and the
      rbac.scope=namespaced renders hold the expected kinds, and assert what must fail
      fails with a clear message. Writes OUT/summary.json.
  chart_check.py render --chart DIR --name REL --namespace NS [--values FILE]... [--set-json JSON]... --out FILE
      render once (for tests); exit 1 with Helm's message on stderr when rendering fails.
  chart_check.py install-cycle --chart DIR --namespace NS --kubeconfig FILE
      real `helm install`, `helm upgrade` and `helm uninstall` against a cluster (the CRD
      switched off: the test ground's CRD is not the release's).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import helm_python as helm

# Severity of helm lint messages: 1 info, 2 warning, 3 error. Strict lint fails on warnings.
WARNING = 2

# What the default install must contain (kind, count).
EXPECTED_DEFAULT_KINDS = {
    "CustomResourceDefinition": 1,
    "ServiceAccount": 1,
    "ClusterRole": 1,
    "ClusterRoleBinding": 1,
    "Role": 1,
    "RoleBinding": 1,
    "Deployment": 1,
}

# What ci/namespaced-values.yaml (rbac.scope=namespaced) must contain: a Role and a
# RoleBinding per watched namespace plus the leader-election pair, nothing cluster-scoped
# but the CRD.
NAMESPACED_VALUES = "namespaced-values"
CLUSTER_SCOPED_RBAC = ("ClusterRole", "ClusterRoleBinding")


def fail(message: str) -> None:
    print(f"[chart-check] FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def log(message: str) -> None:
    print(f"[chart-check] {message}", file=sys.stderr)


def load_values(paths: list[str], set_json: list[str]) -> dict[str, Any]:
    """Values files merged left to right, then --set-json documents (like helm -f/--set-json)."""
    merged: dict[str, Any] = {}
    for path in paths:
        merge(merged, helm.values_from_yaml(Path(path).read_text()))
    for doc in set_json:
        merge(merged, json.loads(doc))
    return merged


def merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value


def documents(manifests: dict[str, str]) -> list[dict[str, Any]]:
    """Every object of a render, in template order, parsed (empty documents dropped)."""
    objects = []
    for template in sorted(manifests):
        if template.endswith("NOTES.txt"):
            continue
        for text in manifests[template].split("\n---"):
            parsed = helm.values_from_yaml(text) if text.strip() else {}
            if parsed:
                if "kind" not in parsed or "apiVersion" not in parsed:
                    fail(f"{template}: a document without kind/apiVersion: {text[:200]}")
                objects.append(parsed)
    return objects


def notes(manifests: dict[str, str]) -> str:
    return next((text for name, text in manifests.items() if name.endswith("NOTES.txt")), "")


def to_yaml_stream(objects: list[dict[str, Any]]) -> str:
    # JSON is YAML: kubectl and serde_yaml read it, and no YAML library is needed here.
    return "".join(f"---\n{json.dumps(obj, indent=1, sort_keys=True)}\n" for obj in objects)


def render(chart: helm.Chart, values: dict[str, Any], name: str, namespace: str) -> dict[str, str]:
    return chart.render(values, name=name, namespace=namespace, is_install=True)


def check_rbac(objects: list[dict[str, Any]], where: str) -> None:
    for obj in objects:
        if obj["kind"] not in ("ClusterRole", "Role"):
            continue
        for rule in obj.get("rules", []):
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                if "*" in rule.get(field, []):
                    fail(f"{where}: {obj['kind']} {obj['metadata']['name']} grants '*' in {field}")


def write_split(out: Path, stem: str, objects: list[dict[str, Any]], note_text: str) -> dict[str, Any]:
    crds = [o for o in objects if o["kind"] == "CustomResourceDefinition"]
    monitoring = [o for o in objects if o["apiVersion"].startswith("monitoring.coreos.com/")]
    resources = [o for o in objects if o not in crds and o not in monitoring]
    (out / f"{stem}.all.yaml").write_text(to_yaml_stream(objects))
    (out / f"{stem}.crd.yaml").write_text(to_yaml_stream(crds))
    (out / f"{stem}.resources.yaml").write_text(to_yaml_stream(resources))
    (out / f"{stem}.monitoring.yaml").write_text(to_yaml_stream(monitoring))
    (out / f"{stem}.NOTES.txt").write_text(note_text)
    kinds: dict[str, int] = {}
    for obj in objects:
        kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
    return {"kinds": kinds, "crd": bool(crds), "monitoring": bool(monitoring)}


def expect_render_error(chart: helm.Chart, values: dict[str, Any], namespace: str, needle: str, what: str) -> str:
    try:
        render(chart, values, "liveness-operator", namespace)
    except helm.HelmError as error:
        message = str(error)
        if needle not in message:
            fail(f"{what}: rendering failed, but the message does not say '{needle}': {message}")
        log(f"ok: {what} fails: {message.splitlines()[0][:160]}")
        return message
    fail(f"{what}: rendering succeeded but must fail")
    return ""


def cmd_check(args: argparse.Namespace) -> None:
    chart_dir = Path(args.chart)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {
        "helm_sdk": helm.helm_sdk_version(),
        "helm_python_sdk": helm.__version__,
        "lint": {},
        "renders": {},
        "errors": {},
    }
    log(f"Helm {helm.helm_sdk_version()} (helm-python-sdk {helm.__version__})")

    ci_files = sorted((chart_dir / "ci").glob("*.yaml"))
    if not ci_files:
        fail(f"no values files in {chart_dir / 'ci'}")

    with helm.Chart.load(chart_dir) as chart:
        meta = chart.metadata
        if meta.get("apiVersion") != "v2":
            fail(f"Chart.yaml apiVersion is {meta.get('apiVersion')}, want v2")
        for ci in ci_files:
            values = load_values([str(ci)], [])
            report = helm.lint(chart_dir, values, strict=True, namespace=args.namespace)
            problems = [m for m in report["messages"] if m["severity"] >= WARNING]
            summary["lint"][ci.stem] = report
            if report.get("errors") or problems:
                fail(f"helm lint --strict with {ci.name}: {json.dumps(problems or report['errors'], indent=1)}")
            log(f"ok: helm lint --strict with {ci.name} ({len(report['messages'])} info message(s))")

            manifests = render(chart, values, "liveness-operator", args.namespace)
            objects = documents(manifests)
            check_rbac(objects, ci.name)
            summary["renders"][ci.stem] = write_split(out, ci.stem, objects, notes(manifests))
            log(f"ok: rendered {ci.name}: {summary['renders'][ci.stem]['kinds']}")

        default = summary["renders"].get("default-values", {}).get("kinds")
        if default != EXPECTED_DEFAULT_KINDS:
            fail(f"default install renders {default}, want {EXPECTED_DEFAULT_KINDS}")
        namespaced = summary["renders"].get(NAMESPACED_VALUES, {}).get("kinds")
        if namespaced is None:
            fail(f"no ci/{NAMESPACED_VALUES}.yaml: rbac.scope=namespaced is not rendered")
        watched = len(load_values([str(chart_dir / "ci" / f"{NAMESPACED_VALUES}.yaml")], [])["watchNamespaces"])
        want = {k: n for k, n in EXPECTED_DEFAULT_KINDS.items() if k not in CLUSTER_SCOPED_RBAC}
        want.update(Role=watched + 1, RoleBinding=watched + 1)  # and the leader-election pair
        if namespaced != want:
            fail(f"rbac.scope=namespaced renders {namespaced}, want {want}")

        # What must fail, with a message a user can act on.
        summary["errors"]["no_oidc_provider"] = expect_render_error(
            chart, {}, args.namespace, "aws.oidcProvider is required", "an install without aws.oidcProvider"
        )
        required = {"aws": {"oidcProvider": "oidc.example/id/X"}}
        summary["errors"]["bad_log_format"] = expect_render_error(
            chart, {**required, "logFormat": "xml"}, args.namespace, "logFormat", "logFormat=xml"
        )
        summary["errors"]["misspelled_key"] = expect_render_error(
            chart, {**required, "watchNamespace": ["a"]}, args.namespace, "watchNamespace", "a misspelled top-level key"
        )
        summary["errors"]["namespaced_without_namespaces"] = expect_render_error(
            chart,
            {**required, "rbac": {"scope": "namespaced"}},
            args.namespace,
            "rbac.scope=namespaced needs watchNamespaces",
            "rbac.scope=namespaced without watchNamespaces",
        )

    (out / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True))


def cmd_render(args: argparse.Namespace) -> None:
    values = load_values(args.values, args.set_json)
    with helm.Chart.load(args.chart) as chart:
        try:
            manifests = render(chart, values, args.name, args.namespace)
        except helm.HelmError as error:
            print(str(error), file=sys.stderr)
            sys.exit(1)
        objects = documents(manifests)
    Path(args.out).write_text(to_yaml_stream(objects))
    Path(args.out).with_suffix(".NOTES.txt").write_text(notes(manifests))


def cmd_install_cycle(args: argparse.Namespace) -> None:
    """install → upgrade → uninstall with the real Helm engine (server-side apply)."""
    release = args.release
    values = {"aws": {"oidcProvider": "oidc.example/id/CHARTCHECK"}, "crds": {"install": False}}
    with helm.Config(kubeconfig_path=args.kubeconfig, namespace=args.namespace) as config:
        installed = config.install(args.chart, release, values, namespace=args.namespace, timeout=120)
        if installed.get("status") != "deployed":
            fail(f"helm install: status {installed.get('status')}")
        log(f"ok: helm install {release} -n {args.namespace}: revision {installed['revision']} deployed")
        upgraded = config.upgrade(
            args.chart, release, {**values, "replicaCount": 1, "logFormat": "json"}, namespace=args.namespace, timeout=120
        )
        if upgraded.get("status") != "deployed" or upgraded.get("revision") != 2:
            fail(f"helm upgrade: {upgraded.get('status')} revision {upgraded.get('revision')}")
        log(f"ok: helm upgrade: revision {upgraded['revision']} deployed")
        config.uninstall(release, timeout=120)
        if any(r["name"] == release for r in config.list()):
            fail("helm uninstall left the release behind")
        log("ok: helm uninstall")


def cmd_argocd_health(args: argparse.Namespace) -> None:
    """Runs the Argo CD health script under Lua 5.1 (Argo CD's dialect) on LivenessApps in
    every state the operator reports, and checks the doc carries the script unchanged."""
    from lupa import lua51  # installed in the venv by chart-check.sh

    script = Path(args.script).read_text()
    doc = Path(args.doc).read_text()
    indented = "".join(f"    {line}".rstrip() + "\n" for line in script.splitlines())
    if indented not in doc:
        fail(f"{args.doc} does not carry {args.script} unchanged (indented by 4 spaces)")

    def app(generation: int, *conditions: dict[str, Any], deleting: bool = False) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": "onboarding", "namespace": "web", "generation": generation}
        if deleting:
            meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        obj: dict[str, Any] = {"apiVersion": "faceliveness.dev/v1alpha1", "kind": "LivenessApp", "metadata": meta}
        if conditions:
            obj["status"] = {"observedGeneration": generation, "conditions": list(conditions)}
        return obj

    def cond(type_: str, status: str, reason: str, generation: int = 2, message: str = "m") -> dict[str, Any]:
        return {"type": type_, "status": status, "reason": reason, "message": message, "observedGeneration": generation}

    ok_pool = cond("IdentityPoolReady", "True", "InSync")
    cases = [
        ("no status yet", app(2), "Progressing"),
        ("ready", app(2, cond("Ready", "True", "Ready", message="all in sync"), ok_pool), "Healthy"),
        ("ready for an older generation", app(3, cond("Ready", "True", "Ready"), ok_pool), "Progressing"),
        ("invalid spec", app(2, cond("Ready", "False", "InvalidSpec", message="spec.region: not a Face Liveness region")), "Degraded"),
        ("access denied", app(2, ok_pool, cond("Ready", "False", "AccessDenied")), "Degraded"),
        ("name conflict", app(2, cond("Ready", "False", "Conflict")), "Degraded"),
        ("AWS throttling", app(2, cond("Ready", "False", "AwsUnavailable")), "Progressing"),
        ("endpoint pods starting", app(2, cond("Ready", "False", "Unavailable", message="0/2 endpoint replicas available")), "Progressing"),
        ("unknown", app(2, cond("Ready", "Unknown", "WaitingForAws")), "Progressing"),
        ("deleting", app(2, cond("Ready", "True", "Ready"), deleting=True), "Progressing"),
        ("stalled: Gateway API missing", app(2, cond("Ready", "False", "GatewayApiMissing"), cond("Reconciling", "False", "Stalled"), cond("Stalled", "True", "GatewayApiMissing", message="install the Gateway API CRDs")), "Degraded"),
        ("stalled: adoption refused", app(2, cond("Ready", "False", "AdoptionRefused"), cond("Stalled", "True", "AdoptionRefused")), "Degraded"),
        ("reconciling", app(2, cond("Ready", "False", "Unavailable"), cond("Reconciling", "True", "Unavailable"), cond("Stalled", "False", "Progressing")), "Progressing"),
        ("ready with kstatus", app(2, cond("Ready", "True", "Ready"), cond("Reconciling", "False", "Ready"), cond("Stalled", "False", "Ready")), "Healthy"),
    ]
    runtime = lua51.LuaRuntime(unpack_returned_tuples=True)
    health = runtime.eval(f"function(obj)\n{script}\nend")
    results = {}
    for name, obj, want in cases:
        got = health(runtime.table_from(obj, recursive=True))
        status, message = got["status"], got["message"]
        if status != want:
            fail(f"argocd health of a LivenessApp ({name}): {status} ({message}), want {want}")
        if not message:
            fail(f"argocd health of a LivenessApp ({name}): no message")
        results[name] = {"status": status, "message": message}
    log(f"ok: Argo CD health script under {runtime.eval('_VERSION')}: {len(cases)} cases")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1, sort_keys=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check")
    check.add_argument("--chart", required=True)
    check.add_argument("--out", required=True)
    check.add_argument("--namespace", required=True)

    rend = sub.add_parser("render")
    rend.add_argument("--chart", required=True)
    rend.add_argument("--name", required=True)
    rend.add_argument("--namespace", required=True)
    rend.add_argument("--values", action="append", default=[])
    rend.add_argument("--set-json", action="append", default=[])
    rend.add_argument("--out", required=True)

    cycle = sub.add_parser("install-cycle")
    cycle.add_argument("--chart", required=True)
    cycle.add_argument("--namespace", required=True)
    cycle.add_argument("--release", required=True)
    cycle.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))

    health = sub.add_parser("argocd-health")
    health.add_argument("--script", required=True)
    health.add_argument("--doc", required=True)
    health.add_argument("--out")

    args = parser.parse_args()
    helm.disable_logging()
    {
        "check": cmd_check,
        "render": cmd_render,
        "install-cycle": cmd_install_cycle,
        "argocd-health": cmd_argocd_health,
    }[args.command](args)


if __name__ == "__main__":
    main()
