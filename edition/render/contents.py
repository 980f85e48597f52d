"""Where each id of a work stands in an output, and the lists that point at
them: the contents (print page and EPUB nav), a reader's contents and its
permissions rows. ``Target`` says what differs between the print and EPUB
outputs, as data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from edition import ids
from edition.model import Section, Work
from edition.render import printed
from edition.render.environment import display_date
from edition.resolve import anchors


@dataclass(frozen=True)
class Target:
    """What differs between outputs, declared as data."""

    name: str  # "print" | "epub"
    xhtml: bool
    file_per_section: bool


PRINT = Target("print", xhtml=False, file_per_section=False)


EPUB = Target("epub", xhtml=True, file_per_section=True)


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
