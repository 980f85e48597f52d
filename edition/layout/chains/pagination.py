"""Our pagination driver over WeasyPrint: lay a document out once, then lay
it out again from the first page a change can move.

WeasyPrint paginates with a state machine: ``context.page_maker[i]`` holds
where page ``i`` begins in the box tree (``resume_at``, a path of child
indexes), the break that opens it, its side and its counters; page ``i`` is a
function of that state and of the boxes after it. Its own ``make_all_pages``
already re-makes only the pages whose content changed and takes the later
pages over once a page ends where it ended before (the states are equal).
``HTML.render()`` starts that machine afresh for every layout.

This module keeps a layout (``Pagination``) and, given the HTML of the next
make-up round, lays out again only what the change can move: it finds the
elements that differ between the two documents, and the page before the one
each begins on; carries the earlier layout's states over to the new box tree
(their paths translated, an inserted element shifting its later siblings);
tells the new layout where every anchor of the kept pages stands and which of
their boxes show a page number (so that a page reference on a kept page is
laid out again when its target moves, as WeasyPrint does within one layout);
marks the first page of each change to be made again, and runs WeasyPrint's
own loop. Kept pages are the earlier layout's page boxes, their elements
re-pointed to the new document's, so the document handed on reads as one.

The same machine lays out one chain of a document (``breaks``) from the state
after the forced break that opens it, numbering its pages from 1, and stops
where the next chain begins; ``settle`` then gives it its place in the
document (first page number, a blank page before it, inherited running
strings, the pages it cites) and makes again only the pages that changes.

Restarts stay where WeasyPrint's state is whole: never at a page that begins
inside a table (WeasyPrint keeps a table's layout between its pages) or that
receives notes carried over from the page before.

A ``Layouter`` lays out the successive versions of one print document (the
rounds of the page make-up, ``print_layout``) so, with one font configuration
for all; the last layout is the layout a fresh one of its HTML would give,
page for page and byte for byte (``tests/test_incremental.py``). ``Sandbox``
builds a document's boxes the way ``engine.lay_out`` lays it out: resources
only from the project and the fonts (a refused one stops the build), the files
read noted, WeasyPrint's warnings said as the build's own.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import weasyprint.layout.page
from weasyprint import DEFAULT_OPTIONS, HTML
from weasyprint.css.counters import CounterStyle
from weasyprint.css.targets import anchor_name_from_token
from weasyprint.document import Document, Page
from weasyprint.formatting_structure import boxes
from weasyprint.formatting_structure.build import build_formatting_structure
from weasyprint.html import get_html_metadata
from weasyprint.layout import initialize_page_maker, layout_fixed_boxes
from weasyprint.layout.background import layout_backgrounds
from weasyprint.layout.page import (
    PageType,
    make_margin_boxes,
    page_height,
    page_width,
    remake_page,
    set_page_type_computed_styles,
)
from weasyprint.layout.percent import resolve_percentages
from weasyprint.logger import PROGRESS_LOGGER
from weasyprint.pdf.metadata import DocumentMetadata
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import get_url_tuple

from edition.diagnostics import Collector
from edition.fonts.faces import FONT_DIR
from edition.layout.chains.breaks import Chain
from edition.layout.engine import weasyprint_warnings
from edition.layout.fetcher import SandboxFetcher
from edition.read import readlog

log = logging.getLogger(__name__)

#: WeasyPrint's bound on its repagination loops (``layout_document``).
MAX_LOOPS = 8

#: Classes the page make-up adds: an element that only gained or lost one is the same element.
CORRECTION_CLASSES = frozenset({"split", "continued", "page-start", "page-end", "tighter", "looser"})


@dataclass
class Built:
    """A document's boxes, before layout (styles computed, counters counted)."""

    html: HTML
    context: Any  # weasyprint.layout.LayoutContext
    root_box: boxes.BlockBox
    footnotes: list  # every footnote box of the document, as built
    elements: list  # the document's elements in document order
    font_config: FontConfiguration
    color_profiles: dict


