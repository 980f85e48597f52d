"""The Jinja environment every template renders in, and what it is handed.

Templates run in Jinja's sandbox (``template_sandbox``): they reach only the
functions and filters listed in ``environment``, which live here (dates, the
register's kinds, a display title's balanced measure, the languages a work
marks) or in ``printed`` and ``tabular``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from edition import ids
from edition.model import Work
from edition.read.markdown.parse import PARSER, walk_inline
from edition.render import printed
from edition.render.tabular import derived_totals
from edition.render.template_sandbox import TemplateEnvironment
from edition.render.templates import SandboxLoader


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
