"""The manuscript's images: extracted into the work, with Word's alt text.

Pandoc names each image by its place in the package (``media/image1.png`` in
a ``.docx``, ``Pictures/….png`` in an ``.odt``); the import copies it to
``text/images/figure-N.<ext>`` in the order the text shows it. PNG, JPEG,
GIF and WebP are copied byte for byte; a BMP or TIFF is converted to PNG by
Pillow (within the build's pixel limit); an SVG that Word stored with a PNG
copy is taken as that PNG; a vector image (EMF, WMF, SVG) the outputs cannot
carry is refused with the way to save it as a picture. Word's alt text is
the picture's description, or its title when it has none (Word 2010's "Title"
field).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any

from PIL import Image as PILImage

from edition.diagnostics import printable
from edition.manuscripts.package import Package, refuse
from edition.manuscripts.pandoc_ast import Node, stringify, text_inlines
from edition.read.sandbox import MAX_IMAGE_BYTES
from edition.read.work import IMAGE_FORMATS, MAX_IMAGE_PIXELS

#: Raster formats Pillow reads that the outputs do not carry: converted to PNG.
CONVERTED = {"BMP", "TIFF", "DIB", "PCX", "TGA"}
#: Where the images go, relative to a section file.
FOLDER = "images"

R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
A_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
V_IMAGEDATA = "{urn:schemas-microsoft-com:vml}imagedata"
SVG_BLIP = "{http://schemas.microsoft.com/office/drawing/2016/SVG/main}svgBlip"
O_RELID = "{urn:schemas-microsoft-com:office:office}relid"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
DRAW_IMAGE = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}image"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
#: The parts of a .docx whose pictures are part of the text.
TEXT_PARTS = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml")


@dataclass
class Extracted:
    """The images written into the work: file name -> bytes, and the source
    member each came from."""

    files: dict[str, bytes] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # package member -> file name
    fallbacks: dict[str, str] | None = None  # an SVG member -> the PNG Word stored beside it


def extract(package: Package, image: Node, extracted: Extracted) -> str:
    """Copy ``image``'s file into ``extracted`` (once per member) and return
    its path relative to a section file."""
    source = image["c"][2][0]
    member = _member(package, source)
    if extracted.fallbacks is None:
        extracted.fallbacks = _svg_fallbacks(package)
    member = extracted.fallbacks.get(member, member)
    if member not in extracted.names:
        data, ext = _usable(package, member, len(extracted.names) + 1)
        name = f"figure-{len(extracted.names) + 1}{ext}"
        extracted.names[member] = name
        extracted.files[name] = data
    return f"{FOLDER}/{extracted.names[member]}"


def check_linked(package: Package) -> None:
    """Refuse a picture the file links to rather than holds (Word: Insert >
    Pictures > Link to File; a path or URL outside the package): Pandoc would
    drop it without a word, and nothing outside the file is ever read."""
    for target in _linked_targets(package):
        raise refuse(
            package.path,
            "import.image",
            f"the text shows a picture linked to a file outside the document ({printable(target)[:200]}), which "
            "the import never reads: insert the picture into the document itself (Word: Insert > Pictures > "
            "This Device; or Edit Links to Files > Save picture in document) and import again",
        )


def _linked_targets(package: Package) -> list[str]:
    if package.kind == "odt":
        root = package.xml("content.xml")
        hrefs = [e.get(XLINK_HREF) or "" for e in root.iter(DRAW_IMAGE)] if root is not None else []
        return [h for h in hrefs if h and h.lstrip("./") not in package.members]
    found: list[str] = []
    for part in TEXT_PARTS:
        root = package.xml(part)
        if root is None:
            continue
        rels = _relationships(package, part)
        for element in root.iter(A_BLIP, V_IMAGEDATA):
            if element.tag == A_BLIP:
                ids = [element.get(R + "embed")] if element.get(R + "embed") else [element.get(R + "link")]
            else:
                ids = [element.get(R + "id") or element.get(O_RELID)]
            for rel_id in ids:
                if rel_id is None:
                    continue
                target, member = rels.get(rel_id, (rel_id, None))
                if member is None or member not in package.members:
                    found.append(target)
    return found


def _svg_fallbacks(package: Package) -> dict[str, str]:
    """Word 2016 and later store an SVG picture with a PNG copy for readers
    without SVG (the picture's ``a:blip``, the SVG in its ``asvg:svgBlip``
    extension); Pandoc takes the SVG, which the outputs cannot carry: the PNG
    stands in for it."""
    found: dict[str, str] = {}
    for part in TEXT_PARTS if package.kind == "docx" else ():
        root = package.xml(part)
        if root is None:
            continue
        rels = _relationships(package, part)
        for blip in root.iter(A_BLIP):
            png = rels.get(blip.get(R + "embed") or "", ("", None))[1]
            for svg_blip in blip.iter(SVG_BLIP):
                svg = rels.get(svg_blip.get(R + "embed") or "", ("", None))[1]
                if svg and png and png in package.members:
                    found[svg] = png
    return found


def _relationships(package: Package, part: str) -> dict[str, tuple[str, str | None]]:
    """A part's relationships: id -> (target as written, the member it names
    inside the package, or None for an external one)."""
    folder, name = part.rsplit("/", 1)
    root = package.xml(f"{folder}/_rels/{name}.rels")
    out: dict[str, tuple[str, str | None]] = {}
    if root is None:
        return out
    for rel in root.iter(RELS):
        target = rel.get("Target") or ""
        if rel.get("TargetMode") == "External":
            out[rel.get("Id") or ""] = (target, None)
            continue
        parts = [] if target.startswith("/") else folder.split("/")
        for piece in target.lstrip("/").split("/"):
            if piece == "..":
                if not parts:
                    parts = None
                    break
                parts.pop()
            elif piece not in ("", "."):
                parts.append(piece)
        out[rel.get("Id") or ""] = (target, "/".join(parts) if parts is not None else None)
    return out


def _member(package: Package, source: str) -> str:
    for candidate in (source, f"word/{source}", source.lstrip("/")):
        if candidate in package.members:
            return candidate
    raise refuse(
        package.path,
        "import.image",
        f"the text shows an image {source!r} that the file does not hold (a linked picture?); "
        "insert the picture into the document itself (Word: Insert > Pictures > This Device) and import again",
    )


def _usable(package: Package, member: str, number: int) -> tuple[bytes, str]:
    data = package.members[member]
    what = f"image {number} ({member})"
    if len(data) > MAX_IMAGE_BYTES:
        raise refuse(
            package.path,
            "file.size",
            f"{what} is {len(data)} bytes, over the {MAX_IMAGE_BYTES}-byte limit for images; make it smaller and import again",
        )
    kind = _format(data)
    if kind is None:
        suffix = _vector_kind(data) or member.rsplit(".", 1)[-1].upper()
        raise refuse(
            package.path,
            "import.image",
            f"{what} is a {suffix} picture, which the outputs cannot carry (they take PNG, JPEG, GIF and WebP); "
            "save it as a PNG picture (Word: right-click > Save as Picture), insert that instead and import again",
        )
    fmt, size = kind
    if size is None or size[0] * size[1] > MAX_IMAGE_PIXELS:
        declared = f"{size[0]} x {size[1]} pixels" if size else "more pixels than Pillow opens (a decompression bomb?)"
        raise refuse(
            package.path,
            "file.size",
            f"{what} has {declared}, over the limit of {MAX_IMAGE_PIXELS} pixels; make it smaller and import again",
        )
    if fmt in IMAGE_FORMATS:
        return data, IMAGE_FORMATS[fmt][1]
    try:
        with PILImage.open(io.BytesIO(data)) as picture:
            buffer = io.BytesIO()
            picture.save(buffer, "PNG")
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for a damaged file
        raise refuse(
            package.path,
            "import.image",
            f"{what} is a damaged {fmt} picture ({type(exc).__name__}); insert it again as a PNG picture",
        ) from None
    return buffer.getvalue(), ".png"


def _format(data: bytes) -> tuple[str, tuple[int, int] | None] | None:
    """Pillow's name and size of a raster image it reads from the header (never
    decoded here), the size ``None`` for one declaring more pixels than
    Pillow opens at all; ``None`` for a vector picture or anything else."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with PILImage.open(io.BytesIO(data)) as picture:
                fmt, size = picture.format or "", picture.size
    except PILImage.DecompressionBombError:
        return "", None
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a file it cannot read
        return None
    if fmt in IMAGE_FORMATS or fmt in CONVERTED:
        return fmt, size
    return None


def _vector_kind(data: bytes) -> str:
    """The vector formats Word stores pictures in, by their signature."""
    if data[40:44] == b" EMF":
        return "EMF"
    if data.startswith((b"\xd7\xcd\xc6\x9a", b"\x01\x00\x09\x00")):
        return "WMF"
    if b"<svg" in data[:1024]:
        return "SVG"
    return ""


def alt_text(image: Node) -> str:
    return " ".join(stringify(image["c"][1]).split())


def with_title_as_alt(image: Node) -> None:
    """An image whose alt text Word kept as its title only (Pandoc's image
    title): the title is the description."""
    title = " ".join(image["c"][2][1].split())
    if not alt_text(image) and title:
        image["c"][1] = text_inlines(title)


def plain_image(src: str, description: list[Any]) -> Node:
    """The image as the work writes it: no size or other attributes."""
    return {"t": "Image", "c": [["", [], []], description, [src, ""]]}