@dataclass
class Pagination:
    """A document (or a chain of it, ``chains.Chain``) laid out, kept so that
    it can be laid out again from a page."""

    built: Built
    chain: Chain | None = None  # None: the whole document
    pages: list[boxes.PageBox] = field(default_factory=list)  # as made, before their margin boxes
    carried: set[int] = field(default_factory=set)  # pages that receive notes carried from the page before
    made: int = 0  # pages made by the last layout (the others were kept)
    total: int | None = None  # the document's pages (a chain's ``counter(pages)``), once known
    strings: dict[str, str] = field(default_factory=dict)  # running strings inherited (a chain)
    blank: bool = False  # a chain that begins with a blank page (``settle``)
    settled: bool = False  # its page numbers are the document's (``settle``)

    @property
    def html(self) -> HTML:
        return self.built.html

    @property
    def context(self) -> Any:
        return self.built.context

    @property
    def root_box(self) -> boxes.BlockBox:
        return self.built.root_box

    @property
    def footnotes(self) -> list:
        return self.built.footnotes

    @property
    def elements(self) -> list:
        return self.built.elements


# -- laying out -----------------------------------------------------------------------


def build(html: HTML, font_config: FontConfiguration | None = None, counter_style: CounterStyle | None = None) -> Built:
    """The boxes of ``html``, ready to lay out."""
    options = dict(DEFAULT_OPTIONS)
    font_config = font_config or FontConfiguration()
    counter_style = counter_style if counter_style is not None else CounterStyle()
    color_profiles: dict = {}
    context = Document._build_layout_context(html, font_config, counter_style, color_profiles, options)
    root_box = build_formatting_structure(
        html.etree_element,
        context.style_for,
        context.get_image_from_uri,
        html.base_url,
        context.target_collector,
        counter_style,
        context.footnotes,
    )
    elements = list(html.etree_element.iter())
    return Built(html, context, root_box, list(context.footnotes), elements, font_config, color_profiles)


def paginate(
    html: HTML | Built,
    previous: Pagination | None = None,
    font_config: FontConfiguration | None = None,
    counter_style: CounterStyle | None = None,
    chain: Chain | None = None,
    targets: dict[str, int] | None = None,
) -> Pagination:
    """Lay out ``html`` (or only ``chain`` of it); with ``previous`` (a layout
    of an earlier version of the same document or chain), only from the pages
    its changes can move, keeping what ``settle`` gave it (with ``targets``,
    the pages of the anchors outside it that it cites); a layout that cannot
    be carried over is not settled (``Pagination.settled``)."""
    built = html if isinstance(html, Built) else build(html, font_config, counter_style)
    layout = Pagination(built, chain)
    _start(layout)
    if previous is not None and _carry_over(previous, layout):
        layout.total, layout.strings = previous.total, dict(previous.strings)
        layout.blank, layout.settled = previous.blank, previous.settled
        if targets:
            cache_targets(layout, targets)
    else:
        layout.pages = []
        _start(layout)
    _paginate(layout)
    return layout


#: The index WeasyPrint gives the first page of a chain that does not open the
#: document: any but 0 (``@page :first``); ``chains`` are not used with
#: ``:nth()`` page selectors.
CHAIN_PAGE_INDEX = 1


def _start(layout: Pagination) -> None:
    """The page maker's first state: the document's, or the chain's."""
    context, chain = layout.context, layout.chain
    initialize_page_maker(context, layout.root_box)
    if chain is None or chain.start is None:
        return
    remake = {"content_changed": False, "pages_wanted": False, "anchors": [], "content_lookups": []}
    state = ([0], {"pages": [0]}, [{"pages"}], [])
    context.page_maker = [(copy.deepcopy(chain.start), dict(chain.next_page), chain.right_page, state, remake)]
    _first_page_sizes(layout)


def _first_page_sizes(layout: Pagination) -> None:
    """What WeasyPrint records when it makes the document's first page (its
    size, for ``vw``/``vh`` and the like), for a chain that does not make it."""
    context, root_box = layout.context, layout.root_box
    page_break = root_box.style["break_before"]
    right = {"left": False, "verso": False}.get(page_break, True)
    name = root_box.page_values()[0]
    page_type = PageType("right" if right else "left", False, name, 0, ((name, 0),) if name else ())
    set_page_type_computed_styles(page_type, layout.html, context.style_for)
    style = context.style_for(page_type)
    page = boxes.PageBox(page_type, style)
    device_size = page.style["size"]
    resolve_percentages(page, device_size)
    page_width(page, context, device_size[0])
    page_height(page, context, device_size[1])
    context.style_for.initial_page_sizes["box"] = device_size
    context.style_for.initial_page_sizes["area"] = (page.width, page.height)


