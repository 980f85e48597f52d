"""A volume's PDF pages within bounds, before anything decodes or walks them.

A PDF is small on disk and may say a great deal: a page's content stream of a
few megabytes can inflate to gigabytes (qpdf, pdfminer and the PDF/A checks
decode it whole), a form XObject may draw itself, a structure tree may
contain itself or nest thousands deep (the graft into the volume's tree walks
it recursively), and a thousand pages may share one large content stream, or
a page draw one form a hundred thousand times: every placed page carries its
own copy of its content, and the PDF/UA checker reads each form each time it
is drawn. So the reader stage measures the pages a volume prints first, with
nothing decoded beyond the limits, and each stream of a file decoded and
parsed once however many pages and readings use it (``PdfMeasure``):

- every stream the pages reach (page contents, the forms, patterns and Type 3
  glyphs their resources name, annotation appearances) is inflated in steps
  that stop at ``MAX_CONTENT_BYTES`` for the volume's files together;
- what the pages *draw* is counted as it will be copied and read: a page's
  content on every page that has it, a form each time a ``Do`` draws it (the
  counts come from one parse of each stream, of its ``Do`` operators only);
  at most ``MAX_PAGE_DRAWN`` a page and ``MAX_DRAWN_BYTES`` for the volume;
- a form or pattern that draws itself, and a structure tree that contains
  itself or nests deeper than ``MAX_DEPTH``, are refused.

Only filters whose output is bounded by their input are decoded here: Flate
(inflated in steps), ASCIIHex and ASCII85 (which shrink); RunLength and LZW
are decoded only when their worst expansion stays within what is left of the
limit.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pikepdf

#: Decoded streams the PDF pages of one volume reach, each stream once.
MAX_CONTENT_BYTES = 128 * 1024 * 1024
#: Content the PDF pages of one volume draw, a stream counted each time it is drawn.
MAX_DRAWN_BYTES = 128 * 1024 * 1024
#: Content one page draws: the PDF/UA checker holds a page's parsed content
#: in memory, about a hundred times its size.
MAX_PAGE_DRAWN = 8 * 1024 * 1024
#: Deepest nesting of forms and of structure elements.
MAX_DEPTH = 100
#: Inflating proceeds in steps of this many bytes.
STEP = 1024 * 1024
#: The most one input byte can become, for the filters decoded only when that stays within the limit.
WORST_RATIO = {"/RunLengthDecode": 128, "/RL": 128, "/LZWDecode": 2731, "/LZW": 2731}
SHRINKING = {"/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85"}
FLATE = {"/FlateDecode", "/Fl"}

Key = tuple[Any, ...]


class PdfTooLarge(Exception):
    """Content over the limit (a message completing "<file>: ...")."""


class PdfDamaged(Exception):
    """A structure no reader could walk to its end (a message completing "<file>: ...")."""


@dataclass
class Budget:
    """What the PDF pages of one volume may still cost, spent as they are measured."""

    decoded: int = MAX_CONTENT_BYTES
    drawn: int = MAX_DRAWN_BYTES


@dataclass(frozen=True)
class Operators:
    """What one parse of a content stream found: the forms it draws (by
    resource name, with how often) and whether it sets DeviceCMYK colour."""

    draws: Counter[str]
    cmyk: bool


@dataclass
class PdfMeasure:
    """One file's streams, each decoded and parsed once however many pages
    and readings use it."""

    pdf: pikepdf.Pdf
    sizes: dict[tuple[int, int], int] = field(default_factory=dict)  # decoded size of each stream
    operators: dict[Key, Operators] = field(default_factory=dict)
    costs: dict[Key, int] = field(default_factory=dict)  # what a form draws, with what it draws
    pages: dict[int, int] = field(default_factory=dict)  # what each page draws
    reached: set[tuple[int, int]] = field(default_factory=set)  # streams (and resources) walked and decoded
    memo: dict[Any, Any] = field(default_factory=dict)  # what other checks of the file keep (``pdfproblems``)
    tree_checked: bool = False

    def page_operators(self, page: pikepdf.Object) -> Operators:
        """The operators of a page's content, its streams joined as a viewer
        reads them (a token may span two), parsed once."""
        contents = _contents(page)
        return self._parse(pikepdf.Page(page), ("contents", *(s.objgen for s in contents)))

    def form_operators(self, form: pikepdf.Stream) -> Operators:
        """The operators of a form (or pattern, or appearance), parsed once."""
        return self._parse(form, ("form", form.objgen))

    def _parse(self, source: Any, key: Key) -> Operators:
        found = self.operators.get(key)
        if found is None:
            try:
                instructions = pikepdf.parse_content_stream(source, "Do k K")
            except pikepdf.PdfError as exc:
                raise PdfDamaged(f"a content stream cannot be read ({' '.join(str(exc).split())[:120]})") from exc
            draws: Counter[str] = Counter()
            cmyk = False
            for operands, operator in instructions:
                if str(operator) == "Do" and operands and isinstance(operands[0], pikepdf.Name):
                    draws[str(operands[0])] += 1
                elif str(operator) in ("k", "K"):
                    cmyk = True
            found = self.operators[key] = Operators(draws, cmyk)
        return found


def check(measure: PdfMeasure, first: int, last: int, budget: Budget | None = None) -> None:
    """Raise ``PdfTooLarge`` or ``PdfDamaged`` if pages ``first``–``last``
    go beyond the bounds; what they cost is taken from ``budget`` (the
    volume's, shared by its readings)."""
    budget = budget if budget is not None else Budget()
    for number in range(first, last + 1):
        page = measure.pdf.pages[number - 1].obj
        for stream in _page_streams(page, measure.reached):
            _spend(measure, stream, budget, number)
        drawn = measure.pages.get(number)
        if drawn is None:
            drawn = measure.pages[number] = _page_drawn(measure, page)
        if drawn > MAX_PAGE_DRAWN:
            raise PdfTooLarge(
                f"page {number} draws more than {MAX_PAGE_DRAWN} bytes of content (a stream counted each "
                "time it is drawn), the limit for one page; give a simpler page (or a scan of it)"
            )
        budget.drawn -= drawn
        if budget.drawn < 0:
            raise PdfTooLarge(
                f"with page {number}, the PDF pages of this volume draw more than {MAX_DRAWN_BYTES} bytes of "
                "content (a stream counted each time it is drawn); give fewer or simpler pages"
            )
    if not measure.tree_checked:
        root = measure.pdf.Root.get("/StructTreeRoot")
        if isinstance(root, pikepdf.Dictionary):
            _tree(root.get("/K"), "/K", "structure tree")
        measure.tree_checked = True


def _contents(page: pikepdf.Object) -> list[pikepdf.Stream]:
    contents = page.get("/Contents")
    return [
        s for s in (contents if isinstance(contents, pikepdf.Array) else [contents]) if isinstance(s, pikepdf.Stream)
    ]


def _page_drawn(measure: PdfMeasure, page: pikepdf.Object) -> int:
    """What the page draws: its content, each form as often as it is drawn
    (with what that form draws), its patterns, glyphs and annotation appearances."""
    contents = _contents(page)
    total = sum(measure.sizes.get(s.objgen, 0) for s in contents)
    resources = page.get("/Resources")
    holder = ("page", page.objgen)
    if contents:
        total += _draws(measure, measure.page_operators(page), resources, _key(resources, holder), [])
    total += _painted(measure, resources, _key(resources, holder), [])
    for annot in page.get("/Annots") or []:
        appearances = annot.get("/AP") if isinstance(annot, pikepdf.Dictionary) else None
        if not isinstance(appearances, pikepdf.Dictionary):
            continue
        for appearance in appearances.values():
            states = appearance.values() if isinstance(appearance, pikepdf.Dictionary) else [appearance]
            for state in states:
                if isinstance(state, pikepdf.Stream):
                    total += _cost(measure, state, resources, _key(resources, holder), [])
        if total > MAX_PAGE_DRAWN:
            break
    return total


def _key(resources: Any, holder: Key) -> Key:
    """How a resource dictionary is known: its object, or (a direct one) the object that holds it."""
    if isinstance(resources, pikepdf.Dictionary) and resources.is_indirect:
        return ("resources", resources.objgen)
    return holder


def _draws(measure: PdfMeasure, operators: Operators, resources: Any, res_key: Key, path: list) -> int:
    """What the forms a content stream draws cost, each as often as it is drawn."""
    if not isinstance(resources, pikepdf.Dictionary):
        return 0
    xobjects = resources.get("/XObject")
    if not isinstance(xobjects, pikepdf.Dictionary):
        return 0
    total = 0
    for name, count in operators.draws.items():
        form = xobjects.get(name)
        if isinstance(form, pikepdf.Stream) and form.get("/Subtype") == "/Form":
            total += count * _cost(measure, form, resources, res_key, path)
            if total > MAX_PAGE_DRAWN:
                return total
    return total


def _painted(measure: PdfMeasure, resources: Any, res_key: Key, path: list) -> int:
    """Tiling patterns and Type 3 glyphs a resource dictionary names, each once."""
    if not isinstance(resources, pikepdf.Dictionary):
        return 0
    memo = ("painted", res_key)
    if memo in measure.costs:
        return measure.costs[memo]
    total = 0
    for _, pattern in (resources.get("/Pattern") or {}).items():
        if isinstance(pattern, pikepdf.Stream):
            total += _cost(measure, pattern, resources, res_key, path)
    for _, font in (resources.get("/Font") or {}).items():
        if isinstance(font, pikepdf.Dictionary) and font.get("/Subtype") == "/Type3":
            for _, glyph in (font.get("/CharProcs") or {}).items():
                if isinstance(glyph, pikepdf.Stream):
                    total += measure.sizes.get(glyph.objgen, 0)
    measure.costs[memo] = total
    return total


def _cost(measure: PdfMeasure, stream: pikepdf.Stream, inherited: Any, inherited_key: Key, path: list) -> int:
    """What drawing a form (or pattern, or appearance) once costs: its own
    content and what it draws. A form without resources uses those of what
    draws it."""
    key = stream.objgen
    if key in path:
        raise PdfDamaged("a form XObject or pattern draws itself")
    if len(path) >= MAX_DEPTH:
        raise PdfDamaged(f"its forms are nested more than {MAX_DEPTH} deep")
    own = stream.get("/Resources")
    has_own = isinstance(own, pikepdf.Dictionary)
    resources, res_key = (own, _key(own, ("form", key))) if has_own else (inherited, inherited_key)
    memo = ("cost", key, res_key)
    found = measure.costs.get(memo)
    if found is not None:
        return found
    size = measure.sizes.get(key)
    if size is None:  # not reached through a resource dictionary: never measured, so never parsed
        return 0
    inner = [*path, key]
    total = size + _draws(measure, measure.form_operators(stream), resources, res_key, inner)
    if has_own:  # (inherited ones are counted where they belong)
        total += _painted(measure, resources, res_key, inner)
    measure.costs[memo] = min(total, MAX_PAGE_DRAWN + 1)
    return measure.costs[memo]


def _page_streams(page: pikepdf.Object, seen: set[tuple[int, int]]) -> Iterator[pikepdf.Stream]:
    for stream in _contents(page):
        if _first_time(stream, seen):
            yield stream
    yield from _resources(page.get("/Resources"), seen, [])
    annots = page.get("/Annots")
    if annots is not None and not (isinstance(annots, pikepdf.Array) and all(_is_dict(a) for a in annots)):
        raise PdfDamaged("a page's /Annots is not a list of annotations")
    for annot in annots or []:
        _annotation_shape(annot)
        for appearance in (annot.get("/AP") or {}).values() if isinstance(annot.get("/AP"), pikepdf.Dictionary) else []:
            states = appearance.values() if isinstance(appearance, pikepdf.Dictionary) else [appearance]
            for state in states:
                if isinstance(state, pikepdf.Stream):
                    yield from _drawn(state, seen, [])


def _resources(res: Any, seen: set[tuple[int, int]], path: list[tuple[int, int]]) -> Iterator[pikepdf.Stream]:
    """The streams a resource dictionary reaches: forms, tiling patterns, Type 3
    glyphs. A dictionary many pages share is walked once; one of the wrong
    shape (what the outputs and the PDF/A checks walk) is refused."""
    if res is None:
        return
    if not isinstance(res, pikepdf.Dictionary):
        raise PdfDamaged("a page's or form's /Resources is not a dictionary")
    if not _first_time(res, seen):
        return
    _resources_shape(res)
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


#: What each kind of resource must be: the outputs and the PDF/A checks read them so.
RESOURCE_KINDS = {
    "/Font": (pikepdf.Dictionary,),
    "/XObject": (pikepdf.Stream,),
    "/ExtGState": (pikepdf.Dictionary,),
    "/Pattern": (pikepdf.Dictionary, pikepdf.Stream),
    "/ColorSpace": (pikepdf.Name, pikepdf.Array),
    "/Shading": (pikepdf.Dictionary, pikepdf.Stream),
    "/Properties": (pikepdf.Dictionary,),
}


def _is_dict(value: Any) -> bool:
    return isinstance(value, pikepdf.Dictionary)


def _numbers(value: Any, count: int) -> bool:
    return (
        isinstance(value, pikepdf.Array)
        and len(value) == count
        and all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in value)
    )


