"""Render the bodies of a work's sections to HTML (print) or XHTML (EPUB).

Bodies are markdown-it tokens; ``BodyRenderer`` turns them into markup and hands
every piece that has its own template (note calls, tables, original-page
markers) to the shared macros in ``templates/body/``. The same renderer runs
for both targets: the only branch on the target is inside the notes macro.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict
from markupsafe import Markup, escape

from edition import ids
from edition.fonts.scripts import right_to_left
from edition.model import Image, Note, Section, Table, Work
from edition.read.markdown.parse import PARSER, div_attrs
from edition.render import tabular
from edition.render.contents import Locator, Target, build_locator
from edition.render.environment import display_date, document_title_level
from edition.render.template_limits import Expose
from edition.render.template_sandbox import TemplateEnvironment
from edition.resolve import links
from edition.resolve import table_citations as tablecites
from edition.resolve.labels import Label, labels

#: Span and div attributes content may set; everything else is dropped.
SAFE_ATTRIBUTES = ("id", "class", "lang", "dir")
HREF_RE = re.compile(r'href="#([^"]+)"')
#: An image's width or height, as Pandoc's ``{width=50%}`` gives it.
SIZE_RE = re.compile(r"^\d+(?:\.\d+)?(?:%|px|cm|mm|in|em)$")


@dataclass(frozen=True)
class Marks:
    """What the print layout asks of one paragraph: where pages end inside it
    (non-space characters before each cut; 0 = before the paragraph, -1 =
    after it) and
    whether to set it a line tighter (-1) or looser (+1)."""

    cuts: tuple[int, ...] = ()
    spacing: int = 0


def render_introduction(edition, target: Target, env: TemplateEnvironment) -> Markup:
    if edition.reader is None or not edition.reader.introduction:
        return Markup("")
    renderer = BodyRenderer(edition.main, target, env.macros("body/blocks.html"), build_locator(edition.main, target))
    return Markup(renderer._blocks(list(edition.reader.introduction)))


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
