"""Exit codes and the bad-input error shared by every command-line entry point."""

from __future__ import annotations

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_BACKEND_DOWN = 3


class BadInput(Exception):
    """Input a command cannot run with; the message names the problem and the fix."""