def _paginate(layout: Pagination) -> None:
    """WeasyPrint's ``layout_document`` loop: make the pages that need it until
    no page-based counter changes."""
    context = layout.context
    total = len(layout.pages)
    layout.made = 0
    for _ in range(MAX_LOOPS):
        context.footnotes = list(layout.footnotes)
        before = total
        with _page_index(layout):
            layout.pages = list(_make_all_pages(layout))
        total = len(layout.pages)
        reloop_content = reloop_pages = False
        for number, (_, _, _, page_state, remake_state) in enumerate(context.page_maker):
            page_state[1]["pages"] = [layout.total or total]
            if number == total:  # the state after the last page: a chain's next one
                remake_state["content_changed"] = remake_state["pages_wanted"] = False
            reloop_content |= remake_state["content_changed"]
            if remake_state["pages_wanted"]:
                reloop_pages = before != total
        if not reloop_content and not reloop_pages:
            reloop_content = _stale_references(layout)
        if not reloop_content and not reloop_pages:
            break


def _make_all_pages(layout: Pagination) -> Iterator[boxes.PageBox]:
    """WeasyPrint's ``make_all_pages``, noting the pages that receive notes
    carried over from the page before (no restart there), and stopping where
    a chain ends. A page after a page made again is made again too if either
    layout carries notes over to it: WeasyPrint compares only where the page
    begins, so it would keep a page that lacks a note the page before now
    carries over, or repeats one it now sets itself (a note printed twice)."""
    context, pages = layout.context, layout.pages
    end = layout.chain.end if layout.chain is not None else None
    i = 0
    carried_to_next = False  # the page before was made again, and carries notes over (or did)
    context.rendered_notes = []
    while True:
        remake_state = context.page_maker[i][-1]
        if len(pages) == 0 or carried_to_next or remake_state["content_changed"] or remake_state["pages_wanted"]:
            PROGRESS_LOGGER.info("Step 5 - Creating layout - Page %d", i + 1)
            remake_state["content_changed"] = False
            remake_state["pages_wanted"] = False
            remake_state["anchors"] = []
            remake_state["content_lookups"] = []
            page, resume_at = remake_page(i, context, layout.root_box, layout.html)
            reported = context.reported_footnotes
            layout.made += 1
            carried_to_next = bool(reported) or i + 1 in layout.carried
            layout.carried.discard(i + 1)
            if reported:
                layout.carried.add(i + 1)
            yield page
        else:
            resume_at = context.page_maker[i + 1][0]
            reported = None
            carried_to_next = False
            yield pages[i]
        i += 1
        if (resume_at is None or (end is not None and resume_at == end)) and not reported:
            context.page_maker = context.page_maker[: i + 1]
            context.broken_out_of_flow.clear()
            context.reported_footnotes.clear()
            layout.carried = {n for n in layout.carried if n < i}
            return


_index_offset = 0


@contextlib.contextmanager
def _page_index(layout: Pagination) -> Iterator[None]:
    """Pages of a chain that does not open the document are not ``:first``."""
    global _index_offset  # noqa: PLW0603 - read by ``_PageType`` while WeasyPrint makes pages
    chain = layout.chain
    _index_offset = CHAIN_PAGE_INDEX if chain is not None and chain.start is not None else 0
    try:
        yield
    finally:
        _index_offset = 0


def _PageType(side, blank, name, index, groups):  # noqa: N802 - stands for WeasyPrint's namedtuple
    return PageType(side, blank, name, index + _index_offset, groups)


weasyprint.layout.page.PageType = _PageType


def stylesheets_text(built: Built) -> str:
    """The text of the document's stylesheets: its own and those it links (as the build read them)."""
    head = built.html.etree_element.find("head")
    texts = []
    for element in head.iter() if head is not None else ():
        if element.tag == "style":
            texts.append("".join(element.itertext()))
        elif element.tag == "link" and (element.get("href") or "").startswith("file:"):
            path = Path(unquote(urlparse(element.get("href")).path))
            data = readlog.bytes_of(path)
            if data is None and path.is_file():
                data = readlog.read_once(path)
            texts.append((data or b"").decode("utf-8", "replace"))
    return "\n".join(texts)


# -- settling a chain once the chains before it are laid out --------------------------


