"""``python tests/pausing_build.py POINTS -- ARGS``: ``build.py ARGS``, paused at named points.

The tests use it to send a signal, edit a file or start a second build at an
exact moment of a real build process, without timing and without a hook in the
pipeline: it wraps the steps from outside before running ``edition.cli.main``.
At each point it prints ``paused at POINT`` on stderr and waits for a line on
stdin. POINTS is a comma-separated list of:

- ``stage:N``   after the N-th output file is staged (nothing in dist/ changed yet);
- ``commit``    when every file is staged, before the swap starts;
- ``rename:N``  after the N-th rename of the swap (the set is half swapped);
- ``run``       after the up-to-date snapshot, before the build reads anything;
- ``layout``    after the print layout (its chains' PDFs written in memory), before any
  output is staged;
- ``built``     after the build, before the inputs are compared with the snapshot
  (and before anything is published).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edition import cli, pipeline  # noqa: E402
from edition.infra import atomic  # noqa: E402
from edition.layout import print_layout  # noqa: E402


def pause(point: str) -> None:
    sys.stderr.write(f"paused at {point}\n")
    sys.stderr.flush()
    sys.stdin.readline()


def after_nth(owner: object, method: str, point: str, n: int) -> None:
    original = getattr(owner, method)
    calls = [0]

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        calls[0] += 1
        if calls[0] == n:
            pause(point)
        return result

    setattr(owner, method, wrapped)


def before(owner: object, method: str, point: str) -> None:
    original = getattr(owner, method)

    def wrapped(*args, **kwargs):
        pause(point)
        return original(*args, **kwargs)

    setattr(owner, method, wrapped)


def install(points: str) -> None:
    """Install the pauses (``-``: none)."""
    for point in points.split(","):
        if point == "-":
            continue
        kind, _, number = point.partition(":")
        if kind == "stage":
            after_nth(atomic.Transaction, "stage", point, int(number))
        elif kind == "rename":
            after_nth(atomic.Transaction, "_replace", point, int(number))
        elif kind == "commit":
            before(atomic.Transaction, "commit", point)
        elif kind == "run":
            before(pipeline, "run", point)
        elif kind == "layout":
            after_nth(print_layout, "lay_out", point, 1)
        elif kind == "built":
            after_nth(pipeline, "run", point, 1)
        else:
            raise SystemExit(f"unknown point {point!r}")


if __name__ == "__main__":
    install(sys.argv[1])
    args = sys.argv[3:] if sys.argv[2] == "--" else sys.argv[2:]
    sys.exit(cli.main(args, project=Path.cwd()))
