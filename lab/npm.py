"""`npm ci` from a package's lockfile, once: skipped while node_modules matches the lockfile.

Test processes may install the same package at once, so they take turns on a file lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

STAMP_NAME = ".lock-sha256"  # in node_modules: the digest of the lockfile it was installed from
NPM_CI_TIMEOUT_S = 600.0


class NpmInstallError(RuntimeError):
    """`npm ci` failed; the message names the package and ends with npm's own words."""


def npm_ci(package: Path, *, timeout_s: float = NPM_CI_TIMEOUT_S) -> None:
    """Install `package`'s locked dependencies unless they already are (blocking: call it in a
    thread from async code)."""
    digest = hashlib.sha256((package / "package-lock.json").read_bytes()).hexdigest()
    stamp = package / "node_modules" / STAMP_NAME
    if _installed(stamp, digest):
        return
    lock_fd = os.open(package / ".npm-ci.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        if _installed(stamp, digest):
            return
        result = subprocess.run(  # noqa: S603 (a fixed argv)
            [_npm(), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=package,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if result.returncode != 0:
            raise NpmInstallError(
                f"npm ci in {package} exited {result.returncode}: {result.stderr.strip()[-800:]}"
            )
        stamp.write_text(digest, encoding="utf-8")
    finally:
        os.close(lock_fd)  # closing the descriptor releases the lock


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise NpmInstallError("npm is not on PATH: install it (Debian: apt-get install npm)")
    return npm


def _installed(stamp: Path, digest: str) -> bool:
    return stamp.exists() and stamp.read_text(encoding="utf-8").strip() == digest
