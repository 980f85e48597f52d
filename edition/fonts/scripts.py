"""Every script the texts use: fonts that draw what Charis cannot, and a check
that no character of the content is left to a font the edition does not have.

Charis (``fonts.py``) sets Latin and Cyrillic, and of Greek only the letters
phonetics uses. The other scripts are drawn by Noto fonts from Debian
packages the set-up installs, loaded by path and declared under family names
of our own, so no system font stands in for them: Noto Serif (Greek, and the
Latin and Cyrillic letters Charis lacks), Noto Serif Hebrew, Noto Naskh
Arabic and Noto Serif CJK (Hangul, Hanja and Chinese characters, kana). Noto Serif CJK is a
collection (``.ttc``); the edition uses its first face, whose ``locl``
feature gives each language its own glyph forms, chosen by the text's
``lang`` (``ko``, ``ja``, ``zh-Hans``, ``zh-Hant``).

A fallback is declared only when the content holds a character it is the
first to draw, so a work in Latin script pays nothing for the others; it is
declared cut down to the characters it draws (fontTools, with the glyphs its
layout features reach), which keeps the PDF and the EPUB small and hands
WeasyPrint one face, not a 26 MB collection. Greek is set wholly in Noto
Serif (the "Edition Greek" family, limited to the Greek blocks and placed
before Charis) rather than letter by letter in two fonts.

A character no font of the edition draws is a build error naming its file,
line and code point (``font.missing-glyph``), checked against the fonts'
character maps before anything is laid out: never a box in the output.

At import this module holds names and paths only (the CLI's freshness check
reads them); fontTools is imported when a font is first read.
"""

from __future__ import annotations

import base64
import functools
import html
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from edition.diagnostics import Collector
from edition.fonts.faces import FACES, FONT_DIR, cached_subset, subset_font
from edition.model import SourceLocation

NOTO_DIR = Path(os.environ.get("EDITION_NOTO_DIR", "/usr/share/fonts/truetype/noto"))
NOTO_CJK_DIR = Path(os.environ.get("EDITION_NOTO_CJK_DIR", "/usr/share/fonts/opentype/noto"))
#: Content files whose characters reach the outputs (the copy-text does not: it is only attached).
TEXT_SUFFIXES = (".md", ".yaml", ".yml", ".csv", ".bib")
#: Lines with undrawable characters reported per file.
MAX_REPORTS_PER_FILE = 20
#: Languages written right to left: a span or div in one of them is set with ``dir="rtl"``.
RTL_LANGUAGES = ("ar", "he", "fa", "ur", "yi", "ps", "syr", "dv", "ug", "ckb", "jrb", "jpr", "arc", "ota", "sd")
#: Scripts written right to left (ISO 15924), for a tag that names its script.
RTL_SCRIPTS = ("arab", "hebr", "syrc", "thaa", "nkoo", "adlm", "samr", "mand", "rohg")


