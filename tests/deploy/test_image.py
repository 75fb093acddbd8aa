"""The production image, checked without a Docker engine.

The Dockerfile's builder stage is replayed (its own `uv sync` lines, from the lockfile), the
final stage's files laid out beside it, and the result run the way Kubernetes runs it: read-only
root, only the temp dir writable, the image's unprivileged user, HOME and the working directory
not writable. The image itself is built by `docker build`, which these tests do not run.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from emulator.server import RunningEmulator
from tests.conftest import BOT_TOKEN
from tests.deploy import dockerfile, sandbox

REPO = dockerfile.REPO
UV = Path(sys.executable).parent / "uv"
NOT_IN_IMAGE = ("tests", "lab", "emulator", "bench", "scripts", "deploy")
DEV_TOOLS = ("pytest", "mypy", "ruff", "hypothesis", "selenium", "kubernetes-validate")
MARKER_ENVIRONMENT = (
    "import json; from packaging.markers import default_environment; "
    "print(json.dumps(default_environment()))"
)
needs_sandbox = pytest.mark.skipif(
    sandbox.unavailable() is not None, reason=f"sandbox: {sandbox.unavailable()}"
)


@pytest.fixture(scope="module")
def image() -> Iterator[dockerfile.BuiltImage]:
    # Not under pytest's tmp_path: its parents are private to root and the image's user must
    # be able to read the files, as it can in the real image.
    with tempfile.TemporaryDirectory(prefix="triagebot-image-") as root:
        Path(root).chmod(0o755)
        yield dockerfile.replay_build(Path(root), UV, str(dockerfile.base_image_python()))


def test_builder_installs_from_the_lockfile_without_dev_extras() -> None:
    args, (builder, _final) = dockerfile.stages()
    syncs = [dockerfile.run_command(r) for r in builder.values("RUN") if "uv sync" in r]
    assert syncs, "the builder stage installs with uv sync"
    assert all("--locked" in s and "--no-dev" in s and "--extra" not in s for s in syncs)
    assert "--no-editable" in syncs[-1], "the bot is installed as a package, not a link"
    makefile_uv = re.search(r"^UV_VERSION := (\S+)", (REPO / "Makefile").read_text(), re.M)
    dockerfile_uv = next(a for a in builder.values("ARG") if a.startswith("UV_VERSION="))
    assert makefile_uv is not None
    assert dockerfile_uv == f"UV_VERSION={makefile_uv.group(1)}", "one uv version everywhere"
    assert args["PYTHON_IMAGE"].startswith("python:3.11-slim")


def test_final_stage_is_non_root_read_only_friendly_with_labels_and_healthcheck() -> None:
    _args, (_builder, final) = dockerfile.stages()
    (user,) = final.values("USER")
    uid = user.split(":")[0]
    assert uid.isdigit()
    assert int(uid) >= 1000
    env = final.env()
    assert env["TMPDIR"] == "/tmp"
    assert env["MPLCONFIGDIR"].startswith("/tmp/"), "matplotlib's cache goes to the temp dir"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert final.values("VOLUME") == ['["/tmp"]']
    (healthcheck,) = final.values("HEALTHCHECK")
    assert "/healthz" in healthcheck
    labels = " ".join(final.values("LABEL"))
    for key in ("title", "description", "version", "revision", "created", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels
    sources = [a.split()[0] for a in final.values("COPY")]
    assert sources[0] == "--from=builder"
    assert not any(s.split("/")[0] in NOT_IN_IMAGE for s in sources)


def test_build_context_lets_in_only_what_the_dockerfile_copies() -> None:
    lines = [
        line
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "everything is excluded unless listed"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    _args, stages = dockerfile.stages()
    copied = {
        source.rstrip("/")
        for stage in stages
        for arguments in stage.values("COPY")
        if not arguments.startswith("--from=")
        for source in arguments.split()[:-1]
    }
    assert copied == allowed
    assert not any(path.split("/")[0] in NOT_IN_IMAGE for path in allowed)


def test_venv_holds_exactly_the_locked_production_dependencies(
    image: dockerfile.BuiltImage,
) -> None:
    installed = _installed_distributions(image)
    assert installed == _locked_production_set(image) | {"nodejs-triage-bot"}
    assert not installed & {canonicalize_name(tool) for tool in DEV_TOOLS}


def test_venv_holds_the_bot_as_a_package_and_nothing_else_of_the_repo(
    image: dockerfile.BuiltImage,
) -> None:
    site_packages = _site_packages(image)
    top_level = {path.name for path in site_packages.iterdir()}
    assert "bot" in top_level
    assert not top_level & set(NOT_IN_IMAGE)
    assert not [p for p in top_level if p.startswith("__editable__") or p.endswith(".pth")]
    bot_files = [p.relative_to(site_packages) for p in (site_packages / "bot").rglob("*.py")]
    assert not [p for p in bot_files if p.name.startswith("test_")]
    assert (site_packages / "bot" / "__main__.py").is_file()
    assert list((site_packages / "bot").rglob("*.pyc")), "bytecode compiled at build time"


@needs_sandbox
def test_check_config_runs_read_only_as_the_image_user(
    image: dockerfile.BuiltImage, tmp_path: Path
) -> None:
    result = _in_image(image, ["python", "-m", "bot", "check-config"])
    assert result.returncode == 0, result.stderr
    assert "are valid" in result.stdout
    assert result.stderr == ""


@needs_sandbox
def test_a_chart_draws_with_matplotlib_cache_in_the_temp_dir(image: dockerfile.BuiltImage) -> None:
    script = (
        "import asyncio, os\n"
        "from bot.charts import ChartSpec, render_png_async, stop_chart_worker\n"
        "from bot.models import SeriesPoint\n"
        "points = [SeriesPoint(t=1_700_000_000 + 60 * i, v=float(i)) for i in range(30)]\n"
        "png = asyncio.run(render_png_async(ChartSpec('lag', {'p99': points}, unit='s')))\n"
        "stop_chart_worker()\n"
        "print(png[:4] == b'\\x89PNG', sorted(os.listdir(os.environ['MPLCONFIGDIR'])))\n"
    )
    result = _in_image(image, ["python", "-c", script])
    assert result.returncode == 0, result.stderr
    drawn, cache = result.stdout.split(" ", 1)
    assert drawn == "True"
    assert "fontlist" in cache, "matplotlib kept its font cache under MPLCONFIGDIR"
    assert "Matplotlib" not in result.stderr, result.stderr


@needs_sandbox
async def test_serve_answers_health_and_stops_on_sigterm(
    image: dockerfile.BuiltImage, emulator: RunningEmulator
) -> None:
    port = _free_port()
    env = {"SLACK_API_URL": emulator.url, "BOT_HTTP_HOST": "127.0.0.1", "BOT_HTTP_PORT": str(port)}
    child = await asyncio.create_subprocess_exec(
        *_image_command(image, ["python", "-m", "bot", "serve"]),
        env=_image_env(image, env),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert await _status_within(f"http://127.0.0.1:{port}/healthz", 30) == 200
        assert await _status_within(f"http://127.0.0.1:{port}/readyz", 30) == 200
    finally:
        child.send_signal(signal.SIGTERM)
        _out, stderr = await asyncio.wait_for(child.communicate(), 30)
    errors = stderr.decode()
    assert child.returncode == 0, errors
    for trouble in ("Read-only file system", "Permission denied", "Traceback", "Matplotlib"):
        assert trouble not in errors, errors


def _in_image(image: dockerfile.BuiltImage, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _image_command(image, argv),
        env=_image_env(image, {}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _image_command(image: dockerfile.BuiltImage, argv: list[str]) -> list[str]:
    python = str(image.python)
    resolved = [python if word == "python" else word for word in argv]
    temp_dir = image.path(image.env["TMPDIR"])
    temp_dir.mkdir(exist_ok=True)
    return sandbox.command(resolved, writable=temp_dir, cwd=image.workdir)


def _image_env(image: dockerfile.BuiltImage, extra: dict[str, str]) -> dict[str, str]:
    """The final stage's environment, its paths pointing into the replayed image."""
    env = dict(image.env)
    for key in ("BOT_CONFIG_DIR", "BOT_PLAYBOOK_DIR", "TMPDIR", "MPLCONFIGDIR"):
        env[key] = str(image.path(env[key]))
    env["PATH"] = f"{image.python.parent}:/usr/bin:/bin"
    return {
        **env,
        "HOME": "/nonexistent",
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "image-test-signing-secret",
        "ALERT_WEBHOOK_TOKEN": "image-test-webhook-token",
        "LOG_FORMAT": "console",
        **extra,
    }