def settle(
    layout: Pagination,
    first: int,
    blank: bool,
    strings: dict[str, str],
    targets: dict[str, int],
    total: int,
) -> None:
    """Give a chain laid out on its own what the chains before it decide: the
    number of its first page with text (``first``), a blank page before it
    (``blank``: the page before it is on its own side), the running strings
    it inherits, the pages of the anchors outside it that it cites
    (``targets``) and the document's page count; the pages these change (a
    page reference) are made again, by WeasyPrint's own loop."""
    context = layout.context
    collector = context.target_collector
    layout.total = total
    layout.strings = dict(strings)
    layout.settled = True
    for _, _, _, page_state, _ in context.page_maker:
        _, values, scopes, _ = page_state
        values["page"] = [value + first - 1 for value in values.get("page", [0])]
        scopes[0].add("page")
        values["pages"] = [total]
    if blank:
        _prepend_blank(layout)
    page_maker = context.page_maker
    for number in range(len(layout.pages)):
        values = page_maker[number + 1][3][1]
        for anchor in page_maker[number][-1]["anchors"]:
            collector.cache_target_page_counters(anchor, values, number, page_maker)
    cache_targets(layout, targets)
    _paginate(layout)


def cache_targets(layout: Pagination, targets: dict[str, int]) -> None:
    """Where the anchors outside a chain that it cites stand (page numbers)."""
    collector = layout.context.target_collector
    for anchor, page in sorted(targets.items()):
        collector.cache_target_page_counters(
            anchor, {"pages": [layout.total], "page": [page]}, -1, layout.context.page_maker
        )


def _prepend_blank(layout: Pagination) -> None:
    """A blank page before the chain (made by WeasyPrint: its ``:blank`` page
    rules apply), the later pages kept."""
    context = layout.context
    resume_at, next_page, right_page, page_state, _ = context.page_maker[0]
    state = copy.deepcopy(page_state)
    state[1]["page"] = [state[1]["page"][-1] - 1]
    remake = {"content_changed": True, "pages_wanted": False, "anchors": [], "content_lookups": []}
    context.page_maker.insert(0, (copy.deepcopy(resume_at), dict(next_page), not right_page, state, remake))
    layout.pages.insert(0, None)
    layout.blank = True
    layout.carried = {n + 1 for n in layout.carried}
    collector = context.target_collector
    for item in [*collector.target_lookup_items.values(), *collector.counter_lookup_items.values()]:
        if item.page_maker_index is not None and item.page_maker_index >= 0:
            item.page_maker_index += 1


def _stale_references(layout: Pagination) -> bool:
    """Mark for re-making every page that shows a page reference (a
    ``target-counter``) other than what its target now gives; whether one did.

    WeasyPrint tells a reference that its target moved only through the
    target's name, which it does not know for ``attr()`` targets (the
    contents, the cross-references): within one layout it makes such a page
    again while the page's own counters change. A layout taken over from an
    earlier one, or a chain told where its targets stand, asks again here."""
    context = layout.context
    page_maker = context.page_maker
    shown, pages = _shown(layout)
    stale = False
    for (box, token), lookup in context.target_collector.counter_lookup_items.items():
        number = pages.get(id(box))
        if token != "content" or number is None:
            continue
        lookup.parse_again(page_maker[number + 1][3][1])
        if shown[id(box)] != "".join(_text(box).split()):
            page_maker[number][-1]["content_changed"] = True
            stale = True
    return stale


def _shown(layout: Pagination) -> tuple[dict[int, str], dict[int, int]]:
    """id(box built with a page-based counter) -> the text its laid-out pieces
    show, and the page (0-based) of its first piece."""
    shown: dict[int, str] = {}
    pages: dict[int, int] = {}
    for number, page in enumerate(layout.pages):
        for box in page.descendants():
            if box.missing_link is not None and not isinstance(box, boxes.TextBox):
                key = id(box.missing_link)
                pages.setdefault(key, number)
                # spaces compared apart: a line may end at one (and drop it)
                shown[key] = shown.get(key, "") + "".join(_text(box).split())
    return shown, pages


def _text(box: boxes.Box) -> str:
    """A box's text, leaders left out (they are drawn to the width they fill)."""
    if getattr(box, "is_leader", False):
        return ""
    if isinstance(box, boxes.TextBox):
        return box.text
    return "".join(_text(child) for child in getattr(box, "children", ()) or ())


def cited(layout: Pagination) -> set[str]:
    """The anchors a layout's pages cite with ``target-counter`` and the like."""
    names: set[str] = set()
    _, pages = _shown(layout)
    for box, token in layout.context.target_collector.counter_lookup_items:
        if token != "content" or id(box) not in pages:
            continue
        for kind, value in box.style["content"] if isinstance(box.style["content"], (list, tuple)) else ():
            if kind in ("target-counter()", "target-counters()", "target-text()"):
                name = _anchor_name(value[0], box)
                if name:
                    names.add(name)
    return names


