"""Work done in a forked child of the build (``edition.infra.parallel``): the
warnings it logs and the files it reads travel back with its result, so the
parent logs each warning once (where ``--strict`` counts it) and the read log
knows every file the outputs were made from."""

from __future__ import annotations

import contextlib
import logging
import pickle
from collections.abc import Callable, Iterator

from edition.read import readlog

log = logging.getLogger(__name__)


class WarningCounter(logging.Handler):
    """Collects the message of every warning logged while it is installed."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.warnings = warnings

    def emit(self, record: logging.LogRecord) -> None:
        self.warnings.append(record.getMessage())


def in_child(make: Callable[[], bytes]) -> bytes:
    """Run ``make`` in a child: the warnings it logs are sent back with its
    result, not printed (the parent logs them once, where --strict counts
    them), and so are the files it read."""
    warnings: list[str] = []
    counter = WarningCounter(warnings)
    logger = logging.getLogger("edition")
    held = _HoldWarnings()
    for handler in logger.handlers:
        handler.addFilter(held)
    logger.addHandler(counter)
    try:
        value = make()
    finally:
        logger.removeHandler(counter)
        for handler in logger.handlers:
            handler.removeFilter(held)
    return pickle.dumps((value, warnings, readlog.digests()))


def collect(wait: Callable[[], bytes]) -> bytes:
    """A child's result; its warnings logged here, the files it read noted here."""
    value, child_warnings, reads = pickle.loads(wait())
    for message in child_warnings:
        log.warning("%s", message)
    readlog.merge(reads)
    return value


@contextlib.contextmanager
def silence() -> Iterator[None]:
    """Nothing logged in the block reaches a handler."""
    logger = logging.getLogger("edition")
    mute = _Mute()
    handlers = list(logger.handlers)
    for handler in handlers:
        handler.addFilter(mute)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(mute)


class _HoldWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


class _Mute(logging.Filter):
    def filter(self, _record: logging.LogRecord) -> bool:
        return False
