"""Run a piece of the build in a forked child, in parallel with the parent.

After the layout, the print PDF, the PDF/A and the EPUB are independent
writes from one in-memory layout; the machine has two cores. A forked child
shares the layout (copy-on-write) without pickling it, writes its bytes to a
temporary file, and exits; the parent collects them. On a system without
``fork`` the function runs in the parent, as before.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path


def start(work: Callable[[], bytes]) -> Callable[[], bytes]:
    """Start ``work`` in a child process; the returned function waits for its bytes."""
    if not hasattr(os, "fork"):
        data = work()
        return lambda: data
    handle, name = tempfile.mkstemp(prefix="edition-part-")
    os.close(handle)
    path = Path(name)
    pid = os.fork()
    if pid == 0:  # the child: do the work, report, never return into the build
        status = 0
        try:
            path.write_bytes(pickle.dumps(("ok", work())))
        except BaseException as exc:  # noqa: BLE001 - carried to the parent
            path.write_bytes(pickle.dumps(("error", exc)))
            status = 1
        os._exit(status)

    def wait() -> bytes:
        try:
            os.waitpid(pid, 0)
            kind, value = pickle.loads(path.read_bytes())
        finally:
            path.unlink(missing_ok=True)
        if kind == "error":
            raise value
        return value

    return wait
