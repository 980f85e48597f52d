"""The EPUB 3 builder: one XHTML file per section and document, packed by
ebooklib, then re-zipped deterministically.

ebooklib is used for the package (OPF, NCX, manifest, spine); the XHTML files,
the navigation document and the CSS are ours, written as plain items so
ebooklib does not re-serialize them. Its automatic page-list is turned off
(it lists note references as pages).
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ebooklib import epub
from markupsafe import Markup, escape

from edition import ids
from edition.diagnostics import BuildFailed, Diagnostic
from edition.fonts import faces as fonts
from edition.fonts import scripts
from edition.layout.pagestart import PageStart
from edition.model import Edition, SourceLocation
from edition.outputs.epub import accessibility, captions, cssrefs, loads, pagebreaks
from edition.outputs.epub.cover import cover_alt, cover_texts, draw_cover
from edition.outputs.pdf import markers
from edition.render.environment import render_template
from edition.render.epub_pages import Package, Page, package_pages
from edition.render.printed import plain
from edition.render.template_limits import budget_scope
from edition.render.template_sandbox import TemplateEnvironment
from edition.render.templates import read_template
from edition.resolve import links

CSS_FILES = {"css/base.css": "base.css", "css/epub.css": "epub/epub.css"}
#: The templates the EPUB builder renders (they load the rest), and its cover layout.
TEMPLATES = (
    "epub/page.xhtml",
    "epub/nav.xhtml",
    "epub/cover.xhtml",
    "epub/section.xhtml",
    "epub/titlepage.xhtml",
    "body/blocks.html",
    "body/notes.html",
)
COVER_LAYOUT = "epub/cover.yaml"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def build_epub(
    edition: Edition,
    env: TemplateEnvironment,
    project: Path,
    date: datetime.datetime,
    page_starts: Sequence[PageStart] = (),
    print_identifier: str = "",
    reading_pages: dict[str, tuple[int, int]] | None = None,
) -> bytes:
    with budget_scope():  # the templates of one output share one budget
        return _build_epub(edition, env, project, date, page_starts, print_identifier, reading_pages)


def _build_epub(
    edition: Edition,
    env: TemplateEnvironment,
    project: Path,
    date: datetime.datetime,
    page_starts: Sequence[PageStart],
    print_identifier: str,
    reading_pages: dict[str, tuple[int, int]] | None,
) -> bytes:
    package = package_pages(edition, env, reading_pages, {s.anchor: s.page for s in page_starts})
    texts = cover_texts(edition)
    layout = project / "templates" / COVER_LAYOUT
    cover_png = draw_cover(texts, layout)
    cover_page = Page(
        "cover.xhtml",
        "Cover",
        render_template(env, "epub/cover.xhtml", image="images/cover.png", alt=cover_alt(texts, layout)),
        body_type="cover",
    )
    package.pages.insert(0, cover_page)
    package.landmarks.insert(0, {"type": "cover", "href": "cover.xhtml", "title": "Cover"})
    contents = ids.output_id(edition.slug, "contents")
    package.landmarks.insert(1, {"type": "toc", "href": f"nav.xhtml#{contents}", "title": "Contents"})
    documents, page_files = _render_pages(package, env, edition.language, page_starts)
    a11y = accessibility.metadata(accessibility.count(documents.values()), len(page_starts))
    book = _book(edition, a11y, bool(page_starts), print_identifier)
    _add_pages(book, package, documents)
    page_list = _add_nav(book, package, env, edition, page_starts, page_files)
    _add_assets(book, project, package, cover_png)
    raw = io.BytesIO()
    epub.write_epub(raw, book, {"epub3_pages": False, "mtime": date.replace(tzinfo=None), "compresslevel": 9})
    return normalize_zip(
        raw.getvalue(),
        {
            "EPUB/content.opf": lambda opf: _package_lang(opf, edition.language),
            "EPUB/toc.ncx": lambda ncx: pagebreaks.ncx_page_list(ncx, page_list),
        },
    )


def page_xhtml(env: TemplateEnvironment, page: Page, lang: str) -> str:
    """One page as the XHTML file the EPUB holds, before print page breaks are added."""
    xhtml = render_template(
        env, "epub/page.xhtml", lang=lang, title=page.title, content=Markup(page.content), body_type=page.body_type
    )
    return loads_only_the_book(links.linking_only_where_it_may(xhtml, page.file), page.file)


def loads_only_the_book(xhtml: str, file: str) -> str:
    """``xhtml``, after making sure it loads or runs nothing but files of the book (``loads``)."""
    found = loads.problems(xhtml)
    if found:
        message = (
            f"the EPUB page {file} holds {found[0]}, which would load or run what is not a file of the book; "
            "a template may write only pages that load the book's own files"
        )
        raise BuildFailed([Diagnostic(None, "template.unsafe", message)])
    return xhtml


def stylesheets(project: Path, fallback_css: str = "") -> dict[str, bytes]:
    """The EPUB's CSS files by their name in the book; base.css declares the fonts
    (Charis, and the ``scripts.epub_fonts`` faces the text needs)."""
    out = {}
    for name, source in CSS_FILES.items():
        css = read_template(project / "templates" / source, project)  # under the sandbox's rule
        if css is None:
            raise FileNotFoundError(f"templates/{source} is missing")
        css = css.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as read_text gave
        _holds_no_reference(css, project / "templates" / source)
        if name == "css/base.css":
            faces = [fonts.font_face_css(lambda p: f"../fonts/{p.name}"), fallback_css]
            css = "\n".join(filter(None, faces)) + "\n" + css
        out[name] = css.encode()
    return out


def _holds_no_reference(css: str, path: Path) -> None:
    """A template stylesheet of the EPUB names no other file (``url(…)``,
    ``@import``, ``image-set(…)``, however escaped: ``cssrefs``): the book
    would point at a file it does not hold (out of the container:
    ``../../secret.css``, or on the web: a tracking request from the reading
    system), which EPUBCheck rejects. The build adds the fonts' ``url``s itself."""
    found = cssrefs.fetches(css)
    if not found:
        return
    line, what = found[0]
    raise BuildFailed(
        [
            Diagnostic(
                SourceLocation(path, line),
                "template.error",
                f"template error: the EPUB's stylesheet refers to another file ({what}…), "
                "which the EPUB does not hold; the build adds the fonts itself",
            )
        ]
    )


