"""The edit loop's first answer: check what a save affects, then render its EPUB pages.

Runs in a child of the watching process (``edition.watch``), beside the full
build. Reading is the pipeline's own (``read_work``, ``read_reader``), so a bad
save gets the diagnostics a build would print, in a fraction of a build's time.
The preview pages are the EPUB's own XHTML (``render.epub_pages.package_pages``,
``page_xhtml``, ``stylesheets``), without the print page-break markers, which
need the print layout; the built EPUB replaces them when the build finishes.

Each message goes to the watching process through ``send``:

- ``("checked", slug, diagnostics, inputs)``: one edition read (``inputs`` is
  ``None`` when its input has errors);
- ``("checked-all",)``: every edition read: the build may start;
- ``("preview", slug, Book)`` or ``("preview-failed", slug, diagnostics)``.

Citations are formatted through the build's cache (``edition.cache``): a save
that changes no note and not the BibTeX file (the usual edit) runs no Pandoc,
since Pandoc's runs are found by the content hash of their input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edition.diagnostics import BuildFailed
from edition.fonts import scripts
from edition.fonts.faces import FACES, FONT_DIR
from edition.infra import cache
from edition.loop.dependents import Inputs
from edition.loop.serve import Book
from edition.model import Edition, Work
from edition.outputs.epub.builder import page_xhtml, stylesheets
from edition.read.course_reader import read_reader
from edition.read.work import read_work
from edition.render.environment import environment
from edition.render.epub_pages import package_pages
from edition.render.template_limits import budget_scope
from edition.resolve.edition import resolve_work, single_work_edition
from edition.resolve.volume import resolve_volume

Send = Callable[[tuple], None]


def check(
    send: Send, project: Path, works: list[str], readers: list[str], render: bool, cache_folder: Path | None
) -> None:
    """Read ``works`` and ``readers``, report each, then (with ``render``) their
    previews; Pandoc's runs are kept in and reused from ``cache_folder``."""
    with cache.use(cache_folder):
        good: dict[str, Work | Edition] = {}
        for slug in works:
            _read(send, slug, lambda s=slug: read_work(project, s), good)
        if render and readers:  # the works' pages first: a reader's check formats all its citations
            _previews(send, project, good)
        for slug in readers:
            _read(send, slug, lambda s=slug: resolve_volume(read_reader(project, s)), good)
        send(("checked-all",))
        if render:
            _previews(send, project, good)


def _previews(send: Send, project: Path, good: dict[str, Work | Edition]) -> None:
    """Render the preview of each edition read well, once (``good`` empties)."""
    env = environment(project / "templates")
    while good:
        slug, item = next(iter(good.items()))
        del good[slug]
        try:
            edition = item if isinstance(item, Edition) else single_work_edition(resolve_work(item))
            send(("preview", slug, book(edition, env, project)))
        except BuildFailed as failed:
            send(("preview-failed", slug, [str(d) for d in failed.diagnostics]))
        except Exception as exc:  # a bug or the environment: the build will say it too
            send(("preview-failed", slug, [_internal(exc)]))


def _read(send: Send, slug: str, read: Callable[[], Work | Edition], good: dict) -> None:
    try:
        item = read()
    except BuildFailed as failed:
        send(("checked", slug, [str(d) for d in failed.diagnostics], None))
        return
    except Exception as exc:
        send(("checked", slug, [_internal(exc)], None))
        return
    good[slug] = item
    send(("checked", slug, [], inputs(item)))


def _internal(exc: Exception) -> str:
    return f"internal error: {type(exc).__name__}: {exc}"


def inputs(item: Work | Edition) -> Inputs:
    """The works and files an edition was read from (for ``Dependents``)."""
    if isinstance(item, Work):
        return Inputs(frozenset({item.slug}), frozenset(p.resolve() for p in item.inputs))
    files = {path for part in item.parts for path in part.inputs}
    if item.reader:
        files.add(item.reader.definition)
    works = {part.reading.work if part.reading else part.slug for part in item.parts}
    return Inputs(frozenset(works), frozenset(p.resolve() for p in files))


def book(edition: Edition, env, project: Path) -> Book:
    """The EPUB's pages as XHTML, its CSS, fonts and images, for the preview."""
    with budget_scope():  # the templates of one output share one budget
        package = package_pages(edition, env)
        files: dict[str, bytes | Path] = {
            page.file: page_xhtml(env, page, edition.language).encode() for page in package.pages
        }
    # the faces for scripts beyond Charis, as the EPUB has them (none for a text in Latin script)
    fallback_css, fallback_files = scripts.epub_fonts(set("".join(page.content for page in package.pages)))
    files.update(stylesheets(project, fallback_css))
    files.update({f"fonts/{face.file}": FONT_DIR / face.file for face in FACES})
    files.update({f"fonts/{name}": data for name, _, data in fallback_files})
    files.update({name: image.data for name, (image, _) in package.images.items()})
    return Book(edition.title, [(page.file, page.title) for page in package.pages], files)
