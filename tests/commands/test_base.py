"""The listener every slash command gets: help, refusals, then the acknowledgement before any
work, and a word to the caller when the work fails."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from bot.runtime.tasks import TaskTracker
from bot.slack.commands.base import Accepted, SlashCommand
from bot.slack.commands.common import Invalid, Invocation
from bot.slack.deps import Deps

USAGE = "*`/probe THING`* probes a thing."


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.acks: list[dict[str, Any]] = []
        self.told: list[str] = []

    async def ack(self, **answer: Any) -> None:
        self.acks.append(answer)
        self.events.append("ack")

    async def respond(self, **answer: Any) -> None:
        self.told.append(str(answer.get("text")))


def probe_command(recorder: Recorder, *, fail: bool = False) -> SlashCommand:
    def accept(_deps: Deps, call: Invocation) -> Accepted:
        recorder.events.append("accept")
        if call.words[0] == "bad":
            raise Invalid(f"`bad` is not a thing.\n\n{USAGE}")

        async def work() -> None:
            recorder.events.append("work")
            if fail:
                raise RuntimeError("boom")

        return Accepted(f"Probing {call.words[0]}…", "The probe", work)

    return SlashCommand("/probe", USAGE, accept)


async def invoke(command: SlashCommand, recorder: Recorder, text: str) -> TaskTracker:
    tasks = TaskTracker()
    deps = cast(Deps, SimpleNamespace(tasks=tasks))
    listener = command.listener(deps)
    body = {"text": text, "user_id": "U0ALICE", "channel_id": "C0GENERAL"}
    await listener(ack=recorder.ack, command=body, respond=recorder.respond)
    assert await tasks.settle(within=5) == 0
    return tasks


async def test_help_and_empty_input_answer_with_the_usage_and_run_nothing() -> None:
    for text in ("help", "", "--help"):
        recorder = Recorder()
        await invoke(probe_command(recorder), recorder, text)
        assert recorder.acks == [{"response_type": "ephemeral", "text": USAGE}]
        assert recorder.events == ["ack"]


async def test_refused_words_are_answered_in_the_acknowledgement() -> None:
    recorder = Recorder()
    await invoke(probe_command(recorder), recorder, "bad")
    assert recorder.events == ["accept", "ack"]
    assert "`bad` is not a thing" in recorder.acks[0]["text"]


async def test_the_work_starts_only_after_the_acknowledgement() -> None:
    recorder = Recorder()
    await invoke(probe_command(recorder), recorder, "disk")
    assert recorder.events == ["accept", "ack", "work"]
    assert recorder.acks == [{"response_type": "ephemeral", "text": "Probing disk…"}]


async def test_failed_work_is_reported_to_the_caller() -> None:
    recorder = Recorder()
    await invoke(probe_command(recorder, fail=True), recorder, "disk")
    assert recorder.events == ["accept", "ack", "work"]
    assert recorder.told == [":x: The probe could not finish (RuntimeError)."]
