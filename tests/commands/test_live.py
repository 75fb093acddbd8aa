"""`/triage`, `/health`, `/slo` and `/digest preview` against a real Prometheus scraping a
prom-client exposition (checkout), through the real endpoint and the Slack emulator."""

from __future__ import annotations

import json
import re

from tests.commands.conftest import ADMIN, GENERAL, OWNER, STRANGER, Commands, text_of
from tests.waiting import eventually


async def test_triage_posts_its_report_in_the_channel(live: Commands) -> None:
    reply = await live.driver.slash_command("/triage", "checkout 2m", user_id=STRANGER)
    assert reply.json()["response_type"] == "ephemeral"
    assert "Triage of `checkout` over the last 2m: running" in reply.json()["text"]
    state = live.emulator.state
    await eventually(lambda: bool(state.channel_messages(GENERAL)), within=60)
    (report,) = state.channel_messages(GENERAL)
    blocks = json.dumps(report.blocks)
    assert "Checklist for `checkout` over the last 2m" in blocks
    assert "Most likely cause" in blocks
    assert f"Asked for by <@{STRANGER}>" in blocks
    assert report.text.startswith("Triage of checkout")
    shares = [s for f in state.files.values() for s in f.shares if s.channel == GENERAL]
    assert len(shares) <= 4
    assert all(share.thread_ts == report.ts for share in shares), "charts go in the thread"
    assert not live.responses_for(STRANGER), "a successful triage needs no private follow-up"


async def test_health_compares_golden_signals_with_the_slo(live: Commands) -> None:
    reply = await live.driver.slash_command("/health", "checkout", user_id=STRANGER)
    assert "Reading the signals of `checkout`" in reply.json()["text"]
    answer = await live.next_response(STRANGER, within=30)
    assert answer.body["response_type"] == "ephemeral"
    text = text_of(answer)
    for label in ("Traffic", "Errors", "Latency", "Event-loop lag", "Memory", "DB pool"):
        assert f"*{label}*" in text, label
    assert re.search(r"p99 [\d.]+ ms / 800 ms", text)
    assert re.search(r"\d+ of 10 connections in use|\d+ connections in use", text)
    assert "burn" in text
    assert "MiB" in text

    await live.driver.app_home_opened(OWNER)
    await eventually(lambda: "/health:" in json.dumps(_home(live, OWNER)))


async def test_slo_reports_budget_and_burn(live: Commands) -> None:
    await live.driver.slash_command("/slo", "checkout 10m", user_id=ADMIN)
    text = text_of(await live.next_response(ADMIN, within=30))
    assert "checkout SLO over 10m" in text
    assert re.search(r"\*Availability\* [\d.]+% over 10m · target 99.9%", text)
    assert re.search(r"\*Error budget\* \d+% left", text)
    assert re.search(r"\*Burn rate\* [\d.]+× over the last hour · [\d.]+× over 10m", text)
    assert re.search(r"p99 [\d.]+ ms / 800 ms", text)


async def test_slo_for_a_service_without_data_says_so(live: Commands) -> None:
    await live.driver.slash_command("/slo", "payments", user_id=ADMIN)
    text = text_of(await live.next_response(ADMIN, within=30))
    assert "Prometheus holds nothing for payments over 30d" in text


async def test_digest_preview_is_for_the_caller_only(live: Commands) -> None:
    reply = await live.driver.slash_command("/digest", "preview checkout", user_id=STRANGER)
    assert "only you will see it" in reply.json()["text"]
    answer = await live.next_response(STRANGER, within=60)
    assert answer.body["response_type"] == "ephemeral"
    text = text_of(answer)
    assert "Weekly service health" in text
    assert "checkout" in text
    assert "payments" not in text
    assert not live.emulator.state.channel_messages(GENERAL)


def _home(live: Commands, user: str) -> dict[str, object] | None:
    views = [v for v in live.emulator.state.views.values() if v.user_id == user]
    return views[0].view if views else None
