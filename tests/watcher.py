"""A real ``python build.py --watch`` (or ``--serve``) in a test project, its
output read line by line; the ``watch`` fixture (``tests/conftest.py``) starts
them and stops what is left when the test ends."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .projects import ROOT

#: A safety net only: every wait ends on an event (a line, a page load).
TIMEOUT = 120.0


class Watcher:
    """``python build.py --watch ...`` run in a project; its output read line by line."""

    def __init__(self, project: Path, *args: str) -> None:
        shutil.copy(ROOT / "build.py", project / "build.py")
        self.tmp = project / "tmp"  # the process's own TMPDIR, to see that it leaves nothing there
        self.tmp.mkdir()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "TMPDIR": str(self.tmp)}
        self.project = project
        self.process = subprocess.Popen(
            [sys.executable, "build.py", "--watch", *args],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, pattern: str) -> re.Match:
        """Wait for the next line matching ``pattern``."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r} in:\n" + "\n".join(self.output))
            if line is None:
                pytest.fail(f"the watcher ended before {pattern!r}:\n" + "\n".join(self.output))
            self.output.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT, then the rest of the output."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=TIMEOUT)
        while (line := self.lines.get(timeout=TIMEOUT)) is not None:
            self.output.append(line)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
