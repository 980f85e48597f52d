"""A no-change rebuild does nothing but check.

Before a build reads anything it takes a snapshot of every file the outputs
may depend on (content, BibTeX, readers, templates, the pipeline's own code,
the fonts: Charis by content, the script fallbacks - hundreds of MB of CJK -
by size and date), and with the pinned tool versions and ``SOURCE_DATE_EPOCH`` makes
one key of it. The stamp in the output folder records, for each output file,
its SHA-256, the options it was made with and that key. The next build is
"up to date" only if every output it would write is in the stamp, unchanged,
made with the same options, from the same key.

An output is certified only when its inputs held still: the snapshot after the
build must equal the one before it, and every file the build read
(``readlog``) must have been read with the content of the snapshot. Otherwise
the stamp records the output without a key, and the next build builds again.

This module imports nothing heavy on purpose: the no-change check must not
import the layout engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from edition import project as project_facts
from edition.infra import fingerprints

STAMP = ".edition-build.json"
STAMP_FORMAT = 2
#: A snapshot entry known by size and date, not by content (the big fallback fonts).
STAT_PREFIX = "stat: "


def snapshot(project: Path, font_dir: Path, out: Path | None = None) -> dict[str, str]:
    """The content of every file the outputs may depend on, by absolute path
    (the output folder ``out`` excluded, should it lie in an input folder).

    Never raises for a file: one that cannot be read is recorded as such (the
    build then reports it with its diagnostic). Links are followed only inside
    the project; special files (a FIFO, a device) are never opened."""
    files: dict[str, str] = {}
    for folder in project_facts.INPUT_FOLDERS:
        _walk(project / folder, project, files, skip=out)
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
    if not top.is_dir():
        return
    seen: set[tuple[int, int]] = set()

    def unlistable(error: OSError) -> None:
        files[str(Path(error.filename or top).absolute())] = f"unreadable folder: {error.strerror}"

    for folder, dirs, names in os.walk(top, followlinks=True, onerror=unlistable):
        here = Path(folder)
        try:
            info = here.stat()
            real = here.resolve()
        except (OSError, RuntimeError):
            continue
        if skip is not None and real == skip.resolve():
            dirs[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen or not real.is_relative_to(inside.resolve()):
            files[str(here.absolute())] = f"link to {real}"  # a loop or a link out: not followed
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        for name in sorted(names):
            if name.endswith(suffix):
                path = here / name
                files[str(path.absolute())] = snapshot_entry(path, inside)


def snapshot_entry(path: Path, inside: Path | None = None) -> str:
    """What a snapshot records of a file: its SHA-256, or why it has none (a
    link out of ``inside``, not a regular file, unreadable). Never raises."""
    try:
        real = path.resolve()
        if inside is not None and not real.is_relative_to(inside.resolve()):
            return f"link to {real}"
        info = real.stat()
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file"
        with open(real, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    except RuntimeError:  # a symbolic link loop (Python 3.11's resolve)
        return "unreadable: symbolic link loop"


def held_still(before: dict[str, str], after: dict[str, str], reads: dict[str, list[str]]) -> bool:
    """True when nothing changed during the build and every file was read as it is."""
    if before != after:
        return False
    for path, found in reads.items():
        now = before.get(path) or snapshot_entry(Path(path))
        if not now.startswith(STAT_PREFIX) and found != [now]:
            return False
    return True


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


def read_stamp(out: Path) -> dict[str, Any]:
    """The stamp's outputs, by file name ({} when there is none or it is not ours)."""
    try:
        data = json.loads((out / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != STAMP_FORMAT or not isinstance(data.get("outputs"), dict):
        return {}
    return data["outputs"]


def up_to_date(out: Path, names: list[str], options: dict[str, Any], current: str, project: Path) -> bool:
    """Every named output is in the stamp, unchanged, made with ``options`` from
    ``current``, and every file it read outside the snapshot's folders unchanged."""
    outputs = read_stamp(out)
    for name in names:
        entry = outputs.get(name)
        if not isinstance(entry, dict) or entry.get("inputs") != current or entry.get("options") != options:
            return False
        if snapshot_entry(out / name, out) != entry.get("sha256"):
            return False
        outside = entry.get("read_outside", {})
        if not isinstance(outside, dict):
            return False
        for source, digest in outside.items():
            if snapshot_entry(project / source, project) != digest:
                return False
    return bool(names)


def stamp(
    out: Path, made: dict[str, str], options: dict[str, Any], inputs: str | None, outside: dict[str, str] | None = None
) -> bytes:
    """The new stamp: this build's outputs (name -> SHA-256), and the earlier
    entries whose files are still there unchanged. ``inputs`` is None when this
    build's outputs are not certified; ``outside`` names the files read beyond
    the snapshot's folders (``read_outside``)."""
    outputs = {
        name: entry
        for name, entry in read_stamp(out).items()
        if name not in made and isinstance(entry, dict) and snapshot_entry(out / name, out) == entry.get("sha256")
    }
    for name, digest in made.items():
        outputs[name] = {"sha256": digest, "options": options, "inputs": inputs}
        if outside:
            outputs[name]["read_outside"] = outside
    data = {"format": STAMP_FORMAT, "outputs": dict(sorted(outputs.items()))}
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
