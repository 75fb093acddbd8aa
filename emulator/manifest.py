"""The bot scopes a Slack app manifest asks for, to grant the emulated token exactly those."""

from __future__ import annotations

from pathlib import Path

import yaml


def manifest_scopes(path: Path) -> frozenset[str]:
    manifest = yaml.safe_load(path.read_text())
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])
