"""Stage timings on their own logger (like WeasyPrint's ``weasyprint.progress``)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

log = logging.getLogger("edition.progress")


class Timings:
    def __init__(self) -> None:
        self.stages: list[tuple[str, float]] = []

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        self.stages.append((name, elapsed))
        log.info("%-28s %6.2f s", name, elapsed)

    @property
    def total(self) -> float:
        return sum(t for _, t in self.stages)
