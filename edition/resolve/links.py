"""Which addresses may become links in an output: web and mail addresses only.

Content, BibTeX and metadata come from strangers. A ``file:`` link in a PDF
opens a file on the reader's disk, ``javascript:`` runs in an EPUB reading
system, a relative link becomes a ``file:`` link in WeasyPrint's PDF. So an
address becomes a link only when it is ``http`` or ``https`` with a host, or
``mailto`` with an address; anything else stays text. Every place that makes
a link from input asks ``external_href``; ``unsafe_links`` checks finished
markup, so a new place that forgets cannot publish one.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

#: Characters never allowed in a link: C0 controls, space, DEL.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")
#: ``<a ... href="...">`` in finished (X)HTML, as our templates and renderer write it.
_ANCHOR_HREF = re.compile(r"<a\b[^>]*?\shref=\"([^\"]*)\"", re.IGNORECASE)
#: A host name: labels of letters, digits and inner hyphens (any script), or an IPv6 literal.
_HOST = re.compile(r"(?:[^\W_](?:[^\W_]|-)*\.)*[^\W_](?:[^\W_]|-)*\.?|\[[0-9A-Fa-f:.]+\]")
#: A link to a place in the same output: ``#id``, or an EPUB file of ours with an optional ``#id``.
_INTERNAL = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._-]*\.xhtml)?(?:#[^\s\"<>]*)?")


def external_href(url: str) -> str | None:
    """``url`` when it may become a link, else None: ``http(s)://`` with a real
    host name (Pandoc writes ``https://`` before a BibTeX ``url`` it does not
    recognise, so ``https://javascript:alert(1)`` must fail here too), or
    ``mailto:`` with an address."""
    if not url or _FORBIDDEN.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            return None
        host = parts.netloc.rpartition("@")[2]
        host = host.rsplit(":", 1)[0] if not host.endswith("]") and ":" in host else host
        return url if host and _HOST.fullmatch(host) and not host.endswith("-") else None
    if scheme == "mailto" and "@" in parts.path and not parts.netloc:
        return url
    return None


def unsafe_links(markup: str) -> list[str]:
    """The ``href``s of anchors in ``markup`` that are neither internal nor allowed."""
    out = []
    for match in _ANCHOR_HREF.finditer(markup):
        href = html.unescape(match.group(1))
        if href and _INTERNAL.fullmatch(href):
            continue
        if external_href(href) is None:
            out.append(href)
    return out


def linking_only_where_it_may(markup: str, where: str) -> str:
    """``markup``, after making sure it links nowhere it may not (a bug otherwise)."""
    bad = unsafe_links(markup)
    if bad:
        raise RuntimeError(f"{where} would link to {bad[0]!r}, which is not an http(s) or mailto address")
    return markup