def _installed_distributions(image: dockerfile.BuiltImage) -> set[str]:
    script = "import importlib.metadata as m, json; print(json.dumps([d.name for d in m.distributions()]))"  # noqa: E501
    output = subprocess.run(
        [str(image.python), "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return {canonicalize_name(name) for name in json.loads(output)}


def _locked_production_set(image: dockerfile.BuiltImage) -> set[str]:
    exported = subprocess.run(
        [str(UV), "export", "--locked", "--no-dev", "--no-emit-project", "--no-hashes"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    requirements = [
        Requirement(line) for line in exported.splitlines() if line and line[0].isalnum()
    ]
    markers = subprocess.run(
        [str(image.python), "-c", MARKER_ENVIRONMENT],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    environment = json.loads(markers)
    return {
        canonicalize_name(r.name)
        for r in requirements
        if r.marker is None or r.marker.evaluate(environment)
    }


def _site_packages(image: dockerfile.BuiltImage) -> Path:
    venv = image.python.parent.parent
    (found,) = venv.glob("lib/python3*/site-packages")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _status_within(url: str, seconds: float) -> int | None:
    """200 as soon as `url` answers it, else the last status seen (None: never answered)."""
    deadline, status = time.monotonic() + seconds, None
    while status != 200 and time.monotonic() < deadline:
        try:
            status = await asyncio.to_thread(_get_status, url)
        except OSError:
            status = None
        if status != 200:
            await asyncio.sleep(0.1)
    return status


def _get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
