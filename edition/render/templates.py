"""The templates a build loads, and only those.

The loader reads each template under the sandbox's rule, as the readers read
content (Jinja's ``FileSystemLoader`` would follow a symbolic link anywhere:
a ``templates/body/blocks.html`` linked to a private file would print it), so
every template it reads is noted in the read log. ``closure`` loads
the templates an output builder names and every template they import, include
or extend: the PDF/A embeds exactly these files (plus the stylesheets and the
cover layout the builders read), never whatever else lies in ``templates/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import jinja2
import jinja2.meta
from jinja2.loaders import split_template_path

from edition.diagnostics import BuildFailed, Diagnostic
from edition.model import SourceLocation
from edition.read.sandbox import CONTENT, Refusal, read_checked
from edition.render.template_sandbox import check_template


class SandboxLoader(jinja2.BaseLoader):
    def __init__(self, folder: Path) -> None:
        self.folder = folder.absolute()
        self.project = self.folder.parent
        self.loaded: list[Path] = []  # every template read, in order

    def get_source(
        self,
        environment: jinja2.Environment,  # noqa: ARG002 (Jinja's signature)
        template: str,
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self.folder.joinpath(*split_template_path(template))
        data = read_template(path, self.project)
        if data is None:
            raise jinja2.TemplateNotFound(template)
        if path not in self.loaded:
            self.loaded.append(path)
        mtime = os.path.getmtime(path)
        return data, str(path), lambda: os.path.exists(path) and os.path.getmtime(path) == mtime

    def list_templates(self) -> list[str]:
        """Every template's name, as Jinja's ``FileSystemLoader`` lists them
        (links to folders not followed; hidden files left out)."""
        names = []
        for folder, dirs, files in os.walk(self.folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for file in files:
                if not file.startswith("."):
                    names.append((Path(folder) / file).relative_to(self.folder).as_posix())
        return sorted(names)


def read_template(path: Path, project: Path) -> str | None:
    """A template's or stylesheet's text under the rule; ``None`` if it does
    not exist; a diagnostic for anything else the rule refuses."""
    result = read_checked(path, [project], CONTENT, None, project)
    if isinstance(result, Refusal):
        if result.code == "file.missing":
            return None
        raise BuildFailed([Diagnostic(SourceLocation(path), result.code, result.message)])
    try:
        return result.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BuildFailed(
            [Diagnostic(SourceLocation(path), "file.encoding", f"not UTF-8 at byte {exc.start}; save it as UTF-8")]
        ) from exc


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
            tree = env.parse(source, name, filename)
            check_template(tree, filename)  # a name computed when rendering is refused here
            references = list(jinja2.meta.find_referenced_templates(tree))
        except jinja2.TemplateSyntaxError as exc:
            location = SourceLocation(Path(exc.filename or name), exc.lineno)
            raise BuildFailed([Diagnostic(location, "template.error", f"template error: {exc.message}")]) from exc
        except jinja2.TemplateNotFound as exc:
            raise BuildFailed(
                [Diagnostic(None, "template.error", f"template error: no template {exc.name!r} in templates/")]
            ) from exc
        found[name] = Path(filename or name)
        todo.extend(r for r in references if r is not None)
    return sorted(found.values())
