"""Run a command the way the Kubernetes manifests run the bot: read-only root, one writable
temp dir, an unprivileged user.

It uses a private mount namespace (`unshare`), remounts `/` read-only, mounts a fresh tmpfs on
the temp dir (the emptyDir) and drops to the image's user with `setpriv`. That needs root; where
it is not possible, `unavailable()` says why and the tests that need it are skipped.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

IMAGE_UID = 10001
# Positional parameters: $1 the writable dir, $2 the working dir, $3 the user id, then argv.
_SETUP = (
    'mount -o remount,bind,ro / && mount -t tmpfs -o size=64m,mode=1777 tmpfs "$1" '
    '&& cd "$2" && uid="$3" && shift 3 '
    '&& exec setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"'
)


def command(argv: list[str], *, writable: Path, cwd: Path, uid: int = IMAGE_UID) -> list[str]:
    """`argv` wrapped to run with only `writable` writable, from `cwd`, as `uid`."""
    namespace = ["unshare", "--mount", "--propagation", "private"]
    return [*namespace, "sh", "-c", _SETUP, "sandbox", str(writable), str(cwd), str(uid), *argv]


@functools.cache
def unavailable() -> str | None:
    """Why the sandbox cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root for a private mount namespace (unshare) and a read-only remount"
    missing = [tool for tool in ("unshare", "setpriv", "mount") if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)} (util-linux)"
    probe = command(
        ["sh", "-c", "! touch /.sandbox-probe 2>/dev/null"], writable=Path("/mnt"), cwd=Path("/")
    )
    result = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    if result.returncode != 0:
        return f"mount namespaces are not permitted here: {result.stderr.strip()[:200]}"
    return None
