"""A piece of the layout in a forked child that answers the parent's requests.

A chain of a document (``layout.chains``) is laid out in a child forked once the
document's boxes are built: the child shares them (copy-on-write) without
pickling them, lays its chain out, and answers each request of the parent (its
page count and anchors, then the same once settled, then its PDF) through a
pair of pipes, keeping its layout between requests. The child's answers are
pickled; an exception it raises is carried to the parent and raised there.
A child whose parent is gone dies on the closed pipe; ``close`` collects it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
from collections.abc import Callable
from typing import Any

_LENGTH = struct.Struct("!Q")
#: The parent's ends of the pipes of its children still open: a new child closes them.
_open: set[int] = set()


class Channel:
    """One end of a child's pair of pipes: pickled messages, each with its length."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._read = os.fdopen(read_fd, "rb")
        self._write = os.fdopen(write_fd, "wb")

    def send(self, value: Any) -> None:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self._write.write(_LENGTH.pack(len(payload)) + payload)
        self._write.flush()

    def receive(self) -> Any:
        head = self._read.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            raise EOFError("the other side of the layout's pipe is gone")
        (size,) = _LENGTH.unpack(head)
        payload = self._read.read(size)
        if len(payload) < size:
            raise EOFError("the other side of the layout's pipe is gone")
        return pickle.loads(payload)

    def close(self) -> None:
        for stream in (self._write, self._read):
            with contextlib.suppress(OSError):
                stream.close()


class Worker:
    """A forked child running ``serve(channel)``: ``ask`` sends a request and
    waits for the answer; ``close`` ends the child."""

    def __init__(self, serve: Callable[[Channel], None]) -> None:
        down_read, down_write = os.pipe()
        up_read, up_write = os.pipe()
        # signals wait until both sides can take them (see ``parallel.start``)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            pid = os.fork()
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            for fd in (down_read, down_write, up_read, up_write):
                os.close(fd)
            raise
        if pid == 0:  # the child: serve, never return into the build
            status = 0
            try:
                os.close(down_write)
                os.close(up_read)
                for fd in _open:  # the other children's pipes: each sees its parent go
                    with contextlib.suppress(OSError):
                        os.close(fd)
                _open.clear()
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                channel = Channel(down_read, up_write)
                try:
                    serve(channel)
                except EOFError:
                    pass
                except BaseException as exc:  # noqa: BLE001 - carried to the parent
                    status = 1
                    with contextlib.suppress(BaseException):  # the parent may be gone
                        channel.send(("error", exc))
            except BaseException:  # noqa: BLE001 - nothing to report to
                status = 2
            os._exit(status)
        os.close(down_read)
        os.close(up_write)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        self.pid = pid
        self._channel = Channel(up_read, down_write)
        self._fds = (up_read, down_write)
        _open.update(self._fds)
        self._closed = False

    def fileno(self) -> int:
        """The pipe its answers come through (for ``select``)."""
        return self._channel._read.fileno()

    def send(self, request: Any) -> None:
        self._channel.send(request)

    def receive(self) -> Any:
        kind, value = self._channel.receive()
        if kind == "error":
            raise value
        return value

    def ask(self, request: Any) -> Any:
        self.send(request)
        return self.receive()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError, ValueError):
            self._channel.send(None)  # stop (a child busy with a request stops when it is done)
        self._channel.close()
        _open.difference_update(self._fds)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def answer(channel: Channel, handle: Callable[[Any], Any]) -> None:
    """The child's loop: each request handled, its answer sent back, until the
    parent asks it to stop (None) or is gone."""
    while True:
        request = channel.receive()
        if request is None:
            return
        channel.send(("ok", handle(request)))
