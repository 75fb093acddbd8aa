"""The Debian packages the lab needs, and a way to install them when they are missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lab.procs import LabProcessError, run_command

PROMETHEUS_BINARY = Path("/usr/bin/prometheus")
ALERTMANAGER_BINARY = Path("/usr/bin/prometheus-alertmanager")
PACKAGE_BINARIES = {"prometheus": PROMETHEUS_BINARY, "prometheus-alertmanager": ALERTMANAGER_BINARY}
APT_TIMEOUT_S = 900.0


class MissingPackagesError(RuntimeError):
    """Required Debian packages are absent and could not be installed here."""


def missing_packages() -> list[str]:
    return [name for name, binary in PACKAGE_BINARIES.items() if not binary.exists()]


async def ensure_debian_packages(*, install: bool = True) -> None:
    """Install `prometheus` and `prometheus-alertmanager` with apt-get if their binaries are absent.

    Needs root and apt-get; otherwise raises MissingPackagesError naming the command to run.
    """
    missing = missing_packages()
    if not missing:
        return
    command = f"apt-get install -y --no-install-recommends {' '.join(missing)}"
    if not install:
        raise MissingPackagesError(f"the lab needs {', '.join(missing)}; install with: {command}")
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise MissingPackagesError(
            f"the lab needs {', '.join(missing)} but cannot install them without root and "
            f"apt-get; run as root: {command}"
        )
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DEBIAN_FRONTEND": "noninteractive"}
    try:
        await run_command(["apt-get", "update"], timeout_s=APT_TIMEOUT_S, env=env)
        await run_command(command.split(), timeout_s=APT_TIMEOUT_S, env=env)
    except (LabProcessError, TimeoutError) as error:
        raise MissingPackagesError(f"installing {', '.join(missing)} failed: {error}") from error
    still_missing = missing_packages()
    if still_missing:
        raise MissingPackagesError(f"apt-get finished but {', '.join(still_missing)} still absent")
