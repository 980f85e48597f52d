"""What an EPUB page makes the reading system load: only files of the book.

The pages are written by templates, and a template comes from whoever made
the project: it could write ``<img src="https://tracker/…">``, a
``<link>`` to a stylesheet on the web, ``style="background:url(…)"``, a
``<style>`` with ``@import``, a ``<script>`` or an ``onload=``. Content
cannot (raw HTML is refused, ``mdcheck``), and the template stylesheets are
checked (``cssrefs``); this checks the finished pages, so no template can
make the book fetch or run anything. A link (``<a href>``) is not a load: it
goes where the reader chooses, under ``links``' rule.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from lxml import etree

from edition.outputs.epub import cssrefs

#: Elements that run code, embed another document or load media on their own.
REFUSED_ELEMENTS = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "audio", "video", "source", "track", "base"}
)
#: Attributes that name a resource to load.
RESOURCE_ATTRIBUTES = frozenset(
    {"src", "srcset", "poster", "data", "background", "action", "formaction", "ping", "manifest", "longdesc"}
)
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
#: Elements whose ``href`` is a link the reader follows, not a load.
LINKS = frozenset({"a", "area"})


def problems(xhtml: bytes | str) -> list[str]:
    """What in an XHTML page would load or run something that is not a file of the book."""
    data = xhtml.encode() if isinstance(xhtml, str) else xhtml
    root = etree.fromstring(data, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    found: list[str] = []
    if root is None:
        return ["a page that cannot be read as XHTML"]
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname.lower()
        if name in REFUSED_ELEMENTS:
            found.append(f"a <{name}> element")
        if name == "meta" and element.get("http-equiv"):
            found.append(f'<meta http-equiv="{element.get("http-equiv")}">')
        if name == "style" and cssrefs.fetches(element.text or ""):
            found.append(f"a <style> with {cssrefs.fetches(element.text or '')[0][1]}…")
        for attribute, value in element.attrib.items():
            local = etree.QName(attribute).localname.lower()
            if local.startswith("on"):
                found.append(f"a script ({local}=)")
            elif local == "style" and cssrefs.fetches_in_declarations(value):
                found.append(f"a style= with {cssrefs.fetches_in_declarations(value)[0][1]}…")
            elif (
                local in RESOURCE_ATTRIBUTES or attribute == XLINK_HREF or (local == "href" and name not in LINKS)
            ) and (not _in_book(value, srcset=local == "srcset")):
                found.append(f"{local}={value!r}")
    return found


def _in_book(value: str, srcset: bool = False) -> bool:
    """A path to a file of the book: relative, below the page's folder."""
    refs = [part.strip().split()[0] for part in value.split(",") if part.strip()] if srcset else [value.strip()]
    for ref in refs:
        try:
            parts = urlsplit(ref)
        except ValueError:
            return False
        path = parts.path
        if parts.scheme or parts.netloc or path.startswith("/") or "\\" in ref or ".." in path.split("/"):
            return False
    return True
