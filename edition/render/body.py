"""Render the document model to HTML (print) or XHTML (EPUB) through Jinja.

Bodies are markdown-it tokens; ``BodyRenderer`` turns them into markup and hands
every piece that has its own template (note calls, tables, original-page
markers) to the shared macros in ``templates/body/``. The same renderer runs
for both targets: the only branch on the target is inside the notes macro.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict
from markupsafe import Markup, escape

from edition import ids
from edition.fonts.scripts import right_to_left
from edition.model import Image, Note, Section, Table, Work
from edition.read.markdown.parse import PARSER, div_attrs, walk_inline
from edition.render import printed, tabular
from edition.render.template_limits import Expose
from edition.render.template_sandbox import TemplateEnvironment
from edition.render.templates import SandboxLoader
from edition.resolve import anchors, links
from edition.resolve import table_citations as tablecites
from edition.resolve.labels import Label, labels

#: Span and div attributes content may set; everything else is dropped.
SAFE_ATTRIBUTES = ("id", "class", "lang", "dir")
HREF_RE = re.compile(r'href="#([^"]+)"')
#: An image's width or height, as Pandoc's ``{width=50%}`` gives it.
SIZE_RE = re.compile(r"^\d+(?:\.\d+)?(?:%|px|cm|mm|in|em)$")


@dataclass(frozen=True)
class Target:
    """What differs between outputs, declared as data."""

    name: str  # "print" | "epub"
    xhtml: bool
    file_per_section: bool


PRINT = Target("print", xhtml=False, file_per_section=False)
EPUB = Target("epub", xhtml=True, file_per_section=True)


def environment(templates: Path) -> TemplateEnvironment:
    """The environment every template renders in: Jinja's sandbox, handed
    these functions and filters and nothing else (``template_sandbox``)."""
    return TemplateEnvironment(
        loader=SandboxLoader(templates),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        functions={
            "note_id": ids.note_id,
            "noteref_id": ids.noteref_id,
            "output_id": ids.output_id,
            "original_page_id": ids.original_page_id,
            "document_title_level": document_title_level,
            "inline_markdown": inline_markdown,
            "md": printed.markup,
            "plain": printed.plain,
            "language_spans": language_spans,
            "derived_totals": derived_totals,
        },
        filters={
            "balanced_measure": balanced_measure,
            "display_date": display_date,
            "register_kind": register_kind,
        },
    )


def document_title_level(work: Work) -> int:
    """A document's title is an h3 under the appendix heading (an h2), an h2
    in a reading made of documents alone: the outline never skips a level."""
    return 2 if work.documents_only else 3


def language_spans(work: Work) -> list[tuple[str, str]]:
    """(text, language) of every span the work marks with a language, in the
    text and the documents' source lines, in order (the Note on the Text lists them)."""
    children = [child for s in work.all_sections for child, _ in walk_inline(list(s.tokens))]
    for section in work.documents:
        children += PARSER.parseInline(section.source_line, {})[0].children or []
    out, lang, words = [], None, []
    for child in children:
        if child.type == "span_open" and child.attrGet("lang"):
            lang, words = str(child.attrGet("lang")), []
        elif child.type == "span_close" and lang:
            out.append(("".join(words), lang))
            lang = None
        elif lang and child.type == "text":
            words.append(child.content)
    return out


def inline_markdown(text: str, smart: bool = True) -> Markup:
    """A line of metadata (a document's source line) rendered as inline Markdown."""
    return printed.markup(text, smart)


def render_template(env: TemplateEnvironment, name: str, **context: Any) -> str:
    """Render a template; a template error becomes a diagnostic naming its line."""
    return env.render(name, **context)


@dataclass(frozen=True)
class Marks:
    """What the print layout asks of one paragraph: where pages end inside it
    (non-space characters before each cut; 0 = before the paragraph, -1 =
    after it) and
    whether to set it a line tighter (-1) or looser (+1)."""

    cuts: tuple[int, ...] = ()
    spacing: int = 0


@dataclass
class Locator:
    """Where each work-local id ends up: the file (EPUB) and the output id."""

    work: Work
    target: Target
    files: dict[str, str] = field(default_factory=dict)  # local id -> file name
    # in a volume: ids of the same work that stand in another reading
    elsewhere: dict[str, tuple[str, str]] = field(default_factory=dict)  # local id -> (reading slug, file)

    def href(self, local: str) -> str:
        owner, file = self.work.slug, self.files.get(local, "")
        if local not in self.files and local in self.elsewhere:
            owner, file = self.elsewhere[local]
        target_id = ids.output_id(owner, local)
        return f"{file}#{target_id}" if self.target.file_per_section else f"#{target_id}"

    def known(self, local: str) -> bool:
        """Whether the output holds the id (a reading may leave its target out)."""
        return local in self.files or local in self.elsewhere


