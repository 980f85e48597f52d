"""The EPUB's XHTML pages rendered from the model: a course reader's front
matter, each work's title page, sections, documents and back matter, a PDF
reading's section, the permissions page; with the book's contents, landmarks
and images. The print HTML is rendered beside it (``print_html``), from the
same body partials; ``outputs/epub/builder`` wraps each page, adds the print
page breaks and packs the book.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from edition import ids
from edition.model import Edition, Image, Section, Work
from edition.render.body import render_bodies, render_introduction
from edition.render.contents import (
    EPUB,
    build_locator,
    permission_rows,
    section_file,
    toc_entries,
    volume_links,
    volume_toc,
)
from edition.render.environment import render_template
from edition.render.printed import plain
from edition.render.template_sandbox import TemplateEnvironment


@dataclass(frozen=True)
class Page:
    """One XHTML file of the EPUB."""

    file: str
    title: str
    content: str
    body_type: str = "bodymatter"
    linear: bool = True
    properties: tuple[str, ...] = ()


@dataclass
class Package:
    pages: list[Page] = field(default_factory=list)
    toc: list[dict] = field(default_factory=list)
    landmarks: list[dict] = field(default_factory=list)
    images: dict[str, tuple[Image, str]] = field(default_factory=dict)  # EPUB name -> (image, alt)


def package_pages(
    edition: Edition,
    env: TemplateEnvironment,
    reading_pages: dict[str, tuple[int, int]] | None = None,
    printed_on: dict[str, int] | None = None,
) -> Package:
    """The book's XHTML pages in reading order (without cover and navigation), its
    table of contents, landmarks and images. Only a PDF reading's page numbers
    come from the print layout (``reading_pages``, and ``printed_on``: the
    printed page each page-start anchor stands on)."""
    package = Package()
    if edition.reader:
        _add_reader_front(package, edition, env)
    links = volume_links(edition.parts)
    for work in edition.parts:
        if work.pdf:
            _add_pdf_reading(package, work, env, (reading_pages or {}).get(work.slug), printed_on or {})
            continue
        _add_work(package, work, env, links.get(work.slug))
    if edition.reader:
        package.toc[:] = volume_toc(edition, EPUB)
        if edition.reader.permissions_page:
            _add_permissions(package, edition, env, reading_pages)
    return package


def _add_reader_front(package: Package, edition: Edition, env: TemplateEnvironment) -> None:
    blocks = env.macros("body/blocks.html")
    reader = edition.reader
    package.pages.append(
        Page(f"{edition.slug}-titlepage.xhtml", reader.title, str(blocks.reader_titlepage(edition)), "frontmatter")
    )
    if reader.introduction:
        content = str(blocks.introduction(edition, render_introduction(edition, EPUB, env)))
        package.pages.append(Page(f"{edition.slug}-introduction.xhtml", "Introduction", content, "frontmatter"))


def _add_permissions(package: Package, edition: Edition, env: TemplateEnvironment, pages) -> None:
    blocks = env.macros("body/blocks.html")
    content = str(blocks.permissions(edition, permission_rows(edition, pages)))
    package.pages.append(Page(f"{edition.slug}-permissions.xhtml", "Permissions", content, "backmatter"))


def _add_work(package: Package, work: Work, env: TemplateEnvironment, elsewhere: dict | None = None) -> None:
    bodies, renderer = render_bodies(work, EPUB, env, elsewhere=elsewhere)
    package.images.update(renderer.images)
    blocks = env.macros("body/blocks.html")
    notes = env.macros("body/notes.html")
    note_bodies = {n.number: renderer.note_body(n, inline=True) for n in work.notes}

    def page(file: str, title: str, heading: Markup | None, body: Markup, section: Section | None, kind: str) -> Page:
        section_notes = [work.notes[n - 1] for n in _note_numbers(section)] if section else []
        content = render_template(
            env,
            "epub/section.xhtml",
            heading=heading,
            body=body,
            work=work,
            notes=notes,
            section_notes=section_notes,
            note_bodies=note_bodies,
        )
        return Page(file, title, content, body_type=kind)

    title_file = f"{work.slug}-titlepage.xhtml"
    if work.reading:
        head = Page(title_file, work.reading.title, str(blocks.reading_head(work)), "bodymatter")
    else:
        head = Page(
            title_file,
            work.meta.title,
            render_template(env, "epub/titlepage.xhtml", work=work, blocks=blocks),
            "frontmatter",
        )
    package.pages.append(head)
    first = section_file(work, work.sections[0]) if work.sections else title_file
    if not any(mark["type"] == "bodymatter" for mark in package.landmarks):
        package.landmarks.append({"type": "bodymatter", "href": first, "title": "Start of the text"})
    for section in work.sections:
        file = section_file(work, section)
        package.pages.append(
            page(file, section.title, None, blocks.section(work, section, bodies[section.slug]), section, "bodymatter")
        )
    if work.documents:
        if not work.documents_only:
            appendix_file = f"{work.slug}-appendix.xhtml"
            package.pages.append(
                page(
                    appendix_file,
                    plain(work.meta.appendix_title, work.meta.smart_quotes),
                    blocks.appendix_heading(work),
                    Markup(""),
                    None,
                    "backmatter",
                )
            )
        for doc in work.documents:
            file = section_file(work, doc)
            package.pages.append(
                page(
                    file,
                    plain(doc.label, work.meta.smart_quotes),
                    None,
                    blocks.document(work, doc, bodies[doc.slug]),
                    doc,
                    "backmatter",
                )
            )
    if work.bibliography:
        file = f"{work.slug}-bibliography.xhtml"
        package.pages.append(page(file, "Bibliography", None, blocks.bibliography(work), None, "backmatter"))
        package.landmarks.append({"type": "bibliography", "href": file, "title": "Bibliography"})
    if work.register and not work.documents_only:
        file = f"{work.slug}-note-on-the-text.xhtml"
        package.pages.append(page(file, "Note on the Text", None, blocks.note_on_the_text(work), None, "backmatter"))
    package.toc.extend(toc_entries(work, build_locator(work, EPUB)))


def _add_pdf_reading(
    package: Package, work: Work, env: TemplateEnvironment, pages: tuple[int, int] | None, printed_on: dict[str, int]
) -> None:
    """A reading printed from a PDF: a short section that says where it stands in
    the print edition, each print page in the page list, and, when asked for,
    the PDF's text layer as an appendix marked as extracted."""
    macros = env.macros("body/pdfreading.html")
    pdf = work.pdf
    page_of = {n: printed_on.get(ids.output_id(work.slug, f"pdf-page-{n}"), 0) for n in pdf.page_numbers}
    text_file = f"{work.slug}-pdf-text.xhtml" if pdf.text else ""
    head = str(macros.epub_section(work, pages or (0, 0), page_of, text_file))
    package.pages.append(Page(f"{work.slug}-titlepage.xhtml", work.reading.title, head, "bodymatter"))
    if text_file:
        title = f"{work.reading.title}: extracted text"
        package.pages.append(Page(text_file, title, str(macros.epub_text(work, page_of)), "bodymatter"))


def _note_numbers(section: Section) -> list[int]:
    numbers = []
    for token in section.tokens:
        for child in token.children or ():
            if child.type == "footnote_ref":
                numbers.append(child.meta["note_number"])
    return numbers
