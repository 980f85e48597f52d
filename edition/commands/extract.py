"""``python build.py --extract EDITION-pdfa.pdf DIR``: the sources back out.

The PDF/A carries every file the edition was made from under its project path;
extracting them into DIR gives a project that builds the same edition again.

The PDF may come from anyone, so nothing in it is trusted:

- each embedded file's name must be a plain relative path that this program
  could have written: no absolute path, no ``..``, no empty, ``.`` or hidden
  component (``.git/config`` would be a trap), no control character, and no
  file that is also another file's folder (``x`` and ``x/y``);
- sizes are bounded (``MAX_FILE_BYTES`` per file, ``MAX_TOTAL_BYTES`` in all,
  ``MAX_FILES`` files): the declared size is checked first, and the stream is
  inflated in bounded steps, written to disk as they come, that stop at the
  limit, so a small PDF that inflates to gigabytes costs no more than the
  limit on disk and a step in memory;
- the files are published into DIR as one set (``atomic.Transaction``): all of
  them, or, on any problem, none.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import traceback
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import pikepdf

from edition.commands.arguments import out_not_a_folder, tell
from edition.diagnostics import BuildFailed, Collector, Diagnostic
from edition.infra.atomic import RESERVED, FolderLock, Terminated, Transaction, recover, terminate_as_exception
from edition.model import SourceLocation
from edition.read.pdf.readings import MAX_PDF_BYTES
from edition.read.sandbox import BAD_NAME

#: Largest embedded file extracted: the largest input a build reads (a PDF reading).
MAX_FILE_BYTES = MAX_PDF_BYTES
#: Largest total of all embedded files extracted.
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
#: Most embedded files extracted.
MAX_FILES = 10_000
#: Longest name of one path component, in UTF-8 bytes (the file systems' limit).
MAX_COMPONENT_BYTES = 255
#: Longest path of one file, in UTF-8 bytes: with DIR and the staging folder it
#: stays well within the system's limit on a path (4,096 bytes on Linux).
MAX_NAME_BYTES = 1024
#: Inflation step: the most bytes produced (and held) before the limits are checked again.
CHUNK = 1024 * 1024


class _Refused(Exception):
    """An embedded file is refused; its diagnostic is recorded."""


def embedded_files(pdf_path: Path) -> dict[str, bytes]:
    """The embedded files by name, each checked and inflated within the limits
    (for reading a few small files; ``extract`` never holds a whole set)."""
    where = SourceLocation(pdf_path)
    with _open(pdf_path) as pdf:
        specs = _specs(pdf, where)
        diags = Collector()
        files, total = {}, 0
        for name, stream in specs:
            try:
                files[name] = b"".join(_contents(name, stream, MAX_TOTAL_BYTES - total, where, diags))
                total += len(files[name])
            except _Refused:
                continue
        diags.check()
    return files


@contextlib.contextmanager
def _open(pdf_path: Path) -> Iterator[pikepdf.Pdf]:
    try:
        pdf = pikepdf.open(pdf_path)
    except (OSError, pikepdf.PdfError) as exc:
        raise BuildFailed(
            [Diagnostic(SourceLocation(pdf_path), "file.missing", f"cannot open the PDF: {exc}")]
        ) from exc
    with pdf:
        yield pdf


def _specs(pdf: pikepdf.Pdf, where: SourceLocation) -> list[tuple[str, pikepdf.Stream]]:
    """Every embedded file by its name in the catalog's name tree, with its
    file stream: each file specification is checked for the shape the build
    writes (a dictionary whose ``/EF`` holds the file's stream) before anything
    is read. Names are kept as the tree holds them (a NUL included), never
    looked up again by a name that could be cut short."""
    names = pdf.Root.get("/Names")
    tree = names.get("/EmbeddedFiles") if isinstance(names, pikepdf.Dictionary) else None
    if tree is None:
        return []
    items: list[tuple[str, object]] = []
    try:
        if not isinstance(tree, pikepdf.Dictionary):
            raise pikepdf.PdfError("/EmbeddedFiles is not a name tree")
        for name, spec in pikepdf.NameTree(tree).items():
            items.append((name, spec))
            if len(items) > MAX_FILES:
                break
    except (pikepdf.PdfError, RuntimeError, TypeError, ValueError) as exc:
        message = f"the PDF's embedded files cannot be read: {' '.join(str(exc).split())[:200]}"
        raise BuildFailed([Diagnostic(where, "extract.stream", message)]) from exc
    if len(items) > MAX_FILES:
        message = f"the PDF embeds more than {MAX_FILES} files, over the limit of {MAX_FILES}"
        raise BuildFailed([Diagnostic(where, "extract.size", message)])
    diags = Collector()
    found = []
    for name, spec in sorted(items, key=lambda item: item[0]):
        stream = _file_stream(spec)
        if stream is None:
            diags.error(
                where,
                "extract.stream",
                f"embedded file {name!r} has no file stream: its file specification is not one a build writes",
            )
        else:
            found.append((name, stream))
    diags.check()
    return found


def _file_stream(spec: object) -> pikepdf.Stream | None:
    """The stream of a file specification (``/EF`` ``/UF``, else ``/F``), or ``None``."""
    if not isinstance(spec, pikepdf.Dictionary):
        return None
    files = spec.get("/EF")
    if not isinstance(files, pikepdf.Dictionary):
        return None
    stream = files.get("/UF", files.get("/F"))
    return stream if isinstance(stream, pikepdf.Stream) else None


def _stream(name: str, stream: pikepdf.Stream, where: SourceLocation, diags: Collector):
    """An embedded file's stream and its declared size, checked before any byte is inflated."""
    try:
        params = stream.get("/Params")
        size = params.get("/Size") if isinstance(params, pikepdf.Dictionary) else None
        declared = None if size is None else int(size)
        filters = stream.get("/Filter")
        filters = [] if filters is None else list(filters) if isinstance(filters, pikepdf.Array) else [filters]
        parameters = stream.get("/DecodeParms")
    except (pikepdf.PdfError, KeyError, TypeError, ValueError, AttributeError) as exc:
        diags.error(where, "extract.stream", f"embedded file {name!r} cannot be read: {exc}")
        raise _Refused from exc
    if declared is not None and not 0 <= declared <= MAX_FILE_BYTES:
        if declared < 0:
            diags.error(where, "extract.stream", f"embedded file {name!r} declares a size of {declared} bytes")
        else:
            diags.error(where, "extract.size", _too_big(name, declared, MAX_FILE_BYTES, "declares"))
        raise _Refused
    if [str(f) for f in filters] not in ([], ["/FlateDecode"]) or parameters is not None:
        diags.error(
            where,
            "extract.stream",
            f"embedded file {name!r} is encoded with {', '.join(str(f) for f in filters)}: "
            "only Flate (as the build writes) is read",
        )
        raise _Refused
    return stream, declared, bool(filters)


def _contents(name: str, stream: pikepdf.Stream, room: int, where: SourceLocation, diags: Collector) -> Iterator[bytes]:
    """An embedded file's bytes, in chunks of at most ``CHUNK``, inflated in
    bounded steps; ``_Refused`` (after a diagnostic) once a limit is passed."""
    stream, declared, deflated = _stream(name, stream, where, diags)
    if declared is not None and declared > room:
        diags.error(where, "extract.size", _over_total(name, room, "declares"))
        raise _Refused
    bound = min(MAX_FILE_BYTES, room)
    try:
        raw = stream.read_raw_bytes()
    except pikepdf.PdfError as exc:
        diags.error(where, "extract.stream", f"embedded file {name!r} cannot be read: {exc}")
        raise _Refused from exc
    pieces = _inflate(raw) if deflated else (raw[i : i + CHUNK] for i in range(0, len(raw), CHUNK))
    size = 0
    try:
        for piece in pieces:
            size += len(piece)
            if size > bound:
                if bound == MAX_FILE_BYTES:
                    diags.error(where, "extract.size", _too_big(name, None, MAX_FILE_BYTES, "inflates to"))
                else:
                    diags.error(where, "extract.size", _over_total(name, room, "inflates to"))
                raise _Refused
            yield piece
    except zlib.error as exc:
        diags.error(where, "extract.stream", f"embedded file {name!r} is damaged: its stream does not inflate")
        raise _Refused from exc
    if declared is not None and size != declared:
        diags.error(where, "extract.stream", f"embedded file {name!r} declares {declared} bytes but holds {size}")
        raise _Refused


def _inflate(raw: bytes) -> Iterator[bytes]:
    """Inflate ``raw`` in pieces of at most ``CHUNK`` bytes (the caller stops at its limit)."""
    inflater = zlib.decompressobj()
    pending = raw
    while not inflater.eof:
        piece = inflater.decompress(pending, CHUNK)
        pending = inflater.unconsumed_tail
        if not piece and not pending:
            raise zlib.error("truncated stream")
        if piece:
            yield piece


def _too_big(name: str, declared: int | None, limit: int, verb: str) -> str:
    size = f" {declared} bytes" if declared is not None else f" more than {limit} bytes"
    return f"embedded file {name!r} {verb}{size}, over the {limit}-byte limit for one file"


def _over_total(name: str, room: int, verb: str) -> str:
    return (
        f"embedded file {name!r} {verb} more than the {room} bytes left "
        f"of the {MAX_TOTAL_BYTES}-byte limit for all files"
    )


def check_names(names: list[str], target: Path, where: SourceLocation) -> None:
    """Every name is a plain path inside ``target`` that can be written there."""
    diags = Collector()
    for name in names:
        problem = _name_problem(name)
        if problem:
            code = "resource.refused" if problem.startswith("would land") else "extract.name"
            diags.error(where, code, f"embedded file {name!r} {problem}")
    diags.check()
    folders = {str(p) for name in names for p in PurePosixPath(name).parents if str(p) != "."}
    for name in names:
        if name in folders:
            inner = min(n for n in names if n.startswith(name + "/"))
            diags.error(
                where,
                "extract.name",
                f"embedded files {name!r} and {inner!r} clash: {name!r} would be a file and a folder",
            )
    for name in names:
        path = target
        for part in PurePosixPath(name).parts[:-1]:
            path = path / part
            if path.is_symlink() or (path.exists() and not path.is_dir()):
                diags.error(where, "extract.name", f"embedded file {name!r} needs the folder {path}, which is not one")
                break
        else:
            if (target / name).is_dir() and not (target / name).is_symlink():
                diags.error(where, "extract.name", f"embedded file {name!r} would replace the folder {target / name}")
    diags.check()


def _name_problem(name: str) -> str | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return "would land outside the folder"
    if not name or not path.parts:
        return "has no name"
    if path.as_posix() != name:
        return "is not a plain path (write 'a/b', without '.', '//' or a trailing '/')"
    if BAD_NAME.search(name) or "\\" in name:  # the rule for the project's own file names
        return "holds a control character or a backslash"
    hidden = next((p for p in path.parts if p.startswith(".")), None)
    if hidden:
        return f"has the hidden name {hidden!r}: an edition embeds none"
    if path.parts[0].startswith(RESERVED):
        return "uses a name the extraction keeps for itself"
    if any(len(p.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES for p in path.parts):
        return f"has a name longer than {MAX_COMPONENT_BYTES} bytes"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"has a path longer than {MAX_NAME_BYTES} bytes"
    return None


def extract(pdf_path: Path, target: Path, on_wait: Callable[[str], None] | None = None) -> list[Path]:
    """Write every embedded file into ``target``, all of them or none; each is
    streamed to disk, so no more than a step of it is held at once."""
    where = SourceLocation(pdf_path)
    if target.exists() and not target.is_dir():
        raise BuildFailed([Diagnostic(None, "cli.option", f"{target} is a file: give --extract a folder")])
    with _open(pdf_path) as pdf:
        specs = _specs(pdf, where)
        if not specs:
            raise BuildFailed([Diagnostic(where, "file.missing", "the PDF carries no embedded sources")])
        names = [name for name, _ in specs]
        check_names(names, target, where)
        diags = Collector()
        for name, stream in specs:  # names, filters and declared sizes: refused before DIR is touched
            with contextlib.suppress(_Refused):
                _stream(name, stream, where, diags)
        diags.check()
        with FolderLock(target, on_wait):
            recover(target)
            check_names(names, target, where)  # again, now that no one else writes there
            transaction = Transaction(target)
            try:
                total, written = 0, []
                for name, stream in specs:
                    with contextlib.suppress(_Refused):
                        chunks = _contents(name, stream, MAX_TOTAL_BYTES - total, where, diags)
                        written.append(transaction.stage_chunks(name, chunks))
                        total += transaction.staged(name).stat().st_size
                diags.check()
                transaction.commit()
            finally:
                transaction.discard()
    return written


def run(args: argparse.Namespace) -> int:
    """``--extract PDFA DIR``: the sources embedded in an archival PDF/A, written into DIR."""
    pdf_path, target = args.extract
    shown = str(target).rstrip("/") + "/"
    refusal = out_not_a_folder(target, "give --extract a folder")
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    try:
        with terminate_as_exception():
            written = extract(pdf_path, target, on_wait=tell)
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
