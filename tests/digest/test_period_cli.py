"""When a digest is due and which week it belongs to; the command line's answers to bad input."""

from __future__ import annotations

import argparse
import zoneinfo
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.catalog import Digest
from bot.cli_errors import EXIT_BAD_INPUT
from bot.digest.cli import run_digest_cli
from bot.digest.cli_args import add_digest_parser
from bot.digest.period import due_period, first_run_in_week, iso_week, manual_period

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
MONDAY_NINE = Digest(cron="0 9 * * MON", timezone="Europe/Berlin")
CATALOG = """
defaults: {channel: C0TEAM0001}
services:
  checkout: {selector: {job: checkout}}
"""


def test_due_from_the_first_scheduled_time_of_the_iso_week() -> None:
    before = datetime(2026, 6, 1, 8, 59, tzinfo=BERLIN)
    assert due_period("C0TEAM0001", MONDAY_NINE, before) is None
    later = datetime(2026, 6, 4, 15, 0, tzinfo=BERLIN)  # Thursday of the same week
    period = due_period("C0TEAM0001", MONDAY_NINE, later)
    assert period is not None
    assert period.week == "2026-W23"
    assert period.end == datetime(2026, 6, 1, 9, 0, tzinfo=BERLIN)
    assert (period.end - period.start).days == 7
    assert period.key == "digest:C0TEAM0001:2026-W23"
    assert period.service_key("checkout") == "digest:C0TEAM0001:2026-W23:checkout"


def test_week_follows_the_channel_time_zone() -> None:
    sunday_night_utc = datetime(2026, 6, 7, 23, 30, tzinfo=UTC)  # already Monday in Berlin
    assert iso_week(sunday_night_utc) == "2026-W23"
    fire = first_run_in_week(MONDAY_NINE, sunday_night_utc)
    assert fire == datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)  # week 24's Monday
    assert due_period("C0TEAM0001", MONDAY_NINE, sunday_night_utc) is None


def test_a_schedule_that_skips_the_week_is_never_due() -> None:
    monthly = Digest(cron="0 9 1 * *", timezone="UTC")  # the 1st of the month only
    assert due_period("C0TEAM0001", monthly, datetime(2026, 6, 10, tzinfo=UTC)) is None


def test_manual_keys_never_collide_with_the_weekly_one() -> None:
    now = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
    manual = manual_period("C0TEAM0001", MONDAY_NINE, now)
    assert manual.week == "2026-W23"
    assert manual.key.startswith("digest:C0TEAM0001:2026-W23:manual-")
    assert manual.end == now


def parse(*words: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_digest_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["digest", *words])


@pytest.fixture
def catalog_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("PROMETHEUS_URL", "REDIS_URL", "BOT_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    path = tmp_path / "services.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["--services", "missing.yaml"], "missing.yaml: cannot be read"),
        (["--channel", "C0UNKNOWN1", "--prometheus-url", "http://127.0.0.1:1"], "C0TEAM0001"),
        (["--dry-run"], "set PROMETHEUS_URL or pass --prometheus-url"),
        (["--dry-run", "--prometheus-url", "ftp://prom"], "http://host:9090"),
        (["--prometheus-url", "http://127.0.0.1:1"], "set REDIS_URL, or pass --dry-run"),
    ],
)
async def test_bad_input_exits_2_naming_the_problem_and_the_fix(
    catalog_file: Path, capsys: pytest.CaptureFixture[str], words: list[str], expected: str
) -> None:
    if "--services" not in words:
        words = ["--services", str(catalog_file), *words]
    assert await run_digest_cli(parse(*words)) == EXIT_BAD_INPUT
    error = capsys.readouterr().err
    assert error.startswith("digest: ")
    assert expected in error


@pytest.fixture
def channelless_catalog(catalog_file: Path) -> Path:
    catalog_file.write_text("services:\n  checkout: {selector: {job: checkout}}\n", "utf-8")
    return catalog_file


async def test_a_catalog_without_channels_is_refused(
    channelless_catalog: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(channelless_catalog)
    words = ["--services", path, "--dry-run", "--prometheus-url", "http://x:9090"]
    assert await run_digest_cli(parse(*words)) == EXIT_BAD_INPUT
    assert "set defaults.channel" in capsys.readouterr().err