def volume_links(parts: Sequence[Work]) -> dict[str, dict[str, tuple[str, str]]]:
    """For each reading, where the sections and documents of its work that it
    leaves out stand in the volume (a note's "printed below as Document No. 3")."""
    links: dict[str, dict[str, tuple[str, str]]] = {}
    for work in parts:
        if work.reading is None:
            continue
        own = {s.slug for s in work.all_sections}
        links[work.slug] = {
            s.slug: (other.slug, section_file(other, s))
            for other in parts
            if other is not work and other.reading and other.reading.work == work.reading.work
            for s in other.all_sections
            if s.slug not in own
        }
    return links


def section_file(work: Work, section: Section) -> str:
    return f"{work.slug}-{section.slug}.xhtml"


def build_locator(work: Work, target: Target, elsewhere: dict | None = None) -> Locator:
    """Where each id of the work stands: its section's file, or the page the
    edition adds (the ids themselves are fixed by ``anchors``)."""
    locator = Locator(work, target, elsewhere=elsewhere or {})
    for local, page in anchors.registry(work).targets().items():
        locator.files[local] = "nav.xhtml" if page == "contents" else f"{work.slug}-{page}.xhtml"
    return locator


def toc_entries(work: Work, locator: Locator) -> list[dict]:
    """The contents of a work, for the print contents page and the EPUB nav alike."""
    href = locator.href
    entries = [{"title": s.title, "href": href(s.slug), "children": []} for s in work.sections]
    smart = work.meta.smart_quotes
    if work.documents:
        children = [{"title": document_entry(d, smart), "href": href(d.slug), "children": []} for d in work.documents]
        appendix = printed.plain(work.meta.appendix_title, smart)
        entries.append({"title": appendix, "href": href("appendix"), "children": children})
    if work.bibliography:
        entries.append({"title": "Bibliography", "href": href("bibliography"), "children": []})
    if work.register and not work.documents_only:
        entries.append({"title": "Note on the Text", "href": href("note-on-the-text"), "children": []})
    return entries


NBSP = "\u00a0"
#: A document's title in the contents is cut at a word boundary past this many characters.
TOC_TITLE_MAX = 76
#: A date at the end of a document's title ("…, 9 March 1967", "… on 1 June 1984"):
#: the contents give the document's own date instead.
TRAILING_DATE = re.compile(r"(?:,|\s+on|\s+of)?\s+\d{1,2}(?:\s*[-–]\s*\d{1,2})?\s+[A-Z][a-z]+\s+\d{4}$")


def document_entry(document: Section, smart: bool = True) -> str:
    """A document's line in the contents: its label, its title (without a
    trailing date, shortened when long) and its date, as the appendix heads
    it; a label alone ("DOCUMENT No. 1") tells a reader nothing."""
    title = " ".join(document.title.split()).rstrip(".")
    if document.date:
        title = TRAILING_DATE.sub("", title)
    if len(title) > TOC_TITLE_MAX:
        cut = title[: TOC_TITLE_MAX + 1].rsplit(" ", 1)[0]
        title = cut.rstrip(" ,;:–-") + "…"
    entry = ": ".join(p for p in (printed.plain(document.label, smart), title) if p)
    # the date is one unit: a line of the contents never ends inside it ("…, 13" / "December 1977")
    return f"{entry}, {display_date(document.date).replace(' ', NBSP)}" if document.date else entry


def volume_toc(edition, target: Target) -> list[dict]:
    """A reader's contents: each reading, with its sections below it."""
    if edition.reader is None:
        return []
    entries = []
    if edition.reader.introduction:
        file = f"{edition.slug}-introduction.xhtml" if target.file_per_section else ""
        entries.append(
            {"title": "Introduction", "href": f"{file}#{ids.output_id(edition.slug, 'introduction')}", "children": []}
        )
    for work in edition.parts:
        locator = build_locator(work, target)
        children = toc_entries(work, locator)
        if work.documents_only:
            children = []
        if work.pdf and work.pdf.text and target.file_per_section:  # its text, extracted (EPUB only)
            file = f"{work.slug}-pdf-text.xhtml"
            href = f"{file}#{ids.output_id(work.slug, 'pdf-text')}"
            children = [{"title": "Text extracted from the PDF", "href": href, "children": []}]
        entries.append(
            {
                "title": work.reading.title if work.reading else work.meta.title,
                "href": locator.href("titlepage"),
                "children": children,
            }
        )
    if edition.reader.permissions_page:
        file = f"{edition.slug}-permissions.xhtml" if target.file_per_section else ""
        entries.append(
            {"title": "Permissions", "href": f"{file}#{ids.output_id(edition.slug, 'permissions')}", "children": []}
        )
    return entries


