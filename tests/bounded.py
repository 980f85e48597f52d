"""Run a command in a child process with hard limits on memory and CPU time.

A test about a runaway resource (an alias bomb, a quadratic loop, a huge
image) runs the build under ``resource.setrlimit``: address space
(``RLIMIT_AS``) and CPU seconds (``RLIMIT_CPU``). A regression then fails fast,
killed by the kernel (``MemoryError``, ``SIGXCPU``/``SIGKILL``), instead of
eating the machine. No wall-clock time is asserted; ``timeout`` only stops a
child that hangs without using CPU (a blocked read), so the test fails instead
of waiting for ever.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .projects import ROOT

#: Address space a build of a small project needs (Python, WeasyPrint, Pandoc's runtime).
DEFAULT_MEMORY = 1024 * 1024 * 1024


def _limits(mem_bytes: int, cpu_seconds: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
        # the soft limit sends SIGXCPU, the hard one a second later SIGKILL
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))

    return apply


def run_bounded(
    argv: Sequence[str],
    cwd: Path | str,
    mem_bytes: int = DEFAULT_MEMORY,
    cpu_seconds: int = 60,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``argv`` run in ``cwd`` under the limits, its output captured as text.

    ``timeout`` (wall seconds, default four times the CPU limit plus a minute)
    raises ``subprocess.TimeoutExpired`` for a child that blocks without
    computing."""
    return subprocess.run(
        list(argv),
        cwd=cwd,
        capture_output=True,
        text=True,
        preexec_fn=_limits(mem_bytes, cpu_seconds),
        timeout=timeout if timeout is not None else 4 * cpu_seconds + 60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def build_bounded(
    project: Path, *args: str, mem_bytes: int = DEFAULT_MEMORY, cpu_seconds: int = 60
) -> subprocess.CompletedProcess[str]:
    """The build (``edition.cli.main``) run on ``project`` under the limits,
    as ``python build.py`` runs it on this repository."""
    code = "import sys; from edition.cli import main; sys.exit(main())"
    env = {"PYTHONPATH": str(ROOT)}
    return run_bounded([sys.executable, "-c", code, *args], project, mem_bytes, cpu_seconds, env=env)


def killed_by_limit(result: subprocess.CompletedProcess[str]) -> bool:
    """True if the child died of a limit (CPU signal, or memory exhausted)."""
    return result.returncode < 0 or "MemoryError" in result.stderr
