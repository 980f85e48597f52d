"""The only way WeasyPrint may read a resource: files inside allowed folders.

WeasyPrint's default fetcher reads any ``file://`` path and goes out to the
network. This one reads ``file:`` URLs under the sandbox's rule (resolved
inside the project or the font folder, not hidden, a regular file within the
size limit, opened without blocking: the same rule the readers apply) and
``data:`` URLs; everything else is refused and recorded, so the build can
name it.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from .sandbox import RESOURCES, Refusal, read_checked


class SandboxFetcher(URLFetcher):
    def __init__(self, allowed: list[Path]) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self.allowed = [p.resolve() for p in allowed]
        self.refused: list[str] = []
        self.reasons: dict[str, str] = {}  # url -> why it was refused

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parsed = urlparse(url)
        reason = "only files inside the project may be used"
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path))
            result = read_checked(path, self.allowed, RESOURCES, "it")
            if not isinstance(result, Refusal):
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, result, {"Content-Type": mime})
            reason = result.message
        self.refused.append(url)
        self.reasons[url] = reason
        raise URLFetchingError(f"refused: {url}: {reason}")
