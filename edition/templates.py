"""The templates a build loads, and only those.

The loader notes every template it reads in the read log. ``closure`` loads
the templates an output builder names and every template they import, include
or extend: the PDF/A embeds exactly these files (plus the stylesheets and the
cover layout the builders read), never whatever else lies in ``templates/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import jinja2
import jinja2.meta

from . import readlog
from .diagnostics import BuildFailed, Diagnostic
from .model import SourceLocation


class RecordingLoader(jinja2.FileSystemLoader):
    """``FileSystemLoader`` that notes each file it reads (with its bytes)."""

    def get_source(self, environment: jinja2.Environment, template: str):  # type: ignore[override]
        source, filename, uptodate = super().get_source(environment, template)
        if filename:
            readlog.record(Path(filename), source.encode(self.encoding))
        return source, filename, uptodate


def closure(env: jinja2.Environment, names: Iterable[str]) -> list[Path]:
    """The files of ``names`` and of every template they load, each loaded once."""
    assert env.loader is not None
    found: dict[str, Path] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        try:
            source, filename, _ = env.loader.get_source(env, name)
            references = list(jinja2.meta.find_referenced_templates(env.parse(source, name, filename)))
        except jinja2.TemplateSyntaxError as exc:
            location = SourceLocation(Path(exc.filename or name), exc.lineno)
            raise BuildFailed([Diagnostic(location, "template.error", f"template error: {exc.message}")]) from exc
        except jinja2.TemplateNotFound as exc:
            raise BuildFailed(
                [Diagnostic(None, "template.error", f"template error: no template {exc.name!r} in templates/")]
            ) from exc
        found[name] = Path(filename or name)
        if None in references:
            raise BuildFailed(
                [
                    Diagnostic(
                        SourceLocation(Path(filename or name)),
                        "template.error",
                        "template error: a template is loaded by a name computed when rendering; "
                        "write the name in the template",
                    )
                ]
            )
        todo.extend(r for r in references if r is not None)
    return sorted(found.values())
