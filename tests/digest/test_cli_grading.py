"""`python -m bot digest` grades with the playbook the bot reads, as the running bot does."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli_errors import BadInput
from bot.digest.cli import _grading
from bot.grading import Grading

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks" / "nodejs.yaml"


def test_the_playbook_directory_sets_the_thresholds(tmp_path: Path) -> None:
    text = SHIPPED.read_text().replace("crit_factor: 2.0", "crit_factor: 3.0")
    (tmp_path / "nodejs.yaml").write_text(text)
    assert _grading(tmp_path).latency_crit_factor == 3.0


def test_without_a_playbook_directory_the_shipped_thresholds_apply(tmp_path: Path) -> None:
    assert _grading(tmp_path / "absent") == Grading()


def test_a_broken_playbook_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "nodejs.yaml").write_text("name: nodejs\nsteps: [{id: x}]\n")
    with pytest.raises(BadInput, match="playbook"):
        _grading(tmp_path)
