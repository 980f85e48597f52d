"""Run a piece of the build in a forked child, in parallel with the parent.

After the layout, the print PDF, the PDF/A and the EPUB are independent
writes from one in-memory layout; the machine has two cores. A forked child
shares the layout (copy-on-write) without pickling it, sends its bytes back
through a pipe, and exits; the parent collects them. No file is involved, so a
killed build leaves nothing behind (a child whose parent is gone dies on the
closed pipe). The pipeline runs where ``fork`` does (Linux).
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from typing import Any


def start(work: Callable[[], bytes]) -> Callable[[], bytes]:
    """Start ``work`` in a child process; the returned function waits for its bytes."""
    read_end, write_end = os.pipe()
    # signals wait until both sides can take them: a handler that raises (a
    # build's SIGTERM) must not run in the child's at-fork hooks, where the
    # exception is printed and lost, nor in the child before its ``try``
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        raise
    if pid == 0:  # the child: do the work, report, never return into the build
        status = 0
        try:
            try:
                os.close(read_end)
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                payload = pickle.dumps(("ok", work()))
            except BaseException as exc:  # noqa: BLE001 - carried to the parent
                payload = pickle.dumps(("error", exc))
                status = 1
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        except BaseException:  # noqa: BLE001 - the parent is gone: nothing to report to
            status = 2
        os._exit(status)
    os.close(write_end)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def wait() -> bytes:
        try:
            with os.fdopen(read_end, "rb") as pipe:
                payload = pipe.read()  # read before waiting: a full pipe would block the child
        finally:
            os.waitpid(pid, 0)
        if not payload:
            raise RuntimeError("the PDF writer process ended without a result")
        kind, value = pickle.loads(payload)
        if kind == "error":
            raise value
        return value

    return wait


class Fed:
    """A child started before its input is ready (``start_fed``): ``feed`` sends
    it once; ``wait`` collects its bytes; ``close`` ends a child never fed."""

    def __init__(self, work: Callable[[Callable[[], Any]], bytes]) -> None:
        self._read, self._write = os.pipe()

        def child() -> bytes:
            os.close(self._write)
            with os.fdopen(self._read, "rb") as pipe:
                received = pipe.read()

            def receive() -> Any:
                if not received:
                    raise EOFError("the build stopped before this step's input was ready")
                return pickle.loads(received)

            return work(receive)

        self._wait = start(child)
        os.close(self._read)

    def feed(self, value: Any) -> None:
        fd, self._write = self._write, -1
        try:
            with os.fdopen(fd, "wb") as pipe:
                pipe.write(pickle.dumps(value))
        except BrokenPipeError:  # the child ended early: ``wait`` says why
            pass

    def close(self) -> None:
        """The input will never come: the child stops (``wait`` then raises)."""
        if self._write >= 0:
            os.close(self._write)
            self._write = -1

    def wait(self) -> bytes:
        self.close()
        return self._wait()


def start_fed(work: Callable[[Callable[[], Any]], bytes]) -> Fed:
    """Start ``work(receive)`` in a child now; ``receive()`` blocks until the
    parent calls ``feed`` (and raises EOFError if it closes without feeding)."""
    return Fed(work)
