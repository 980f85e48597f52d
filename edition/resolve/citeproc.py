"""Citations formatted by Pandoc's citeproc, in the work's CSL style.

Pandoc must see every citation in order to choose the full form, the short
form or "Ibid."; so each work's citations go to one Pandoc run, in the order
a reader meets them: each written note as a footnote (its Markdown as
written), each citation of the running text as it stands in the text. Only
the formatted citation spans are read back out of Pandoc's HTML; the text
around them stays ours (rendered by markdown-it), so the outputs and the print
layout never depend on Pandoc's HTML writer.

With a note style, Pandoc turns a citation of the running text into a
footnote: its text is the automatic note's, and a narrative citation's name
(``@a`` -> "Suzy Kim") stays in the text. With an in-text style the
formatted citation ("(Kim 2001, 12)") stands in the text.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree, html

from edition.diagnostics import Collector, Diagnostic
from edition.infra.tools import csl_path, run_pandoc
from edition.model import Citation, Note, SourceLocation
from edition.read import readlog
from edition.resolve import links

log = logging.getLogger(__name__)

#: Pandoc warnings that are the style working as intended, not problems:
#: CMOS 18 leaves unpublished speeches and manuscripts out of the bibliography.
EXPECTED_WARNINGS = ("Bibliography entry with no printed form",)
#: The id suffix of a narrative citation's name in the text (the rest of it is
#: in its automatic note).
AUTHOR = "-author"

#: What a work's citations are, in reading order: a note (written, or made
#: from a citation of the running text), or a citation standing in the text.
Event = Note | Citation


@dataclass(frozen=True)
class Formatted:
    citations: dict[str, str]  # citation id -> HTML
    bibliography: tuple[tuple[str, str], ...]  # (key, HTML) in the style's order


def format_notes(
    notes: Sequence[Event],
    csl_items: list[dict[str, Any]],
    lang: str,
    diags: Collector,
    style: Path | None = None,
    nocite: Sequence[str] = (),
) -> Formatted:
    """Format every citation of ``notes`` (written notes, automatic notes and
    citations of the running text, in reading order) in one Pandoc run;
    ``nocite`` names sources the bibliography lists all the same (cited
    elsewhere, as in a table's source line)."""
    events = list(notes)
    if not events and not nocite:  # (a note without citations still goes: Pandoc may read one we do not)
        return Formatted({}, ())
    document = pandoc_document(events, lang, nocite)
    refs = json.dumps(csl_items, ensure_ascii=False).encode("utf-8")
    stdout, stderr = run_pandoc(
        ["-f", "markdown", "-t", "html5", "--wrap=none", "--citeproc", "--csl", "{style.csl}"]
        + ["--bibliography", "{refs.json}"],
        document.encode("utf-8"),
        {"style.csl": readlog.read_once(style or csl_path()), "refs.json": refs},
    )
    _log_warnings(stderr)
    return _read_output(stdout.decode("utf-8"), events, diags)


def pandoc_document(events: Sequence[Event], lang: str, nocite: Sequence[str] = ()) -> str:
    """One fenced div per event, in order; written notes as footnotes."""
    parts, definitions = [], []
    for k, event in enumerate(events, 1):
        if isinstance(event, Note) and not event.auto:
            parts.append(f"::: {{#e{k}}}\nx[^n{k}]\n:::")
            body = event.source.strip().replace("\n\n", "\n\n    ")
            definitions.append(f"[^n{k}]: {body}")
        else:
            raw = event.source if isinstance(event, Note) else event.raw
            parts.append(f"::: {{#e{k}}}\nx {raw.strip()}\n:::")
    listed = f"nocite: {json.dumps(', '.join(f'@{{{key}}}' for key in nocite))}\n" if nocite else ""
    meta = f"---\nlang: {json.dumps(lang)}\n{listed}---\n\n"
    return meta + "\n\n".join(parts) + "\n\n" + "\n\n".join(definitions) + "\n\n::: {#refs}\n:::\n"


def _log_warnings(stderr: str) -> None:
    for line in stderr.splitlines():
        if any(w in line for w in EXPECTED_WARNINGS):
            log.debug("pandoc: %s", line)
        elif line.strip():
            log.warning("pandoc: %s", line)


def _read_output(output: str, events: Sequence[Event], diags: Collector) -> Formatted:
    root = html.document_fromstring(output)
    # every element by id, found in one pass: a search per note made 5,000 notes quadratic
    by_id = _by_id(root)
    for k, event in enumerate(events, 1):
        div = by_id.get(f"e{k}")
        if div is not None and div.tag == "div":
            item = _note_item(by_id, div)
            _make_safe(div, event.location)
            if item is not None:
                _make_safe(item, event.location)
    for refs in root.xpath('//div[@id="refs"]'):
        _make_safe(refs, None)
    formatted: dict[str, str] = {}
    by_id = _by_id(root)  # (again: making the markup safe unwrapped some elements)
    for k, event in enumerate(events, 1):
        div = by_id.get(f"e{k}")
        if div is None or div.tag != "div":
            _mismatch(event, 0, diags)
            continue
        if isinstance(event, Note) and not event.auto:
            _read_written_note(by_id, div, event, formatted, diags)
        else:
            _read_text_citation(by_id, div, event, formatted, diags)
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


def _make_safe(element: html.HtmlElement, location: SourceLocation | None) -> None:
    """Citeproc's markup, reduced to what it may carry into an output: links only
    to web or mail addresses (any other is unwrapped to its text, with a warning
    at ``location``), no images, no attributes beyond the formatting ones."""
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
        cites = child.xpath('ancestor::span[@class="citation"]/@data-cites')
        written = child.text_content()
        if child.tag == "a":
            child.drop_tag()
        else:
            del child.attrib["href"]
        if href == "https://" + written:  # Pandoc's prefix before a BibTeX url it did not recognise
            href = written
        if location is not None and href not in warned:
            warned.add(href)
            keys = str(cites[0]) if cites else "a source"
            message = (
                f"the citation of {keys!r} links to {href!r}, which is not an http(s) or mailto address: "
                "it is printed as text, not as a link"
            )
            log.warning("%s", Diagnostic(location, "cite.link", message, "warning"))


def _by_id(root: html.HtmlElement) -> dict[str, html.HtmlElement]:
    return {element.get("id"): element for element in root.iter() if isinstance(element.tag, str) and element.get("id")}


def _note_item(by_id: dict[str, html.HtmlElement], div: html.HtmlElement) -> html.HtmlElement | None:
    refs = div.xpath('.//a[contains(@class, "footnote-ref")]')
    if not refs:
        return None
    item = by_id.get(refs[0].get("href", "").lstrip("#"))
    return item if item is not None and item.tag == "li" else None


def _top_spans(element: html.HtmlElement) -> list[html.HtmlElement]:
    return element.xpath('.//span[@class="citation"][not(ancestor::span[@class="citation"])]')


def _read_written_note(
    by_id: dict[str, html.HtmlElement], div: html.HtmlElement, note: Note, formatted: dict[str, str], diags: Collector
) -> None:
    item = _note_item(by_id, div)
    spans = _top_spans(item) if item is not None else []
    if len(spans) != len(note.citations):
        _mismatch(note, len(spans), diags)
        return
    for k, (span, citation) in enumerate(zip(spans, note.citations, strict=True)):
        markup = _inner_xml(span)
        if k == 0 and _starts_note(span):
            markup = _capitalize(markup)
        formatted[citation.id] = markup


def _read_text_citation(
    by_id: dict[str, html.HtmlElement], div: html.HtmlElement, event: Event, formatted: dict[str, str], diags: Collector
) -> None:
    """A citation of the running text: its automatic note (note styles) and
    whatever stands in the text (a narrative citation's name, or the whole
    citation with an in-text style)."""
    citation = event.citations[0] if isinstance(event, Note) else event
    spans = _top_spans(div)
    if len(spans) != 1:
        _mismatch(event, len(spans), diags)
        return
    span = spans[0]
    item = _note_item(by_id, div)
    for ref in span.xpath('.//a[contains(@class, "footnote-ref")]'):
        ref.drop_tree()
    in_text = _inner_xml(span)
    if isinstance(event, Note):
        if item is None:
            _mismatch(event, 0, diags)
            return
        for back in item.xpath('.//a[contains(@class, "footnote-back")]'):
            back.drop_tree()
        paragraphs = item.xpath("./p")
        formatted[citation.id] = _capitalize(_inner_xml(paragraphs[0] if paragraphs else item))
        if citation.narrative:
            formatted[citation.id + AUTHOR] = in_text
    else:
        formatted[citation.id] = in_text


def _mismatch(event: Event, found: int, diags: Collector) -> None:
    if isinstance(event, Note) and not event.auto:
        where, what = f"note {event.number}: ", f"not {len(event.citations)}"
    else:
        where, what = "", "not 1"
    location = event.location
    diags.error(
        location,
        "cite.syntax",
        f"{where}Pandoc reads {found} citation(s) here, {what}; write each citation as [@key, locator] or @key [locator]",
    )


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
