"""The triage engine: walk a playbook of checks against one service and name a primary cause.

    playbook = load_playbooks(Path("playbooks"))["nodejs"]
    report = await run_triage(
        TriageRequest(service="checkout", window=parse_window("10m", end=time.time()),
                      playbook=playbook, source=source),
        on_step=update_checklist_message,
    )

It knows nothing of Slack: the CLI, the Slack flows and the digest all call `run_triage`.
"""

from __future__ import annotations

from bot.triage.checks.base import Targets
from bot.triage.engine import ProgressCallback, TriageRequest, run_triage
from bot.triage.playbook import Playbook, PlaybookError, load_playbooks
from bot.triage.prom_source import PrometheusSignalSource
from bot.triage.recorded import RecordedSignalSource
from bot.triage.source import Fetched, SignalSource
from bot.triage.window import Window, WindowError, parse_window

__all__ = [
    "Fetched",
    "Playbook",
    "PlaybookError",
    "ProgressCallback",
    "PrometheusSignalSource",
    "RecordedSignalSource",
    "SignalSource",
    "Targets",
    "TriageRequest",
    "Window",
    "WindowError",
    "load_playbooks",
    "parse_window",
    "run_triage",
]
