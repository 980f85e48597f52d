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
  inflated in bounded steps that stop at the limit, so a small PDF that
  inflates to gigabytes costs no more than the limit;
- the files are published into DIR as one set (``atomic.Transaction``): all of
  them, or, on any problem, none.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pikepdf

from .atomic import RESERVED, FolderLock, Transaction, recover
from .diagnostics import BuildFailed, Collector, Diagnostic
from .model import SourceLocation

#: Largest embedded file extracted (content files are at most 8 MB).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Largest total of all embedded files extracted.
MAX_TOTAL_BYTES = 256 * 1024 * 1024
#: Most embedded files extracted.
MAX_FILES = 10_000
#: Longest name of one path component, in UTF-8 bytes (the file systems' limit).
MAX_COMPONENT_BYTES = 255
#: Inflation step: the most bytes produced before the limits are checked again.
CHUNK = 1024 * 1024


def embedded_files(pdf_path: Path) -> dict[str, bytes]:
    """The embedded files by name, each checked and inflated within the limits."""
    where = SourceLocation(pdf_path)
    try:
        pdf = pikepdf.open(pdf_path)
    except (OSError, pikepdf.PdfError) as exc:
        raise BuildFailed([Diagnostic(where, "file.missing", f"cannot open the PDF: {exc}")]) from exc
    diags = Collector()
    files: dict[str, bytes] = {}
    with pdf:
        try:
            specs = sorted(pdf.attachments.items())
        except pikepdf.PdfError as exc:
            message = f"the PDF's embedded files cannot be read: {exc}"
            raise BuildFailed([Diagnostic(where, "extract.stream", message)]) from exc
        if len(specs) > MAX_FILES:
            diags.error(where, "extract.size", f"the PDF embeds {len(specs)} files, over the limit of {MAX_FILES}")
            diags.check()
        total = 0
        for name, spec in specs:
            data = _contents(name, spec, MAX_FILE_BYTES, MAX_TOTAL_BYTES - total, where, diags)
            if data is not None:
                files[name] = data
                total += len(data)
    diags.check()
    return files


def _contents(
    name: str, spec: pikepdf.AttachedFileSpec, limit: int, room: int, where: SourceLocation, diags: Collector
) -> bytes | None:
    """One embedded file's bytes, inflated in bounded steps; None after a diagnostic."""
    try:
        stream = spec.get_file().obj
        params = stream.get("/Params") or {}
        declared = None if params.get("/Size") is None else int(params.get("/Size"))
        filters = stream.get("/Filter")
        filters = [] if filters is None else list(filters) if isinstance(filters, pikepdf.Array) else [filters]
        raw = stream.read_raw_bytes()
    except (pikepdf.PdfError, KeyError, TypeError, ValueError) as exc:
        diags.error(where, "extract.stream", f"embedded file {name!r} cannot be read: {exc}")
        return None
    if declared is not None and declared > min(limit, room):
        diags.error(where, "extract.size", _too_big(name, declared, limit, room, "declares"))
        return None
    if [str(f) for f in filters] not in ([], ["/FlateDecode"]) or stream.get("/DecodeParms") is not None:
        diags.error(
            where,
            "extract.stream",
            f"embedded file {name!r} is encoded with {', '.join(str(f) for f in filters)}: "
            "only Flate (as the build writes) is read",
        )
        return None
    bound = min(limit, room)
    if not filters:
        data = bytes(raw)
    else:
        data = _inflate(raw, bound + 1)
        if data is None:
            diags.error(where, "extract.stream", f"embedded file {name!r} is damaged: its stream does not inflate")
            return None
    if len(data) > bound:
        diags.error(where, "extract.size", _too_big(name, None, limit, room, "inflates to"))
        return None
    if declared is not None and len(data) != declared:
        diags.error(where, "extract.stream", f"embedded file {name!r} declares {declared} bytes but holds {len(data)}")
        return None
    return data


def _inflate(raw: bytes, most: int) -> bytes | None:
    """Inflate at most ``most`` bytes (more means: over the limit)."""
    inflater = zlib.decompressobj()
    out = bytearray()
    pending = raw
    try:
        while len(out) < most and not inflater.eof:
            chunk = inflater.decompress(pending, min(CHUNK, most - len(out)))
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break
            out += chunk
    except zlib.error:
        return None
    if len(out) < most and not inflater.eof:
        return None  # truncated stream
    return bytes(out)


def _too_big(name: str, declared: int | None, limit: int, room: int, verb: str) -> str:
    if room < limit:
        return f"embedded file {name!r} {verb} more than the {room} bytes left of the {MAX_TOTAL_BYTES}-byte limit for all files"
    size = f" {declared} bytes" if declared is not None else f" more than {limit} bytes"
    return f"embedded file {name!r} {verb}{size}, over the {limit}-byte limit for one file"


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
    if any(ord(c) < 32 or ord(c) == 127 or c == "\\" for c in name):
        return "holds a control character or a backslash"
    hidden = next((p for p in path.parts if p.startswith(".")), None)
    if hidden:
        return f"has the hidden name {hidden!r}: an edition embeds none"
    if path.parts[0].startswith(RESERVED):
        return "uses a name the extraction keeps for itself"
    if any(len(p.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES for p in path.parts):
        return f"has a name longer than {MAX_COMPONENT_BYTES} bytes"
    return None


def extract(pdf_path: Path, target: Path, on_wait: Callable[[str], None] | None = None) -> list[Path]:
    """Write every embedded file into ``target``, all of them or none."""
    where = SourceLocation(pdf_path)
    if target.exists() and not target.is_dir():
        raise BuildFailed([Diagnostic(None, "cli.option", f"{target} is a file: give --extract a folder")])
    files = embedded_files(pdf_path)
    if not files:
        raise BuildFailed([Diagnostic(where, "file.missing", "the PDF carries no embedded sources")])
    check_names(sorted(files), target, where)
    with FolderLock(target, on_wait):
        recover(target)
        check_names(sorted(files), target, where)  # again, now that no one else writes there
        transaction = Transaction(target)
        try:
            written = [transaction.stage(name, data) for name, data in files.items()]
            transaction.commit()
        finally:
            transaction.discard()
    return written
