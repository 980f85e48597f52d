"""The only way WeasyPrint may read a resource: files inside allowed folders.

WeasyPrint's default fetcher reads any ``file://`` path and goes out to the
network. This one reads ``file:`` URLs under the sandbox's rule (resolved
inside the project or the font folder, not hidden, a regular file within the
size limit, opened without blocking: the same rule the readers apply) and
``data:`` URLs; everything else is refused and recorded, so the build can
name it. A file the build has read already is served with the bytes it read
(the read log); every file served is noted in ``fetched`` (the PDF/A embeds
the project's files among them).
"""

from __future__ import annotations

import functools
import io
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from edition.read import readlog
from edition.read.sandbox import RESOURCES, Refusal, check, read_checked

#: Image modes WeasyPrint cannot write (it logs "Unknown image mode" and writes
#: the samples as 8-bit RGB: noise): 16-bit greys, which PNG carries.
SIXTEEN_BIT_GREYS = ("I;16", "I;16L", "I;16B", "I;16N")


def printable(data: bytes, mime: str) -> bytes:
    """The bytes of an image WeasyPrint can draw: a 16-bit grey image becomes
    its 8-bit grey (the PDF's images are 8 bits a sample), turned as its EXIF
    orientation says, its transparent grey (a PNG's tRNS key) an alpha channel;
    anything else is served as read. The EPUB keeps the file as the author
    made it."""
    if not mime.startswith("image/") or mime == "image/svg+xml":
        return data
    return _eight_bit(data)


@functools.lru_cache(maxsize=32)
def _eight_bit(data: bytes) -> bytes:
    """(Kept per process: every layout of a build fetches its images again.)"""
    from PIL import Image, ImageMath, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as picture:
            if picture.mode not in SIXTEEN_BIT_GREYS:
                return data
            key = picture.info.get("transparency")
            turned = ImageOps.exif_transpose(picture)
            wide = turned.convert("I")
            grey = wide.point(lambda value: value * (255 / 65535) + 0.5).convert("L")
            if isinstance(key, int):
                alpha = ImageMath.lambda_eval(lambda image: (image["a"] != key) * 255, a=wide).convert("L")
                grey = Image.merge("LA", (grey, alpha))
    except (OSError, ValueError, Image.DecompressionBombError):
        return data  # WeasyPrint says what it makes of it
    out = io.BytesIO()
    grey.save(out, format="PNG")
    return out.getvalue()


class _Read(URLFetcherResponse):
    """A response that carries the bytes read and no file path: given a path,
    WeasyPrint reads an image file again when it writes the PDF, which would
    put other bytes in the PDF than the ones checked here (and in the EPUB)."""

    @property
    def path(self) -> None:
        return None


class SandboxFetcher(URLFetcher):
    def __init__(self, allowed: list[Path]) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self.allowed = [p.resolve() for p in allowed]
        self.refused: list[str] = []
        self.reasons: dict[str, str] = {}  # url -> why it was refused
        self.fetched: list[Path] = []

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parsed = urlparse(url)
        reason = "only files inside the project may be used"
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path))
            result = check(path, self.allowed, RESOURCES, "it") or readlog.bytes_of(path)
            if result is None:
                result = read_checked(path, self.allowed, RESOURCES, "it")
            if not isinstance(result, Refusal):
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                self.fetched.append(path)
                return _Read(url, printable(result, mime), {"Content-Type": mime})
            reason = result.message
        self.refused.append(url)
        self.reasons[url] = reason
        raise URLFetchingError(f"refused: {url}: {reason}")
