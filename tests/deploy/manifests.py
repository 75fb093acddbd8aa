"""Render the kustomize trees under deploy/kubernetes and validate what they produce, offline.

- `kubectl kustomize` renders (the same code `kubectl apply -k` runs);
- built-in kinds are checked against the Kubernetes OpenAPI schemas bundled with
  kubernetes-validate, strictly (unknown fields are errors), for each version in
  KUBERNETES_VERSIONS;
- the Prometheus Operator kinds are checked against the operator's schemas as packaged by
  @kubernetes-models/prometheus-operator (pinned in crd_schemas/package-lock.json): types,
  required fields, enums and duration patterns. That package does not reject unknown fields.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from lab.npm import npm_ci

REPO = Path(__file__).resolve().parents[2]
KUSTOMIZE_ROOT = REPO / "deploy" / "kubernetes"
TREES = ("base", "overlays/example")
# The oldest and the newest Kubernetes minor versions the manifests are meant for.
KUBERNETES_VERSIONS = ("1.30.0", "1.34.0")
OPERATOR_GROUP = "monitoring.coreos.com/v1"
CRD_VALIDATOR = Path(__file__).resolve().parent / "crd_schemas"

Manifest = dict[str, Any]


def kubectl_missing() -> str | None:
    return None if shutil.which("kubectl") else "kubectl is not installed (it bundles kustomize)"


def node_missing() -> str | None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not installed (Debian: nodejs npm)" if missing else None


@cache
def render(tree: str) -> tuple[Manifest, ...]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(KUSTOMIZE_ROOT / tree)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {tree} failed:\n{result.stderr}")
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def one(manifests: tuple[Manifest, ...], kind: str) -> Manifest:
    (found,) = [m for m in manifests if m["kind"] == kind]
    return found


def schema_problems(manifest: Manifest, version: str) -> str | None:
    """None when a built-in kind matches the Kubernetes schema, else what is wrong."""
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(part) for part in error.path)
        return f"{manifest['kind']}/{manifest['metadata']['name']}: {path}: {error.message}"
    return None


def operator_problems(manifests: list[Manifest]) -> list[str]:
    """What the Prometheus Operator's schemas reject among `manifests` (its kinds only)."""
    npm_ci(CRD_VALIDATOR)
    result = subprocess.run(
        ["node", str(CRD_VALIDATOR / "validate.mjs")],
        input=json.dumps(manifests),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"the CRD validator failed: {result.stderr}")
    problems: list[str] = json.loads(result.stdout)
    return problems