def _book(edition: Edition, a11y: list[tuple[str, str]], paginated: bool, print_identifier: str) -> epub.EpubBook:
    book = epub.EpubBook()
    book.set_identifier(edition.identifier)
    book.set_title(edition.title)
    book.set_language(edition.language)
    if edition.reader:
        _reader_metadata(book, edition)
    else:
        _work_metadata(book, edition.main.meta)
    if paginated and print_identifier:
        book.add_metadata("DC", "source", print_identifier)
        book.add_metadata(None, "meta", print_identifier, {"property": "pageBreakSource"})
    for prop, value in a11y:
        book.add_metadata(None, "meta", value, {"property": prop})
    return book


def _reader_metadata(book: epub.EpubBook, edition: Edition) -> None:
    """The compiler, and each reading's source and authors (dc:source, contributors)."""
    reader = edition.reader
    book.add_author(reader.instructor, role="edt", uid="creator-1")
    book.add_metadata("DC", "publisher", plain(reader.institution))
    book.add_metadata("DC", "date", reader.date)
    book.add_metadata("DC", "rights", plain(reader.rights))
    course, term = plain(reader.course_code), plain(reader.term)
    book.add_metadata("DC", "description", f"Course reader for {course}, {term}: {len(edition.parts)} readings.")
    seen: set[str] = set()
    for work in edition.parts:
        if work.reading and work.reading.source_text:
            book.add_metadata("DC", "source", work.reading.source_text)
        if work.reading and work.reading.show_authors:
            for author in work.meta.authors:
                if author.name in seen:
                    continue
                seen.add(author.name)
                uid = f"contributor-{len(seen)}"
                book.add_metadata("DC", "contributor", author.name, {"id": uid})
                book.add_metadata(
                    None, "meta", "aut", {"refines": f"#{uid}", "property": "role", "scheme": "marc:relators"}
                )


def _work_metadata(book: epub.EpubBook, meta) -> None:
    smart = meta.smart_quotes
    for number, author in enumerate(meta.authors, 1):
        book.add_author(author.name, file_as=author.sort_name or None, role="aut", uid=f"creator-{number}")
    for number, editor in enumerate(meta.series_editors, 1):
        book.add_metadata("DC", "contributor", editor, {"id": f"editor-{number}"})
        book.add_metadata(
            None, "meta", "edt", {"refines": f"#editor-{number}", "property": "role", "scheme": "marc:relators"}
        )
    book.add_metadata("DC", "publisher", plain(meta.publisher, smart))
    book.add_metadata("DC", "date", meta.date)
    book.add_metadata("DC", "rights", plain(meta.rights, smart))
    if meta.abstract:
        book.add_metadata("DC", "description", plain(meta.abstract, smart))
    if meta.series:
        series = plain(meta.series, smart)
        book.add_metadata(None, "meta", series, {"property": "belongs-to-collection", "id": "series"})
        book.add_metadata(None, "meta", "series", {"refines": "#series", "property": "collection-type"})
        if meta.number:
            book.add_metadata(
                None, "meta", plain(meta.number, smart), {"refines": "#series", "property": "group-position"}
            )


def _render_pages(
    package: Package, env: TemplateEnvironment, lang: str, starts: Sequence[PageStart]
) -> tuple[dict[str, bytes], dict[int, str]]:
    """Each XHTML file, finished: print page breaks inserted, original-page
    markers where they are read. Returns file -> XHTML, and page -> file."""
    documents: dict[str, bytes] = {}
    page_files: dict[int, str] = {}
    for page in package.pages:
        xhtml = page_xhtml(env, page, lang)
        here = [s for s in starts if f'id="{s.anchor}"' in xhtml]
        page_files.update({s.page: page.file for s in here})
        documents[page.file] = captions.name_tables(markers.relocate_xhtml(pagebreaks.insert(xhtml.encode(), here)))
    return documents, page_files


