"""The EPUB cover's layout (``templates/epub/cover.yaml``), checked against
its schema before anything is drawn.

The layout is a template like any other, so it may come from a stranger's
folder or an extracted PDF/A: every key, and every value's type, range and
vocabulary (the faces, the texts a block may draw, the colours Pillow
knows), is checked here with the file and line, never found out by a
``KeyError`` in the drawing. The numbers are bounded so that drawing costs
no more than the picture's own size: at most ``MAX_BLOCKS`` blocks, a type
size up to ``MAX_TYPE_SIZE`` pixels, positions within the picture.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import ImageColor

from edition.diagnostics import Collector, suggest
from edition.model import SourceLocation
from edition.read.sources import Mapping_, load_yaml

#: Largest cover drawn, in pixels (the layout's ``size``).
MAX_COVER_PIXELS = 16_000_000
#: Most text blocks on the cover.
MAX_BLOCKS = 20
#: Largest type, in pixels.
MAX_TYPE_SIZE = 1000
#: What a block may draw (``cover.cover_texts``), and in which face.
TEXTS = ("author_line", "publisher", "series_line", "title")
FACES = ("bold", "italic", "regular")
LAYOUT_KEYS = {"size": True, "background": True, "rule": False, "blocks": True}
RULE_KEYS = ("top", "width", "height", "colour")
BLOCK_KEYS = ("text", "face", "size", "colour", "top", "width", "leading")


def load(text: str, path: Path) -> dict:
    """The layout's values, or ``BuildFailed`` with every problem at its line (``diags.check``)."""
    diags = Collector()
    mapping = load_yaml(text, path, diags)
    diags.check()  # (a YAML that is no mapping has said so)
    assert mapping is not None
    _check(mapping, path, diags)
    diags.check()
    return mapping.data


def _check(mapping: Mapping_, path: Path, diags: Collector) -> None:
    data = mapping.data

    def error(line: int, message: str, code: str = "meta.type") -> None:
        diags.error(SourceLocation(path, line), code, message)

    for key in data:
        if key not in LAYOUT_KEYS:
            error(
                mapping.line(key),
                f"unknown key {key!r} in the cover layout{suggest(key, LAYOUT_KEYS)}",
                "meta.unknown-key",
            )
    for key, required in LAYOUT_KEYS.items():
        if required and key not in data:
            error(mapping.first_line, f"the cover layout lacks the required key {key!r}", "meta.missing")
    size = data.get("size")
    width = height = 0
    if "size" in data:
        if not (isinstance(size, list) and len(size) == 2 and all(_whole(n) and n > 0 for n in size)):
            error(mapping.line("size"), "the cover layout's size must be [width, height] in pixels")
        elif size[0] * size[1] > MAX_COVER_PIXELS:
            error(
                mapping.line("size"),
                f"the cover is {size[0]} x {size[1]} pixels, over {MAX_COVER_PIXELS}",
                "file.size",
            )
        else:
            width, height = size
    if "background" in data:
        _colour(data["background"], "the cover's background", lambda m: error(mapping.line("background"), m))
    rule = data.get("rule")
    if rule is not None:
        _fields(
            rule, RULE_KEYS, "the cover's rule", lambda *steps: mapping.line_at("rule", *steps), error, (width, height)
        )
    blocks = data.get("blocks")
    if "blocks" in data:
        if not isinstance(blocks, list) or not blocks:
            error(mapping.line("blocks"), "the cover layout's blocks must be a list of text blocks")
        elif len(blocks) > MAX_BLOCKS:
            error(mapping.line_at("blocks", MAX_BLOCKS), f"more than {MAX_BLOCKS} blocks on the cover", "meta.length")
        else:
            for number, block in enumerate(blocks, 1):
                _fields(
                    block,
                    BLOCK_KEYS,
                    f"block {number} of the cover",
                    lambda *steps, n=number: mapping.line_at("blocks", n - 1, *steps),
                    error,
                    (width, height),
                )


def _fields(
    value: Any,
    keys: tuple[str, ...],
    what: str,
    line: Callable[..., int],
    error: Callable[..., None],
    picture: tuple[int, int],
) -> None:
    """A rule or a block: a mapping of exactly ``keys``, each value in its range."""
    if not isinstance(value, dict):
        error(line(), f"{what} must be a mapping of {', '.join(keys)}")
        return
    for key in value:
        if key not in keys:
            error(line(key), f"unknown key {key!r} in {what}{suggest(str(key), keys)}", "meta.unknown-key")
    for key in keys:
        if key not in value:
            error(line(), f"{what} lacks the key {key!r}", "meta.missing")
            continue
        item, where = value[key], line(key)
        name = f"{key!r} of {what}"
        if key == "colour":
            _colour(item, name, lambda m, w=where: error(w, m))
        elif key == "text":
            _one_of(item, TEXTS, name, lambda m, w=where: error(w, m))
        elif key == "face":
            _one_of(item, FACES, name, lambda m, w=where: error(w, m))
        elif key == "leading":
            if not (isinstance(item, int | float) and not isinstance(item, bool) and 0.5 <= item <= 5):
                error(where, f"{name} must be a number from 0.5 to 5, not {item!r}")
        else:
            low, high = _range(key, picture)
            if not (_whole(item) and low <= item <= high):
                error(where, f"{name} must be a whole number from {low} to {high}, not {item!r}")


def _range(key: str, picture: tuple[int, int]) -> tuple[int, int]:
    """The whole numbers a rule's or block's key may be: within the picture."""
    width, height = picture
    if key == "size":
        return 1, MAX_TYPE_SIZE
    if key == "top":
        return 0, max(height, 0)
    if key == "height":
        return 0, max(height, 0)
    return 1 if key == "width" else 0, max(width, 1)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _one_of(value: Any, allowed: tuple[str, ...], name: str, error: Callable[[str], None]) -> None:
    if value not in allowed:
        error(f"{name} is {value!r}; it must be one of {', '.join(allowed)}{suggest(str(value), allowed)}")


def _colour(value: Any, name: str, error: Callable[[str], None]) -> None:
    """A colour Pillow draws: a name (``white``) or ``#rrggbb``."""
    try:
        ok = isinstance(value, str) and len(value) <= 40 and bool(ImageColor.getrgb(value))
    except ValueError:
        ok = False
    if not ok:
        error(f"{name} is {value!r}, not a colour: write #rrggbb (#1f3a4d) or a colour name (white)")
