"""The edit loop on the paper: how long from a save to each answer.

    python bench/edit_loop.py [--rounds 6] [--words 10]

Runs ``python build.py --serve --port 0 juche -q`` on a copy of the project and
saves one section, edited anew each round: in turn a paragraph of the text (the
notes unchanged: the preview reuses the formatted citations) and a note (Pandoc
formats the citations again). It times, from the moment the file is written:
the first line printed (``input checked``), the preview's Server-Sent Event
(the EPUB pages rendered), and the outputs written. Then one bad save (a note
called but never defined): the time to the diagnostic line. With ``--words N``
it first saves N one-word changes of that paragraph (a new word each time, so
that no save finds its layout in the cache) and reports the median time from
the save to the outputs written (issue 23: the PDF within 1.5 s). It reports
the resident memory of the watching process and of the fork server after the
first build and after the last, to show that rebuilds leave nothing behind in them.
"""

from __future__ import annotations

import argparse
import http.client
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER = "juche"
SECTION = Path("content") / PAPER / "text" / "03-joining-the-third-world.md"
PARAGRAPH = "Coincidentally"
NOTE = "[^16]: [@armstrong2009juche, n. 16]"
#: One-word changes of the paragraph: each save puts another word in its place.
ONE_WORD = ["Remarkably", "Curiously", "Notably", "Strikingly", "Tellingly", "Fittingly", "Oddly", "Aptly"]


def workspace(tmp: Path) -> Path:
    project = tmp / "project"
    for folder in ("content", "bib", "templates", "edition"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "build.py", project / "build.py")
    return project


class Stream:
    """Lines (of a process, or of an event stream) with the time each arrived."""

    def __init__(self) -> None:
        self.items: queue.Queue[tuple[float, str]] = queue.Queue()

    def feed(self, lines) -> None:
        for line in lines:
            self.items.put((time.time(), line.rstrip("\n") if isinstance(line, str) else line))

    def wait(self, pattern: str, after: float = 0.0, timeout: float = 300.0) -> tuple[float, re.Match]:
        deadline = time.monotonic() + timeout
        while True:
            at, line = self.items.get(timeout=max(0.0, deadline - time.monotonic()))
            match = re.search(pattern, line)
            if match and at >= after:
                return at, match


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fork_server(pid: int) -> int | None:
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        if "forkserver" in Path(f"/proc/{child}/cmdline").read_text():
            return int(child)
    return None


def listen(url: str, events: Stream) -> None:
    address = url.removeprefix("http://").rstrip("/")
    connection = http.client.HTTPConnection(address)
    connection.request("GET", "/events")
    response = connection.getresponse()
    events.feed(line.decode() for line in response if line.startswith(b"data: "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="edits to time, text and notes in turn (default 6)")
    parser.add_argument("--words", type=int, default=10, help="one-word saves to time first (default 10)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edition-edit-loop-") as name:
        project = workspace(Path(name))
        section = project / SECTION
        original = text = section.read_text(encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "build.py", "--serve", "--port", "0", PAPER, "--out", "dist", "-q"],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        out = Stream()
        threading.Thread(target=out.feed, args=(process.stdout,), daemon=True).start()
        try:
            url = out.wait(r"^preview at (\S+)$")[1].group(1)
            out.wait(rf"^{PAPER}: outputs ready")
            server = fork_server(process.pid)
            memory = [(rss_kib(process.pid), rss_kib(server) if server else 0)]
            events = Stream()
            threading.Thread(target=listen, args=(url, events), daemon=True).start()
            events.wait(r'"kind": "built"')  # the first build's events, replayed on connecting
            rows: dict[str, list[tuple[float, float, float]]] = {"one word": [], "paragraph": [], "note": []}
            for n in range(1, args.words + 1):
                word = ONE_WORD[n % len(ONE_WORD)] + ("" if n < len(ONE_WORD) else str(n))
                saved_text = original.replace(PARAGRAPH, word, 1)
                section.write_text(saved_text, "utf-8")
                saved = time.time()
                checked = out.wait(rf"^{PAPER}: input checked", saved)[0]
                preview = events.wait(r'"kind": "preview"', saved)[0]
                ready = out.wait(rf"^{PAPER}: outputs ready", saved)[0]
                rows["one word"].append((checked - saved, preview - saved, ready - saved))
                print(f"one word {n} ({word}): outputs {ready - saved:.2f} s", flush=True)
            section.write_text(original, "utf-8")
            saved = time.time()
            out.wait(rf"^{PAPER}: outputs ready", saved)
            for n in range(1, args.rounds + 1):
                kind = "paragraph" if n % 2 else "note"
                if kind == "paragraph":  # the notes as they are: the last round's citations serve
                    text = re.sub(rf"{PARAGRAPH}( \(edit \d+\))?", f"{PARAGRAPH} (edit {n})", text, count=1)
                else:
                    text = re.sub(rf"{re.escape(NOTE)}(\. Edit \d+\.)?", f"{NOTE}. Edit {n}.", text, count=1)
                section.write_text(text, "utf-8")
                saved = time.time()
                checked = out.wait(rf"^{PAPER}: input checked", saved)[0]
                preview = events.wait(r'"kind": "preview"', saved)[0]
                ready = out.wait(rf"^{PAPER}: outputs ready", saved)[0]
                row = (checked - saved, preview - saved, ready - saved)
                rows[kind].append(row)
                memory.append((rss_kib(process.pid), rss_kib(server) if server else 0))
                print(f"edit {n} ({kind}): first line {row[0]:.2f} s, preview {row[1]:.2f} s, outputs {row[2]:.2f} s")
            section.write_text(original.replace(PARAGRAPH, f"{PARAGRAPH}[^undefined]", 1), "utf-8")
            saved = time.time()
            diagnostic = out.wait(r"error: note \[\^undefined\]", saved)[0] - saved
            print(f"bad save: diagnostic {diagnostic:.2f} s")
        finally:
            process.terminate()
            process.wait()
    print()
    print("| edit | from the save to | median | min | max |")
    print("|---|---|---|---|---|")
    labels = ("the first line (input checked)", "the EPUB preview (SSE event)", "the outputs")
    for kind, kind_rows in rows.items():
        for column, label in enumerate(labels):
            values = [row[column] for row in kind_rows]
            if values:
                low, mid, high = min(values), statistics.median(values), max(values)
                print(f"| {kind} | {label} | {mid:.2f} s | {low:.2f} s | {high:.2f} s |")
    print(f"| bad note call | the diagnostic | {diagnostic:.2f} s | | |")
    if rows["one word"]:
        median = statistics.median(row[2] for row in rows["one word"])
        verdict = "met" if median <= 1.5 else "**not met**"
        print(
            f"\none-word save -> outputs written, median of {len(rows['one word'])}: {median:.2f} s (target 1.5 s: {verdict})"
        )
    first, last = memory[0], memory[-1]
    print(
        f"\nresident memory after the first build and after {args.rounds} rebuilds: "
        f"watching process {first[0] / 1024:.0f} -> {last[0] / 1024:.0f} MiB, "
        f"fork server {first[1] / 1024:.0f} -> {last[1] / 1024:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