def _add_pages(book: epub.EpubBook, package: Package, documents: dict[str, bytes]) -> None:
    """Add the XHTML files, in reading order, the navigation after the first two."""
    spine: list = []
    for number, page in enumerate(package.pages):
        item = epub.EpubItem(
            uid=f"p{number:03d}", file_name=page.file, media_type="application/xhtml+xml", content=documents[page.file]
        )
        item.properties = list(page.properties)
        book.add_item(item)
        spine.append(item if page.linear else (item, "no"))
        if number == 1:
            spine.append("nav")
    book.spine = spine


def _add_nav(
    book: epub.EpubBook,
    package: Package,
    env: TemplateEnvironment,
    edition: Edition,
    starts: Sequence[PageStart],
    page_files: dict[int, str],
) -> list[dict]:
    """The navigation document; returns the page list (page, href)."""
    blocks = env.macros("body/blocks.html")
    contents = ids.output_id(edition.slug, "contents")
    here = [s for s in starts if s.anchor == contents]
    page_files.update({s.page: "nav.xhtml" for s in here})
    page_list = [{"page": p, "href": f"{page_files[p]}#{pagebreaks.page_id(p)}"} for p in sorted(page_files)]
    content = render_template(
        env,
        "epub/nav.xhtml",
        toc=package.toc,
        landmarks=package.landmarks,
        blocks=blocks,
        contents_id=contents,
        page_list=page_list,
    )
    xhtml = render_template(
        env,
        "epub/page.xhtml",
        lang=edition.language,
        title="Contents",
        content=Markup(content),
        body_type="frontmatter",
    )
    xhtml = loads_only_the_book(links.linking_only_where_it_may(xhtml, "nav.xhtml"), "nav.xhtml")
    nav = epub.EpubItem(
        uid="nav",
        file_name="nav.xhtml",
        media_type="application/xhtml+xml",
        content=markers.relocate_xhtml(pagebreaks.insert(xhtml.encode(), here)),
    )
    nav.properties = ["nav"]
    book.add_item(nav)
    book.toc = [_ncx_entry(e) for e in package.toc]
    book.add_item(epub.EpubNcx())
    return page_list


def _ncx_entry(entry: dict):
    link = epub.Link(entry["href"], entry["title"], ids.slugify(entry["href"]))
    if not entry["children"]:
        return link
    return (epub.Section(entry["title"], entry["href"]), [_ncx_entry(c) for c in entry["children"]])


def _add_assets(book: epub.EpubBook, project: Path, package: Package, cover_png: bytes) -> None:
    used = set("".join(p.content for p in package.pages))
    fallback_css, fallback_files = scripts.epub_fonts(used)
    for name, css in stylesheets(project, fallback_css).items():
        book.add_item(epub.EpubItem(uid=ids.slugify(name), file_name=name, media_type="text/css", content=css))
    for face in fonts.FACES:
        data = fonts.subset(face, used)
        book.add_item(
            epub.EpubItem(
                uid=ids.slugify(face.file), file_name=f"fonts/{face.file}", media_type="font/ttf", content=data
            )
        )
    # the faces for scripts beyond Charis, each cut down to the characters it draws
    for file_name, media, data in fallback_files:
        book.add_item(
            epub.EpubItem(uid=ids.slugify(file_name), file_name=f"fonts/{file_name}", media_type=media, content=data)
        )
    for number, (name, (image, _)) in enumerate(sorted(package.images.items())):
        book.add_item(
            epub.EpubItem(uid=f"img{number:03d}", file_name=name, media_type=image.media_type, content=image.data)
        )
    image = epub.EpubItem(uid="cover-image", file_name="images/cover.png", media_type="image/png", content=cover_png)
    image.properties = ["cover-image"]
    book.add_item(image)
    book.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-image"})


def _package_lang(opf: bytes, lang: str) -> bytes:
    """ebooklib writes no language on <package>; reading systems and Ace want it.
    (The language is a checked tag, ``languages``; escaped all the same.)"""
    return opf.replace(b"<package ", f'<package xml:lang="{escape(lang)}" '.encode(), 1)


def normalize_zip(data: bytes, transforms: dict | None = None) -> bytes:
    """Same entries, fixed order and timestamps: ``mimetype`` first and stored.
    ``transforms`` maps an entry name to a function applied to its bytes."""
    transforms = transforms or {}
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    order = ["mimetype", "META-INF/container.xml"] + sorted(
        n for n in names if n not in ("mimetype", "META-INF/container.xml")
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in order:
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            if name == "mimetype":
                info.compress_type = zipfile.ZIP_STORED
                target.writestr(info, source.read(name))
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                content = source.read(name)
                if name in transforms:
                    content = transforms[name](content)
                target.writestr(info, content, compresslevel=9)
    return out.getvalue()
