"""A chain's layout kept between builds (``cache``), found by exactly what it is made from.

A chain (``breaks``) is laid out, then settled, then written (``book``). What it
says of itself once laid out depends only on its boxes and on the document's
stylesheets and fonts (``breaks.digest``, with ``layout.cache.key``'s parts: the
pipeline's code, the tools' versions, the fonts, the text libraries, the paper,
and the edition's identifier, which its PDF carries); what it writes, on that and on how it is
settled (``book.Settling``: its first page number, a blank page before it, the
running strings it inherits, the pages it cites, the document's page count).
So a build that changes one chain lays out and writes that chain only, and
takes the others from here; a chain's entry is what a clean build of the same
inputs makes of it, byte for byte (``tests/test_incremental.py``).

The preflight's checks of the edition's own words and of the contents' entries
are made by the build on the words and entries a chain's entry lists (the
vocabulary changes with any text of the edition; an entry's target may be in
another chain). Entries are JSON and bytes (the chain's PDF), each checked for its shape, with
the files the layout read (stylesheets, images, fonts) and their digests,
checked when the entry is used (``layout.cache.load``'s rule).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from edition.infra import cache, fingerprints
from edition.layout import cache as layoutcache
from edition.layout import makeup
from edition.layout.chains import breaks, pagination
from edition.layout.pagerefs import PageRef
from edition.layout.pagestart import PageStart
from edition.layout.reading_pages import Placement
from edition.read import readlog

#: Selectors that look at the siblings after an element (``:last-child`` needs only whether one follows).
FROM_THE_END = re.compile(r":(nth-last-|last-of-type|only-of-type)")

LAID = "print-chain"
WRITTEN = "print-chain-written"
PDF = "print-chain-pdf"


def key(built, chain: breaks.Chain, paper: str, identifier: str) -> str | None:
    """The key of a chain's layout (None when nothing is cached): the
    document's head (stylesheets, fonts, metadata), the paper, the edition's
    identifier (the PDF's), and the chain's own boxes and their surroundings."""
    if cache.active() is None:
        return None
    head = built.html.etree_element.find("head")
    styles = ElementTree.tostring(head, encoding="unicode") if head is not None else ""
    document = layoutcache.key(styles, paper, identifier)
    following = bool(FROM_THE_END.search(pagination.stylesheets_text(built)))
    return fingerprints.key(LAID, document, breaks.digest(built.root_box, chain, following))


def _settled_key(found: str, settling: Any) -> str:
    return fingerprints.key(WRITTEN, found, repr(settling))


# -- what a chain says once laid out -------------------------------------------------


def load_laid(found: str | None, fetched: set[Path]):
    """What a chain said once laid out, or None (the files it read added to ``fetched``)."""
    value = _load(LAID, found, _valid_said, fetched)
    return None if value is None else _said(value["said"])


def store_laid(found: str | None, said, loaded: set[Path]) -> None:
    _store(LAID, found, {"said": _said_json(said)}, loaded)


def _said_json(said) -> dict:
    return {
        "pages": said.pages,
        "blank": said.blank,
        "anchors": said.anchors,
        "strings": said.strings,
        "cited": sorted(said.cited),
        "messages": [list(m) for m in said.messages],
    }


def _said(value: dict):
    from edition.layout.chains.book import Said

    return Said(
        value["pages"],
        value["blank"],
        dict(value["anchors"]),
        dict(value["strings"]),
        set(value["cited"]),
        [(level, text) for level, text in value["messages"]],
    )


def _valid_said(value: Any) -> bool:
    said = value.get("said") if isinstance(value, dict) else None
    return (
        isinstance(said, dict)
        and set(said) == {"pages", "blank", "anchors", "strings", "cited", "messages"}
        and _int(said["pages"])
        and isinstance(said["blank"], bool)
        and _str_dict(said["strings"], str)
        and _str_dict(said["anchors"], int)
        and isinstance(said["cited"], list)
        and all(isinstance(c, str) for c in said["cited"])
        and _messages(said["messages"])
    )


# -- what a chain writes once settled --------------------------------------------------


def load_written(found: str | None, settling: Any, fetched: set[Path]):
    """(what the chain said once settled, what it wrote), or None."""
    if found is None:
        return None
    entry = _settled_key(found, settling)
    value = _load(WRITTEN, entry, _valid_written, fetched)
    store = cache.active()
    pdf = store.get(PDF, entry) if store is not None and value is not None else None
    if value is None or pdf is None or hashlib.sha256(pdf).hexdigest() != value["pdf"]:
        return None
    return _said(value["said"]), _written(value["written"], pdf)


def store_written(found: str | None, settling: Any, said, written, loaded: set[Path]) -> None:
    store = cache.active()
    if found is None or store is None:
        return
    entry = _settled_key(found, settling)
    store.put(PDF, entry, written.part.pdf)
    value = {
        "said": _said_json(said),
        "written": _written_json(written),
        "pdf": hashlib.sha256(written.part.pdf).hexdigest(),
    }
    _store(WRITTEN, entry, value, loaded)


def _written_json(written) -> dict:
    part = written.part
    return {
        "anchors": sorted(part.anchors),
        "bookmarks": [
            [[level, label, [x, y], state] for level, label, (x, y), state in page] for page in part.bookmarks
        ],
        "heights": part.heights,
        "starts": [None if s is None else [s.page, s.anchor, s.block, s.chars] for s in written.starts],
        "page_anchors": written.page_anchors,
        "report": written.report,
        "words": [list(w) for w in written.words],
        "contents": [list(c) for c in written.contents],
        "refs": [[r.page, r.target, r.printed] for r in written.refs],
        "calls": [[w, n, p] for (w, n), p in sorted(written.calls.items())],
        "texts": [[w, n, p] for (w, n), p in sorted(written.texts.items())],
        "parts": [[w, n, sorted([k, p] for k, p in parts.items())] for (w, n), parts in sorted(written.parts.items())],
        "placements": [asdict(p) | {"rect": list(p.rect)} for p in written.placements],
        "ends": [
            [list(chunk), [[k, list(end)] for k, end in ends]] for chunk, ends in written.corrections.ends.items()
        ],
        "spacing": [[w, p, v] for (w, p), v in sorted(written.corrections.spacing.items())],
        "cuts": [
            [
                list(chunk),
                [[k, list(note), chars, None if beside is None else list(beside)] for k, note, chars, beside in cuts],
            ]
            for chunk, cuts in written.corrections.cuts.items()
        ],
        "floats": [
            [list(chunk), [list(move) for move in moves]] for chunk, moves in written.corrections.floats.items()
        ],
        "rounds": written.rounds,
        "messages": [list(m) for m in written.messages],
    }


def _written(value: dict, pdf: bytes):
    from edition.layout.chains.book import Part, Written

    corrections = makeup.Corrections()
    corrections.ends = {tuple(chunk): [(k, tuple(end)) for k, end in ends] for chunk, ends in value["ends"]}
    corrections.spacing = {(w, p): v for w, p, v in value["spacing"]}
    corrections.cuts = {
        tuple(chunk): [
            (k, tuple(note), chars, None if beside is None else tuple(beside)) for k, note, chars, beside in cuts
        ]
        for chunk, cuts in value["cuts"]
    }
    corrections.floats = {tuple(chunk): [(k, index) for k, index in moves] for chunk, moves in value["floats"]}
    part = Part(
        pdf,
        set(value["anchors"]),
        [[(level, label, (x, y), state) for level, label, (x, y), state in page] for page in value["bookmarks"]],
        list(value["heights"]),
    )
    return Written(
        part=part,
        starts=[None if s is None else PageStart(*s) for s in value["starts"]],
        page_anchors=[list(a) for a in value["page_anchors"]],
        report=value["report"],
        words=[(page, word) for page, word in value["words"]],
        contents=[(page, entry, href) for page, entry, href in value["contents"]],
        refs=[PageRef(page, target, printed) for page, target, printed in value["refs"]],
        calls={(w, n): p for w, n, p in value["calls"]},
        texts={(w, n): p for w, n, p in value["texts"]},
        parts={(w, n): {k: p for k, p in parts} for w, n, parts in value["parts"]},
        placements=[Placement(**(p | {"rect": tuple(p["rect"])})) for p in value["placements"]],
        corrections=corrections,
        rounds=value["rounds"],
        fetched=set(),
        reads={},
        messages=[(level, text) for level, text in value["messages"]],
    )


def _valid_written(value: Any) -> bool:
    if not isinstance(value, dict) or set(value) != {"said", "written", "pdf"} or not _valid_said(value):
        return False
    w = value["written"]
    keys = {
        "anchors",
        "bookmarks",
        "heights",
        "starts",
        "page_anchors",
        "report",
        "words",
        "contents",
        "refs",
        "calls",
        "texts",
        "parts",
        "placements",
        "ends",
        "spacing",
        "cuts",
        "floats",
        "rounds",
        "messages",
    }
    return (
        isinstance(value["pdf"], str)
        and isinstance(w, dict)
        and set(w) == keys
        and all(isinstance(a, str) for a in w["anchors"])
        and all(isinstance(p, list) and all(_bookmark(b) for b in p) for p in w["bookmarks"])
        and all(_num(h) for h in w["heights"])
        and len(w["heights"]) == len(w["bookmarks"]) == len(w["page_anchors"])
        and all(s is None or (isinstance(s, list) and len(s) == 4 and _start(*s)) for s in w["starts"])
        and all(isinstance(a, list) and all(isinstance(n, str) for n in a) for a in w["page_anchors"])
        and layoutcache._report(w["report"])
        and all(isinstance(x, list) and len(x) == 2 and _int(x[0]) and isinstance(x[1], str) for x in w["words"])
        and all(
            isinstance(x, list) and len(x) == 3 and _int(x[0]) and all(isinstance(t, str) for t in x[1:])
            for x in w["contents"]
        )
        and all(
            isinstance(x, list) and len(x) == 3 and _int(x[0]) and isinstance(x[1], str) and _int(x[2])
            for x in w["refs"]
        )
        and all(isinstance(x, str) and _int(n) and _int(p) for x, n, p in w["calls"] + w["texts"])
        and all(_parts(x) for x in w["parts"])
        and all(_placement(p) for p in w["placements"])
        and isinstance(w["ends"], list)
        and all(_end(e) for e in w["ends"])
        and all(isinstance(x, str) and _int(p) and v in (-1, 1) for x, p, v in w["spacing"])
        and isinstance(w["cuts"], list)
        and all(_chunked(c, _cut) for c in w["cuts"])
        and isinstance(w["floats"], list)
        and all(_chunked(f, _move) for f in w["floats"])
        and _int(w["rounds"])
        and _messages(w["messages"])
    )


# -- storing ---------------------------------------------------------------------------


def _load(kind: str, found: str | None, valid, fetched: set[Path]) -> Any:
    """An entry, if every file it was made from is as it was (those added to ``fetched``)."""
    store = cache.active()
    if found is None or store is None:
        return None

    def shape(value: Any) -> bool:
        return (
            isinstance(value, dict)
            and set(value) == {"value", "loaded"}
            and valid(value["value"])
            and _str_dict(value["loaded"], str)
        )

    value = store.get_json(kind, found, shape)
    if value is None:
        return None
    for path, digest in value["loaded"].items():
        data = layoutcache._read_file(Path(path))
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            return None
    fetched.update(Path(path) for path in value["loaded"])
    return value["value"]


def _store(kind: str, found: str | None, value: dict, loaded: set[Path]) -> None:
    store = cache.active()
    if found is None or store is None:
        return
    deps = {str(path): hashlib.sha256(readlog.read_once(path)).hexdigest() for path in sorted(set(loaded))}
    store.put_json(kind, found, {"value": value, "loaded": deps})


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _str_dict(value: Any, kind: type) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, kind) and not isinstance(v, bool) for k, v in value.items()
    )


def _messages(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(m, list) and len(m) == 2 and _int(m[0]) and isinstance(m[1], str) for m in value
    )


def _bookmark(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 4
        and _int(value[0])
        and isinstance(value[1], str)
        and isinstance(value[2], list)
        and len(value[2]) == 2
        and all(_num(v) for v in value[2])
        and value[3] in ("open", "closed")
    )


def _placement(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"page", "reading", "source_page", "rect", "scale"}
        and _int(value["page"])
        and isinstance(value["reading"], str)
        and _int(value["source_page"])
        and isinstance(value["rect"], list)
        and len(value["rect"]) == 4
        and all(_num(v) for v in value["rect"])
        and _num(value["scale"])
    )


def _end(value: Any) -> bool:
    """[chunk, [[page in chunk, end], ...]] (``pagefit.Corrections.ends``)."""
    return _chunked(
        value,
        lambda e: (
            isinstance(e, list)
            and len(e) == 2
            and _int(e[0])
            and isinstance(e[1], list)
            and len(e[1]) == 3
            and all(isinstance(x, str | int) and not isinstance(x, bool) for x in e[1])
        ),
    )


def _parts(value: Any) -> bool:
    """[work, note, [[part number, page], ...]] (``pages.NotePlacement.parts``)."""
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], str)
        and _int(value[1])
        and isinstance(value[2], list)
        and all(isinstance(p, list) and len(p) == 2 and _int(p[0]) and _int(p[1]) for p in value[2])
    )


def _chunked(value: Any, item) -> bool:
    """[chunk, [item, ...]] (a field of ``makeup.Corrections`` by chunk)."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], list)
        and all(isinstance(x, str | int) and not isinstance(x, bool) for x in value[0])
        and isinstance(value[1], list)
        and all(item(x) for x in value[1])
    )


def _note(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and _int(value[1])


def _cut(value: Any) -> bool:
    """[page in chunk, note, characters before, the note beside or None] (``Corrections.cuts``)."""
    return (
        isinstance(value, list)
        and len(value) == 4
        and _int(value[0])
        and _note(value[1])
        and _int(value[2])
        and (value[3] is None or _note(value[3]))
    )


def _move(value: Any) -> bool:
    """[page in chunk, float's number] (``Corrections.floats``)."""
    return isinstance(value, list) and len(value) == 2 and _int(value[0]) and _int(value[1])


def _start(page: Any, anchor: Any, block: Any, chars: Any) -> bool:
    return _int(page) and isinstance(anchor, str) and _int(block) and _int(chars)
