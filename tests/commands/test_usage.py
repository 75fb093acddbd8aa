"""Every command: help, usage on empty input, typos answered with what would work, all in the
acknowledgement itself (ephemeral), and the manifest declaring exactly the registered commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.slack.commands import COMMANDS
from tests.commands.conftest import Commands

MANIFEST = Path(__file__).resolve().parents[2] / "config" / "slack-app-manifest.yaml"


def test_the_manifest_declares_exactly_the_registered_commands() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    declared = {entry["command"] for entry in manifest["features"]["slash_commands"]}
    assert declared == set(COMMANDS)
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("text", ["help", "", "HELP", "--help"])
async def test_every_command_explains_itself(commands: Commands, command: str, text: str) -> None:
    reply = await commands.driver.slash_command(command, text)
    assert reply.status == 200
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert f"`{command}" in body["text"]
    assert not commands.emulator.state.response_posts, "help needs no follow-up"


@pytest.mark.parametrize(
    ("command", "text", "expected"),
    [
        ("/triage", "chekout", "Did you mean `checkout`?"),
        ("/triage", "zzzz", "Known services: `checkout`, `payments`"),
        ("/triage", "checkout 10x", "is not understood"),
        ("/triage", "checkout 31d", "from 1m to 30d"),
        ("/triage", "checkout 10m extra", "takes a service, a window and `db` at most"),
        ("/triage", "checkout db db", "takes a service, a window and `db` at most"),
        ("/health", "paymnts", "Did you mean `payments`?"),
        ("/health", "checkout payments", "takes one service name"),
        ("/slo", "checkout 0m", "from 1m to 30d"),
        ("/slo", "checkot 7d", "Did you mean `checkout`?"),
        ("/incident", "ak 260101-abcdef", "Did you mean `ack`?"),
        ("/incident", "frobnicate", "`list`, `show`, `ack`, `resolve`, `note`"),
        ("/incident", "ack", "needs an incident id"),
        ("/incident", "ack 42", "is not an incident id"),
        ("/incident", "show 260101-abcdef extra", "takes one incident id"),
        ("/incident", "note 260101-abcdef", "needs the note's text"),
        ("/incident", "list everything", "takes no arguments"),
        ("/digest", "previw", "Did you mean `preview`?"),
        ("/digest", "preview nosuch", "is not in the service catalog"),
    ],
)
async def test_mistakes_get_a_hint_and_the_usage(
    commands: Commands, command: str, text: str, expected: str
) -> None:
    reply = await commands.driver.slash_command(command, text)
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert expected in body["text"]
    assert "Example" in body["text"] or "A note holds" in body["text"]
    assert commands.bot.wiring.tasks.active == 0, "nothing runs for arguments that are refused"


async def test_free_text_is_shown_escaped_never_as_markup(commands: Commands) -> None:
    reply = await commands.driver.slash_command("/triage", "<!channel>")
    text = reply.json()["text"]
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text


async def test_a_note_longer_than_allowed_is_refused(commands: Commands) -> None:
    reply = await commands.driver.slash_command("/incident", "note 260101-abcdef " + "x" * 1001)
    assert "at most 1000 characters" in reply.json()["text"]
