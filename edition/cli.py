"""Command line: ``python build.py [WORK-OR-READER ...] [options]``, the top of
the package (imported by nothing): it parses the options and hands them to
one command: the build (``commands.build``), the extraction of a PDF/A's
sources (``commands.extract``), the import of a manuscript
(``commands.manuscript``) or the edit loop (``loop.watch``)."""

from __future__ import annotations

from pathlib import Path

from edition.commands import build, extract, manuscript
from edition.commands.arguments import start


def main(argv: list[str] | None = None, project: Path | None = None) -> int:
    started = start(argv, project)
    if isinstance(started, int):
        return started
    args, folder = started
    if args.watch or args.serve:
        from edition.loop.watch import watch

        return watch(args, folder)
    if args.extract:
        return extract.run(args)
    if args.import_path is not None or args.slug is not None:
        return manuscript.run(args, folder)
    return build.run(args, folder)
