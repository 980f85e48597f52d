"""The manuscript's images: extracted into the work, with Word's alt text.

Pandoc names each image by its place in the package (``media/image1.png`` in
a ``.docx``, ``Pictures/….png`` in an ``.odt``); the import copies it to
``text/images/figure-N.<ext>`` in the order the text shows it. PNG, JPEG,
GIF and WebP are copied byte for byte; a BMP or TIFF is converted to PNG by
Pillow (within the build's pixel limit); a vector image (EMF, WMF, SVG) the
outputs cannot carry is refused with the way to save it as a picture.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any

from PIL import Image as PILImage

from edition.manuscripts.package import Package, refuse
from edition.manuscripts.pandoc_ast import Node, stringify
from edition.read.sandbox import MAX_IMAGE_BYTES
from edition.read.work import IMAGE_FORMATS, MAX_IMAGE_PIXELS

#: Raster formats Pillow reads that the outputs do not carry: converted to PNG.
CONVERTED = {"BMP", "TIFF", "DIB", "PCX", "TGA"}
#: Where the images go, relative to a section file.
FOLDER = "images"


@dataclass
class Extracted:
    """The images written into the work: file name -> bytes, and the source
    member each came from."""

    files: dict[str, bytes] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # package member -> file name


def extract(package: Package, image: Node, extracted: Extracted) -> str:
    """Copy ``image``'s file into ``extracted`` (once per member) and return
    its path relative to a section file."""
    source = image["c"][2][0]
    member = _member(package, source)
    if member not in extracted.names:
        data, ext = _usable(package, member, len(extracted.names) + 1)
        name = f"figure-{len(extracted.names) + 1}{ext}"
        extracted.names[member] = name
        extracted.files[name] = data
    return f"{FOLDER}/{extracted.names[member]}"


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
    if size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise refuse(
            package.path,
            "file.size",
            f"{what} has {size[0]} x {size[1]} pixels, over the limit of {MAX_IMAGE_PIXELS}; make it smaller",
        )
    if fmt in IMAGE_FORMATS:
        return data, IMAGE_FORMATS[fmt][1]
    with PILImage.open(io.BytesIO(data)) as picture:
        buffer = io.BytesIO()
        picture.save(buffer, "PNG")
    return buffer.getvalue(), ".png"


def _format(data: bytes) -> tuple[str, tuple[int, int]] | None:
    """Pillow's name and size of a raster image it reads from the header (never
    decoded here); ``None`` for a vector picture or anything else."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with PILImage.open(io.BytesIO(data)) as picture:
                fmt, size = picture.format or "", picture.size
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


def plain_image(src: str, description: list[Any]) -> Node:
    """The image as the work writes it: no size or other attributes."""
    return {"t": "Image", "c": [["", [], []], description, [src, ""]]}
