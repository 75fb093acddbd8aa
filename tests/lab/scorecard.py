"""Scorecard harness: run the bot's triage CLI against lab services and time the diagnosis.

Each lab service is entered in a generated catalog under a neutral name (`svc-07`) whose
`selector` points at its Prometheus job and whose `database` entry names the lab's PostgreSQL
through `LAB_DATABASE_URL` (the bot's monitoring role) with the service's own neutral role, so
the bot sees metrics and database evidence only, never the fault name.

    scenarios = neutral_scenarios([("otel", "heap_leak"), ("promclient", "healthy")])
    async with LabStack(flavours=..., faults=...) as lab:
        catalog = write_catalog(tmp_path / "services.yaml", scenarios, lab)
        outcomes = await score_batch(scenarios, lab, catalog)
    print(render_table(outcomes))
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab import Flavour, LabStack
from lab.nodeapp import LAB_AGENT_TOKEN, NODE_DIR
from lab.postgres import BOT_ROLE

REPO_ROOT = Path(__file__).resolve().parents[2]
TRIAGE_TIMEOUT_S = 30.0
DATABASE_ENV = "LAB_DATABASE_URL"
AGENT_ENV = "LAB_AGENT_TOKEN"
FAULTS_SCRIPT = NODE_DIR / "faults.js"
# The lab function whose time or allocations the profile should name, per fault.
EXPECTED_CULPRITS = {
    "event_loop_blocked": "burnCpu",
    "cpu_saturated": "burnCpu",
    "gc_pressure": "churnMediumLivedBatches",
    "heap_leak": "fillUnevictedCache",
}
# Tables rendered in this run, for the terminal summary (see tests/lab/conftest.py).
LAST_TABLE: list[str] = []


@dataclass(frozen=True)
class Scenario:
    flavour: Flavour
    fault: str
    service: str  # the neutral catalog name the bot is asked about

    @property
    def expected(self) -> str:
        return self.fault

    @property
    def expected_culprit(self) -> str | None:
        """`name script:line` of the lab function a profile should name, if any."""
        name = EXPECTED_CULPRITS.get(self.fault)
        if name is None:
            return None
        lines = FAULTS_SCRIPT.read_text(encoding="utf-8").splitlines()
        line = next(n for n, text in enumerate(lines, 1) if f"function {name}(" in text)
        return f"{name} {FAULTS_SCRIPT}:{line}"


@dataclass(frozen=True)
class Verdict:
    """What one triage run said, reduced to what the scorecard judges."""

    cause: str
    confidence: float
    crit_steps: tuple[str, ...]
    flagged: tuple[str, ...]
    summary: str
    culprit: str = ""  # `name script:line` of the first culprit a profile named
    profile_problem: str = ""  # why no profile was taken, when one was called for

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> Verdict:
        steps = report.get("steps", [])
        flagged = tuple(
            f"{finding['code']}={finding['severity']}"
            for step in steps
            for finding in step.get("findings", [])
            if finding.get("severity") in {"warn", "crit"}
        )
        return cls(
            cause=report["diagnosis"]["cause"],
            confidence=float(report["diagnosis"]["confidence"]),
            crit_steps=tuple(step["id"] for step in steps if step.get("status") == "crit"),
            flagged=flagged,
            summary=report["diagnosis"]["summary"],
            culprit=_first_culprit(report),
            profile_problem=(report.get("profile") or {}).get("reason", ""),
        )


def _first_culprit(report: dict[str, Any]) -> str:
    culprits = report["diagnosis"].get("culprits") or []
    return f"{culprits[0]['name']} {culprits[0]['location']}" if culprits else ""


def is_correct(scenario: Scenario, verdict: Verdict) -> bool:
    """The injected cause is named; a healthy service also has no critical step."""
    if verdict.cause != scenario.expected:
        return False
    return scenario.expected != "healthy" or not verdict.crit_steps


@dataclass
class Outcome:
    scenario: Scenario
    last: Verdict | None = None
    seconds_to_correct: float | None = None
    history: list[tuple[float, str]] = field(default_factory=list)
    culprit: str = ""  # named by the profile of the first correct diagnosis

    @property
    def correct(self) -> bool:
        return self.seconds_to_correct is not None

    @property
    def culprit_correct(self) -> bool | None:
        """None when the fault has no culprit to name (not a CPU or heap fault)."""
        expected = self.scenario.expected_culprit
        return None if expected is None else self.culprit == expected


def neutral_scenarios(pairs: Iterable[tuple[Flavour, str]], first: int = 1) -> list[Scenario]:
    """Scenarios named svc-01, svc-02, ... in the order given."""
    return [
        Scenario(flavour, fault, f"svc-{number:02d}")
        for number, (flavour, fault) in enumerate(pairs, start=first)
    ]


def write_catalog(path: Path, scenarios: Sequence[Scenario], lab: LabStack) -> Path:
    services = {
        s.service: {
            "selector": {"job": lab.service_job(s.flavour, s.fault)},
            "database": _database_entry(lab.database_role(s.flavour, s.fault)),
            "agent": _agent_entry(lab.service(s.flavour, s.fault).agent_port),
        }
        for s in scenarios
    }
    path.write_text(yaml.safe_dump({"services": services}, sort_keys=True), encoding="utf-8")
    return path


def _database_entry(role: str) -> dict[str, str]:
    return {"dsn_env": DATABASE_ENV, "role": role, "application_name": role}


def _agent_entry(port: int) -> dict[str, object]:
    """The agent in the lab service; short captures, the triage CLI waits for them."""
    template = f"http://{{host}}:{port}"
    return {"url": template, "token_env": AGENT_ENV, "cpu_seconds": 2, "heap_seconds": 4}


def database_env(lab: LabStack) -> dict[str, str]:
    """The variable the catalog's database entries name: the bot's least-privilege DSN."""
    return {DATABASE_ENV: lab.database.dsn(BOT_ROLE)}


def bot_env(lab: LabStack) -> dict[str, str]:
    """The database DSN and the lab agents' token, as the catalog names them."""
    return {**database_env(lab), AGENT_ENV: LAB_AGENT_TOKEN}


