"""The build command: ``python build.py [WORK-OR-READER ...] [options]``.

Checks whether the outputs in the output folder are up to date (``freshness``);
if not, builds them (``edition.pipeline``), stamps them and publishes them
together (``edition.infra.atomic``), under the folder's lock.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
import time
import traceback
from pathlib import Path

from edition import project as project_facts
from edition.commands import freshness
from edition.commands.arguments import start, tell
from edition.diagnostics import BuildFailed, printable
from edition.infra.atomic import FolderLock, Terminated, Transaction, recover, terminate_as_exception
from edition.infra.recorded import Record

log = logging.getLogger("edition")


def main(argv: list[str] | None = None, project: Path | None = None) -> int:
    """The build alone, as the edit loop's children run it (``edition.loop.children``)."""
    started = start(argv, project)
    if isinstance(started, int):
        return started
    return run(*started)


def run(args: argparse.Namespace, project: Path) -> int:
    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    shown = str(args.out).rstrip("/") + "/"
    transaction = Transaction(out)
    try:
        with terminate_as_exception(), FolderLock(out, on_wait=tell):
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


def _build(args: argparse.Namespace, project: Path, out: Path, transaction: Transaction) -> int:
    """Check whether the outputs are up to date; if not, build, stamp and publish them."""
    from edition.fonts.faces import FONT_DIR

    formats = tuple(args.format or project_facts.FORMATS)
    press = args.press or bool(args.cmyk_profile)
    made_with = _made_with(args)
    before = freshness.snapshot(project, FONT_DIR, out)
    inputs = freshness.key(before, project)
    if not args.force:
        why = freshness.stale(out, _wanted(project, args.slugs, formats, press), made_with, inputs, project)
        if why is None:
            if not args.quiet:
                print(f"up to date: nothing to build in {out}")
            return 0
        log.debug(printable(f"building: {why}"))
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
        cache=None if args.no_cache else project / project_facts.CACHE_FOLDER,
    )
    start = time.perf_counter()
    result = run(options, transaction)
    # certified only if nothing changed while the build read it
    certified = freshness.held_still(before, freshness.snapshot(project, FONT_DIR, out), result.reads)
    made = {path.name: _record(transaction.staged(path)) for path in result.outputs}
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


def _record(path: Path) -> Record:
    """What the stamp records of a staged output: its size and SHA-256."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        return Record(hashlib.file_digest(handle, "sha256").hexdigest(), size)


def _wanted(project: Path, slugs: list[str], formats: tuple[str, ...], press: bool) -> list[str]:
    """The files a build of these editions writes (empty when a name is unknown:
    then the build runs and reports it)."""
    try:
        editions = project_facts.editions(project, slugs)
    except OSError:
        return []
    return [n for slug, reader in editions or () for n in project_facts.output_names(slug, reader, formats, press)]


def _made_with(args: argparse.Namespace) -> dict:
    """The options that change what an output holds (recorded with each output)."""
    profile = args.cmyk_profile
    return {
        "paper": args.paper,
        "strict": args.strict,
        "check": args.check,
        "press": args.press or bool(profile),
        "cmyk_profile": freshness.snapshot_entry(profile) if profile else None,
    }


def _recover(out: Path) -> None:
    """Undo what a killed build left; said even with -q, since it changes the folder."""
    notice = recover(out)
    if notice:
        print(notice, file=sys.stderr)


def _outcome(transaction: Transaction, shown: str) -> str:
    """What the failed or interrupted build did to the output folder, truly."""
    if transaction.state == "committed":
        return f"{shown} holds this build's outputs, complete"
    if transaction.state == "in doubt":
        return f"{shown} may be half-written: the next build into it puts the previous files back"
    return f"{shown} was not changed"
