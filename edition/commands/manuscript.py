"""The import command: ``python build.py --import PATH [--slug SLUG]``: a Word
or OpenDocument manuscript becomes a new work folder (``edition.manuscripts``)."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from edition.diagnostics import BuildFailed, Diagnostic, printable
from edition.infra.atomic import Terminated, terminate_as_exception


def run(args: argparse.Namespace, project: Path) -> int:
    """``--import PATH [--slug SLUG]``: a manuscript becomes a work folder."""
    if args.import_path is None:
        print(
            Diagnostic(None, "cli.option", "--slug names the work --import makes: give --import PATH"), file=sys.stderr
        )
        return 2
    try:
        with terminate_as_exception():
            from edition.manuscripts import import_manuscript

            imported = import_manuscript(args.import_path, project, args.slug)
    except BuildFailed as failed:
        for diagnostic in failed.diagnostics:
            print(diagnostic, file=sys.stderr)
        print("import failed; nothing was written", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated):
        print("import interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: a bug or the environment
        if args.verbose:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)", file=sys.stderr)
        return 1
    for diagnostic in imported.warnings:
        print(diagnostic, file=sys.stderr)
    slug = imported.slug
    if not args.quiet:
        bib = f" and bib/{slug}.bib" if imported.citations else ""
        print(
            f"imported {printable(args.import_path.name)} as content/{slug}/{bib}: {imported.sections} section(s), "
            f"{imported.notes} note(s), {imported.citations} citation(s), {imported.tables} data table(s), "
            f"{imported.images} image(s)"
        )
        for item in imported.to_fill:
            print(f"  to fill in, in content/{slug}/work.yaml: {item}")
        for item in imported.to_check:
            print(f"  to check, in content/{slug}/work.yaml: {item}")
        print(f"build it with: python build.py {slug} --check")
    return 0
