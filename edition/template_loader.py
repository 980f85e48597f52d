"""Templates read under the sandbox's rule.

Jinja's ``FileSystemLoader`` follows a symbolic link anywhere: a
``templates/body/blocks.html`` linked to a private file would print that file
in the outputs. This loader reads each template as the readers read content
(resolved inside the project, not hidden, a regular file within the size
limit, opened without blocking) and records what it read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import jinja2
from jinja2.loaders import split_template_path

from .diagnostics import BuildFailed, Diagnostic
from .model import SourceLocation
from .sandbox import CONTENT, Refusal, read_checked


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
