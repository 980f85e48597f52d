"""The command line's grammar (``python build.py --help``), and how it prints:
diagnostics and messages on standard error, the build's log without decoration."""

from __future__ import annotations

import argparse
import logging
import stat
import sys
from pathlib import Path

from edition import project as project_facts
from edition.diagnostics import Diagnostic, SourceLocation
from edition.papers import PAPERS
from edition.read.sandbox import BAD_NAME


class Parser(argparse.ArgumentParser):
    """argparse that reports bad options in our diagnostic form, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(Diagnostic(None, "cli.option", message), file=sys.stderr)
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="build.py", description="Build the editions in content/ into dist/.")
    p.add_argument("slugs", nargs="*", help="works to build (default: every work in content/)")
    p.add_argument(
        "--format", choices=project_facts.FORMATS, action="append", help="build only this format (repeatable)"
    )
    p.add_argument("--paper", choices=sorted(PAPERS), default="letter", help="paper size of the PDF")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: dist)")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--check", action="store_true", help="run EPUBCheck on the EPUB before writing it")
    p.add_argument("--force", action="store_true", help="build even if the outputs are up to date")
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither reuse nor keep results in .edition-cache/ (Pandoc's, font subsets, the layout's page starts)",
    )
    p.add_argument(
        "--jobs", "-j", type=int, default=1, metavar="N", help="build N editions at once, in separate processes"
    )
    p.add_argument("--press", action="store_true", help="also write <work>-press.pdf: bleed, crop marks, CMYK black")
    p.add_argument(
        "--cmyk-profile", type=Path, metavar="ICC", help="the printer's CMYK ICC profile: makes the press file PDF/X-4"
    )
    p.add_argument(
        "--extract",
        nargs=2,
        metavar=("PDFA", "DIR"),
        type=Path,
        help="write the sources embedded in an archival PDF/A into DIR, and stop",
    )
    p.add_argument(
        "--import",
        dest="import_path",
        type=Path,
        metavar="PATH",
        help="make a new work in content/ from a Word (.docx) or OpenDocument (.odt) manuscript, and stop",
    )
    p.add_argument("--slug", metavar="SLUG", help="with --import: the new work's name (default: from the file's name)")
    p.add_argument("--watch", action="store_true", help="build, then rebuild on every save until Ctrl-C")
    p.add_argument("--serve", action="store_true", help="--watch, with a preview on http://127.0.0.1:PORT/")
    p.add_argument("--port", type=int, default=8000, metavar="N", help="port of the --serve preview (default 8000)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    p.add_argument("-v", "--verbose", action="store_true", help="print details and tracebacks")
    return p


def start(argv: list[str] | None, project: Path | None) -> tuple[argparse.Namespace, Path] | int:
    """The parsed options and the project folder, logging set up; or the exit
    status when the output folder is refused."""
    args = parser().parse_args(argv)
    configure_logging(args.quiet, args.verbose)
    folder = (project or Path.cwd()).resolve()
    if not args.extract and (refusal := _project_path_refused(folder)) is not None:
        print(refusal, file=sys.stderr)
        return 2
    chosen, args.out = args.out is not None, args.out or Path(project_facts.OUT_FOLDER)
    if not chosen and (refusal := _default_out_refused(args.out)) is not None:
        print(refusal, file=sys.stderr)
        return 2
    if not args.extract and (refusal := out_not_a_folder(args.out)) is not None:
        print(refusal, file=sys.stderr)
        return 2
    return args, folder


def _project_path_refused(project: Path) -> Diagnostic | None:
    """The project's own path, checked once before anything is read: every file
    of the project has it, so a line break or another control character in it
    would make every file the build reads fail the sandbox's name rule, each
    with a diagnostic of its own."""
    if BAD_NAME.search(str(project)) is None:
        return None
    return Diagnostic(
        None,
        "file.name",
        f"the project's folder {project} has a path that is not UTF-8 text or holds a control character "
        "(a line break, a tab, an escape); the build reads no file below it: rename the folder or move the project",
    )


def _default_out_refused(out: Path) -> Diagnostic | None:
    """A ``dist`` the project itself brings as a symbolic link out of it: the
    build would write (and clean up) in a folder nobody chose. ``--out`` names
    a folder on purpose and is taken as given."""
    folder = out if out.is_absolute() else Path.cwd() / out
    if not folder.is_symlink():
        return None
    target = folder.resolve()
    if target.is_relative_to(Path.cwd().resolve()):
        return None
    return Diagnostic(
        SourceLocation(out),
        "resource.refused",
        f"the output folder {out} is a symbolic link to {target}, outside the project; "
        "remove the link, or name the folder with --out",
    )


def out_not_a_folder(out: Path, fix: str = "remove it, or name another folder with --out") -> Diagnostic | None:
    """An output folder that is a file, a named pipe or a device (or lies
    below one): said before anything is read, never a ``NotADirectoryError``."""
    folder = out if out.is_absolute() else Path.cwd() / out
    for path in (folder, *folder.parents):
        try:
            mode = path.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue  # made by the build, or a file above it (said below)
        except OSError as exc:
            return Diagnostic(None, "cli.option", f"the output folder {out} cannot be used: {exc.strerror or exc}")
        if stat.S_ISDIR(mode):
            return None
        what = "a named pipe" if stat.S_ISFIFO(mode) else "a file" if stat.S_ISREG(mode) else "not a folder"
        problem = f"is {what}, not a folder" if path == folder else f"cannot be made: {path} is {what}"
        return Diagnostic(None, "cli.option", f"the output folder {out} {problem}; {fix}")
    return None


def tell(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def configure_logging(quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("edition")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
