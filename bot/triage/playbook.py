"""Playbooks: a triage checklist as YAML, validated against each check kind's parameter model.

    name: nodejs
    title: Node.js service
    steps:
      - id: event_loop
        title: Event-loop lag
        checks:
          - kind: eventloop_lag
            warn_ms: 100

A file may instead extend another playbook by name: its steps add checks to the steps with
the same id, and steps with new ids run after the others::

    extends: nodejs
    steps:
      - id: database
        checks:
          - {kind: promql_threshold, code: replica_lag, name: replica lag, expr: ..., warn: 5}

Any problem stops loading with the file, the step, the check and the field in the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.triage.checks import REGISTRY
from bot.triage.checks.base import CheckKind, CheckParams
from bot.validation import dotted_path, problem_message

DEFAULT_PLAYBOOK = "nodejs"
_STEP_KEYS = {"id", "title", "checks"}


class PlaybookError(ValueError):
    """A playbook that cannot be used; the message names file, step, check and field."""


@dataclass(frozen=True)
class CheckSpec:
    kind: CheckKind[Any]
    params: CheckParams


@dataclass(frozen=True)
class StepSpec:
    id: str
    title: str
    checks: tuple[CheckSpec, ...]


@dataclass(frozen=True)
class Playbook:
    name: str
    title: str
    steps: tuple[StepSpec, ...]


def load_default_playbook(directory: Path) -> Playbook:
    """The `nodejs` playbook of `directory`, extensions applied; PlaybookError says what is
    wrong, for the command line to print."""
    try:
        playbooks = load_playbooks(directory)
    except PlaybookError as error:
        raise PlaybookError(f"the playbook is not valid:\n{error}") from None
    if DEFAULT_PLAYBOOK not in playbooks:
        raise PlaybookError(
            f"{directory}: no playbook named '{DEFAULT_PLAYBOOK}' (BOT_PLAYBOOK_DIR)"
        )
    return playbooks[DEFAULT_PLAYBOOK]


def load_playbooks(directory: Path) -> dict[str, Playbook]:
    """Every `*.yaml`/`*.yml` playbook in `directory`, extensions applied, keyed by name."""
    if not directory.is_dir():
        raise PlaybookError(f"{directory}: playbook directory not found (set BOT_PLAYBOOK_DIR)")
    bases: dict[str, Playbook] = {}
    extensions: list[tuple[str, Playbook]] = []
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        document = _read(path)
        playbook = parse_playbook(document, str(path))
        parent = document.get("extends")
        if parent is not None:
            extensions.append((str(parent), playbook))
        elif playbook.name in bases:
            raise PlaybookError(f"{path}: a playbook named '{playbook.name}' is already loaded")
        else:
            bases[playbook.name] = playbook
    for parent, extension in extensions:
        if parent not in bases:
            raise PlaybookError(f"{extension.name}: extends unknown playbook '{parent}'")
        bases[parent] = _extend(bases[parent], extension)
    return bases


def _read(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise PlaybookError(f"{path}: cannot read YAML ({error})") from None
    if not isinstance(document, dict):
        raise PlaybookError(f"{path}: must be a mapping with 'name' and 'steps'")
    return document


def parse_playbook(document: Mapping[str, Any], origin: str) -> Playbook:
    unknown = set(document) - {"name", "title", "steps", "extends"}
    if unknown:
        raise PlaybookError(f"{origin}: unknown top-level key(s) {', '.join(sorted(unknown))}")
    name = document.get("name") or document.get("extends")
    if not isinstance(name, str) or not name:
        raise PlaybookError(f"{origin}: 'name' must be a non-empty string, e.g. name: nodejs")
    steps = document.get("steps")
    if not isinstance(steps, list) or not steps:
        raise PlaybookError(f"{origin}: 'steps' must be a non-empty list of steps")
    parsed = tuple(_parse_step(raw, origin, n) for n, raw in enumerate(steps, 1))
    ids = [step.id for step in parsed]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PlaybookError(f"{origin}: step id(s) used twice: {', '.join(duplicates)}")
    return Playbook(name=name, title=str(document.get("title", name)), steps=parsed)


def _parse_step(raw: object, origin: str, number: int) -> StepSpec:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise PlaybookError(
            f"{origin}: step #{number}: each step needs an 'id' string, e.g. id: database"
        )
    where = f"{origin}: step '{raw['id']}'"
    unknown = set(raw) - _STEP_KEYS
    if unknown:
        raise PlaybookError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    checks = raw.get("checks")
    if not isinstance(checks, list) or not checks:
        raise PlaybookError(f"{where}: 'checks' must be a non-empty list")
    specs = tuple(_parse_check(check, where, n) for n, check in enumerate(checks, 1))
    return StepSpec(id=raw["id"], title=str(raw.get("title", raw["id"])), checks=specs)


def _parse_check(raw: object, where: str, number: int) -> CheckSpec:
    if not isinstance(raw, dict) or "kind" not in raw:
        raise PlaybookError(f"{where}, check #{number}: needs a 'kind', e.g. kind: eventloop_lag")
    kind_name = str(raw["kind"])
    kind = REGISTRY.get(kind_name)
    if kind is None:
        known = ", ".join(sorted(REGISTRY))
        raise PlaybookError(
            f"{where}, check #{number}: unknown check kind '{kind_name}' (known kinds: {known})"
        )
    values = {key: value for key, value in raw.items() if key != "kind"}
    try:
        params = kind.params_model.model_validate(values)
    except ValidationError as error:
        where = f"{where}, check #{number} ({kind_name})"
        raise PlaybookError(_field_problems(error, where)) from None
    return CheckSpec(kind=kind, params=params)


def _field_problems(error: ValidationError, where: str) -> str:
    lines = []
    for detail in error.errors():
        field = dotted_path(detail["loc"]) or "(parameters)"
        message = problem_message(detail, lowercase=False)
        lines.append(f"{where}: field '{field}': {message}")
    return "\n".join(lines)


def _extend(base: Playbook, extension: Playbook) -> Playbook:
    added = {step.id: step for step in extension.steps}
    steps = [
        StepSpec(s.id, s.title, s.checks + added.pop(s.id).checks) if s.id in added else s
        for s in base.steps
    ]
    return Playbook(base.name, base.title, (*steps, *added.values()))
