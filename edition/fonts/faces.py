"""The one font family every output uses, loaded by path.

Charis SIL (SIL Open Font License) from Debian's ``fonts-sil-charis``, which
the set-up installs: a book face with full Latin Extended ("Yi Chu-yŏn",
"Balázs", "Eisenhüttenstadt"). It is declared under its own family name so no
system font of the same name can stand in for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FAMILY = "Charis Edition"
FONT_DIR = Path(os.environ.get("EDITION_FONT_DIR", "/usr/share/fonts/truetype/charis"))


@dataclass(frozen=True)
class Face:
    file: str
    weight: str
    style: str


FACES = (
    Face("CharisSIL-Regular.ttf", "normal", "normal"),
    Face("CharisSIL-Italic.ttf", "normal", "italic"),
    Face("CharisSIL-Bold.ttf", "bold", "normal"),
    Face("CharisSIL-BoldItalic.ttf", "bold", "italic"),
)


def missing() -> list[Path]:
    return [FONT_DIR / f.file for f in FACES if not (FONT_DIR / f.file).exists()]


def font_face_css(url_for) -> str:
    """``@font-face`` rules; ``url_for(path)`` gives each file's URL in the output."""
    rules = []
    for face in FACES:
        rules.append(
            "@font-face { "
            f'font-family: "{FAMILY}"; src: url("{url_for(FONT_DIR / face.file)}"); '
            f"font-weight: {face.weight}; font-style: {face.style}; }}"
        )
    return "\n".join(rules)


def subset(face: Face, characters: set[str]) -> bytes:
    """The face cut down to ``characters`` plus printable ASCII, for embedding.

    Deterministic: the same characters give the same bytes.
    """
    wanted = (
        {ord(c) for c in characters}
        | set(range(0x20, 0x7F))
        | {0x2010, 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026}
    )
    return cached_subset(FONT_DIR / face.file, 0, frozenset(wanted), _subset_charis)


#: Graphite tables (SIL's own shaping): not used by reading systems.
GRAPHITE_TABLES = ("Silf", "Silt", "Glat", "Gloc", "Feat", "Sill")


def _subset_charis(path: Path, index: int, wanted: frozenset[int]) -> bytes:
    return subset_font(path, index, wanted, drop_tables=GRAPHITE_TABLES)


def subset_font(path: Path, index: int, codepoints: frozenset[int], drop_tables: tuple[str, ...] = ()) -> bytes:
    """The font (face ``index`` of a collection) cut down to ``codepoints`` and
    the glyphs its layout features reach from them; names kept, a .notdef
    outline drawn. Deterministic (no timestamp recalculated)."""
    import io

    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont

    options = ft_subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables += list(drop_tables)
    font = TTFont(path, fontNumber=index, recalcTimestamp=False, lazy=True)  # reads only the tables kept
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


Subsetter = Callable[[Path, int, frozenset[int]], bytes]
#: How a TrueType or OpenType font's bytes begin (anything else from the cache is a miss).
FONT_SIGNATURES = (b"\x00\x01\x00\x00", b"OTTO", b"true")
_made: dict[tuple[str, str, int, frozenset[int]], bytes] = {}


def cached_subset(path: Path, index: int, codepoints: frozenset[int], make: Subsetter) -> bytes:
    """``make(path, index, codepoints)``, once per process and, with a cache
    active, once for as long as the font file, the code points and the code
    (fontTools' version, the subsetting options) stay the same."""
    from edition.infra import cache, fingerprints

    memo = (make.__qualname__, str(path), index, codepoints)
    if memo in _made:
        return _made[memo]
    store = cache.active()
    key = ""
    if store is not None:
        points = ",".join(map(str, sorted(codepoints)))
        key = fingerprints.key(
            "font-subset",
            fingerprints.code_version(),
            make.__qualname__,
            fingerprints.file_sha256(path),
            str(index),
            points,
        )
        found = store.get("font-subset", key)
        if found is not None and found[:4] in FONT_SIGNATURES:
            _made[memo] = found
            return found
    data = make(path, index, codepoints)
    if store is not None:
        store.put("font-subset", key, data)
    _made[memo] = data
    return data
