"""The dependency audit fails on a known vulnerability with a fix, and never passes silently
when an advisory service could not be asked and the audit is required."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import audit_deps


@pytest.fixture
def no_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_deps, "node_packages", list)


@pytest.mark.usefixtures("no_node")
@pytest.mark.parametrize(
    ("findings", "code"),
    [
        ([("python x 1.0: PYSEC-1 (fixed in 1.1)", True)], 1),
        ([("python x 1.0: PYSEC-2", False)], 0),
        ([], 0),
    ],
)
def test_exit_code_follows_fixable_findings(
    monkeypatch: pytest.MonkeyPatch, findings: list[tuple[str, bool]], code: int
) -> None:
    monkeypatch.setattr(audit_deps, "python_findings", lambda: findings)
    assert audit_deps.main() == code


@pytest.mark.usefixtures("no_node")
def test_an_unreachable_service_fails_only_when_the_audit_is_required(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreachable() -> list[tuple[str, bool]]:
        raise audit_deps.Unaudited("PyPI's vulnerability data could not be read")

    monkeypatch.setattr(audit_deps, "python_findings", unreachable)
    assert audit_deps.main() == 0
    assert "NOT AUDITED" in capsys.readouterr().out
    monkeypatch.setenv("AUDIT_REQUIRED", "1")
    assert audit_deps.main() == 1


def test_every_node_package_under_lab_and_agent_is_found() -> None:
    found = {str(p.relative_to(audit_deps.ROOT)) for p in audit_deps.node_packages()}
    assert "lab/node" in found
    assert all(p.startswith(("lab/", "agent/")) for p in found)