def right_to_left(lang: str) -> bool:
    """Whether a BCP 47 tag's text runs right to left: by its script subtag
    when it names one (``ar-Latn``, a romanization, does not; ``az-Arab``
    does), else by its language."""
    parts = lang.lower().split("-")
    script = next((p for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
    return script in RTL_SCRIPTS if script else parts[0] in RTL_LANGUAGES


GREEK = ((0x0370, 0x03FF), (0x1F00, 0x1FFF))
REFERENCE_RE = re.compile(r"&(?:#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);")


@dataclass(frozen=True)
class FallbackFace:
    """One face of a fallback family: a style, and the file that draws it."""

    family: str
    path: Path
    weight: str  # "normal" | "bold"
    style: str  # "normal" | "italic"
    index: int = 0  # face of a collection
    unicode_range: tuple[tuple[int, int], ...] = ()

    @property
    def epub_name(self) -> str:
        """The face's file in the EPUB: ``EditionCJK-Regular.otf`` (a collection's face is saved alone)."""
        suffix = ".otf" if self.path.suffix in (".ttc", ".otc", ".otf") else ".ttf"
        return f"{self.family.replace(' ', '')}-{self.path.stem.rsplit('-', 1)[-1]}{suffix}"


@dataclass(frozen=True)
class Fallback:
    """A font for what Charis does not set."""

    family: str  # our own family name (templates/base.css lists them all)
    name: str  # the font's own name
    scripts: str  # what it sets, for the README
    package: str  # the Debian package that installs it
    regular: Path
    bold: Path
    italic: Path | None = None  # None: italic text keeps the upright face (no slanted Hebrew or Han)
    bold_italic: Path | None = None
    index: int = 0  # face of a collection
    unicode_range: tuple[tuple[int, int], ...] = ()  # () for all the font has
    leads: bool = False  # stands before Charis in the stack (within its range)

    @property
    def faces(self) -> tuple[FallbackFace, ...]:
        make = functools.partial(FallbackFace, self.family, index=self.index, unicode_range=self.unicode_range)
        return (
            make(self.regular, "normal", "normal"),
            make(self.italic or self.regular, "normal", "italic"),
            make(self.bold, "bold", "normal"),
            make(self.bold_italic or self.bold, "bold", "italic"),
        )

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys(face.path for face in self.faces))

    def covers(self, char: str) -> bool:
        point = ord(char)
        if self.unicode_range and not any(low <= point <= high for low, high in self.unicode_range):
            return False
        return point in coverage(self.regular, self.index)


NOTO_SERIF = (
    NOTO_DIR / "NotoSerif-Regular.ttf",
    NOTO_DIR / "NotoSerif-Bold.ttf",
    NOTO_DIR / "NotoSerif-Italic.ttf",
    NOTO_DIR / "NotoSerif-BoldItalic.ttf",
)
#: The first that has a character (after Charis, unless it leads) draws it.
FALLBACKS = (
    Fallback(
        "Edition Greek",
        "Noto Serif",
        "Greek with breathings and accents (polytonic)",
        "fonts-noto-core",
        *NOTO_SERIF,
        unicode_range=GREEK,
        leads=True,
    ),  # fmt: skip
    Fallback("Edition Serif", "Noto Serif", "Latin and Cyrillic letters Charis lacks", "fonts-noto-core", *NOTO_SERIF),
    Fallback(
        "Edition Hebrew",
        "Noto Serif Hebrew",
        "Hebrew",
        "fonts-noto-core",
        NOTO_DIR / "NotoSerifHebrew-Regular.ttf",
        NOTO_DIR / "NotoSerifHebrew-Bold.ttf",
    ),
    Fallback(
        "Edition Arabic",
        "Noto Naskh Arabic",
        "Arabic",
        "fonts-noto-core",
        NOTO_DIR / "NotoNaskhArabic-Regular.ttf",
        NOTO_DIR / "NotoNaskhArabic-Bold.ttf",
    ),
    Fallback(
        "Edition Devanagari",
        "Noto Serif Devanagari",
        "Devanagari (Hindi, Marathi, Nepali, Sanskrit)",
        "fonts-noto-core",
        NOTO_DIR / "NotoSerifDevanagari-Regular.ttf",
        NOTO_DIR / "NotoSerifDevanagari-Bold.ttf",
    ),
    Fallback(
        "Edition CJK",
        "Noto Serif CJK",
        "Korean (Hangul, Hanja), Chinese (simplified, traditional), Japanese (kanji, kana)",
        "fonts-noto-cjk",
        NOTO_CJK_DIR / "NotoSerifCJK-Regular.ttc",
        NOTO_CJK_DIR / "NotoSerifCJK-Bold.ttc",
    ),
)

#: Default-ignorable code points (Unicode's DerivedCoreProperties): format
#: controls, joiners, variation selectors. No font draws them; shaping hides them.
IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
LINE_CONTROLS = frozenset("\t\n\r")


def font_files() -> list[Path]:
    """Every fallback font file, for the build's fingerprint."""
    return list(dict.fromkeys(path for fallback in FALLBACKS for path in fallback.files))


@functools.cache
def coverage(path: Path, index: int = 0) -> frozenset[int]:
    """The code points a font face maps to glyphs (its cmap), read once per process."""
    from fontTools.ttLib import TTFont

    if not path.exists():
        raise OSError(f"font file {path} is missing: run the set-up (README) first")
    return frozenset(TTFont(path, fontNumber=index, lazy=True).getBestCmap())


@functools.cache
def _charis() -> frozenset[str]:
    return frozenset(chr(p) for p in coverage(FONT_DIR / FACES[0].file))


def ignorable(char: str) -> bool:
    """A character no font needs to draw: line controls and default-ignorables."""
    if char in LINE_CONTROLS:
        return True
    point = ord(char)
    return any(low <= point <= high for low, high in IGNORABLE_RANGES)


def drawable(char: str) -> bool:
    return char in _charis() or ignorable(char) or any(f.covers(char) for f in FALLBACKS)


def font_for(char: str) -> Fallback | None:
    """The fallback that draws one character on its own, or None for Charis."""
    leading = next((f for f in FALLBACKS if f.leads and f.covers(char)), None)
    if leading is not None or char in _charis():
        return leading
    return next((f for f in FALLBACKS if f.covers(char)), None)


def needed(characters: Iterable[str]) -> tuple[Fallback, ...]:
    """The fallbacks the characters need, in stack order (none for a text Charis sets):
    each that is the first to have a character Charis lacks."""
    beyond = {c for c in set(characters) - _charis() if not ignorable(c)}
    out = []
    for fallback in FALLBACKS:
        drawn = {c for c in beyond if fallback.covers(c)}
        if drawn:
            out.append(fallback)
            beyond -= drawn
    return tuple(out)


def drawn_by(characters: Iterable[str], fallbacks: tuple[Fallback, ...]) -> dict[str, set[str]]:
    """Which characters each of the fallbacks draws, in the stack they make
    with Charis (the leading ones first, within their range). A family's set
    also holds the spaces, digits, punctuation and marks of the text that it
    has: a run of Hebrew or Han keeps its font through them (Pango never
    changes font for a space: it assumes every font has one)."""
    stack: list[Fallback | None] = [f for f in fallbacks if f.leads] + [None] + [f for f in fallbacks if not f.leads]
    charis = _charis()
    out: dict[str, set[str]] = {f.family: set() for f in fallbacks}
    shared = [" ", "\u00a0"]
    for char in set(characters):
        if ignorable(char):
            continue
        first = next((f for f in stack if (char in charis if f is None else f.covers(char))), None)
        if first is not None:
            out[first.family].add(char)
        if not unicodedata.category(char).startswith("L"):
            shared.append(char)
    for fallback in fallbacks:
        if out[fallback.family]:
            out[fallback.family] |= {c for c in shared if ord(c) in coverage(fallback.regular, fallback.index)}
    return out


def describe(char: str) -> str:
    """``U+AC00 HANGUL SYLLABLE GA``, or the category of a code point without a name."""
    name = unicodedata.name(char, "")
    if not name:
        categories = {"Co": "(private use)", "Cn": "(unassigned)", "Cs": "(surrogate)"}
        name = categories.get(unicodedata.category(char), "(unnamed)")
    return f"U+{ord(char):04X} {name}"


def check_files(files: Iterable[tuple[Path, str]], diags: Collector) -> frozenset[str]:
    """Every character of the content files, as the readers read them
    (character references decoded), and a ``font.missing-glyph`` error for
    each line holding one no font of the edition draws."""
    characters: set[str] = set()
    for path, source in files:
        used = set(_decoded(source, path))
        characters |= used
        if not all(drawable(c) for c in used - _charis()):
            _report(path, source, diags)
    return frozenset(characters)


def _decoded(text: str, path: Path) -> str:
    """The text with Markdown's character references (``&#xAC00;``) decoded too."""
    return text + html.unescape(text) if "&" in text and path.suffix == ".md" else text


def _report(path: Path, source: str, diags: Collector) -> None:
    reported = 0
    for number, line in enumerate(source.split("\n"), 1):
        bad = [c for c in dict.fromkeys(_decoded(line, path)) if not drawable(c)]
        if not bad:
            continue
        reported += 1
        if reported > MAX_REPORTS_PER_FILE:
            diags.error(
                SourceLocation(path, number),
                "font.missing-glyph",
                "more lines hold characters no font of the edition draws; fix the ones above first",
            )
            return
        named = [f"{describe(c)} at column {_column(line, c)}" for c in bad[:3]]
        if len(bad) > 3:
            named.append(f"{len(bad) - 3} more")
        listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
        verb = "is" if len(bad) == 1 else "are"
        diags.error(
            SourceLocation(path, number),
            "font.missing-glyph",
            f"{listed} {verb} in no font of the edition; replace {'it' if len(bad) == 1 else 'them'}, "
            "or see 'Scripts and fonts' in the README for the scripts the edition sets",
        )


def _column(line: str, char: str) -> int:
    """The 1-based column of a character, or of the character reference that writes it."""
    if char in line:
        return line.index(char) + 1
    for match in REFERENCE_RE.finditer(line):
        if html.unescape(match.group()) == char:
            return match.start() + 1
    return 1


def font_faces(characters: Iterable[str]) -> list[tuple[FallbackFace, frozenset[str]]]:
    """Each face of the fallbacks the characters need, with the characters its
    cut-down copy holds."""
    characters = set(characters)
    fallbacks = needed(characters)
    drawn = drawn_by(characters, fallbacks)
    return [(face, frozenset(drawn[f.family])) for f in fallbacks for face in f.faces]


def font_face_css(faces: Iterable[tuple[FallbackFace, str]]) -> str:
    """``@font-face`` rules for fallback faces, each with its URL."""
    rules = []
    for face, url in faces:
        ranges = ", ".join(f"U+{low:04X}-{high:04X}" for low, high in face.unicode_range)
        rules.append(
            "@font-face { "
            f'font-family: "{face.family}"; src: url("{url}"); '
            f"font-weight: {face.weight}; font-style: {face.style};"
            + (f" unicode-range: {ranges};" if ranges else "")
            + " }"
        )
    return "\n".join(rules)


def print_css(characters: Iterable[str]) -> str:
    """The fallbacks the print layout needs, each face cut down and given as a ``data:`` URL."""
    faces = font_faces(characters)
    return font_face_css((face, data_url(face, chars)) for face, chars in faces)


def data_url(face: FallbackFace, characters: frozenset[str]) -> str:
    media = "font/otf" if face.epub_name.endswith(".otf") else "font/ttf"
    return f"data:{media};base64,{base64.b64encode(subset(face, characters)).decode()}"


def subset(face: FallbackFace, characters: frozenset[str]) -> bytes:
    """The face cut down to ``characters`` and the glyphs its layout features
    reach from them (``locl`` forms, Arabic joining forms). Deterministic."""
    return cached_subset(face.path, face.index, frozenset(ord(c) for c in characters), subset_font)


def epub_fonts(used: Iterable[str]) -> tuple[str, list[tuple[str, str, bytes]]]:
    """For the EPUB: the ``@font-face`` rules (URLs relative to its CSS) and
    the font files ``(name, media type, bytes)``, each face packed once."""
    faces = font_faces(used)
    css = font_face_css((face, f"../fonts/{face.epub_name}") for face, _ in faces)
    files: dict[str, tuple[str, str, bytes]] = {}
    for face, chars in faces:
        media = "font/otf" if face.epub_name.endswith(".otf") else "font/ttf"
        files.setdefault(face.epub_name, (face.epub_name, media, subset(face, chars)))
    return css, list(files.values())
