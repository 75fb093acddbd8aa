"""Known vulnerabilities in the locked dependencies: Python (uv.lock) and every Node package.

    python scripts/audit_deps.py          # exit 1 if a known vulnerability has a fixed version

Python: the locked set is exported with hashes from uv.lock and checked by pip-audit against
PyPI's vulnerability data. Node: `npm audit --omit=dev` runs in every folder under lab/ and
agent/ that has a package-lock.json. A vulnerability without any fix yet is listed but does
not fail the run (there is nothing to upgrade to); one with a fix fails it, naming the
package and the version to move to.

Both checks need their advisory service (PyPI's JSON API, the npm registry's audit endpoint).
When one cannot be reached, the run says loudly what was NOT audited; it fails for that too
when AUDIT_REQUIRED=1 (set it where the services are reachable, so a lapse cannot pass).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NODE_ROOTS = ("lab", "agent")
BIN = Path(sys.executable).parent


class Unaudited(Exception):
    """The advisory service could not be asked; nothing can be said about these packages."""


def python_findings() -> list[tuple[str, bool]]:
    """(description, fixable) per vulnerability in the locked Python set."""
    exported = subprocess.run(
        [
            str(BIN / "uv"),
            "export",
            "--frozen",
            "--no-emit-project",
            "--all-extras",
            "--format",
            "requirements-txt",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as requirements:
        requirements.write(exported)
        requirements.flush()
        result = subprocess.run(
            [
                str(BIN / "pip-audit"),
                "--requirement",
                requirements.name,
                "--require-hashes",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"pip-audit could not run: {result.stderr.strip()[-500:]}")
    report: Any = json.loads(result.stdout)
    skipped = [dep["name"] for dep in report["dependencies"] if dep.get("skip_reason")]
    if skipped:
        raise Unaudited(
            f"PyPI's vulnerability data could not be read for {len(skipped)} of "
            f"{len(report['dependencies'])} locked Python packages (e.g. {skipped[0]})"
        )
    return [
        (
            f"python {dep['name']} {dep['version']}: {vuln['id']}"
            + (f" (fixed in {', '.join(vuln['fix_versions'])})" if vuln["fix_versions"] else ""),
            bool(vuln["fix_versions"]),
        )
        for dep in report["dependencies"]
        for vuln in dep.get("vulns", [])
    ]


def node_packages() -> list[Path]:
    return sorted(
        lock.parent
        for root in NODE_ROOTS
        if (ROOT / root).is_dir()
        for lock in (ROOT / root).rglob("package-lock.json")
        if "node_modules" not in lock.parts
    )


def node_findings(package: Path) -> list[tuple[str, bool]]:
    result = subprocess.run(
        ["npm", "audit", "--omit=dev", "--json"],
        cwd=package,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report: Any = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"npm audit failed in {package}: {result.stderr[-500:]}") from None
    if "error" in report or "statusCode" in report:
        raise Unaudited(
            f"npm audit in {package.relative_to(ROOT)} could not reach the advisory service "
            f"({report.get('message') or report.get('error')})"
        )
    where = package.relative_to(ROOT)
    return [
        (f"node {where} {name} ({entry['severity']})", bool(entry.get("fixAvailable")))
        for name, entry in report.get("vulnerabilities", {}).items()
    ]


def main() -> int:
    findings: list[tuple[str, bool]] = []
    unaudited: list[str] = []
    packages = node_packages()
    for check in (python_findings, *(lambda p=p: node_findings(p) for p in packages)):
        try:
            findings += check()
        except Unaudited as gap:
            unaudited.append(str(gap))
    for reason in unaudited:
        print(f"NOT AUDITED  {reason}")
    for description, can_fix in findings:
        print(("FIX NEEDED  " if can_fix else "no fix yet  ") + description)
    fixable = sum(1 for _, can_fix in findings if can_fix)
    names = ", ".join(str(p.relative_to(ROOT)) for p in packages) or "none"
    print(
        f"audit of the locked Python set and {len(packages)} Node package(s) ({names}): "
        f"{len(findings)} known vulnerabilities, {fixable} with a fix, "
        f"{len(unaudited)} check(s) could not run"
    )
    required = os.environ.get("AUDIT_REQUIRED") == "1"
    return 1 if fixable or (unaudited and required) else 0


if __name__ == "__main__":
    sys.exit(main())
