"""The only way WeasyPrint may read a resource: files inside allowed folders.

WeasyPrint's default fetcher reads any ``file://`` path and goes out to the
network. This one allows ``file:`` URLs that resolve (symlinks followed) inside
the project or the font folder, and ``data:`` URLs; everything else is refused
and recorded, so the build can name it. Every file it reads is noted in the
read log and in ``fetched`` (the PDF/A embeds the project's files among them).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from . import readlog


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
        self.fetched: list[Path] = []

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path)).resolve()
            if path.is_file() and any(path.is_relative_to(root) for root in self.allowed):
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                self.fetched.append(path)
                return _Read(url, readlog.read_once(path), {"Content-Type": mime})
        self.refused.append(url)
        raise URLFetchingError(f"refused: {url} is outside the project")
