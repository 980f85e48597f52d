"""Citations formatted by Pandoc's citeproc in the Chicago notes style.

Pandoc must see each citation in its note, in order, to choose the full form,
the short form or "Ibid."; so every note of a work goes to one Pandoc run as a
footnote, and the formatted citation spans are read back out of its HTML. The
note text around the citations stays ours (rendered by markdown-it), so the two
outputs and the print layout never depend on Pandoc's HTML writer.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree, html

from . import links
from .diagnostics import Collector, Diagnostic
from .model import Note
from .tools import csl_path, pandoc_path

log = logging.getLogger(__name__)

#: Pandoc warnings that are the style working as intended, not problems:
#: CMOS 18 leaves unpublished speeches and manuscripts out of the bibliography.
EXPECTED_WARNINGS = ("Bibliography entry with no printed form",)


@dataclass(frozen=True)
class Formatted:
    citations: dict[str, str]  # citation id -> HTML
    bibliography: tuple[tuple[str, str], ...]  # (key, HTML) in the style's order


def format_notes(notes: Sequence[Note], csl_items: list[dict[str, Any]], lang: str, diags: Collector) -> Formatted:
    if not any(n.citations for n in notes):
        return Formatted({}, ())
    document = _pandoc_document(notes, lang)
    with tempfile.TemporaryDirectory(prefix="edition-cite-") as tmp:
        refs = Path(tmp) / "refs.json"
        refs.write_text(json.dumps(csl_items, ensure_ascii=False), encoding="utf-8")
        result = subprocess.run(
            [
                pandoc_path(),
                "-f",
                "markdown",
                "-t",
                "html5",
                "--wrap=none",
                "--citeproc",
                "--csl",
                str(csl_path()),
                "--bibliography",
                str(refs),
            ],
            input=document,
            capture_output=True,
            text=True,
            check=True,
        )
    _log_warnings(result.stderr)
    return _read_output(result.stdout, notes, diags)


def _pandoc_document(notes: Sequence[Note], lang: str) -> str:
    calls, definitions = [], []
    for i, note in enumerate(notes, 1):
        calls.append(f"x[^n{i}]")
        body = note.source.strip().replace("\n\n", "\n\n    ")
        definitions.append(f"[^n{i}]: {body}")
    meta = f"---\nlang: {json.dumps(lang)}\n---\n\n"
    return meta + "\n\n".join(calls) + "\n\n" + "\n\n".join(definitions) + "\n\n::: {#refs}\n:::\n"


def _log_warnings(stderr: str) -> None:
    for line in stderr.splitlines():
        if any(w in line for w in EXPECTED_WARNINGS):
            log.debug("pandoc: %s", line)
        elif line.strip():
            log.warning("pandoc: %s", line)


def _read_output(output: str, notes: Sequence[Note], diags: Collector) -> Formatted:
    root = html.document_fromstring(output)
    for i, note in enumerate(notes, 1):
        for span in root.xpath(f'//li[@id="fn{i}"]//span[@class="citation"]'):
            _make_safe(span, note)
    for entry in root.xpath('//div[@id="refs"]'):
        _make_safe(entry, None)
    formatted: dict[str, str] = {}
    for i, note in enumerate(notes, 1):
        items = root.xpath(f'//li[@id="fn{i}"]')
        spans = items[0].xpath('.//span[@class="citation"][not(ancestor::span[@class="citation"])]') if items else []
        if len(spans) != len(note.citations):
            diags.error(
                note.location,
                "cite.syntax",
                f"note {note.number}: Pandoc reads {len(spans)} citation(s) here, not {len(note.citations)}; "
                "write each citation as [@key, locator]",
            )
            continue
        for k, (span, citation) in enumerate(zip(spans, note.citations, strict=True)):
            markup = _inner_xml(span)
            if k == 0 and _starts_note(span):
                markup = _capitalize(markup)
            formatted[citation.id] = markup
    bibliography = tuple(
        (entry.get("id", "").removeprefix("ref-"), _inner_xml(entry))
        for entry in root.xpath('//div[@id="refs"]/div[contains(@class, "csl-entry")]')
        if _inner_xml(entry).strip()
    )
    return Formatted(formatted, bibliography)


#: Elements Pandoc's citeproc writes; any other is unwrapped (``img`` is dropped).
ALLOWED_TAGS = {"span", "em", "i", "strong", "b", "sup", "sub", "small", "code", "a", "div", "p", "li", "ol"}
ALLOWED_ATTRIBUTES = {"class", "id", "lang", "dir", "href", "data-cites", "role"}
#: A ``style`` Pandoc writes for CSL formatting (``font-variant:small-caps``): keywords only.
SAFE_STYLE = re.compile(r"(\s*[a-z-]+\s*:\s*[a-z-]+\s*;?)+")


def _make_safe(element: html.HtmlElement, note: Note | None) -> None:
    """Citeproc's markup, reduced to what it may carry into an output: links only
    to web or mail addresses (any other is unwrapped to its text, with a warning
    naming the note), no images, no attributes beyond the formatting ones."""
    warned: set[str] = set()
    for child in list(element.iter()):
        if not isinstance(child.tag, str):
            continue
        if child.tag == "img":
            child.drop_tree()
            continue
        if child.tag not in ALLOWED_TAGS:
            child.drop_tag()
            continue
        for name in list(child.attrib):
            if name == "style" and SAFE_STYLE.fullmatch(child.attrib[name]):
                continue
            if name not in ALLOWED_ATTRIBUTES:
                del child.attrib[name]
        href = child.get("href")
        if href is None or href.startswith("#") or links.external_href(href):
            continue
        if child.tag == "a":
            child.drop_tag()
        else:
            del child.attrib["href"]
        written = child.text_content()
        if href == "https://" + written:  # Pandoc's prefix before a BibTeX url it did not recognise
            href = written
        if note is not None and href not in warned:
            warned.add(href)
            keys = element.get("data-cites") or "a source"
            message = (
                f"the citation of {keys!r} links to {href!r}, which is not an http(s) or mailto address: "
                "it is printed as text, not as a link"
            )
            log.warning("%s", Diagnostic(note.location, "cite.link", message, "warning"))


def _starts_note(span: html.HtmlElement) -> bool:
    """True when the citation is the first thing in its note (CMOS capitalizes it)."""
    parent = span.getparent()
    return parent is not None and parent.tag == "p" and not (parent.text or "").strip() and parent.index(span) == 0


def _inner_xml(element: html.HtmlElement) -> str:
    # Pandoc wraps each rendered cluster in one bare <span>; look through it
    children = list(element)
    if (
        len(children) == 1
        and children[0].tag == "span"
        and not children[0].attrib
        and not (element.text or "").strip()
        and not (children[0].tail or "").strip()
    ):
        element = children[0]
    inner = _escape(element.text or "") + "".join(
        etree.tostring(child, encoding="unicode", method="xml", with_tail=True) for child in element
    )
    return inner.strip()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _capitalize(markup: str) -> str:
    """Upper-case the first letter of the text (not of a tag name)."""
    in_tag = False
    for i, char in enumerate(markup):
        if char == "<":
            in_tag = True
        elif char == ">":
            in_tag = False
        elif not in_tag and char.isalpha():
            return markup[:i] + char.upper() + markup[i + 1 :]
    return markup
