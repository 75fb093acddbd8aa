"""The emulator's page, the one `make demo` prints, opened in headless Chromium: after a real
alert and triage, the incident thread, its edits and the chart are on screen."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.support.wait import WebDriverWait

from emulator.server import RunningEmulator
from tests.browser import browser_missing, full_page_png, headless_chromium
from tests.flow.test_incident_flow import (
    Stack,
    diagnosis_posted,
    running_stack,
)
from tests.promstack import fixture_text, prometheus_available
from tests.waiting import eventually, holds

pytestmark = [
    pytest.mark.skipif(not prometheus_available(), reason="needs /usr/bin/prometheus"),
    pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing())),
]

# Read in one script, so a page refresh between two reads cannot mix two versions.
PAGE_FACTS = """
const roots = [...document.querySelectorAll('div.message')]
  .filter(m => !m.closest('div.thread') && m.innerText.includes(arguments[0]));
const root = roots[0];
const thread = root && root.nextElementSibling && root.nextElementSibling.matches('div.thread')
  ? root.nextElementSibling : null;
const charts = thread ? [...thread.querySelectorAll('img.upload')] : [];
return {
  page_height: document.documentElement.scrollHeight,
  roots: roots.length,
  root: root ? root.innerText : '',
  thread: thread ? thread.innerText : '',
  edited: thread ? [root, ...thread.querySelectorAll('div.message')]
    .filter(m => m.querySelector('.meta').innerText.includes('edited')).length : 0,
  earlier_versions: thread ? [root, thread].map(e => e.querySelectorAll('details.edits').length)
    .reduce((a, b) => a + b, 0) : 0,
  charts: charts.filter(i => i.complete && i.naturalWidth > 0)
    .map(i => [i.naturalWidth, i.naturalHeight, i.alt]),
};
"""
ALERT = "LatencyP99OverSLO"
# prom-client's own p99 and max loop delay, raised so the triage finds a blocked event loop and
# charts it.
BLOCKED_LOOP = {
    'nodejs_eventloop_lag_p99_seconds{service="orders-api"} 0.019841023': "0.42",
    'nodejs_eventloop_lag_max_seconds{service="orders-api"} 0.051380223': "0.48",
}

# The triage calls a step unknown on too few points; wait until the lag has a history.
ENOUGH_SAMPLES = 'count_over_time(nodejs_eventloop_lag_p99_seconds{job="checkout"}[1m]) >= 15'


@pytest.fixture
async def stack(emulator: RunningEmulator, tmp_path: Path) -> AsyncIterator[Stack]:
    exposition = fixture_text("promclient.txt")
    for line, value in BLOCKED_LOOP.items():
        assert line in exposition
        exposition = exposition.replace(line, f"{line.rsplit(' ', 1)[0]} {value}")
    (tmp_path / "bot").mkdir()
    async with running_stack(emulator, tmp_path / "bot", exposition, ENOUGH_SAMPLES) as running:
        yield running


async def test_page_shows_the_incident_thread_its_edits_and_the_chart(
    stack: Stack, tmp_path: Path
) -> None:
    assert await stack.send_alert("firing") == 202
    await eventually(holds(lambda: diagnosis_posted(stack)), within=60)
    await eventually(lambda: any(f.completed for f in stack.emulator.state.files.values()), 60)

    facts, screenshot = await asyncio.to_thread(look_at, stack.emulator.page_url, tmp_path)
    assert "event loop blocked" in facts["thread"]

    assert facts["roots"] == 1
    assert ALERT in facts["root"]
    assert "Most likely cause" in facts["thread"]
    assert "Checklist for" in facts["thread"]
    assert facts["edited"] >= 1, "the checklist is edited in place as steps finish"
    assert facts["earlier_versions"] >= 1
    assert facts["charts"], "the chart uploaded to the thread is shown"
    width, height, alt = facts["charts"][0]
    assert (width, height) == (800, 320)
    assert alt
    width, height = png_size(screenshot.read_bytes())
    assert width > 1200
    assert height >= facts["page_height"], "the screenshot holds the whole page"
    print(f"screenshot of the emulator's page: {screenshot}")


def look_at(url: str, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """Open the page, wait until the thread's chart has loaded, read it and screenshot it."""
    with headless_chromium(tmp_path / "profile") as browser:
        browser.get(url)
        WebDriverWait(browser, 30, poll_frequency=0.2).until(
            lambda b: b.execute_script(PAGE_FACTS, ALERT)["charts"]
        )
        facts: dict[str, Any] = browser.execute_script(PAGE_FACTS, ALERT)
        screenshot = tmp_path / "emulator-page.png"
        screenshot.write_bytes(full_page_png(browser))
    return facts, screenshot


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height