async def triage(
    service: str,
    catalog: Path,
    prometheus_url: str,
    window: str = "2m",
    env: Mapping[str, str] | None = None,
    *,
    profile: bool = False,
) -> dict[str, Any]:
    """`python -m bot triage SERVICE --json` in a subprocess; the parsed report."""
    argv = [sys.executable, "-m", "bot", "triage", service, "--json", "--window", window]
    argv += [] if profile else ["--no-profile"]
    argv += ["--services", str(catalog), "--prometheus-url", prometheus_url]
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), TRIAGE_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"triage {service} exited {process.returncode}: {err.decode()[-800:]}")
    report: dict[str, Any] = json.loads(out)
    return report


async def first_scrape(lab: LabStack, scenarios: Sequence[Scenario], timeout_s: float) -> float:
    """Wait until Prometheus has scraped every scenario's service once; return that moment."""
    jobs = "|".join(lab.service_job(s.flavour, s.fault) for s in scenarios)
    await lab.wait_for(f'count(up{{job=~"{jobs}"}} == 1) == {len(scenarios)}', timeout_s=timeout_s)
    return time.monotonic()


async def score_batch(
    scenarios: Sequence[Scenario],
    lab: LabStack,
    catalog: Path,
    *,
    deadline_s: float = 90.0,
    poll_s: float = 4.0,
    window: str = "2m",
) -> list[Outcome]:
    """Triage every scenario in turn, every `poll_s`, until each was right once or time is up.

    Time counts from the first scrape of the batch's services, the earliest moment anything
    watching the service could have seen the fault.
    """
    started = await first_scrape(lab, scenarios, timeout_s=30.0)
    outcomes = [Outcome(s) for s in scenarios]
    while True:
        pending = [o for o in outcomes if not o.correct]
        elapsed = time.monotonic() - started
        if not pending or elapsed > deadline_s:
            return outcomes
        round_started = time.monotonic()
        for outcome in pending:
            service = outcome.scenario.service
            report = await triage(service, catalog, lab.prometheus_url, window, bot_env(lab))
            verdict = Verdict.from_report(report)
            seconds = time.monotonic() - started
            outcome.last = verdict
            outcome.history.append((round(seconds, 1), verdict.cause))
            if is_correct(outcome.scenario, verdict):
                outcome.seconds_to_correct = seconds
                outcome.culprit = await profiled_culprit(outcome, lab, catalog, window)
        await asyncio.sleep(max(0.0, poll_s - (time.monotonic() - round_started)))


async def profiled_culprit(outcome: Outcome, lab: LabStack, catalog: Path, window: str) -> str:
    """Once the cause is named: one more triage, with its profile, for the culprit column.
    Polls run without profiles, so captures neither slow the diagnosis nor pile up on a
    process (each CLI run is a process of its own, with no shared capture limit)."""
    if outcome.scenario.expected_culprit is None:
        return ""
    service = outcome.scenario.service
    report = await triage(service, catalog, lab.prometheus_url, window, bot_env(lab), profile=True)
    verdict = Verdict.from_report(report)
    outcome.last = verdict
    return verdict.culprit


HEADER = (
    "scenario",
    "flavour",
    "expected",
    "diagnosed",
    "confidence",
    "seconds to correct",
    "culprit named by the profile",
    "culprit right",
)
CULPRIT_MARK = {None: "", True: "yes", False: "no"}


def table_rows(outcomes: Sequence[Outcome]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for o in sorted(outcomes, key=lambda o: (o.scenario.fault, o.scenario.flavour)):
        last = o.last
        rows.append(
            (
                o.scenario.fault,
                o.scenario.flavour,
                o.scenario.expected,
                last.cause if last else "(no answer)",
                f"{last.confidence:.2f}" if last else "",
                f"{o.seconds_to_correct:.0f}" if o.seconds_to_correct is not None else "missed",
                _shown_culprit(o),
                CULPRIT_MARK[o.culprit_correct],
            )
        )
    return rows


def _shown_culprit(outcome: Outcome) -> str:
    """The culprit with its path relative to the repository, so the table stays narrow."""
    if not outcome.culprit and outcome.last and outcome.last.profile_problem:
        return f"(none: {outcome.last.profile_problem[:60]})"
    return outcome.culprit.replace(f"{REPO_ROOT}/", "")


def render_table(outcomes: Sequence[Outcome], suite_seconds: float | None = None) -> str:
    """A Markdown table plus accuracy, the median time to a correct diagnosis and the misses."""
    rows = [HEADER, *table_rows(outcomes)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    lines = [line(HEADER), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [line(row) for row in rows[1:]]
    times = [o.seconds_to_correct for o in outcomes if o.seconds_to_correct is not None]
    lines += ["", f"accuracy: {len(times)}/{len(outcomes)}"]
    if times:
        median = statistics.median(times)
        lines.append(f"median seconds from fault start to a correct diagnosis: {median:.0f}")
    if suite_seconds is not None:
        lines.append(f"scorecard wall time: {suite_seconds:.0f} s")
    for o in outcomes:
        if o.correct:
            continue
        trail = ", ".join(f"{t:.0f}s {cause}" for t, cause in o.history)
        lines.append(f"missed {o.scenario.flavour}/{o.scenario.fault}: {trail}")
        if o.last:
            lines.append(f"  last: {o.last.summary} flagged={list(o.last.flagged)}")
    return "\n".join(lines)
