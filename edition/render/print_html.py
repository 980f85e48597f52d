"""The print edition's HTML: the book template around the rendered bodies,
with its stylesheets, fonts and document metadata. The layout stage adds its
make-up marks (``edition.layout.print_layout``)."""

from __future__ import annotations

import datetime
import uuid

from markupsafe import Markup

from edition import __version__
from edition.fonts import faces, scripts
from edition.infra.tools import pandoc_version
from edition.model import Edition
from edition.papers import PAPERS
from edition.render import printed
from edition.render.body import Marks, render_bodies, render_introduction
from edition.render.contents import PRINT, build_locator, permission_rows, toc_entries, volume_links, volume_toc
from edition.render.environment import render_template
from edition.render.template_limits import budget_scope
from edition.render.template_sandbox import TemplateEnvironment
from edition.resolve.links import linking_only_where_it_may
from edition.settings import Options

#: What the print builder loads from templates/ (the templates load the rest).
PRINT_TEMPLATES = ("print/book.html", "body/blocks.html")
PRINT_STYLESHEETS = {"base": "base.css", "print": "print/print.css", "press": "print/press.css"}

#: A make-up mark of one paragraph: its cuts and its spacing (``Marks``), by work and paragraph number.
WorkMarks = dict[str, dict[int, tuple]]


def print_identifier(edition: Edition, paper: str) -> str:
    """The print edition's own identifier, derived from the edition's and the paper."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{edition.identifier}/print/{paper}')}"


def font_faces(edition: Edition) -> str:
    """``@font-face`` rules: Charis, and the faces for other scripts the text uses."""
    rules = [faces.font_face_css(lambda p: p.resolve().as_uri()), scripts.print_css(edition.characters)]
    return "\n".join(filter(None, rules))


def print_html(
    edition: Edition,
    env: TemplateEnvironment,
    options: Options,
    date: datetime.datetime,
    marks: WorkMarks | None = None,
    press: bool = False,
) -> str:
    """The print edition's HTML; its templates share one budget (``template_limits``)."""
    with budget_scope():
        return _print_html(edition, env, options, date, marks or {}, press)


def _print_html(
    edition: Edition, env: TemplateEnvironment, options: Options, date: datetime.datetime, marks: WorkMarks, press: bool
) -> str:
    links = volume_links(edition.parts)
    bodies = {
        work.slug: render_bodies(
            work,
            PRINT,
            env,
            {n: Marks(cuts, spacing) for n, (cuts, spacing) in marks.get(work.slug, {}).items()},
            links.get(work.slug),
        )[0]
        for work in edition.parts
    }
    css = options.templates
    html = render_template(
        env,
        "print/book.html",
        edition=edition,
        bodies=bodies,
        blocks=env.macros("body/blocks.html"),
        tocs={work.slug: toc_entries(work, build_locator(work, PRINT)) for work in edition.parts},
        volume_toc=volume_toc(edition, PRINT),
        introduction=render_introduction(edition, PRINT, env),
        permissions_rows=permission_rows(edition, None),
        paper=PAPERS[options.paper],
        fonts_css=Markup(font_faces(edition)),
        stylesheets={
            kind: (css / name).resolve().as_uri() if press or kind != "press" else ""
            for kind, name in PRINT_STYLESHEETS.items()
        },
        cmyk_profile=options.cmyk_profile.resolve().as_uri() if press and options.cmyk_profile else "",
        keywords=", ".join(
            filter(
                None,
                [
                    printed.plain(edition.main.meta.series, edition.main.meta.smart_quotes),
                    printed.plain(edition.reader.course_code) if edition.reader else "",
                ],
            )
        ),
        generator=f"edition {__version__} (WeasyPrint, Pandoc {pandoc_version()})",
        build_date=date.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return linking_only_where_it_may(html, "the print HTML")