def render_introduction(edition, target: Target, env: TemplateEnvironment) -> Markup:
    if edition.reader is None or not edition.reader.introduction:
        return Markup("")
    renderer = BodyRenderer(edition.main, target, env.macros("body/blocks.html"), build_locator(edition.main, target))
    return Markup(renderer._blocks(list(edition.reader.introduction)))


def permission_rows(edition, pages: dict[str, tuple[int, int]] | None) -> list[dict]:
    """One row per reading: its source, its pages in the volume, its share of
    the original. Without a layout yet, the print page shows the range through
    CSS target-counter links."""
    rows = []
    for work in edition.parts:
        r = work.reading
        if r is None:
            continue
        if pages is None:
            first = ids.output_id(work.slug, "titlepage")
            last = ids.output_id(work.slug, "end")
            # the links print only their page numbers: their labels say what they lead to
            span = Markup(
                '<a class="page-ref" href="#{}" aria-label="first page of {}"></a>–'
                '<a class="page-ref" href="#{}" aria-label="last page of {}"></a>'
            ).format(first, r.title, last, r.title)
        else:
            span = f"{pages[work.slug][0]}–{pages[work.slug][1]}"
        share = f"{100 * r.words / r.original_words:.0f}% of its words" if r.original_words else ""
        if r.pdf:  # a reading printed from a PDF: its share is counted in pages of the original
            of = r.pages_of_original
            share = f"{r.pdf.pages} of {of} page{'s' if of != 1 else ''} ({100 * r.pdf.pages / of:.0f}%)"
        title = printed.markup(r.title_markdown, r.smart_quotes) if r.title_markdown else r.title
        # the source line as the reading's title page prints it (italics kept), made safe by citeproc
        rows.append({"slug": work.slug, "title": title, "source": Markup(r.source_line), "pages": span, "share": share})
    return rows


