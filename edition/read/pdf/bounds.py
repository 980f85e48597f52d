"""A PDF reading's pages within bounds, before anything decodes or walks them.

A PDF is small on disk and may say a great deal: a page's content stream of a
few megabytes can inflate to gigabytes (qpdf, pdfminer and the PDF/A checks
decode it whole), a form XObject may draw itself, and a structure tree may
contain itself or nest thousands deep (the graft into the volume's tree walks
it recursively). So the reader stage measures the pages a reading
prints first, with nothing decoded beyond the limit:

- every content stream the pages draw (page contents, the forms, patterns and
  Type 3 glyphs they reach, annotation appearances) is inflated in steps that
  stop at ``MAX_CONTENT_BYTES`` for all of them together;
- a form or pattern that draws itself, and a structure tree that contains
  itself or nests deeper than ``MAX_DEPTH``, are refused.

Only filters whose output is bounded by their input are decoded here: Flate
(inflated in steps), ASCIIHex and ASCII85 (which shrink); RunLength and LZW
are decoded only when their worst expansion stays within what is left of the
limit.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pikepdf

#: Decoded content streams of the pages one reading prints, all together.
MAX_CONTENT_BYTES = 128 * 1024 * 1024
#: Deepest nesting of forms and of structure elements.
MAX_DEPTH = 100
#: Inflating proceeds in steps of this many bytes.
STEP = 1024 * 1024
#: The most one input byte can become, for the filters decoded only when that stays within the limit.
WORST_RATIO = {"/RunLengthDecode": 128, "/RL": 128, "/LZWDecode": 2731, "/LZW": 2731}
SHRINKING = {"/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85"}
FLATE = {"/FlateDecode", "/Fl"}


class PdfTooLarge(Exception):
    """Content over the limit (a message completing "<file>: ...")."""


class PdfDamaged(Exception):
    """A structure no reader could walk to its end (a message completing "<file>: ...")."""


def check(pdf: pikepdf.Pdf, first: int, last: int) -> None:
    """Raise ``PdfTooLarge`` or ``PdfDamaged`` if pages ``first``–``last`` go beyond the bounds."""
    budget = [MAX_CONTENT_BYTES]
    seen: set[tuple[int, int]] = set()
    for number in range(first, last + 1):
        page = pdf.pages[number - 1]
        for stream in _page_streams(page.obj, seen):
            _spend(stream, budget, number)
    root = pdf.Root.get("/StructTreeRoot")
    if isinstance(root, pikepdf.Dictionary):
        _tree(root.get("/K"), "/K", "structure tree")


def _page_streams(page: pikepdf.Object, seen: set[tuple[int, int]]) -> Iterator[pikepdf.Stream]:
    contents = page.get("/Contents")
    for stream in contents if isinstance(contents, pikepdf.Array) else [contents]:
        if isinstance(stream, pikepdf.Stream) and _first_time(stream, seen):
            yield stream
    yield from _resources(page.get("/Resources"), seen, [])
    for annot in page.get("/Annots") or []:
        if not isinstance(annot, pikepdf.Dictionary):
            continue
        for appearance in (annot.get("/AP") or {}).values() if isinstance(annot.get("/AP"), pikepdf.Dictionary) else []:
            states = appearance.values() if isinstance(appearance, pikepdf.Dictionary) else [appearance]
            for state in states:
                if isinstance(state, pikepdf.Stream):
                    yield from _drawn(state, seen, [])


def _resources(res: Any, seen: set[tuple[int, int]], path: list[tuple[int, int]]) -> Iterator[pikepdf.Stream]:
    """The streams a resource dictionary reaches: forms, tiling patterns, Type 3 glyphs."""
    if not isinstance(res, pikepdf.Dictionary):
        return
    for key in ("/XObject", "/Pattern"):
        for _, value in (res.get(key) or {}).items():
            if isinstance(value, pikepdf.Stream) and value.get("/Subtype") != "/Image":
                yield from _drawn(value, seen, path)
            elif isinstance(value, pikepdf.Dictionary):  # a shading pattern: nothing to draw
                continue
    for _, font in (res.get("/Font") or {}).items():
        if isinstance(font, pikepdf.Dictionary) and font.get("/Subtype") == "/Type3":
            for _, glyph in (font.get("/CharProcs") or {}).items():
                if isinstance(glyph, pikepdf.Stream) and _first_time(glyph, seen):
                    yield glyph
            yield from _resources(font.get("/Resources"), seen, path)


def _drawn(stream: pikepdf.Stream, seen: set[tuple[int, int]], path: list[tuple[int, int]]) -> Iterator[pikepdf.Stream]:
    """A form or pattern, and what it draws; one that draws itself is refused."""
    key = stream.objgen
    if key in path:
        raise PdfDamaged("a form XObject or pattern draws itself")
    if len(path) >= MAX_DEPTH:
        raise PdfDamaged(f"its forms are nested more than {MAX_DEPTH} deep")
    if not _first_time(stream, seen):
        return
    yield stream
    yield from _resources(stream.get("/Resources"), seen, [*path, key])


def _first_time(stream: pikepdf.Object, seen: set[tuple[int, int]]) -> bool:
    key = stream.objgen
    if key == (0, 0):  # a direct object cannot be reached twice
        return True
    if key in seen:
        return False
    seen.add(key)
    return True


def _spend(stream: pikepdf.Stream, budget: list[int], page: int) -> None:
    size = decoded_size(stream, budget[0])
    if size is None:
        raise PdfTooLarge(
            f"the content of page {page} decodes to more than {MAX_CONTENT_BYTES} bytes "
            f"(the limit for the pages of one reading); give a smaller file or fewer pages"
        )
    budget[0] -= size


def decoded_size(stream: pikepdf.Stream, limit: int) -> int | None:
    """The stream's decoded length, or ``None`` if it is over ``limit`` (or
    would take more than that to find out). Undecodable streams count their
    raw length: nothing downstream decodes them either."""
    filters = stream.get("/Filter")
    names = [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else [str(filters)] if filters else []
    data = stream.read_raw_bytes()
    for index, name in enumerate(names):
        last = index == len(names) - 1
        if name in FLATE:
            inflated = _inflate(data, limit, keep=not last)
            if inflated is None:
                return None
            if last:
                return inflated if isinstance(inflated, int) else len(inflated)
            data = inflated if isinstance(inflated, bytes) else b""
        elif name in SHRINKING or (name in WORST_RATIO and len(data) * WORST_RATIO[name] <= limit):
            data = _decode_one(data, name)
            if data is None:
                return len(stream.read_raw_bytes())
        elif name in WORST_RATIO:
            return None
        else:  # an image filter, or one qpdf does not decode: nothing downstream decodes it
            return len(data) if len(data) <= limit else None
    return len(data) if len(data) <= limit else None


def _inflate(data: bytes, limit: int, keep: bool) -> bytes | int | None:
    """Inflate ``data`` in steps: its length (or the bytes, if ``keep``), or
    ``None`` past ``limit``. A damaged stream counts what inflated."""
    inflater = zlib.decompressobj()
    total, kept = 0, []
    pending = data
    try:
        while pending or not inflater.eof:
            chunk = inflater.decompress(pending, STEP)
            pending = inflater.unconsumed_tail
            total += len(chunk)
            if total > limit:
                return None
            if keep:
                kept.append(chunk)
            if not chunk and not pending:
                break
    except zlib.error:
        pass
    return b"".join(kept) if keep else total


def _decode_one(data: bytes, name: str) -> bytes | None:
    """One bounded filter decoded by qpdf, in a scratch file."""
    scratch = pikepdf.new()
    stream = pikepdf.Stream(scratch, data)
    stream.Filter = pikepdf.Name(name)
    try:
        return stream.read_bytes()
    except pikepdf.PdfError:
        return None


def _tree(kids: Any, key: str, what: str) -> None:
    """A structure tree's elements, walked without recursion: each element in
    one place (so no loop), not too deep."""
    seen: set[tuple[int, int]] = set()
    todo: list[tuple[Any, int]] = [(kids, 1)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, pikepdf.Array):
            todo.extend((kid, depth) for kid in node)
            continue
        if not isinstance(node, pikepdf.Dictionary) or node.get("/Type") in ("/MCR", "/OBJR"):
            continue
        if node.objgen != (0, 0):
            if node.objgen in seen:
                raise PdfDamaged(f"its {what} holds an element in two places, or inside itself")
            seen.add(node.objgen)
        if depth > MAX_DEPTH:
            raise PdfDamaged(f"its {what} is nested more than {MAX_DEPTH} deep")
        if key in node:
            todo.append((node.get(key), depth + 1))
