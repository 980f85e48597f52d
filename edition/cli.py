"""Command line: ``python build.py [slug ...] [options]``."""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from pathlib import Path

from edition import freshness
from edition.diagnostics import BuildFailed, Diagnostic
from edition.infra.atomic import FolderLock, Terminated, Transaction, recover, terminate_as_exception
from edition.layout.papers import PAPERS
from edition.model import SourceLocation

FORMATS = ("pdf", "pdfa", "epub")
#: Where results are kept between builds (``edition.cache``), in the project.
CACHE_FOLDER = ".edition-cache"

log = logging.getLogger("edition")


class Parser(argparse.ArgumentParser):
    """argparse that reports bad options in our diagnostic form, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(Diagnostic(None, "cli.option", message), file=sys.stderr)
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="build.py", description="Build the editions in content/ into dist/.")
    p.add_argument("slugs", nargs="*", help="works to build (default: every work in content/)")
    p.add_argument("--format", choices=FORMATS, action="append", help="build only this format (repeatable)")
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
    p.add_argument("--watch", action="store_true", help="build, then rebuild on every save until Ctrl-C")
    p.add_argument("--serve", action="store_true", help="--watch, with a preview on http://127.0.0.1:PORT/")
    p.add_argument("--port", type=int, default=8000, metavar="N", help="port of the --serve preview (default 8000)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    p.add_argument("-v", "--verbose", action="store_true", help="print details and tracebacks")
    return p


def main(argv: list[str] | None = None, project: Path | None = None) -> int:
    args = parser().parse_args(argv)
    _configure_logging(args.quiet, args.verbose)
    project = (project or Path.cwd()).resolve()
    chosen, args.out = args.out is not None, args.out or Path("dist")
    if not chosen and (refusal := _default_out_refused(args.out)) is not None:
        print(refusal, file=sys.stderr)
        return 2
    if args.watch or args.serve:
        from edition.loop.watch import watch

        return watch(args, project)
    if args.extract:
        return _run_extract(args)
    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    shown = str(args.out).rstrip("/") + "/"
    transaction = Transaction(out)
    try:
        with terminate_as_exception(), FolderLock(out, on_wait=_tell):
            try:
                _recover(out)
                return _build(args, project, out, transaction)
            finally:
                transaction.discard()
    except BuildFailed as failed:
        for diagnostic in failed.diagnostics:
            print(diagnostic, file=sys.stderr)
        errors = sum(1 for d in failed.diagnostics if d.severity == "error")
        print(f"build failed: {errors} error(s); {_outcome(transaction, shown)}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated):
        print(f"build interrupted; {_outcome(transaction, shown)}", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: a bug or the environment
        if args.verbose:
            traceback.print_exc()
        print(
            f"internal error: {type(exc).__name__}: {exc} (run with -v for the traceback); {_outcome(transaction, shown)}",
            file=sys.stderr,
        )
        return 1


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


def _build(args: argparse.Namespace, project: Path, out: Path, transaction: Transaction) -> int:
    """Check whether the outputs are up to date; if not, build, stamp and publish them."""
    from edition.fonts.faces import FONT_DIR

    formats = tuple(args.format or FORMATS)
    press = args.press or bool(args.cmyk_profile)
    made_with = _made_with(args)
    before = freshness.snapshot(project, FONT_DIR, out)
    inputs = freshness.key(before, project)
    if not args.force and freshness.up_to_date(
        out, _wanted(project, args.slugs, formats, press), made_with, inputs, project
    ):
        if not args.quiet:
            print(f"up to date: nothing to build in {out}")
        return 0
    from edition.pipeline import Options, run

    options = Options(
        project=project,
        out=out,
        slugs=tuple(args.slugs),
        formats=formats,
        paper=args.paper,
        strict=args.strict,
        check=args.check,
        press=press,
        cmyk_profile=args.cmyk_profile,
        jobs=max(1, args.jobs),
        cache=None if args.no_cache else project / CACHE_FOLDER,
    )
    start = time.perf_counter()
    result = run(options, transaction)
    # certified only if nothing changed while the build read it
    certified = freshness.held_still(before, freshness.snapshot(project, FONT_DIR, out), result.reads)
    made = {path.name: freshness.file_digest(transaction.staged(path)) for path in result.outputs}
    outside = freshness.read_outside(before, result.reads, project)
    stamped = freshness.stamp(out, made, made_with, inputs if certified else None, outside)
    transaction.stage(out / freshness.STAMP, stamped)
    transaction.commit()
    if not certified:
        print(
            "note: input files changed while the build read them; the outputs are written "
            "but not marked up to date, so the next build builds again",
            file=sys.stderr,
        )
    elapsed = time.perf_counter() - start
    if not args.quiet:
        pages = ", ".join(f"{slug} {n} pages" for slug, n in result.pages.items())
        names = ", ".join(str(p.name) for p in result.outputs)
        print(f"built {names} ({pages}) in {elapsed:.1f} s")
    return 0


def _run_extract(args: argparse.Namespace) -> int:
    pdf_path, target = args.extract
    shown = str(target).rstrip("/") + "/"
    try:
        with terminate_as_exception():
            from edition.extract import extract

            written = extract(pdf_path, target, on_wait=_tell)
    except BuildFailed as failed:
        for diagnostic in failed.diagnostics:
            print(diagnostic, file=sys.stderr)
        print(f"extraction failed; {shown} was not changed", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated):
        print(f"extraction interrupted; {shown} was not changed", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: a bug or the environment
        if args.verbose:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"extracted {len(written)} files into {target}")
    return 0


def _wanted(project: Path, slugs: list[str], formats: tuple[str, ...], press: bool) -> list[str]:
    """The files a build of these editions writes (empty when a name is unknown:
    then the build runs and reports it)."""
    try:
        editions = freshness.editions(project, slugs)
    except OSError:
        return []
    return [n for slug, reader in editions or () for n in freshness.output_names(slug, reader, formats, press)]


def _made_with(args: argparse.Namespace) -> dict:
    """The options that change what an output holds (recorded with each output)."""
    profile = args.cmyk_profile
    return {
        "paper": args.paper,
        "strict": args.strict,
        "check": args.check,
        "press": args.press or bool(profile),
        "cmyk_profile": freshness.file_digest(profile) if profile else None,
    }


def _recover(out: Path) -> None:
    """Undo what a killed build left; said even with -q, since it changes the folder."""
    notice = recover(out)
    if notice:
        print(notice, file=sys.stderr)


def _tell(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _outcome(transaction: Transaction, shown: str) -> str:
    """What the failed or interrupted build did to the output folder, truly."""
    if transaction.state == "committed":
        return f"{shown} holds this build's outputs, complete"
    if transaction.state == "in doubt":
        return f"{shown} may be half-written: the next build into it puts the previous files back"
    return f"{shown} was not changed"


def _configure_logging(quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("edition")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
