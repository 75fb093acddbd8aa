from __future__ import annotations

import time

from emulator.driver import SlackDriver


async def test_triage_help_answers_ephemeral_usage_within_three_seconds(
    driver: SlackDriver,
) -> None:
    started = time.monotonic()
    reply = await driver.slash_command("/triage", "help")
    elapsed = time.monotonic() - started
    assert reply.status == 200
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert "/triage SERVICE [WINDOW]" in body["text"]
    assert elapsed < 3.0


async def test_triage_without_arguments_explains_usage(driver: SlackDriver) -> None:
    reply = await driver.slash_command("/triage", "")
    assert reply.status == 200
    assert "WINDOW" in reply.json()["text"]