def _anchor_name(token: tuple, box: boxes.Box) -> str | None:
    """The anchor a ``target-*()`` token names (WeasyPrint's ``lookup_target``)."""
    if token[0] == "attr()":
        attr_name, kind, fallback = token[1]
        value = box.element.get(attr_name, fallback) if box.element is not None else fallback
        token = ("string", value) if kind == "string" else ("url", get_url_tuple(value, box.style.base_url))
    return anchor_name_from_token(token)


def anchors(layout: Pagination) -> dict[str, int]:
    """Anchor -> the page (0-based, in the layout) it stands on first."""
    out: dict[str, int] = {}
    for number, entry in enumerate(layout.context.page_maker[: len(layout.pages)]):
        for anchor in entry[-1]["anchors"]:
            out.setdefault(anchor, number)
    return out


def set_strings(layout: Pagination) -> dict[str, str]:
    """The running strings a chain sets: the last value of each."""
    out: dict[str, str] = {}
    for page in layout.pages:
        for child in page.descendants():
            if child.string_set and child.string_set != "none":
                for name, text in child.string_set:
                    out[name] = text
    return out


# -- the document ---------------------------------------------------------------------


def document(layout: Pagination) -> Document:
    """The laid-out pages as a WeasyPrint document: their running strings,
    bookmarks and margin boxes made (on copies: the pages as made are kept
    for the next layout). A chain's pages stand after a page that holds the
    running strings it inherits."""
    context = layout.context
    pages = layout.pages
    shift = 1 if layout.chain is not None and layout.chain.start is not None else 0
    context.string_set.clear()
    for name, text in layout.strings.items():
        context.string_set[name][1].append(text)
    seen: dict[str, set] = {"": set(), "::before": set(), "::after": set()}
    for i, page in enumerate(pages):
        page_counter_values = context.page_maker[i + 1][3][1]
        for child in page.descendants():
            label = _original_label(child)
            if label:
                kind = "::before" if child.element_tag.endswith("::before") else ""
                kind = "::after" if child.element_tag.endswith("::after") else kind
                child.bookmark_label = "" if child.element in seen[kind] else label
                seen[kind].add(child.element)
            if child.missing_link:
                for (box, css_token), item in context.target_collector.counter_lookup_items.items():
                    if child.missing_link == box and css_token != "content":
                        if css_token == "bookmark-label" and not child.bookmark_label:
                            continue
                        item.parse_again(page_counter_values)
                        if css_token == "bookmark-label":
                            child.bookmark_label = box.bookmark_label
                            child._edition_label = box.bookmark_label
            string_sets = child.string_set
            if string_sets and string_sets != "none":
                for string_name, text in string_sets:
                    context.string_set[string_name][i + 1 + shift].append(text)
    finished = []
    for i, page in enumerate(pages):
        root, footnote_area, note_area = page.children[:3]
        new_root = root.copy()
        new_root.children = [
            *layout_fixed_boxes(context, pages[:i], page),
            *root.children,
            *layout_fixed_boxes(context, pages[i + 1 :], page),
        ]
        new_page = page.copy()
        context.current_page = i + 1 + shift
        state = context.page_maker[i + 1][3]
        children = [new_root]
        if footnote_area.children:
            children.append(footnote_area)
        if note_area.children:
            children.append(note_area)
        new_page.children = children
        children.extend(make_margin_boxes(context, new_page, state))
        new_page.children = tuple(children)
        layout_backgrounds(new_page, context.get_image_from_uri)
        finished.append(new_page)
    html = layout.html
    rendering = Document(
        [Page(page_box) for page_box in finished],
        DocumentMetadata(**get_html_metadata(html)),
        html.url_fetcher,
        layout.built.font_config,
        layout.built.color_profiles,
        DEFAULT_OPTIONS["output_intent"],
    )
    rendering._html = html
    rendering._edition_layout = layout  # the fonts and boxes stay alive with the document
    return rendering


def _original_label(box: boxes.Box) -> str:
    """A box's bookmark label as built (a later page's copy of an element
    loses it; the label is kept so that a layout made again decides afresh)."""
    if not hasattr(box, "_edition_label"):
        box._edition_label = box.bookmark_label
    return box._edition_label


# -- carrying a layout over to the next version of its document ---------------------


