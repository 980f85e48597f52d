"""The EPUB cover image, drawn from the metadata by the layout in
``templates/epub/cover.yaml`` with Pillow and the edition's own font."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from edition.diagnostics import BuildFailed, Diagnostic
from edition.fonts import scripts
from edition.fonts.faces import FACES, FONT_DIR
from edition.infra import cache, fingerprints
from edition.model import Edition, SourceLocation
from edition.outputs.epub import cover_layout
from edition.render.printed import plain
from edition.render.templates import read_template

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
            "series_line": f"{plain(reader.course_code)}, {plain(reader.term)}",
            "publisher": plain(reader.institution),
        }
    meta = edition.main.meta
    smart = meta.smart_quotes
    series = plain(meta.series, smart)
    if series and meta.number:
        series = f"{series} No. {plain(meta.number, smart)}"
    return {
        "title": meta.title,
        "author_line": meta.author_line,
        "series_line": series,
        "publisher": plain(meta.publisher, smart),
    }


def cover_alt(texts: dict[str, str], layout_path: Path) -> str:
    """The cover's text alternative: every text the layout draws on it, the
    title first and the author after "by", the others in the order drawn."""
    spec = _layout(layout_path)  # under the sandbox's rule and the YAML limits, as the drawing reads it
    drawn = [b["text"] for b in spec["blocks"] if texts.get(b["text"])]
    parts = [f"Cover: {texts['title']}"] if "title" in drawn else ["Cover"]
    if "author_line" in drawn:
        parts.append(f"by {texts['author_line']}")
    parts += [texts[name] for name in drawn if name not in ("title", "author_line")]
    return ", ".join(parts) + "."


def _layout(path: Path) -> dict:
    """The cover layout, read under the sandbox rule and loaded within the YAML limits."""
    where = SourceLocation(path)
    text = read_template(path, path.parents[2])
    if text is None:
        raise BuildFailed([Diagnostic(where, "file.missing", "the cover layout is missing")])
    return cover_layout.load(text, path)


class Faces:
    """One face of the cover's text at one size: Charis, and for a character it
    lacks the edition's font for that script (a Korean or Arabic title is drawn,
    not printed as boxes)."""

    def __init__(self, face: str, size: int) -> None:
        self.face, self.size = face, size
        self.charis = ImageFont.truetype(str(FONT_DIR / FACE_FILES[face]), size)
        self._fonts: dict[str, ImageFont.FreeTypeFont] = {}

    def font(self, char: str) -> ImageFont.FreeTypeFont:
        fallback = scripts.font_for(char)
        if fallback is None:
            return self.charis
        if fallback.family not in self._fonts:
            path = {"bold": fallback.bold, "italic": fallback.italic or fallback.regular}.get(
                self.face, fallback.regular
            )
            self._fonts[fallback.family] = ImageFont.truetype(str(path), self.size, index=fallback.index)
        return self._fonts[fallback.family]

    def runs(self, text: str) -> list[tuple[str, ImageFont.FreeTypeFont]]:
        """The text in runs of one font each (a space stays in the run it ends)."""
        runs: list[tuple[str, ImageFont.FreeTypeFont]] = []
        for char in text:
            font = runs[-1][1] if runs and char.isspace() else self.font(char)
            if runs and runs[-1][1] is font:
                runs[-1] = (runs[-1][0] + char, font)
            else:
                runs.append((char, font))
        return runs

    def length(self, draw: ImageDraw.ImageDraw, text: str) -> float:
        return sum(draw.textlength(run, font=font) for run, font in self.runs(text))


def _wrap(draw: ImageDraw.ImageDraw, text: str, faces: Faces, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and faces.length(draw, candidate) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def draw_cover(texts: dict[str, str], layout_path: Path) -> bytes:
    """The cover as a PNG; drawn once for its texts, layout, fonts and code (``cache``)."""
    layout = _layout(layout_path)  # checked before anything is looked up
    fonts = [fingerprints.file_sha256(FONT_DIR / face.file) for face in FACES]
    system = [f"{p} {p.stat().st_size} {p.stat().st_mtime_ns}" for p in scripts.font_files() if p.exists()]
    key = fingerprints.key(
        "cover",
        fingerprints.code_version(),
        json.dumps(texts, sort_keys=True),
        json.dumps(layout, sort_keys=True, default=str),
        *fonts,
        *system,
    )
    store = cache.active()
    found = store.get("cover", key) if store is not None else None
    if found is None or not found.startswith(PNG_SIGNATURE):
        found = _drawn[key] if key in _drawn else _draw(texts, layout)
        if store is not None:
            store.put("cover", key, found)
    _drawn[key] = found
    return found


PNG_SIGNATURE = bytes.fromhex("89504e470d0a1a0a")
_drawn: dict[str, bytes] = {}


def _draw(texts: dict[str, str], spec: dict) -> bytes:
    width, height = spec["size"]
    image = Image.new("RGB", (width, height), spec["background"])
    draw = ImageDraw.Draw(image)
    for block in spec["blocks"]:
        text = texts.get(block["text"], "")
        if not text:
            continue
        faces = Faces(block["face"], block["size"])
        y = block["top"]
        for line in _wrap(draw, text, faces, block["width"]):
            x = (width - faces.length(draw, line)) / 2
            baseline = y + faces.charis.getmetrics()[0]  # every run on Charis's baseline
            for run, font in faces.runs(line):
                draw.text((x, baseline), run, font=font, fill=block["colour"], anchor="ls")
                x += draw.textlength(run, font=font)
            y += int(block["size"] * block["leading"])
    rule = spec.get("rule")
    if rule:
        left = (width - rule["width"]) // 2
        draw.rectangle([left, rule["top"], left + rule["width"], rule["top"] + rule["height"]], fill=rule["colour"])
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
