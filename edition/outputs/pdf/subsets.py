"""One embedded subset of each font in the combined PDF, not one per chain.

Each chain's PDF embeds the glyphs of each font its pages use. WeasyPrint
subsets a TrueType font with HarfBuzz in two passes: the glyphs the pages use
keep their index in the font, up to the highest one used; the parts of a
composite glyph (an accent a letter is made of) beyond that are numbered after
it, in each subset anew. Put together (``combine``), the PDF would hold a
subset of each font per chain. This module makes the subset whose used glyphs
reach highest hold the glyphs of all: every glyph another chain's pages use
and it lacks is copied in at its index, with its parts (at their index when
they kept it, else added after the subset's own glyphs and renamed in the
composite); the widths (``W``), the text each glyph stands for (``ToUnicode``)
and the bounding box are merged, and every page uses that font. Where two
subsets say different things of a glyph the pages use, or a font is not
TrueType (a CFF font of another script), the font keeps one subset per chain.
"""

from __future__ import annotations

import io
import re
import zlib
from typing import Any

import pikepdf
from fontTools.ttLib import TTFont
from pikepdf import Array, Name


def merge(pdf: pikepdf.Pdf) -> None:
    """The pages' fonts of the same name made one font object, where they can be."""
    groups: dict[str, dict[tuple[int, int], Any]] = {}
    resources: list[Any] = []
    for page in pdf.pages:
        fonts = (page.obj.get("/Resources") or {}).get("/Font")
        if fonts is None:
            continue
        resources.append(fonts)
        for _, font in fonts.items():
            if font.get("/Subtype") == Name.Type0 and font.is_indirect:
                groups.setdefault(str(font.BaseFont), {})[font.objgen] = font
    survivors: dict[tuple[int, int], Any] = {}
    for fonts in groups.values():
        if len(fonts) > 1:
            merged = _merged(list(fonts.values()))
            if merged is not None:
                survivors.update({objgen: merged for objgen in fonts})
    for fonts in resources:
        for name, font in list(fonts.items()):
            if font.is_indirect and font.objgen in survivors:
                fonts[name] = survivors[font.objgen]


