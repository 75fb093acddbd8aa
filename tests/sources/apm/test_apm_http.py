"""The shared exchange helpers: scrubbing vendor text and reading retry hints."""

from __future__ import annotations

import pytest

from bot.sources.apm._http import MAX_DETAIL_CHARS, Vendor, rate_limited_message, seconds_header

VENDOR = Vendor(
    name="Acme APM",
    credential_hint="check ACME_KEY",
    secrets=("s3cr3t-key", ""),
    retry_after=lambda _headers: None,
)


def test_scrub_removes_secrets_line_breaks_and_the_final_stop() -> None:
    assert VENDOR.scrub("  key s3cr3t-key\n\tis wrong.  ") == "key [redacted] is wrong"


def test_scrub_shortens_long_text() -> None:
    scrubbed = VENDOR.scrub("x" * 1000)
    assert len(scrubbed) == MAX_DETAIL_CHARS
    assert scrubbed.endswith("…")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"Retry-After": "17"}, 17.0), ({"Retry-After": "soon"}, None), ({}, None)],
)
def test_seconds_header(headers: dict[str, str], expected: float | None) -> None:
    assert seconds_header(headers, "Retry-After") == expected


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (29.2, "Acme APM is rate-limiting queries; retry in 30 s."),
        (None, "Acme APM is rate-limiting queries; retry in a minute."),
        (0.0, "Acme APM is rate-limiting queries; retry in a minute."),
    ],
)
def test_rate_limited_message(hint: float | None, expected: str) -> None:
    assert rate_limited_message(VENDOR, hint) == expected
