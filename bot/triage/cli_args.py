"""The `triage` sub-command's arguments, apart from the code that runs it.

`python -m bot --help` builds every sub-command's parser; keeping the arguments here means it
imports little more than argparse (the run itself needs the Prometheus client, the engine and APM).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.triage.window import DEFAULT_WINDOW


def add_triage_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `triage` on an argparse sub-parser collection (from `add_subparsers()`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "triage", help="walk the Node.js checklist for one service and print a diagnosis"
    )
    configure_parser(parser)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service", help="service name from the catalog")
    parser.add_argument(
        "--window",
        default=DEFAULT_WINDOW,
        help=f"look-back window, 1m..30d (default {DEFAULT_WINDOW})",
    )
    parser.add_argument("--services", type=Path, help="service catalog (default: config dir)")
    parser.add_argument("--prometheus-url", help="Prometheus base URL (default: PROMETHEUS_URL)")
    parser.add_argument(
        "--db", action="store_true", help="only the database step, with all its evidence"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--no-profile",
        action="store_true",
        help="take no profile of the process, even when the diagnosis calls for one",
    )