def _merged(fonts: list[Any]) -> Any | None:
    """One of ``fonts``, holding the glyphs, widths and texts of all; None where they cannot be one."""
    programs, used = [], []
    widths: dict[int, Any] = {}
    texts: dict[int, str] = {}
    for font in fonts:
        descendant = font.DescendantFonts[0]
        descriptor = descendant.get("/FontDescriptor")
        if descriptor is None or "/FontFile2" not in descriptor or descendant.get("/CIDToGIDMap") != Name.Identity:
            return None
        program = TTFont(io.BytesIO(descriptor.FontFile2.read_bytes()), recalcTimestamp=False)
        font_widths = _widths(descendant.get("/W"))
        if "glyf" not in program or not font_widths or not _agree(widths, font_widths):
            return None
        if "/ToUnicode" in font and not _agree(texts, _to_unicode(font.ToUnicode.read_bytes())):
            return None
        programs.append(program)
        used.append(set(font_widths))
    base_index = max(range(len(fonts)), key=lambda i: (max(used[i]), -i))
    base = programs[base_index]
    order = list(base.getGlyphOrder())
    for program, glyphs in zip(programs, used, strict=True):
        if program is not base and not _copy_used(program, glyphs, base, order):
            return None
    base.setGlyphOrder(order)
    base["glyf"].glyphOrder = order
    data = io.BytesIO()
    base.save(data)
    target = fonts[base_index]
    descendant = target.DescendantFonts[0]
    descriptor = descendant.FontDescriptor
    descriptor.FontFile2.write(zlib.compress(data.getvalue(), 9), filter=Name.FlateDecode)
    descriptor.FontFile2.Length1 = len(data.getvalue())
    boxes = [[float(v) for v in f.DescendantFonts[0].FontDescriptor.FontBBox] for f in fonts]
    descriptor.FontBBox = Array(
        [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
    )
    descendant.W = _w_array(widths)
    if texts and "/ToUnicode" in target:
        target.ToUnicode.write(zlib.compress(_cmap(texts), 9), filter=Name.FlateDecode)
    return target


def _agree(merged: dict, more: dict) -> bool:
    """Add ``more`` to ``merged``; whether they agree where both say something."""
    if any(key in merged and merged[key] != value for key, value in more.items()):
        return False
    merged.update(more)
    return True


def _copy_used(source: TTFont, used: set[int], base: TTFont, order: list[str]) -> bool:
    """The glyphs ``source``'s pages use that ``base`` lacks, copied in; whether
    every glyph they share is the same in both."""
    source_order = source.getGlyphOrder()
    highest = max(used)
    added: dict[int, str] = {}  # a part numbered anew in ``source`` -> its name in ``base``

    def name_for(index: int) -> str:
        """The glyph at ``index`` of ``source`` in ``base``, copied in if it is not there."""
        if index <= highest:  # at its index in the font
            if _empty(base["glyf"][order[index]]):
                _put(index, order[index])
            return order[index]
        if index not in added:  # a part numbered anew: after the base's glyphs
            name = f"edition{len(order):05d}"
            order.append(name)
            added[index] = name
            _put(index, name)
        return added[index]

    def _put(index: int, name: str) -> None:
        glyph = source["glyf"][source_order[index]]
        if glyph.isComposite():
            glyph.expand(source["glyf"])
            for component in glyph.components:
                component.glyphName = name_for(source_order.index(component.glyphName))
        base["glyf"].glyphs[name] = glyph
        base["hmtx"].metrics[name] = source["hmtx"][source_order[index]]

    for index in sorted(used):
        if index >= len(source_order):
            return False
        if _empty(base["glyf"][order[index]]):
            name_for(index)
        elif not _same(source["glyf"][source_order[index]], base["glyf"][order[index]], source, base):
            return False
    return True


def _empty(glyph: Any) -> bool:
    return glyph.numberOfContours == 0


def _same(glyph: Any, other: Any, source: TTFont, base: TTFont) -> bool:
    """Whether two glyphs draw the same (a composite: the same parts, by their outlines)."""
    if glyph.isComposite() != other.isComposite():
        return False
    if glyph.isComposite():
        glyph.expand(source["glyf"])
        other.expand(base["glyf"])
        return len(glyph.components) == len(other.components) and all(
            (a.x, a.y) == (b.x, b.y) and _same(source["glyf"][a.glyphName], base["glyf"][b.glyphName], source, base)
            for a, b in zip(glyph.components, other.components, strict=True)
        )
    if _empty(glyph) or _empty(other):
        return _empty(glyph) and _empty(other)
    return list(glyph.endPtsOfContours) == list(other.endPtsOfContours) and list(glyph.coordinates) == list(
        other.coordinates
    )


def _widths(array: Any) -> dict[int, Any]:
    """A ``W`` array as glyph -> width (both its forms: ``c [w ...]`` and ``c1 c2 w``)."""
    out: dict[int, Any] = {}
    if array is None:
        return out
    items = list(array)
    i = 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], Array):
            for n, width in enumerate(items[i + 1]):
                out[first + n] = width
            i += 2
        else:
            for cid in range(first, int(items[i + 1]) + 1):
                out[cid] = items[i + 2]
            i += 3
    return out


def _w_array(widths: dict[int, Any]) -> Array:
    """Glyph -> width as a ``W`` array of runs of consecutive glyphs."""
    out = Array()
    run: list[Any] = []
    start = previous = None
    for cid in sorted(widths):
        if previous is not None and cid == previous + 1:
            run.append(widths[cid])
        else:
            if run:
                out.append(start)
                out.append(Array(run))
            start, run = cid, [widths[cid]]
        previous = cid
    if run:
        out.append(start)
        out.append(Array(run))
    return out


_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_PAIR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")


def _to_unicode(cmap: bytes) -> dict[int, str]:
    """A ``ToUnicode`` CMap's ``bfchar`` entries (WeasyPrint writes no others) as glyph -> text."""
    out: dict[int, str] = {}
    for block in _BFCHAR.findall(cmap):
        for code, text in _PAIR.findall(block):
            out[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    return out


def _cmap(texts: dict[int, str]) -> bytes:
    """A ``ToUnicode`` CMap for glyph -> text, as WeasyPrint writes one (at most 100 entries a block)."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        "<< /Registry (Adobe)",
        "/Ordering (UCS)",
        "/Supplement 0",
        ">> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <ffff>",
        "endcodespacerange",
    ]
    items = sorted(texts.items())
    for start in range(0, len(items), 100):
        chunk = items[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{code:04x}> <{text.encode('utf-16-be').hex()}>" for code, text in chunk]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode()
