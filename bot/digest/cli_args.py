"""The `digest` sub-command's arguments, apart from the code that runs it.

`python -m bot --help` builds every sub-command's parser; keeping the arguments here means it
imports nothing but argparse (building a digest needs the store, Prometheus and matplotlib).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_digest_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `digest` on an argparse sub-parser collection (from `add_subparsers()`)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "digest", help="build the weekly health digest now: print it or post it"
    )
    configure_parser(parser)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", help="only this channel id (default: every channel)")
    parser.add_argument("--dry-run", action="store_true", help="print it; send nothing")
    parser.add_argument("--services", type=Path, help="service catalog (default: config dir)")
    parser.add_argument("--prometheus-url", help="Prometheus base URL (default: PROMETHEUS_URL)")
