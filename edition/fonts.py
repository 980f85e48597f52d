"""The one font family every output uses, loaded by path.

Charis SIL (SIL Open Font License) from Debian's ``fonts-sil-charis``, which
the set-up installs: a book face with full Latin Extended ("Yi Chu-yŏn",
"Balázs", "Eisenhüttenstadt"). It is declared under its own family name so no
system font of the same name can stand in for it.
"""

from __future__ import annotations

import os
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
    import io

    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont

    wanted = (
        {ord(c) for c in characters}
        | set(range(0x20, 0x7F))
        | {0x2010, 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026}
    )
    options = ft_subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    # Graphite tables (SIL's own shaping) are not used by reading systems
    options.drop_tables += ["Silf", "Silt", "Glat", "Gloc", "Feat", "Sill"]
    font = TTFont(FONT_DIR / face.file, recalcTimestamp=False, lazy=True)  # reads only the tables kept
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(wanted))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