def _carry_over(previous: Pagination, layout: Pagination) -> bool:
    """Set ``layout`` up to re-make only what differs from ``previous``:
    returns False when nothing can be kept (then it is laid out afresh)."""
    mapping = ElementMapping(previous.elements, layout.elements)
    spans = _page_spans(previous)
    dirty: set[int] = set()
    for index in mapping.changes():
        dirty.update(_dirty_pages(previous, spans, index))
    if not dirty or min(dirty) <= 0:
        return False
    first = min(dirty)
    boxes_map = BoxMapping(previous.root_box, layout.root_box, mapping)
    context, old = layout.context, previous.context
    makers = []
    for number, entry in enumerate(old.page_maker):
        translated = _translate_entry(entry, boxes_map, number <= first)
        makers.append(_never_equal(entry) if translated is None else translated)
    context.page_maker = makers
    context.style_for.initial_page_sizes.update(old.style_for.initial_page_sizes)
    layout.pages = list(previous.pages)
    layout.carried = set(previous.carried)
    # a box showing a page-based counter names the box it was built as (``missing_link``),
    # which may stand in a note (not under the root box): found by element and pseudo-element
    counting = {(id(b.element), b.element_tag): b for b, _ in context.target_collector.counter_lookup_items}
    for page in layout.pages:
        for box in page.descendants(placeholders=True):
            box = getattr(box, "_box", box)
            if box.missing_link is not None:
                element = mapping.new_of(box.missing_link.element)
                box.missing_link = counting.get((id(element), box.missing_link.element_tag), box.missing_link)
            if box.element is not None:
                box.element = mapping.new_of(box.element, box.element)
    _replay(layout)
    for _, _, _, _, remake_state in context.page_maker:
        remake_state["content_changed"] = False
        remake_state["pages_wanted"] = False
    for number in dirty:
        if number < len(context.page_maker):
            context.page_maker[number][-1]["content_changed"] = True
    return True


def _page_spans(layout: Pagination) -> dict[int, tuple[int, int]]:
    """id(element) -> the first and last page (0-based) it has a box on."""
    spans: dict[int, tuple[int, int]] = {}
    for number, page in enumerate(layout.pages):
        for box in page.descendants(placeholders=True):
            box = getattr(box, "_box", box)
            if box.element is not None:
                first, _ = spans.get(id(box.element), (number, number))
                spans[id(box.element)] = (first, number)
    return spans


def _dirty_pages(layout: Pagination, spans: dict[int, tuple[int, int]], index: int) -> range:
    """The pages a change at element ``index`` (document order) makes again:
    from the page before the one where the content from that element on
    begins (the break that ends it may depend on what follows: widows,
    orphans, a heading kept with its text) to the last page the element is
    on; the first moved earlier past any page where WeasyPrint's state is
    not whole."""
    elements = layout.elements
    found = next((spans[id(e)] for e in elements[index:] if id(e) in spans), None)
    last_page = len(layout.pages) - 1
    first, last = found if found is not None else (last_page, last_page)
    page = max(0, first - 1)
    while page > 0 and (page in layout.carried or _in_table(layout, page)):
        page -= 1
    return range(page, last + 1)


def _in_table(layout: Pagination, page: int) -> bool:
    """Whether page ``page`` (0-based) begins inside a table."""
    resume_at = layout.context.page_maker[page][0]
    box = layout.root_box
    while resume_at:
        if len(resume_at) != 1:
            return True  # several skip stacks: the cells of a table row
        ((index, resume_at),) = resume_at.items()
        if isinstance(box, (boxes.TableBox, boxes.TableRowGroupBox, boxes.TableRowBox)) or getattr(
            box, "is_table_wrapper", False
        ):
            return True
        children = getattr(box, "children", None)
        if not children or isinstance(children[0], boxes.LineBox) or index >= len(children):
            return False
        box = children[index]
    return False


def _translate_entry(entry: tuple, boxes_map: BoxMapping, keep_path: bool) -> tuple | None:
    resume_at, next_page, right_page, page_state, remake_state = entry
    if isinstance(resume_at, _Never):
        return None
    translated = resume_at if keep_path else boxes_map.path(resume_at)
    if resume_at is not None and translated is None:
        return None
    state = copy.deepcopy(page_state)
    for group in state[3]:
        path = group[2] if keep_path else boxes_map.path(group[2])
        if group[2] is not None and path is None:
            return None
        group[2] = path
    remake = {"content_changed": False, "pages_wanted": False, "anchors": list(remake_state["anchors"])}
    remake["content_lookups"] = []
    return (translated, dict(next_page), right_page, state, remake)


class _Never:
    """A resume_at that equals no path: the page after it is always made again."""

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