def _resources_shape(res: pikepdf.Dictionary) -> None:
    for key, kinds in RESOURCE_KINDS.items():
        group = res.get(key)
        if group is None:
            continue
        if not isinstance(group, pikepdf.Dictionary):
            raise PdfDamaged(f"its resources' {key} is not a dictionary")
        for name, value in group.items():
            if not isinstance(value, kinds):
                raise PdfDamaged(f"its resource {key} {name} is not a {key[1:]} resource")
    for _, state in (res.get("/ExtGState") or {}).items():
        for key in ("/CA", "/ca"):
            if key in state and not _numbers(pikepdf.Array([state[key]]), 1):
                raise PdfDamaged(f"a graphics state's {key} is not a number")
    for _, xobject in (res.get("/XObject") or {}).items():
        if xobject.get("/Subtype") == "/Form" and not _numbers(xobject.get("/BBox"), 4):
            raise PdfDamaged("a form XObject's /BBox is not four numbers")
        if "/Matrix" in xobject and not _numbers(xobject.get("/Matrix"), 6):
            raise PdfDamaged("a form XObject's /Matrix is not six numbers")


def _annotation_shape(annot: pikepdf.Dictionary) -> None:
    """What the outputs read of an annotation: its rectangle, action, appearances, flags."""
    if "/Rect" in annot and not _numbers(annot.get("/Rect"), 4):
        raise PdfDamaged("an annotation's /Rect is not four numbers")
    for key in ("/A", "/AP", "/AA"):
        if key in annot and not isinstance(annot.get(key), pikepdf.Dictionary):
            raise PdfDamaged(f"an annotation's {key} is not a dictionary")
    if "/F" in annot and not _numbers(pikepdf.Array([annot.get("/F")]), 1):
        raise PdfDamaged("an annotation's /F is not a number")


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
    """True the first time an indirect object is met (object numbers are unique in a file)."""
    key = stream.objgen
    if key == (0, 0):  # a direct object cannot be reached twice
        return True
    if key in seen:
        return False
    seen.add(key)
    return True


def _spend(measure: PdfMeasure, stream: pikepdf.Stream, budget: Budget, page: int) -> None:
    size = decoded_size(stream, budget.decoded)
    if size is None:
        raise PdfTooLarge(
            f"the content of page {page} decodes to more than {MAX_CONTENT_BYTES} bytes "
            f"(the limit for the PDF pages of one volume); give a smaller file or fewer pages"
        )
    budget.decoded -= size
    measure.sizes[stream.objgen] = size


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
