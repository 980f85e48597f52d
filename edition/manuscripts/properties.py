"""The document's properties: what Word and LibreOffice record about a file.

Pandoc reads the title, subtitle, authors and date that the text itself
gives (paragraphs in the Title, Subtitle, Author and Date styles); the file's
properties (File > Properties: ``docProps/core.xml`` in a ``.docx``,
``meta.xml`` in an ``.odt``) give what the text does not: the title, the
author, the language, the dates. The citation style a Zotero document was
written in is among its custom properties (``ZOTERO_PREF_1``, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from edition.manuscripts.package import SAFE_XML, Package

DC = "{http://purl.org/dc/elements/1.1/}"
DCTERMS = "{http://purl.org/dc/terms/}"
CP = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
META = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}"
STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
FO = "{urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0}"
VT = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}"
CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"

LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
#: Names Word and its templates leave in the properties that name no one.
NO_AUTHOR = {"", "user", "author", "unknown", "owner", "administrator", "admin", "microsoft office user", "python-docx"}


@dataclass(frozen=True)
class Properties:
    title: str = ""
    authors: tuple[str, ...] = ()
    language: str = ""
    created: str = ""  # YYYY-MM-DD
    modified: str = ""
    zotero_style: str = ""  # the Zotero document's CSL style id (a URL)


def properties(package: Package) -> Properties:
    if package.kind == "docx":
        return _word(package)
    return _odf(package)


def _word(package: Package) -> Properties:
    core = package.xml("docProps/core.xml")
    title = _text(core, DC + "title")
    creator = _text(core, DC + "creator")
    language = _text(core, DC + "language") or _word_default_language(package.xml("word/styles.xml"))
    return Properties(
        title=title,
        authors=_authors(creator),
        language=_language(language),
        created=_day(_text(core, DCTERMS + "created")),
        modified=_day(_text(core, DCTERMS + "modified")),
        zotero_style=_zotero_style(package.xml("docProps/custom.xml")),
    )


def _odf(package: Package) -> Properties:
    meta = package.xml("meta.xml")
    creator = _text(meta, DC + "creator") or _text(meta, META + "initial-creator")
    language = _text(meta, DC + "language") or _odf_default_language(package.xml("styles.xml"))
    return Properties(
        title=_text(meta, DC + "title"),
        authors=_authors(creator),
        language=_language(language),
        created=_day(_text(meta, META + "creation-date")),
        modified=_day(_text(meta, DC + "date")),
    )


def _text(root: etree._Element | None, tag: str) -> str:
    if root is None:
        return ""
    element = next(root.iter(tag), None)
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _authors(creator: str) -> tuple[str, ...]:
    names = [" ".join(n.split()) for n in re.split(r";|\band\b|&", creator)]
    return tuple(n for n in names if n and n.lower() not in NO_AUTHOR)


def _language(tag: str) -> str:
    tag = tag.replace("_", "-").strip()
    return tag if LANGUAGE_RE.match(tag) and tag.lower() not in ("x-none", "und") else ""


def _day(stamp: str) -> str:
    match = re.match(r"^(\d{4}-\d{2}-\d{2})", stamp)
    return match.group(1) if match else ""


def _word_default_language(styles: etree._Element | None) -> str:
    if styles is None:
        return ""
    for defaults in styles.iter(W + "rPrDefault"):
        for lang in defaults.iter(W + "lang"):
            return lang.get(W + "val") or ""
    return ""


def _odf_default_language(styles: etree._Element | None) -> str:
    if styles is None:
        return ""
    for default in styles.iter(STYLE + "default-style"):
        if default.get(STYLE + "family") != "paragraph":
            continue
        for props in default.iter(STYLE + "text-properties"):
            language, country = props.get(FO + "language"), props.get(FO + "country")
            if language and language != "none":
                return f"{language}-{country}" if country and country != "none" else language
    return ""


def _zotero_style(custom: etree._Element | None) -> str:
    """The style id in Zotero's document preferences (split over
    ``ZOTERO_PREF_1``, ``ZOTERO_PREF_2``, ... when long)."""
    if custom is None:
        return ""
    parts: dict[int, str] = {}
    for prop in custom.iter(CUSTOM + "property"):
        match = re.fullmatch(r"ZOTERO_PREF_(\d+)", prop.get("name") or "")
        if match:
            parts[int(match.group(1))] = "".join(prop.itertext())
    if not parts:
        return ""
    prefs = "".join(parts[k] for k in sorted(parts))
    try:
        root = etree.fromstring(prefs.encode("utf-8"), SAFE_XML)
    except etree.XMLSyntaxError:
        return ""
    style = next(root.iter("style"), None)
    return (style.get("id") or "") if style is not None else ""
