"""A no-change rebuild does nothing but check.

Before a build reads anything it takes a snapshot of every file the outputs
may depend on (content, BibTeX, readers, templates, the pipeline's own code,
the fonts: Charis by content, the script fallbacks - hundreds of MB of CJK -
by size and date), and with the pinned tool versions and ``SOURCE_DATE_EPOCH`` makes
one key of it. The project's files are known by size, date and mode, never
read: a file lying in ``content/`` that no edition reads (a 20 GB sparse file,
a thousand of them) costs one ``stat``. What the build did read is checked by
content afterwards (``held_still``), within the largest size any input may
have. The stamp in the output folder records, for each output file,
its size and SHA-256, the options it was made with and that key, and is signed
(HMAC-SHA256, ``cache.sign``) with the user's own cache secret and this
machine's id: a ``dist/`` that came with a project, whose stamp anyone could
have written to match a doctored output, is never taken for this user's build.
The next build is "up to date" only if the stamp is ours and every output it
would write is in it, the very file it records (read without following a
link, ``recorded``), made with the same options, from the same key.

An output is certified only when its inputs held still: the snapshot after the
build must equal the one before it, and every file the build read
(``readlog``) must have been read with the content of the snapshot. Otherwise
the stamp records the output without a key, and the next build builds again.

This module imports nothing heavy on purpose: the no-change check must not
import the layout engine.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import stat
from pathlib import Path
from typing import Any

from edition import project as project_facts
from edition.infra import cache, fingerprints, recorded
from edition.read import readlog

STAMP = ".edition-build.json"
STAMP_FORMAT = 3
#: A snapshot entry known by size and date, not by content (the project's files, the big fallback fonts).
STAT_PREFIX = "stat: "
#: The largest file any input may be: a file over it is refused by the build,
#: so the freshness checks never read one either.
LARGEST_INPUT = readlog.LARGEST_INPUT


def snapshot(project: Path, font_dir: Path, out: Path | None = None) -> dict[str, str]:
    """The content of every file the outputs may depend on, by absolute path
    (the output folder ``out`` excluded, should it lie in an input folder).

    Never raises for a file: one that cannot be read is recorded as such (the
    build then reports it with its diagnostic). Links are followed only inside
    the project; special files (a FIFO, a device) are never opened."""
    files: dict[str, str] = {}
    _walk_all([project / folder for folder in project_facts.INPUT_FOLDERS], project, files, skip=out, by_stat=True)
    _walk(fingerprints.CODE_DIR, fingerprints.CODE_DIR, files, suffix=".py")
    _walk(font_dir, font_dir, files, suffix=".ttf")
    for path in _system_fonts():
        files[str(path)] = STAT_PREFIX + fingerprints.file_signature(path)
    return files


def key(files: dict[str, str], project: Path) -> str:
    """One key for a snapshot, the tool versions and ``SOURCE_DATE_EPOCH``; the
    same wherever the project lies (its files and the code are named relatively)."""
    digest = hashlib.sha256()
    digest.update(os.environ.get("SOURCE_DATE_EPOCH", "").encode())
    names = {_relative(Path(path), project): content for path, content in files.items()}
    for name in sorted(names):
        digest.update(f"{name}\0{names[name]}\n".encode("utf-8", "surrogateescape"))  # a file name need not be UTF-8
    for fact in fingerprints.environment():
        digest.update(f"{fact}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _relative(path: Path, project: Path) -> str:
    for prefix, root in (("project", project), ("code", fingerprints.CODE_DIR)):
        if path.is_relative_to(root):
            return f"{prefix}:{path.relative_to(root).as_posix()}"
    return str(path)


def _system_fonts() -> list[Path]:
    """The fonts for scripts beyond Charis (hundreds of MB of CJK): known by
    path, size and modification time, never read, so a no-change rebuild stays
    fast; a package upgrade changes their size or time."""
    from edition.fonts.scripts import font_files

    return font_files()


def _walk(top: Path, inside: Path, files: dict[str, str], suffix: str = "", skip: Path | None = None) -> None:
    _walk_all([top], inside, files, suffix, skip)


def _walk_all(
    tops: list[Path],
    inside: Path,
    files: dict[str, str],
    suffix: str = "",
    skip: Path | None = None,
    by_stat: bool = False,
) -> None:
    """Every file below ``tops``, by the name it has there (its real folders
    walked without following a link). A link to a folder is recorded with
    where it leads (``link to project:content/x``), and followed only to a
    folder of ``inside`` that no top holds: a folder outside, the project's
    root (which holds the output folder and the caches) and a folder walked
    under its own name anyway are never walked through a link. Hidden names
    (``.edition-cache``, ``.git``, an editor's lock file) are never read by
    the build, so they are no part of the snapshot. With ``by_stat`` (the
    project's files) a file is known by ``file_stat``, never read."""
    root = inside.resolve()
    walked = [_resolved(top) for top in tops]
    skipped = _resolved(skip) if skip is not None else None
    seen: set[tuple[int, int]] = set()
    pending = [top for top in tops if top.is_dir()]
    start = tops[0]

    def unlistable(error: OSError) -> None:
        files[str(Path(error.filename or start).absolute())] = f"unreadable folder: {error.strerror}"

    while pending:
        start = pending.pop(0)
        real = _resolved(start)
        if real is None or not real.is_relative_to(root):
            files[str(start.absolute())] = f"link to {real}"  # a top that leads out: not followed
            continue
        for folder, dirs, names in os.walk(start, onerror=unlistable):
            here = Path(folder)
            try:
                info = here.stat()
            except OSError:
                dirs[:] = []
                continue
            if (info.st_dev, info.st_ino) in seen or (skipped is not None and _resolved(here) == skipped):
                dirs[:] = []
                continue
            seen.add((info.st_dev, info.st_ino))
            for name in sorted(dirs):
                path = here / name
                if project_facts.hidden(name) or not path.is_symlink():
                    continue
                target = _resolved(path)
                files[str(path.absolute())] = f"link to {_relative(target, inside) if target else 'nowhere'}"
                if (
                    target is not None
                    and target.is_relative_to(root)
                    and target != root
                    and not (skipped is not None and target.is_relative_to(skipped))
                    and not any(t is not None and target.is_relative_to(t) for t in walked)
                    and not any(project_facts.hidden(part) for part in target.relative_to(root).parts)
                ):
                    pending.append(target)  # walked under its own name, once
            dirs[:] = sorted(d for d in dirs if not project_facts.hidden(d) and not (here / d).is_symlink())
            for name in sorted(names):
                if name.endswith(suffix) and not project_facts.hidden(name):
                    path = here / name
                    if path.is_symlink() and not path.exists():  # dangling now, perhaps a folder later
                        target = _resolved(path)
                        files[str(path.absolute())] = f"link to {_relative(target, inside) if target else 'nowhere'}"
                    else:
                        files[str(path.absolute())] = (
                            file_stat(path, inside) if by_stat else snapshot_entry(path, inside)
                        )


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a link loop (Python 3.11's resolve)
        return None


def _real_file(path: Path, inside: Path | None) -> os.stat_result | str:
    """The file's ``stat`` (links followed, only inside ``inside``), or why it has none."""
    try:
        real = path.resolve()
        if inside is not None and not real.is_relative_to(inside.resolve()):
            return f"link to {real}"
        info = real.stat()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    except RuntimeError:  # a symbolic link loop (Python 3.11's resolve)
        return "unreadable: symbolic link loop"
    return info if stat.S_ISREG(info.st_mode) else "not a regular file"


def file_stat(path: Path, inside: Path | None = None) -> str:
    """A file known without reading it: its size, modification time and mode
    (an edit changes the first two, a ``chmod`` the third)."""
    info = _real_file(path, inside)
    if isinstance(info, str):
        return info
    return f"{STAT_PREFIX}{info.st_size} {info.st_mtime_ns} {info.st_mode:o}"


def snapshot_entry(path: Path, inside: Path | None = None, limit: int | None = None) -> str:
    """What a snapshot records of a file: its SHA-256, or why it has none (a
    link out of ``inside``, not a regular file, unreadable, over ``limit``
    bytes: then not read, its size says it changed). Never raises."""
    try:
        real = path.resolve()
        if inside is not None and not real.is_relative_to(inside.resolve()):
            return f"link to {real}"
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a pipe never blocks
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return "not a regular file"
            if limit is None:
                return hashlib.file_digest(handle, "sha256").hexdigest()
            if info.st_size > limit:
                return f"over {limit} bytes: {info.st_size}"
            digest = hashlib.sha256()
            left = limit + 1
            while left > 0 and (chunk := handle.read(min(1024 * 1024, left))):
                digest.update(chunk)
                left -= len(chunk)
            return digest.hexdigest() if left > 0 else f"over {limit} bytes: grew while it was read"
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    except RuntimeError:  # a symbolic link loop (Python 3.11's resolve)
        return "unreadable: symbolic link loop"


def held_still(before: dict[str, str], after: dict[str, str], reads: dict[str, list[str]]) -> bool:
    """True when nothing changed during the build and every file was read as it
    is: each file read once-over (one content) and holding that content now."""
    if before != after:
        return False
    return all(found == [snapshot_entry(Path(path), limit=LARGEST_INPUT)] for path, found in reads.items())


def read_outside(before: dict[str, str], reads: dict[str, list[str]], project: Path) -> dict[str, str]:
    """Files the build read inside the project but outside the snapshot's
    folders (``![A map](../../../assets/map.png)``), by project-relative name,
    with the SHA-256 read: the stamp keeps them, and the no-change check reads
    them again, so an edit to one is never called up to date."""
    root = project.absolute()
    found = {}
    for path, digests in reads.items():
        absolute = Path(os.path.normpath(path))
        if str(absolute) not in before and absolute.is_relative_to(root) and len(digests) == 1:
            found[absolute.relative_to(root).as_posix()] = digests[0]
    return dict(sorted(found.items()))


#: A stamp is never larger (one entry per output, with the files it read outside the snapshot).
MAX_STAMP = 16 * 1024 * 1024


def machine() -> str:
    """This machine and this user: part of what the stamp's signature covers, so
    that a stamp is taken only where it was made (``/etc/machine-id`` when the
    system has one, else the host name)."""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        data = cache.read_regular(Path(path), limit=256)
        if data and data.strip():
            return f"uid {os.getuid()} on {data.strip().decode('ascii', 'replace')}"
    return f"uid {os.getuid()} on {socket.gethostname()}"


def _signed(outputs: dict[str, Any]) -> bytes:
    """The bytes the signature covers: the format and every entry, one way only."""
    return json.dumps({"format": STAMP_FORMAT, "outputs": outputs}, sort_keys=True, ensure_ascii=True).encode()


def _signature(outputs: dict[str, Any]) -> str | None:
    secret = cache.secret()
    return cache.sign(secret, "stamp", machine(), _signed(outputs)).hex() if secret is not None else None


def load_stamp(out: Path) -> tuple[dict[str, Any], str | None]:
    """The stamp's outputs, by file name, and None; or ``{}`` and why the stamp
    is not taken: missing, not a regular file (never read through a link, never
    a pipe, at most ``MAX_STAMP`` bytes), not ours (signed by no one, by another
    user or on another machine: a ``dist/`` brought with a project), damaged."""
    data = cache.read_regular(out / STAMP, limit=MAX_STAMP)
    if data is None:
        exists = os.path.lexists(out / STAMP)
        return {}, f"{out / STAMP} {'is not a regular file of at most 16 MiB' if exists else 'is missing'}"
    try:
        stamp = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        stamp = None
    if not isinstance(stamp, dict) or stamp.get("format") != STAMP_FORMAT or not isinstance(stamp.get("outputs"), dict):
        return {}, f"{out / STAMP} is not a stamp of this version"
    expected = _signature(stamp["outputs"])
    if expected is None:
        return {}, "there is no secret of the user's own to check the stamp with (no home folder): every build builds"
    signature = stamp.get("signature")
    if not isinstance(signature, str) or not hmac.compare_digest(signature.encode(), expected.encode()):
        return {}, f"{out / STAMP} was not made by this user on this machine (or was edited)"
    return stamp["outputs"], None


def read_stamp(out: Path) -> dict[str, Any]:
    """The stamp's outputs, by file name ({} when there is none or it is not ours)."""
    return load_stamp(out)[0]


def _record(entry: Any) -> recorded.Record | None:
    if not isinstance(entry, dict):
        return None
    sha256, size = entry.get("sha256"), entry.get("size")
    if not isinstance(sha256, str) or not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return None
    return recorded.Record(sha256, size)


def records(out: Path) -> dict[str, recorded.Record]:
    """What the last builds wrote into ``out``, by file name, as their signed stamp
    records it (empty when the stamp is not ours): the ``--serve`` preview serves
    nothing else."""
    found = {name: _record(entry) for name, entry in read_stamp(out).items()}
    return {name: record for name, record in found.items() if record is not None and recorded.plain_name(name)}


def stale(out: Path, names: list[str], options: dict[str, Any], current: str, project: Path) -> str | None:
    """None when every named output is in the stamp, the very file it records
    (no link, its size and SHA-256), made with ``options`` from ``current``, and
    every file it read outside the snapshot's folders unchanged; else why not,
    in one line."""
    if not names:
        return "no edition to check"
    outputs, problem = load_stamp(out)
    if problem is not None:
        return problem
    for name in names:
        entry = outputs.get(name)
        record = _record(entry)
        if record is None:
            return f"{name} is not in the stamp"
        if entry.get("inputs") is None:
            return f"the inputs of {name} changed while it was built"
        if entry.get("inputs") != current:
            return f"the inputs changed since {name} was built"
        if entry.get("options") != options:
            return f"{name} was made with other options"
        if (problem := recorded.why_not(out, name, record)) is not None:
            return problem
        outside = entry.get("read_outside", {})
        if not isinstance(outside, dict):
            return f"{name}'s entry in the stamp is damaged"
        for source, digest in outside.items():
            if not isinstance(source, str) or snapshot_entry(project / source, project, LARGEST_INPUT) != digest:
                return f"{source} changed since {name} was built"
    return None


def stamp(
    out: Path,
    made: dict[str, recorded.Record],
    options: dict[str, Any],
    inputs: str | None,
    outside: dict[str, str] | None = None,
) -> bytes:
    """The new stamp, signed: this build's outputs (name -> size and SHA-256),
    and the earlier entries of a stamp of ours whose files are still there
    unchanged (never an entry of a stamp that is not ours: it would be signed
    anew). ``inputs`` is None when this build's outputs are not certified;
    ``outside`` names the files read beyond the snapshot's folders
    (``read_outside``)."""
    outputs = {}
    for name, entry in read_stamp(out).items():
        record = _record(entry)
        if name not in made and record is not None and recorded.why_not(out, name, record) is None:
            outputs[name] = entry
    for name, record in made.items():
        outputs[name] = {"sha256": record.sha256, "size": record.size, "options": options, "inputs": inputs}
        if outside:
            outputs[name]["read_outside"] = outside
    outputs = dict(sorted(outputs.items()))
    data = {"format": STAMP_FORMAT, "outputs": outputs, "signature": _signature(outputs)}
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