def _never_equal(entry: tuple) -> tuple:
    _, next_page, right_page, page_state, remake_state = entry
    remake = {"content_changed": True, "pages_wanted": False, "anchors": list(remake_state["anchors"])}
    remake["content_lookups"] = []
    return (_Never(), dict(next_page), right_page, copy.deepcopy(page_state), remake)


def _replay(layout: Pagination) -> None:
    """Tell the new layout's target collector what the kept pages say: where
    each anchor stands, and which boxes show a page-based counter (so that
    WeasyPrint marks their page for re-making when a target moves)."""
    context = layout.context
    collector = context.target_collector
    page_maker = context.page_maker
    lookups = collector.counter_lookup_items
    seen: set[int] = set()
    anchors: set[str] = set()  # an element split over pages is the anchor of its first page only
    for number, page in enumerate(layout.pages):
        set_page_type_computed_styles(page.page_type, layout.html, context.style_for)
        values = page_maker[number + 1][3][1]
        remake_state = page_maker[number][-1]
        for box in page.descendants(placeholders=True):
            box = getattr(box, "_box", box)
            anchor = box.style["anchor"]
            if anchor and anchor not in anchors:
                anchors.add(anchor)
                collector.cache_target_page_counters(anchor, values, number, page_maker)
            lookup = lookups.get((box.missing_link, "content")) if box.missing_link is not None else None
            if lookup is not None:
                _replay_lookup(lookup, values, number, remake_state, seen)


def _replay_lookup(lookup, values: dict, number: int, remake_state: dict, seen: set[int]) -> None:
    """What ``make_page`` does for a box showing a page-based counter (steps 1
    and 2 of its loop): the box's content is computed again with the values
    the kept page has."""
    first = id(lookup) not in seen
    if first:
        seen.add(id(lookup))
        remake_state["content_lookups"].append(id(lookup))
        lookup.page_maker_index = number
    again = False
    if lookup.pending:
        if values != lookup.cached_page_counter_values:
            lookup.cached_page_counter_values = copy.deepcopy(values)
        lookup.pending = False
        again = True
    if lookup.missing_counters and first and values != lookup.cached_page_counter_values:
        lookup.cached_page_counter_values = copy.deepcopy(values)
        again = again or any(values.get(name) is not None for name in lookup.missing_counters)
    if again:
        lookup.parse_again(values)


# -- which element is which ------------------------------------------------------------


def _signature(element) -> tuple:
    classes = tuple(c for c in (element.get("class") or "").split() if c not in CORRECTION_CLASSES)
    return (element.tag, element.get("id"), element.get("data-p"), element.get("data-chars"), classes)


def _same(old, new) -> bool:
    return old.tag == new.tag and old.attrib == new.attrib and old.text == new.text and old.tail == new.tail


