"""Read the Dockerfile and replay its builder stage without a Docker engine.

Only the instructions the project's Dockerfile uses are understood (ARG, FROM, ENV, WORKDIR,
COPY, RUN, and the final stage's metadata); anything else fails loudly, so a Dockerfile change
that this replay cannot follow breaks the test instead of being skipped.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def values(self, keyword: str) -> list[str]:
        return [i.arguments for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for arguments in self.values("ENV"):
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                found[key] = value
        return found


def instructions(text: str) -> list[Instruction]:
    """Logical lines (continuations joined, comments dropped) as keyword + arguments."""
    joined = re.sub(r"\\\n", " ", "\n".join(_without_comments(text)))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            found.append(Instruction(keyword.upper(), " ".join(arguments.split())))
    return found


def _without_comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


def stages(text: str = "") -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, in order."""
    args: dict[str, str] = {}
    found: list[Stage] = []
    for instruction in instructions(text or DOCKERFILE.read_text()):
        if instruction.keyword == "FROM":
            words = instruction.arguments.split()
            base = _expand(words[0], args)
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            found.append(Stage(base, name))
        elif not found and instruction.keyword == "ARG":
            key, _, value = instruction.arguments.partition("=")
            args[key] = value
        elif found:
            found[-1].instructions.append(instruction)
    return args, found


def _expand(value: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), value)


def run_command(arguments: str) -> str:
    """A RUN instruction's shell command, without BuildKit's `--mount=...` options."""
    words = arguments.split()
    while words and words[0].startswith("--"):
        words.pop(0)
    return " ".join(words)


@dataclass(frozen=True)
class BuiltImage:
    """A replayed image: `root` stands for `/`, so /opt/venv is root / "opt/venv"."""

    root: Path
    env: dict[str, str]
    workdir: Path
    venv: Path

    def path(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def base_image_python() -> Path:
    """A Python 3.11 that any user can run, standing in for the base image's interpreter."""
    candidates = [Path("/usr/local/bin/python3.11"), Path("/usr/bin/python3.11")]
    for candidate in [*candidates, Path(sys._base_executable)]:  # type: ignore[attr-defined]
        if candidate.exists() and _everyone_can_run(candidate.resolve()):
            return candidate
    raise LookupError("no Python 3.11 outside private directories (the image's user runs it)")


def _everyone_can_run(path: Path) -> bool:
    folders_open = all(p.stat().st_mode & stat.S_IXOTH for p in path.parents)
    return folders_open and bool(path.stat().st_mode & stat.S_IXOTH)


def replay_build(root: Path, uv: Path, python: str) -> BuiltImage:
    """Run the builder stage's COPY and RUN lines under `root`, then the final stage's COPYs.

    `pip install uv` is not replayed: `uv` is the project's own (the test checks the versions
    agree). `python` stands in for the base image's interpreter.
    """
    _args, (builder, final) = stages()
    env = builder.env()
    venv = root / env["UV_PROJECT_ENVIRONMENT"].lstrip("/")
    env["UV_PROJECT_ENVIRONMENT"] = str(venv)
    workdir = root / builder.values("WORKDIR")[-1].lstrip("/")
    workdir.mkdir(parents=True)
    for instruction in builder.instructions:
        if instruction.keyword == "COPY":
            _copy(instruction.arguments, workdir)
        elif instruction.keyword == "RUN":
            _run(run_command(instruction.arguments), workdir, env, uv, python)
    for arguments in final.values("COPY"):
        if not arguments.startswith("--from="):
            _copy(arguments, root)
    final_workdir = root / final.values("WORKDIR")[-1].lstrip("/")
    return BuiltImage(root=root, env=final.env(), workdir=final_workdir, venv=venv)


def _copy(arguments: str, destination_base: Path) -> None:
    *sources, destination = arguments.split()
    target = destination_base / destination.lstrip("/")
    for source in sources:
        origin = REPO / source
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            path = target / origin.name if destination.endswith("/") else target
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, path)


def _run(command: str, cwd: Path, env: dict[str, str], uv: Path, python: str) -> None:
    if command.startswith("pip install"):
        return
    if not command.startswith("uv "):
        raise AssertionError(f"the replay does not know how to run: {command}")
    argv = [str(uv), *shlex.split(command)[1:]]
    environment = {**os.environ, **env, "UV_PYTHON": python}
    subprocess.run(argv, cwd=cwd, env=environment, check=True, capture_output=True, timeout=600)
