"""The EPUB cover image, drawn from the metadata by the layout in
``templates/epub/cover.yaml`` with Pillow and the edition's own font."""

from __future__ import annotations

import io
from pathlib import Path

import yaml
from PIL import Image, ImageDraw, ImageFont

from ..fonts import FACES, FONT_DIR
from ..model import Edition

FACE_FILES = {
    "regular": FACES[0].file,
    "italic": FACES[1].file,
    "bold": FACES[2].file,
}


def cover_texts(edition: Edition) -> dict[str, str]:
    if edition.reader:
        reader = edition.reader
        return {
            "title": reader.title,
            "author_line": reader.instructor,
            "series_line": f"{reader.course_code}, {reader.term}",
            "publisher": reader.institution,
        }
    meta = edition.main.meta
    series = f"{meta.series} No. {meta.number}" if meta.series and meta.number else meta.series
    return {
        "title": meta.title,
        "author_line": meta.author_line,
        "series_line": series,
        "publisher": meta.publisher,
    }


def cover_alt(texts: dict[str, str], layout_path: Path) -> str:
    """The cover's text alternative: every text the layout draws on it, the
    title first and the author after "by", the others in the order drawn."""
    spec = yaml.safe_load(layout_path.read_text(encoding="utf-8"))
    drawn = [b["text"] for b in spec["blocks"] if texts.get(b["text"])]
    parts = [f"Cover: {texts['title']}"] if "title" in drawn else ["Cover"]
    if "author_line" in drawn:
        parts.append(f"by {texts['author_line']}")
    parts += [texts[name] for name in drawn if name not in ("title", "author_line")]
    return ", ".join(parts) + "."


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def draw_cover(texts: dict[str, str], layout_path: Path) -> bytes:
    spec = yaml.safe_load(layout_path.read_text(encoding="utf-8"))
    width, height = spec["size"]
    image = Image.new("RGB", (width, height), spec["background"])
    draw = ImageDraw.Draw(image)
    for block in spec["blocks"]:
        text = texts.get(block["text"], "")
        if not text:
            continue
        font = ImageFont.truetype(str(FONT_DIR / FACE_FILES[block["face"]]), block["size"])
        y = block["top"]
        for line in _wrap(draw, text, font, block["width"]):
            line_width = draw.textlength(line, font=font)
            draw.text(((width - line_width) / 2, y), line, font=font, fill=block["colour"])
            y += int(block["size"] * block["leading"])
    rule = spec.get("rule")
    if rule:
        left = (width - rule["width"]) // 2
        draw.rectangle([left, rule["top"], left + rule["width"], rule["top"] + rule["height"]], fill=rule["colour"])
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
