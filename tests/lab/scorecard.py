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
import re
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
CULPRIT_TRIES = 3  # profiled triages per scenario before the culprit column says what went wrong
STEADY_WATCH_S = 75.0  # a healthy verdict must hold this long from the batch's first scrape
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


# Faults a user does not feel: something loud runs (a failing background exporter, a busy
# collector, a busy core) that explains nothing users see, so the service is healthy. What
# makes it loud, once flagged, must be seen: listed beside the diagnosis (`LISTED`), or for a
# busy core a capacity note.
FELT_AS_HEALTHY = {
    "background_dependency_failing": ("downstream_errors",),
    "gc_harmless": (),
    "near_capacity": (),
}
LISTED = {"gc_time": "gc_pressure", "downstream_errors": "downstream_errors"}
CAPACITY_NOTE = "Capacity: the process is busy"


@dataclass(frozen=True)
class Scenario:
    """`fault` as the lab names it: `a`, two at once `a+b`, or with a metric style `a@style`."""

    flavour: Flavour
    fault: str
    service: str  # the neutral catalog name the bot is asked about

    @property
    def faults(self) -> tuple[str, ...]:
        return tuple(self.fault.partition("@")[0].split("+"))

    @property
    def compound(self) -> bool:
        return len(self.faults) > 1

    @property
    def expected(self) -> str:
        """The cause to name (for two faults: either one, with the other as secondary)."""
        if self.compound:
            return "+".join(self.faults)
        fault = self.faults[0]
        return "healthy" if fault in FELT_AS_HEALTHY else fault

    @property
    def steady(self) -> bool:
        return self.expected == "healthy"

    @property
    def expected_secondary(self) -> tuple[str, ...]:
        return FELT_AS_HEALTHY.get(self.faults[0], ()) if not self.compound else ()

    @property
    def expected_culprit(self) -> str | None:
        """`name script:line` of the lab function a profile should name, if any."""
        name = EXPECTED_CULPRITS.get(self.expected)
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
    secondary: tuple[tuple[str, float | None], ...] = ()

    @property
    def secondary_causes(self) -> set[str]:
        return {cause for cause, _ in self.secondary}

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
            secondary=tuple(
                (other["cause"], other.get("share"))
                for other in report["diagnosis"].get("secondary", [])
            ),
        )


def _first_culprit(report: dict[str, Any]) -> str:
    culprits = report["diagnosis"].get("culprits") or []
    return f"{culprits[0]['name']} {culprits[0]['location']}" if culprits else ""


def _loud_signals_shown(verdict: Verdict) -> bool:
    flagged = {entry.split("=")[0] for entry in verdict.flagged}
    listed = {cause for code, cause in LISTED.items() if code in flagged}
    capacity_noted = "cpu_busy" not in flagged or CAPACITY_NOTE in verdict.summary
    return listed <= verdict.secondary_causes and capacity_noted


def is_correct(scenario: Scenario, verdict: Verdict) -> bool:
    """The injected cause is named; a healthy service also has no critical step. With two
    faults, either is the cause and the other is reported beside it; a fault users do not
    feel is healthy, with what makes it loud among the secondary findings."""
    if scenario.compound:
        if verdict.cause not in scenario.faults:
            return False
        return set(scenario.faults) - {verdict.cause} <= verdict.secondary_causes
    if verdict.cause != scenario.expected:
        return False
    if not set(scenario.expected_secondary) <= verdict.secondary_causes:
        return False
    if scenario.faults[0] in FELT_AS_HEALTHY and not _loud_signals_shown(verdict):
        return False
    plain_healthy = scenario.fault == "healthy"
    return not plain_healthy or not verdict.crit_steps


@dataclass
class ScenarioOutcome:
    """A steady scenario (one that must be called healthy) is watched for `STEADY_WATCH_S`
    after its first right answer: any other answer later is a false alarm and a miss."""

    scenario: Scenario
    last: Verdict | None = None
    seconds_to_correct: float | None = None
    history: list[tuple[float, str]] = field(default_factory=list)
    false_alarm: bool = False
    culprit: str = ""  # named by a profiled triage after the first correct diagnosis
    culprit_problem: str = ""  # why the last profiled triage named no culprit
    culprit_tries: int = 0

    @property
    def correct(self) -> bool:
        return self.seconds_to_correct is not None and not self.false_alarm

    def pending(self, elapsed: float) -> bool:
        if self.false_alarm:
            return False
        watching = self.scenario.steady and elapsed < STEADY_WATCH_S
        return self.seconds_to_correct is None or watching or self.wants_culprit

    @property
    def wants_culprit(self) -> bool:
        """Named right, but no profile has named the culprit yet, with tries left. A profile
        taken in the fault's first seconds can land before the function shows in samples."""
        if self.seconds_to_correct is None or self.scenario.expected_culprit is None:
            return False
        return not self.culprit and self.culprit_tries < CULPRIT_TRIES

    def record(self, seconds: float, verdict: Verdict) -> None:
        self.last = verdict
        self.history.append((round(seconds, 1), verdict.cause))
        right = is_correct(self.scenario, verdict)
        if right and self.seconds_to_correct is None:
            self.seconds_to_correct = seconds
        elif not right and self.seconds_to_correct is not None:
            self.false_alarm = True

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
    # Compound faults put `+` in job names: escaped for the regex, then for the PromQL string.
    jobs = "|".join(
        re.escape(lab.service_job(s.flavour, s.fault)).replace("\\", "\\\\") for s in scenarios
    )
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
) -> list[ScenarioOutcome]:
    """Triage every scenario in turn, every `poll_s`, until each was right once (a steady one:
    and stayed right for `STEADY_WATCH_S`) or time is up.

    Time counts from the first scrape of the batch's services, the earliest moment anything
    watching the service could have seen the fault.
    """
    started = await first_scrape(lab, scenarios, timeout_s=30.0)
    outcomes = [ScenarioOutcome(s) for s in scenarios]
    while True:
        elapsed = time.monotonic() - started
        pending = [o for o in outcomes if o.pending(elapsed)]
        if not pending or elapsed > deadline_s:
            return outcomes
        round_started = time.monotonic()
        for outcome in pending:
            service = outcome.scenario.service
            report = await triage(service, catalog, lab.prometheus_url, window, bot_env(lab))
            outcome.record(time.monotonic() - started, Verdict.from_report(report))
            if outcome.wants_culprit:
                await take_culprit(outcome, lab, catalog, window)
        await asyncio.sleep(max(0.0, poll_s - (time.monotonic() - round_started)))


