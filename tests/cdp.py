"""A headless Chromium driven over the Chrome DevTools Protocol (for the preview tests).

Debian's ``chromium`` (installed by ``.ci/setup``) is started with a fresh
profile and ``--remote-debugging-port=0``; the test talks to one page over the
browser's websocket (the ``websockets`` package), with flattened sessions.
"""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
)


class Browser:
    def __init__(self, profile: Path, timeout: float = 60.0) -> None:
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        assert binary, "chromium is missing: run bash .ci/setup"
        self.timeout = timeout
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stack = contextlib.ExitStack()
        self.socket = self.stack.enter_context(connect(self._devtools_url(), max_size=None, open_timeout=timeout))
        self.next_id = 0
        self.events: list[dict] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=self.session)
        self.send("Runtime.enable", session=self.session)

    def _devtools_url(self) -> str:
        """The browser's websocket, from the line Chromium prints when it listens."""
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            for line in self.process.stderr:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + self.timeout
        while True:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            if "DevTools listening on " in line:
                return line.split("DevTools listening on ", 1)[1].strip()

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            reply = self._receive(self.timeout)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _receive(self, timeout: float) -> dict:
        return json.loads(self.socket.recv(timeout=timeout))

    def wait_event(self, method: str, timeout: float | None = None) -> dict:
        """The next event ``method`` of the page (events seen earlier are consumed first)."""
        for event in self.events:
            if event.get("method") == method:
                self.events.remove(event)
                return event
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            event = self._receive(max(0.0, deadline - time.monotonic()))
            if event.get("method") == method:
                return event

    def navigate(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=self.session)
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        result = self.send("Runtime.evaluate", params, session=self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the browser may already be gone
            self.send("Browser.close")
        self.stack.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
