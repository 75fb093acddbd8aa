"""Run a command with REDIS_URL pointing at a reachable Redis, starting a private one if needed.

Order: $REDIS_URL if it answers, else redis://127.0.0.1:6379/0 if it answers, else a private
`redis-server` on a free loopback port that is stopped when the command ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlparse

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def answers_ping(url: str, timeout: float = 1.0) -> bool:
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", ""} or not parsed.hostname:
        return False
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout) as conn:
            if parsed.password:
                user = parsed.username or "default"
                conn.sendall(_command("AUTH", user, parsed.password))
                conn.recv(64)
            conn.sendall(_command("PING"))
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _command(*parts: str) -> bytes:
    encoded = [p.encode() for p in parts]
    lines = [f"*{len(encoded)}".encode()]
    for part in encoded:
        lines += [f"${len(part)}".encode(), part]
    return b"\r\n".join(lines) + b"\r\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_private_redis(workdir: str) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit(
            "No Redis answers at $REDIS_URL or 127.0.0.1:6379 and redis-server is not installed.\n"
            "Install it (Debian: apt-get install redis-server) or point REDIS_URL at a server."
        )
    port = free_port()
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([*args, "--dir", workdir], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not answers_ping(url):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            sys.exit("A private redis-server was started but never answered; see its output above.")
        time.sleep(0.1)
    return process, url


def main(command: list[str]) -> int:
    if not command:
        sys.exit("usage: with_redis.py COMMAND [ARGS...]")
    candidates = [u for u in (os.environ.get("REDIS_URL"), DEFAULT_URL) if u]
    url = next((u for u in candidates if answers_ping(u)), None)
    with tempfile.TemporaryDirectory(prefix="triagebot-redis-") as workdir:
        private = None
        if url is None:
            private, url = start_private_redis(workdir)
            print(f"Started a private Redis for this run at {url}", file=sys.stderr)
        try:
            return subprocess.call(command, env={**os.environ, "REDIS_URL": url})
        finally:
            if private is not None:
                private.terminate()
                private.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