class BodyRenderer(RendererHTML):
    """markdown-it tokens -> markup for one work and one target."""

    def __init__(
        self, work: Work, target: Target, macros: Any, locator: Locator, marks: dict[int, Marks] | None = None
    ) -> None:
        super().__init__(PARSER)
        # print only: paragraphs carry their ordinal (``data-p``) so the layout
        # can name where a page must end or which paragraph to set looser
        self.marks = marks
        self._paragraphs = 0
        self._note_depth = 0  # inside a note (print or EPUB): its paragraphs are not the text's
        self._in_note = False  # inside a print footnote (WeasyPrint keeps its line breaks)
        self.work = work
        self.target = target
        self.macros = macros
        self.locator = locator
        self.options = OptionsDict({**PARSER.options, "xhtmlOut": target.xhtml})
        self._spans: list[str] = []
        self.section: Section | None = None
        self.heading_shift = 1
        self.images: dict[str, tuple[Image, str]] = {}  # EPUB name -> (image, alt text)
        self.labels = labels(work)  # figures and tables numbered, notes named
        self._table_label: Label | None = None  # the Markdown table being rendered

    # -- entry points -------------------------------------------------------

    def section_body(self, section: Section) -> Markup:
        self.section = section
        levels = [int(t.tag[1]) for t in section.tokens if t.type == "heading_open"]
        # the section's title is an h2 (a document's, one level below the
        # appendix heading): its own headings start one level down, whatever
        # level the Markdown used, so the outline never skips a level
        title = document_title_level(self.work) if section in self.work.documents else 2
        self.heading_shift = title + 1 - min(levels) if levels else 0
        return Markup(self._blocks(list(section.tokens)))

    def note_body(self, note: Note, inline: bool) -> Markup:
        """A note's text: paragraphs, or run together for a print footnote."""
        tokens = list(note.tokens)
        self._note_depth += 1
        self._in_note = inline
        try:
            if not inline:
                return Markup(self._blocks(tokens).strip())
            # set inline at its call (print) or after the number (EPUB): the
            # paragraphs after the first are spans set as blocks (CSS), which
            # both a <p> and the print footnote's <span> may hold
            paragraphs = [self._blocks(p).strip() for p in _paragraphs(tokens)]
            rest = "".join(f' <span class="note-paragraph">{p}</span>' for p in paragraphs[1:])
            return Markup(paragraphs[0] + rest if paragraphs else "")
        finally:
            self._note_depth -= 1
            self._in_note = False

    def softbreak(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        # a line break of the source is a space; in a print footnote WeasyPrint
        # would end the line there
        return " " if self._in_note else "\n"

    def inline(self, markdown: str, citations: str = "") -> Markup:
        """Render a line of Markdown from metadata (a caption, a source note);
        ``citations`` is the id prefix of the line's citations (``tablecites``)."""
        children = tablecites.parse_line(markdown, citations, self.work.meta.smart_quotes)
        return Markup(self.renderInline(children, self.options, {}))

    # -- blocks -------------------------------------------------------------

    def _blocks(self, tokens: list[Token]) -> str:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.type == "container_div_open":
                end = _matching_close(tokens, i)
                out.append(self._div(token, tokens[i + 1 : end]))
                i = end + 1
                continue
            if token.type == "figure_open":
                out.append(self._figure(token, tokens[i + 1]))
                i += 3
                continue
            if self._addressed(token) and i + 2 < len(tokens):
                self._paragraphs += 1
                out.append(self._paragraph(token, tokens[i + 1], self._paragraphs))
                i += 3
                continue
            if token.type == "inline":
                out.append(self.renderInline(token.children or [], self.options, {}))
            elif token.type in self.rules:
                out.append(self.rules[token.type](tokens, i, self.options, {}))
            else:
                out.append(self.renderToken(tokens, i, self.options, {}))
            i += 1
        return "".join(out)

    def _addressed(self, token: Token) -> bool:
        """A paragraph of the work's own text in print, not one inside a note."""
        return self.marks is not None and token.type == "paragraph_open" and not token.hidden and not self._note_depth

    def _paragraph(self, opening: Token, inline: Token, ordinal: int) -> str:
        """A print paragraph with its ordinal. Where the layout ends a page
        inside it (``Marks.cuts``, non-space characters before the cut), it is
        rendered as parts: the later ones start a page without indent, the
        earlier ones end with a justified line, so the parts read as one
        paragraph; a cut at 0 starts the whole paragraph on a new page, a cut
        at -1 ends the page after it (before a heading or a table).
        ``Marks.spacing`` sets it a line tighter (-1) or looser (+1)."""
        marks = (self.marks or {}).get(ordinal, Marks())
        spacing = {-1: ["tighter"], 1: ["looser"]}.get(marks.spacing, [])
        cuts = sorted(c for c in set(marks.cuts) if c > 0)
        ends_page = any(c < 0 for c in marks.cuts)
        parts, rest, done = [], list(inline.children or ()), 0
        for cut in cuts:
            before, rest = split_inline(rest, cut - done)
            parts.append((done, before))
            done = cut
        parts.append((done, rest))
        out = []
        for k, (offset, children) in enumerate(parts):
            classes = (["continued"] if k else []) + (["split"] if k < len(parts) - 1 else []) + spacing
            if k == 0 and 0 in marks.cuts:
                classes.append("page-start")
            if k == len(parts) - 1 and ends_page:
                classes.append("page-end")
            attrs = f' class="{" ".join(classes)}"' if classes else ""
            chars = f' data-chars="{offset}"' if len(parts) > 1 else ""
            own = self.renderAttrs(opening) if k == 0 else ""
            out.append(
                f'<p{own}{attrs} data-p="{self.work.slug}:{ordinal}"{chars}>'
                + self.renderInline(children, self.options, {})
                + "</p>\n"
            )
        return "".join(out)

    def _div(self, token: Token, inner: list[Token]) -> str:
        ident, classes, attributes = div_attrs(token.info)
        if "table" in classes:
            return self._table(self.work.tables[ident], inner)
        if "epigraph" in classes:
            return self._epigraph(ident, attributes, inner)
        attrs = f' class="{escape(" ".join(classes))}"' if classes else ""
        if ident:
            attrs += f' id="{escape(ids.output_id(self.work.slug, ident))}"'
        attrs += self._language_attrs(attributes.get("lang"), attributes.get("dir"))
        return f"<div{attrs}>\n{self._blocks(inner)}</div>\n"

    def _epigraph(self, ident: str, attributes: dict[str, str], inner: list[Token]) -> str:
        """``::: epigraph``: a quotation set as an epigraph, its attribution (the
        last paragraph, when it opens with a dash, or a ``::: attribution`` div
        inside it) flush right under it (the template macro ``epigraph``)."""
        body, attribution, dashed = _attribution(inner)
        language = self._language_attrs(attributes.get("lang"), attributes.get("dir"))
        own_id = ids.output_id(self.work.slug, ident) if ident else ""
        quote = Markup(self._blocks(body))
        credit = Markup(self._blocks(attribution).strip()) if attribution else Markup("")
        return str(self.macros.epigraph(own_id, Markup(language), quote, credit, dashed, self.target.name)) + "\n"

    def _table(self, table: Table, inner: list[Token]) -> str:
        """A table placed by a div: its caption is the div's text, or the
        description's ``caption``."""
        caption = self._blocks([t for t in inner if t.type not in ("paragraph_open", "paragraph_close")]).strip()

        def line(name: str, markdown: str) -> Markup:
            return self.inline(markdown, tablecites.line_id(self.work.slug, table, name))

        if not caption and table.caption:
            caption = line("caption", table.caption)
        label = self.labels.targets.get(table.id)
        if label is not None and caption and not _labelled(caption):
            caption = self._caption_label(label) + Markup(" ") + Markup(caption)
        source = line("source", table.source) if table.source else Markup("")
        texts = [line(f"note-{n}", note) for n, note in enumerate(table.notes, 1)]
        notes = list(zip(tabular.note_labels(len(table.notes)), texts, strict=True))
        view = tabular.table_view(table, display_date, self.work.meta.smart_quotes)
        marker = Expose("marker", self.original_page_marker)
        return str(self.macros.table(self.work, table, Markup(caption), marker, view, source, notes))

    def heading_open(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        level = min(int(token.tag[1]) + self.heading_shift, 6)
        if not token.attrGet("id"):  # a heading of metadata Markdown (an introduction)
            token.attrSet("id", self._heading_slug(tokens[idx + 1].content))
        return f"<h{level}{self._safe_attrs(token)}>"

    def heading_close(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        level = min(int(tokens[idx].tag[1]) + self.heading_shift, 6)
        return f"</h{level}>\n"

    def _heading_slug(self, text: str) -> str:
        prefix = self.section.slug if self.section else "h"
        return f"{prefix}-{ids.slugify(text)}"

    def _figure(self, opening: Token, inline: Token) -> str:
        """An image alone in its paragraph: its description is the caption."""
        image = (inline.children or [None])[0]
        attrs = self._safe_attrs(opening)
        caption = self.renderInline(image.children or [], self.options, {}) if image else ""
        label = self.labels.of_token(opening)
        if label is not None and not _labelled(caption):
            caption = f"{self._caption_label(label)} {caption}"
        img = self.image([image], 0, self.options, {}) if image else ""
        # the caption repeats the alt text: read once (as Pandoc marks it)
        hidden = "" if image is not None and image.attrGet("alt") else ' aria-hidden="true"'
        return f"<figure{attrs}>\n{img}\n<figcaption{hidden}>{caption}</figcaption>\n</figure>\n"

    def table_open(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        """A Markdown table; its id (from ``Table: … {#tbl:id}``) in the work's namespace."""
        label = self.labels.of_token(tokens[idx])
        self._table_label = label
        return f"<table{self._safe_attrs(tokens[idx])}>\n"

    def caption_open(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        """A Markdown table's caption, after its label ("Table 2.")."""
        label, self._table_label = self._table_label, None
        text = tokens[idx + 1].content if idx + 1 < len(tokens) else ""
        return "<caption>" + (f"{self._caption_label(label)} " if label is not None and not _labelled(text) else "")

    def _caption_label(self, label: Label) -> Markup:
        return Markup(str(self.macros.caption_label(label.kind, label.number)).strip())

    def fence(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        """A code block; its info string is a language or Pandoc attributes
        (``{.python #id}``), of which the classes are kept."""
        token = tokens[idx]
        info = token.info.strip()
        if info.startswith("{"):
            classes = [c[1:] for c in info.strip("{}").split() if c.startswith(".")]
        else:
            classes = [f"language-{info.split()[0]}"] if info else []
        attr = f' class="{escape(" ".join(classes))}"' if classes else ""
        return f"<pre><code{attr}>{escape(token.content)}</code></pre>\n"

    def code_inline(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        return f"<code{self._safe_attrs(token)}>{escape(token.content)}</code>"

    def comment(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        """HTML comments are dropped, as Pandoc's HTML keeps them unseen."""
        return ""

    # -- inline -------------------------------------------------------------

    def footnote_ref(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        number = tokens[idx].meta["note_number"]
        note = self.work.notes[number - 1]
        body = self.note_body(note, inline=self.target.name == "print")
        # a call right after another reads "4,5", not "45" (CMOS 14.26)
        adjacent = _follows_a_call(tokens, idx)
        return str(self.macros.note_call(self.work, note, body, self.target.name, adjacent)).strip()

    def text(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        content = tokens[idx].content
        before = tokens[idx - 1] if idx else None
        if before is not None and before.type == "citation" and before.meta.get("id") in self.work.stops_taken:
            content = content[1:]  # the citation's quotation closes with the full stop (resolve.full_stops)
        return escapeHtml(content)

    def citation(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        markup = self.work.citations.get(tokens[idx].meta["id"], "")
        return HREF_RE.sub(self._citation_href, markup)

    def _citation_href(self, match: re.Match) -> str:
        local = match.group(1)
        return f'href="{escape(self.locator.href(local))}"' if self.locator.known(local) else ""

    def span_open(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        classes = str(token.attrGet("class") or "").split()
        if "op" in classes:
            self._spans.append("op")
            return self.original_page_marker(int(str(token.attrGet("n"))))
        self._spans.append("span")
        return "<span" + self._safe_attrs(token) + ">"

    def span_close(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        kind = self._spans.pop() if self._spans else "span"
        return "" if kind == "op" else "</span>"

    def original_page_marker(self, page: int) -> str:
        return str(self.macros.original_page(self.work, page)).strip()

    def _safe_attrs(self, token: Token) -> str:
        out = []
        for name in SAFE_ATTRIBUTES:
            value = token.attrGet(name)
            if value is None or name in ("lang", "dir"):  # set together below
                continue
            if name == "id":
                value = ids.output_id(self.work.slug, str(value))
            out.append(f' {name}="{escape(value)}"')
        lang, direction = token.attrGet("lang"), token.attrGet("dir")
        out.append(
            self._language_attrs(None if lang is None else str(lang), None if direction is None else str(direction))
        )
        return "".join(out)

    def _language_attrs(self, lang: str | None, direction: str | None) -> str:
        """``lang`` (and ``xml:lang`` in XHTML), and ``dir``: a language written
        right to left is set right to left unless the text says otherwise."""
        out = ""
        if lang:
            out += f' lang="{escape(lang)}"'
            if self.target.xhtml:
                out += f' xml:lang="{escape(lang)}"'
            if direction is None and right_to_left(lang):
                direction = "rtl"
        if direction in ("ltr", "rtl", "auto"):
            out += f' dir="{direction}"'
        return out

    def link_open(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        href = str(tokens[idx].attrGet("href") or "")
        if href.startswith("#"):  # a cross-reference: print adds the page (print.css), not to a note
            # a target the volume leaves out (a reading's excerpt) is printed unlinked
            local = href[1:]
            label = self.labels.targets.get(local)
            kind = " xref-note" if label is not None and label.kind == "note" else ""
            opening = (
                f'<a class="xref{kind}" href="{escape(self.locator.href(local))}">'
                if self.locator.known(local)
                else "<a>"
            )
            if label is not None and idx + 1 < len(tokens) and tokens[idx + 1].type == "link_close":
                # a link written without text prints its target's label ("figure 2", "note 47")
                opening += str(self.macros.xref_label(label.kind, label.number, _opens_sentence(tokens, idx))).strip()
            return opening
        external = links.external_href(href)
        return f'<a href="{escape(external)}">' if external else "<a>"

    def image(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        """An image of the work, as the reader read it: a file URL in print (the
        fetcher reads it under the same sandbox rule), a file packed into the
        EPUB under ``images/``."""
        token = tokens[idx]
        alt = str(token.attrGet("alt") or "") or self.renderInlineAsText(token.children or [], options, env)
        image = self.work.images[token.meta["image"]]
        if self.target.file_per_section:
            src = f"images/{self.work.slug}-{image.name}"
            self.images[src] = (image, alt)
        else:
            src = image.path.resolve().as_uri()
        end = " />" if self.target.xhtml else ">"
        size = "".join(
            f"{name}:{value};"
            for name in ("width", "height")
            if (value := str(token.attrGet(name) or "")) and SIZE_RE.match(value)
        )
        style = f' style="{escape(size)}"' if size else ""
        return f'<img src="{escape(src)}" alt="{escape(alt)}"{style}{end}'


#: A caption that carries its own label, as an original printed it ("TABLE: …",
#: "Figure 3. …", "Fig. 2 …"): it is printed as written, without another.
OWN_LABEL = re.compile(r"^\s*(?:<[^>]+>\s*)*(?:table|tab\.|figure|fig\.)\s*(?:\d+|[ivxlc]+\b|:|\.)", re.IGNORECASE)


def _labelled(caption: str) -> bool:
    return bool(OWN_LABEL.match(caption))


#: What an epigraph's attribution opens with (as written, or as ``---`` becomes).
ATTRIBUTION_DASHES = ("\u2014", "\u2013", "\u2015", "---", "--")


def _attribution(inner: list[Token]) -> tuple[list[Token], list[Token], bool]:
    """An epigraph's tokens split into its quotation and its attribution's
    inline tokens; and whether the attribution carries its own dash. The
    attribution is a ``::: attribution`` div inside the epigraph, or else its
    last paragraph when that opens with a dash."""
    for i, token in enumerate(inner):
        if token.type == "container_div_open" and "attribution" in div_attrs(token.info)[1]:
            end = _matching_close(inner, i)
            credit = [t for t in inner[i + 1 : end] if t.type not in ("paragraph_open", "paragraph_close")]
            text = "".join(t.content for t in credit if t.type == "inline").lstrip()
            return inner[:i] + inner[end + 1 :], credit, text.startswith(ATTRIBUTION_DASHES)
    last = inner[-3:]
    if (
        len(inner) > 3
        and [t.type for t in last] == ["paragraph_open", "inline", "paragraph_close"]
        and last[1].content.lstrip().startswith(ATTRIBUTION_DASHES)
    ):
        return inner[:-3], [last[1]], True
    return inner, [], False


def _opens_sentence(tokens: list[Token], idx: int) -> bool:
    """Whether nothing but a sentence's end stands before token ``idx`` of an inline."""
    before = "".join(t.content for t in tokens[:idx] if t.type in ("text", "code_inline")).rstrip()
    return not before or bool(re.search(r"[.!?][\"”’)]*$", before))


def _follows_a_call(tokens: list[Token], idx: int) -> bool:
    """Whether a note call comes right after another, with nothing printed
    between them: a citation that became a note leaves an empty text token
    where its punctuation moved before its call ("text [@a].[^2]")."""
    for token in reversed(tokens[:idx]):
        if token.type == "footnote_ref":
            return True
        if token.type != "text" or token.content:
            return False
    return False


OPENING = {
    "em_open": "em_close",
    "strong_open": "strong_close",
    "span_open": "span_close",
    "link_open": "link_close",
    "s_open": "s_close",
}


def _paragraphs(tokens: list[Token]) -> list[list[Token]]:
    """A note's tokens, one list per paragraph, without the paragraph tags
    (the check of the Markdown refuses any other block in a note)."""
    out: list[list[Token]] = [[]]
    for token in tokens:
        if token.type == "paragraph_open" and out[-1]:
            out.append([])
        elif token.type not in ("paragraph_open", "paragraph_close"):
            out[-1].append(token)
    return [p for p in out if p]


def split_inline(children: list[Token], chars: int) -> tuple[list[Token], list[Token]]:
    """Split inline tokens before the word holding the ``chars``-th non-space
    character, closing open elements in the first part and reopening them in
    the second. Note calls and page markers carry no characters."""
    seen, open_stack = 0, []
    word_start: tuple[int, int] | None = None  # (child index, offset) of the current word
    for index, child in enumerate(children):
        if child.type in OPENING:
            open_stack.append(child)
        elif child.type in OPENING.values() and open_stack:
            open_stack.pop()
        elif child.type in ("softbreak", "hardbreak"):
            word_start = None
        elif child.type in ("text", "code_inline"):
            for offset, char in enumerate(child.content):
                if char.isspace():
                    word_start = None
                    continue
                if word_start is None:
                    word_start = (index, offset)
                if seen == chars:
                    return _cut(children, word_start, open_stack)
                seen += 1
    return children, []


def _cut(children: list[Token], at: tuple[int, int], open_stack: list[Token]) -> tuple[list[Token], list[Token]]:
    index, offset = at
    head, tail = children[:index], children[index + 1 :]
    token = children[index]
    before, after = token.copy(), token.copy()
    before.content, after.content = token.content[:offset].rstrip(), token.content[offset:]
    closers = [Token(OPENING[t.type], t.tag, -1) for t in reversed(open_stack)]
    reopen = [t.copy() for t in open_stack]
    return head + [before] + closers, reopen + [after] + tail


def _matching_close(tokens: list[Token], start: int) -> int:
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i].type == "container_div_open":
            depth += 1
        elif tokens[i].type == "container_div_close":
            depth -= 1
            if depth == 0:
                return i
    return len(tokens) - 1


def derived_totals(table: Table) -> dict[str, Any] | None:
    """The totals the table's own data gives for the totals the text states."""
    stated = table.stated_totals
    if not stated:
        return None
    column = stated["column"]
    first, last = stated.get("years", [None, None])
    counts: dict[str, int] = {}
    for row in table.rows:
        year = row[table.group_by]
        if first is not None and not (first <= year <= last):
            continue
        counts[row[column]] = counts.get(row[column], 0) + 1
    order = list(stated["counts"])
    rows = [(k, stated["counts"][k], counts.get(k, 0)) for k in order]
    rows += [(k, 0, v) for k, v in counts.items() if k not in stated["counts"]]
    return {
        "first": first,
        "last": last,
        "rows": rows,
        "differs": any(s != d for _, s, d in rows),
        "stated_sum": sum(s for _, s, _ in rows),
        "derived_sum": sum(d for _, _, d in rows),
    }


MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def display_date(value: str) -> str:
    """``2009-04`` -> ``April 2009``; ``1977-12-13`` -> ``13 December 1977``."""
    parts = str(value).split("-")
    if len(parts) == 1:
        return parts[0]
    month = MONTHS[int(parts[1]) - 1]
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{int(parts[2])} {month} {parts[0]}"


REGISTER_KINDS = {
    "rehyphenated": ("hyphen restored in a compound", "hyphens restored in compounds"),
    "rejoined": ("word rejoined", "words rejoined"),
    "space-restored": ("lost space restored", "lost spaces restored"),
    "corrected": ("extraction error corrected", "extraction errors corrected"),
}


def register_kind(kind: str, count: int) -> str:
    one, many = REGISTER_KINDS.get(kind, (kind, kind))
    return one if count == 1 else many


#: A display title longer than this many characters is set on two balanced lines.
BALANCE_FROM = 32
#: Words a line should not end on.
WEAK_ENDINGS = {"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"}


@functools.lru_cache(maxsize=1)
def _advances() -> tuple[dict[int, float], float]:
    """Advance widths (in em) of the body face, by code point; an average for the rest."""
    from fontTools.ttLib import TTFont

    from edition.fonts.faces import FACES, FONT_DIR

    with TTFont(FONT_DIR / FACES[0].file, lazy=True) as font:
        units = font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        widths = {code: metrics[name][0] / units for code, name in font.getBestCmap().items()}
    return widths, 0.5


def _width(text: str) -> float:
    widths, average = _advances()
    return sum(widths.get(ord(c), average) for c in text)


def balanced_measure(title: str) -> str:
    """A CSS width that sets a long display title on two lines, the longer
    first, broken where the halves are most nearly equal, preferably after
    punctuation and never after a weak word ("the", "and"): the width of the
    first line plus less than any word, so the line breaks there."""
    if len(title) <= BALANCE_FROM:
        return "none"
    words = title.split()
    # the two lines' widths at each break, in one pass (a title is any text a
    # template hands the filter; measuring both halves anew at each break was
    # quadratic). The advances are multiples of 1/2048 em, so the sums are exact.
    space = _width(" ")
    total = sum(map(_width, words)) + space * (len(words) - 1)
    best, wl = None, -space
    for i in range(1, len(words)):
        wl += space + _width(words[i - 1])
        wr = total - wl - space
        if wl < wr:
            continue
        score = (wl - wr) / (wl + wr)
        score += 0.5 if words[i - 1].lower() in WEAK_ENDINGS else 0.0
        score -= 0.3 if words[i - 1][-1] in ",:;" else 0.0
        if best is None or score < best[0]:
            best = (score, wl)
    return f"{best[1] + 0.2:.2f}em" if best else "none"


def render_bodies(
    work: Work,
    target: Target,
    env: TemplateEnvironment,
    marks: dict[int, Marks] | None = None,
    elsewhere: dict | None = None,
) -> tuple[dict[str, Markup], BodyRenderer]:
    """Each section's and document's body markup, by slug. In print, every
    paragraph of the text carries its ordinal in the work, and ``marks``
    (ordinal -> Marks) ends pages inside paragraphs or sets them looser."""
    macros = env.macros("body/blocks.html")
    if target.name == "print" and marks is None:
        marks = {}
    renderer = BodyRenderer(work, target, macros, build_locator(work, target, elsewhere), marks)
    bodies = {s.slug: renderer.section_body(s) for s in work.all_sections}
    return bodies, renderer
