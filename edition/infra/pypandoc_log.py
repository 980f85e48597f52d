"""pypandoc's own log, kept out of the build's.

pypandoc looks for Pandoc by running ``--version`` on each place it may be
(the name ``pandoc``, then its own copy, ``~/bin``, the interpreter's
``bin``) and, for a place that exists but fails, logs the exception with its
traceback at ERROR, through a handler it adds to its logger when that logger
has none. The name ``pandoc`` is looked up on ``PATH`` to run but tested for
existence in the current folder: a file or folder named ``pandoc`` where the
build is started (a project's folder of Pandoc templates, a checkout of
Pandoc), or a Pandoc that cannot start at that moment, printed "Found pandoc,
but not using it because of an error" and a traceback into a build that then
ran the bundled Pandoc and succeeded. With a handler of ours on its logger,
pypandoc adds none, and what it says goes to the build's debug log (``-v``).
"""

from __future__ import annotations

import logging

log = logging.getLogger("edition.pypandoc")


class _Handler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        said = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            said += f" {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        log.debug("pypandoc: %s", said)


def quiet() -> None:
    """Route pypandoc's log to the build's debug log (once per process)."""
    logger = logging.getLogger("pypandoc")
    if not any(isinstance(h, _Handler) for h in logger.handlers):
        logger.addHandler(_Handler())
        logger.propagate = False
