"""Run a piece of the build in a forked child, in parallel with the parent.

After the layout, the print PDF, the PDF/A and the EPUB are independent
writes from one in-memory layout; the machine has two cores. A forked child
shares the layout (copy-on-write) without pickling it, sends its bytes back
through a pipe, and exits; the parent collects them. No file is involved, so a
killed build leaves nothing behind (a child whose parent is gone dies on the
closed pipe). On a system without ``fork`` the function runs in the parent.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable


def start(work: Callable[[], bytes]) -> Callable[[], bytes]:
    """Start ``work`` in a child process; the returned function waits for its bytes."""
    if not hasattr(os, "fork"):
        data = work()
        return lambda: data
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do the work, report, never return into the build
        os.close(read_end)
        status = 0
        try:
            try:
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
