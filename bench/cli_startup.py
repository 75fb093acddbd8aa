"""Start-up time of each `python -m bot` command, next to a bare `python -c pass`.

    .venv/bin/python -m bench.cli_startup [--runs 10]

Every command runs `--runs` times in a fresh process; the median and the fastest are printed.
`check-config` reads the shipped catalog and playbook; `triage` and `digest --dry-run` ask a
Prometheus port nobody listens on, so they time loading and set-up, not queries; `serve` is
timed from launch until /healthz answers (in-memory store, Slack emulator on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-bench-startup"
CLOSED_PROMETHEUS = "http://127.0.0.1:9"  # the discard port: connection refused at once


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "bench-signing-secret",
        "ALERT_WEBHOOK_TOKEN": "bench-webhook-token",
        "BOT_CONFIG_DIR": str(REPO / "config"),
        "BOT_PLAYBOOK_DIR": str(REPO / "playbooks"),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def time_command(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=REPO, capture_output=True, check=False, timeout=60)
    return time.perf_counter() - started


def wait_for(url: str, deadline: float) -> None:
    while time.perf_counter() < deadline:
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError),
            urllib.request.urlopen(url, timeout=1) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer within the deadline")


def time_serve(env: dict[str, str]) -> float:
    port = free_port()
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        env={**env, "BOT_HTTP_HOST": "127.0.0.1", "BOT_HTTP_PORT": str(port)},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", started + 30)
        return time.perf_counter() - started
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)


@contextlib.contextmanager
def slack_emulator() -> Iterator[str]:
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port)],
        env=bot_env(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/_emulator/state", time.perf_counter() + 30)
        yield f"http://127.0.0.1:{port}/api/"
    finally:
        child.terminate()
        child.wait(timeout=30)


def report(name: str, times: list[float], baseline: float | None) -> None:
    median = statistics.median(times)
    over = f"  (+{(median - baseline) * 1000:5.0f} ms over python)" if baseline else ""
    print(f"{name:<40} median {median * 1000:6.0f} ms   fastest {min(times) * 1000:6.0f} ms{over}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    python = sys.executable
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "python -m bot --help": [python, "-m", "bot", "--help"],
        "python -m bot check-config": [python, "-m", "bot", "check-config"],
        "python -m bot triage checkout": [
            *(python, "-m", "bot", "triage", "checkout"),
            *("--prometheus-url", CLOSED_PROMETHEUS),
        ],
        "python -m bot digest --dry-run": [
            *(python, "-m", "bot", "digest", "--dry-run"),
            *("--prometheus-url", CLOSED_PROMETHEUS),
        ],
    }
    print(f"{runs} runs each, {os.cpu_count()} cores, {sys.version.split()[0]}")
    baseline = None
    for name, argv in commands.items():
        times = [time_command(argv, bot_env()) for _ in range(runs)]
        report(name, times, baseline)
        baseline = baseline or statistics.median(times)
    with slack_emulator() as slack_url:
        env = bot_env(SLACK_API_URL=slack_url)
        serve_times = [time_serve(env) for _ in range(runs)]
        report("python -m bot serve (until /healthz)", serve_times, baseline)


if __name__ == "__main__":
    main()