class ElementMapping:
    """Old document's elements -> new document's, aligned in document order."""

    def __init__(self, old: list, new: list) -> None:
        self.old, self.new = old, new
        self._new_of: dict[int, Any] = {}
        self._changes: list[int] = []  # indexes in ``old`` where the documents differ
        matcher = difflib.SequenceMatcher(None, [_signature(e) for e in old], [_signature(e) for e in new], False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                    self._new_of[id(old[i])] = new[j]
                    if not _same(old[i], new[j]):
                        self._changes.append(i)
            else:
                self._changes.append(i1)
        # an element whose subtree changed: every ancestor differs below it, but
        # the change is where its first differing descendant is (found above)

    def new_of(self, element, default=None):
        return self._new_of.get(id(element), default)

    def changes(self) -> list[int]:
        return sorted(set(self._changes))


class BoxMapping:
    """Old box tree's block-level boxes -> new box tree's, through the elements."""

    def __init__(self, old_root: boxes.Box, new_root: boxes.Box, elements: ElementMapping) -> None:
        self.elements = elements
        self._old_root, self._new_root = old_root, new_root
        self._index: dict[tuple, boxes.Box] | None = None
        self._old_keys: dict[int, tuple] | None = None

    @staticmethod
    def _keys(root: boxes.Box, element_of) -> Iterator[tuple[tuple, boxes.Box]]:
        def visit(box: boxes.Box) -> Iterator[tuple[tuple, boxes.Box]]:
            counts: dict[tuple, int] = {}
            for child in getattr(box, "children", ()) or ():
                if not isinstance(child, boxes.Box):
                    continue
                if child.element is None:
                    owner: object = None
                else:
                    element = element_of(child.element)
                    owner = id(element) if element is not None else ("unmapped", id(child.element))
                base = (owner, child.element_tag, type(child).__name__)
                counts[base] = counts.get(base, 0) + 1
                yield (*base, counts[base]), child
                if isinstance(child, boxes.ParentBox) and not isinstance(child, boxes.LineBox):
                    yield from visit(child)

        yield ("root", root.element_tag, type(root).__name__, 0), root
        yield from visit(root)

    def _build(self) -> None:
        self._index = dict(self._keys(self._new_root, lambda e: e))
        self._old_keys = {id(box): key for key, box in self._keys(self._old_root, self.elements.new_of)}

    def new_box(self, old_box: boxes.Box) -> boxes.Box | None:
        if self._index is None:
            self._build()
        key = self._old_keys.get(id(old_box))
        return self._index.get(key) if key is not None else None

    def path(self, resume_at: dict | None) -> dict | None:
        """``resume_at`` (a path in the old box tree) in the new tree, or None
        where it goes through a box the new tree does not have."""
        if resume_at is None or not isinstance(resume_at, dict):
            return None
        old_box, new_box = self._old_root, self._new_root
        steps: list[int] = []
        rest = resume_at
        while rest:
            if len(rest) != 1:
                return None  # several skip stacks (a table row's cells): no resync there
            ((index, below),) = rest.items()
            old_children = getattr(old_box, "children", None)
            if not old_children or isinstance(old_children[0], boxes.LineBox) or index >= len(old_children):
                # inside a block's lines: the same if the block is the same element unchanged
                if not self._unchanged(old_box, new_box):
                    return None
                return _nest(steps, rest)
            old_child = old_children[index]
            new_child = self.new_box(old_child)
            new_children = getattr(new_box, "children", None) or []
            position = next((i for i, c in enumerate(new_children) if c is new_child), None)
            if new_child is None or position is None:
                return None
            steps.append(position)
            old_box, new_box, rest = old_child, new_child, below
            if rest is None:
                return _nest(steps, None)
        return _nest(steps, rest)

    def _unchanged(self, old_box: boxes.Box, new_box: boxes.Box) -> bool:
        old, new = old_box.element, new_box.element
        if old is None or new is None or self.elements.new_of(old) is not new:
            return False
        return all(
            self.elements.new_of(o) is n and _same(o, n) for o, n in zip(old.iter(), new.iter(), strict=False)
        ) and len(list(old.iter())) == len(list(new.iter()))


def _nest(steps: list[int], rest: dict | None) -> dict | None:
    path = rest
    for index in reversed(steps):
        path = {index: path}
    return path


# -- building and laying out under the sandbox's rule ----------------------------------


class Sandbox:
    """Builds print documents with resources only from the project and fonts."""

    def __init__(self, project: Path, extra_allowed: list[Path] | None = None, fetched: set[Path] | None = None):
        self.project = project
        self.allowed = [project, FONT_DIR, *(extra_allowed or [])]
        self.fetched = fetched if fetched is not None else set()
        self.font_config = FontConfiguration()

    @contextlib.contextmanager
    def fetching(self) -> Iterator[SandboxFetcher]:
        """A fetcher for one document; what it read is noted, what it refused stops the build."""
        fetcher = SandboxFetcher(self.allowed)
        yield fetcher
        self.fetched.update(fetcher.fetched)
        diags = Collector()
        for url in fetcher.refused:
            diags.error(None, "resource.refused", f"resource {url} was not loaded: {fetcher.reasons[url]}")
        diags.check()

    def build(self, html: str) -> Built:
        with self.fetching() as fetcher, weasyprint_warnings():
            source = HTML(string=html, base_url=str(self.project) + "/", url_fetcher=fetcher)
            return build(source, self.font_config)


class Layouter:
    """Lays out successive versions of one print document."""

    def __init__(self, project: Path, extra_allowed: list[Path] | None = None, fetched: set[Path] | None = None):
        self.sandbox = Sandbox(project, extra_allowed, fetched)
        self.last: Pagination | None = None
        self.made: list[int] = []  # pages made by each layout (the others were taken over)

    def lay_out(self, html: str) -> Document:
        """Lay ``html`` out, from the pages where it differs from the last
        version laid out; resources only from the project and fonts."""
        with self.sandbox.fetching() as fetcher, weasyprint_warnings():
            source = HTML(string=html, base_url=str(self.sandbox.project) + "/", url_fetcher=fetcher)
            self.last = paginate(build(source, self.sandbox.font_config), self.last)
            rendering = document(self.last)
        self.made.append(self.last.made)
        return rendering
