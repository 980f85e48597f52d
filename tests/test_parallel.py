"""The forked writers of a build (edition/infra/parallel.py) under signals."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from edition.infra import parallel

    class Terminated(Exception):
        pass

    def handler(signum, frame):
        raise Terminated(signum)

    signal.signal(signal.SIGTERM, handler)
    # a SIGTERM that reaches the child the moment it is forked (a cancelled build's
    # process group is signalled whole), while Python runs its at-fork hooks
    os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGTERM))
    wait = parallel.start(lambda: b"written")
    try:
        wait()
    except Terminated:
        print("the child was terminated and said so")
    else:
        print("the child did its work although it was terminated")
    """
)


def test_a_signal_at_fork_stops_the_child_inside_its_work_never_in_a_hook():
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "the child was terminated and said so"
    assert "Exception ignored" not in run.stderr and "Traceback" not in run.stderr, run.stderr
