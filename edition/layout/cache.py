"""What a print layout tells the other outputs, kept for the next build.

The EPUB's page list needs the print layout: where each printed page begins
(``PageStart``), and for a course reader the pages each reading spans. Laying
out takes most of a build's time, so every build keeps this summary (``Laid``)
in the cache, and a build that writes no PDF (``--format epub``) takes it from
there instead of laying out again, when the layout would be the same.

The key is everything the layout is made from: the first round's print HTML
(the text, the metadata, the notes' citations, the paper, the stylesheets'
and fonts' URLs; the later rounds follow from it), the pipeline's code and the
tools' versions, the Charis fonts by content and the system fonts for other
scripts by size and date, the text libraries WeasyPrint runs on (Pango,
HarfBuzz, fontconfig, FreeType: Debian's, upgraded apart from it) by size and
date, and the words the preflight accepts (its report is
kept too). The files the layout loaded (stylesheets, images,
fonts) are recorded with their SHA-256 in the entry and checked when it is
read: a changed stylesheet is a miss like a changed text.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edition.fonts.faces import FACES, FONT_DIR
from edition.infra import cache, fingerprints
from edition.layout.pagestart import PageStart
from edition.read import readlog
from edition.read.sandbox import RESOURCES

KIND = "print-layout"


@dataclass(frozen=True)
class Laid:
    """The layout's summary: what the EPUB, the permissions table and the
    preflight report need of it, and what the build said while laying out."""

    pages: int
    starts: tuple[PageStart, ...]  # where each page begins (PDF readings' pages at their placeholders)
    reading_pages: dict[str, tuple[int, int]]  # a volume's readings: first and last page
    scales: dict[str, tuple[float, float]]  # PDF readings: smallest and largest scale
    preflight: dict[str, Any]  # the preflight report (``preflight.Report.as_dict``)
    rounds: int
    messages: tuple[tuple[int, str], ...]  # (level, message) logged while laying out


def key(html: str, paper: str, words: str = "") -> str:
    """The key of the layout of ``html`` (the first round's print HTML), whose
    preflight accepted ``words``."""
    from edition.fonts.scripts import font_files

    fonts = [fingerprints.file_sha256(FONT_DIR / face.file) for face in FACES]
    system = [fingerprints.file_signature(path) for path in font_files()]
    return fingerprints.key(KIND, fingerprints.code_version(), paper, html, words, *fonts, *system, *_libraries())


def store(found_key: str, laid: Laid, loaded: Iterable[Path]) -> None:
    """Keep ``laid`` under its key, with the digest of each file the layout loaded."""
    store_ = cache.active()
    if store_ is None:
        return
    deps = {str(path): fingerprints.sha256(readlog.read_once(path)) for path in sorted(set(loaded))}
    store_.put_json(KIND, found_key, {"laid": _to_json(laid), "loaded": deps})


def load(found_key: str) -> Laid | None:
    """The summary kept under the key, if every file it loaded is as it was."""
    store_ = cache.active()
    value = store_.get_json(KIND, found_key, _valid) if store_ is not None else None
    if value is None:
        return None
    for path, digest in value["loaded"].items():
        data = _read_file(Path(path))
        if data is None or fingerprints.sha256(data) != digest:
            return None
    return _from_json(value["laid"])


def _read_file(path: Path) -> bytes | None:
    """The bytes of a file the layout loaded, as this build reads them
    (``readlog``), or None when it is no longer a regular file within the
    sandbox's size (a pipe, a device, a folder, gone): a miss, and the layout
    then says what is wrong with it, where reading it here would wait forever."""
    data = readlog.bytes_of(path)
    if data is not None:
        return data
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > RESOURCES.bytes:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(RESOURCES.bytes + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return readlog.record(path, data) if len(data) <= RESOURCES.bytes else None


def _libraries() -> tuple[str, ...]:
    return fingerprints.text_libraries()


def _to_json(laid: Laid) -> dict:
    return {
        "pages": laid.pages,
        "starts": [[s.page, s.anchor, s.block, s.chars] for s in laid.starts],
        "reading_pages": {k: list(v) for k, v in laid.reading_pages.items()},
        "scales": {k: list(v) for k, v in laid.scales.items()},
        "preflight": laid.preflight,
        "rounds": laid.rounds,
        "messages": [list(m) for m in laid.messages],
    }


def _from_json(d: dict) -> Laid:
    return Laid(
        pages=d["pages"],
        starts=tuple(PageStart(*s) for s in d["starts"]),
        reading_pages={k: (v[0], v[1]) for k, v in d["reading_pages"].items()},
        scales={k: (v[0], v[1]) for k, v in d["scales"].items()},
        preflight=d["preflight"],
        rounds=d["rounds"],
        messages=tuple((m[0], m[1]) for m in d["messages"]),
    )


def _valid(value: Any) -> bool:
    """The entry has exactly the shape ``store`` writes (anything else is a miss)."""
    if set(value) != {"laid", "loaded"}:
        return False
    laid, loaded = value["laid"], value["loaded"]
    return (
        isinstance(loaded, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in loaded.items())
        and _int(laid["pages"])
        and _int(laid["rounds"])
        and all(_int(p) and isinstance(a, str) and _int(b) and _int(c) for p, a, b, c in laid["starts"])
        and all(isinstance(k, str) and _int(a) and _int(b) for k, (a, b) in laid["reading_pages"].items())
        and all(isinstance(k, str) and _num(a) and _num(b) for k, (a, b) in laid["scales"].items())
        and _report(laid["preflight"])
        and all(_int(level) and isinstance(text, str) for level, text in laid["messages"])
        and len(laid) == 7
    )


def _report(value: Any) -> bool:
    """The shape of ``preflight.Report.as_dict`` (the build reads its pages and faults)."""
    return (
        isinstance(value, dict)
        and set(value) == {"pages", "counts", "faults"}
        and _int(value["pages"])
        and isinstance(value["faults"], dict)
        and all(
            isinstance(kind, str) and isinstance(faults, list) and all(isinstance(f, dict) for f in faults)
            for kind, faults in value["faults"].items()
        )
        and value["counts"] == {kind: len(faults) for kind, faults in value["faults"].items()}
    )


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