async def take_culprit(outcome: ScenarioOutcome, lab: LabStack, catalog: Path, window: str) -> None:
    """Once the cause is named: one more triage, with its profile, for the culprit column.
    Polls run without profiles, so captures neither slow the diagnosis nor pile up on a
    process (each CLI run is a process of its own, with no shared capture limit)."""
    outcome.culprit_tries += 1
    service = outcome.scenario.service
    report = await triage(service, catalog, lab.prometheus_url, window, bot_env(lab), profile=True)
    verdict = Verdict.from_report(report)
    outcome.culprit = verdict.culprit
    outcome.culprit_problem = verdict.profile_problem or _no_culprit_reason(report)


def _no_culprit_reason(report: dict[str, Any]) -> str:
    if report.get("profile") is None:
        return f"that triage said {report['diagnosis']['cause']}, which calls for no profile"
    return "the profile was taken and named no culprit" if not _first_culprit(report) else ""


HEADER = (
    "scenario",
    "flavour",
    "expected",
    "diagnosed",
    "secondary",
    "confidence",
    "seconds to correct",
    "culprit named by the profile",
    "culprit right",
)
CULPRIT_MARK = {None: "", True: "yes", False: "no"}


def table_rows(outcomes: Sequence[ScenarioOutcome]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for o in sorted(outcomes, key=lambda o: (o.scenario.fault, o.scenario.flavour)):
        last = o.last
        rows.append(
            (
                o.scenario.fault,
                o.scenario.flavour,
                o.scenario.expected,
                last.cause if last else "(no answer)",
                _secondary_cell(last),
                f"{last.confidence:.2f}" if last else "",
                _seconds_cell(o),
                _shown_culprit(o),
                CULPRIT_MARK[o.culprit_correct],
            )
        )
    return rows


def _shown_culprit(outcome: ScenarioOutcome) -> str:
    """The culprit with its path relative to the repository, so the table stays narrow."""
    if not outcome.culprit and outcome.culprit_problem:
        return f"(none: {outcome.culprit_problem[:60]})"
    return outcome.culprit.replace(f"{REPO_ROOT}/", "")


def _seconds_cell(outcome: ScenarioOutcome) -> str:
    if outcome.false_alarm:
        return "false alarm"
    if outcome.seconds_to_correct is None:
        return "missed"
    return f"{outcome.seconds_to_correct:.0f}"


def _secondary_cell(verdict: Verdict | None) -> str:
    if verdict is None or not verdict.secondary:
        return ""
    return ", ".join(
        f"{cause} {share:.0%}" if share is not None else cause for cause, share in verdict.secondary
    )


BANDS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.85), (0.85, 1.01))


def calibration_rows(outcomes: Sequence[ScenarioOutcome]) -> list[tuple[str, int, int, float]]:
    """Per confidence band of the final answers (the first right one, or the last one when
    none was right): (band, answers, right, mean confidence)."""
    rows = []
    for low, high in BANDS:
        final = [o for o in outcomes if o.last and low <= o.last.confidence < high]
        if not final:
            continue
        right = sum(1 for o in final if o.correct)  # polling stops at the first right answer
        mean = statistics.mean(o.last.confidence for o in final if o.last)
        rows.append((f"{low:.2f}-{min(high, 1.0):.2f}", len(final), right, mean))
    return rows


def render_calibration(outcomes: Sequence[ScenarioOutcome]) -> list[str]:
    lines = [
        "",
        "| confidence band | answers | right | right % | mean confidence |",
        "|---|---|---|---|---|",
    ]
    for band, count, right, mean in calibration_rows(outcomes):
        lines.append(f"| {band} | {count} | {right} | {right / count:.0%} | {mean:.2f} |")
    return lines


def render_table(outcomes: Sequence[ScenarioOutcome], suite_seconds: float | None = None) -> str:
    """A Markdown table plus accuracy, the median time to a correct diagnosis and the misses."""
    rows = [HEADER, *table_rows(outcomes)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    lines = [line(HEADER), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [line(row) for row in rows[1:]]
    times = [o.seconds_to_correct for o in outcomes if o.correct and o.seconds_to_correct]
    lines += ["", f"accuracy: {len(times)}/{len(outcomes)}"]
    if times:
        median = statistics.median(times)
        lines.append(f"median seconds from fault start to a correct diagnosis: {median:.0f}")
    if suite_seconds is not None:
        lines.append(f"scorecard wall time: {suite_seconds:.0f} s")
    lines += render_calibration(outcomes)
    for o in outcomes:
        if o.correct:
            continue
        trail = ", ".join(f"{t:.0f}s {cause}" for t, cause in o.history)
        lines.append(f"missed {o.scenario.flavour}/{o.scenario.fault}: {trail}")
        if o.last:
            lines.append(f"  last: {o.last.summary} flagged={list(o.last.flagged)}")
    return "\n".join(lines)
