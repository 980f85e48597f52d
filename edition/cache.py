"""Results kept between builds, found by the content hash of what made them.

Some steps of a build give the same result for the same input, and cost more
than reading a file: Pandoc's runs (BibTeX to CSL JSON, citeproc), font
subsets for the EPUB, and what the print layout tells the EPUB (where each
page begins). Their results are kept in a cache folder (``.edition-cache/`` in
the project; ``--no-cache`` leaves it alone) under a key that is the SHA-256 of
*everything* that shapes the result: the input bytes, the options, the
pipeline's own code and the versions of the tools (``code_version``). A changed
input is a different key, so a result is never used for other inputs than its
own; nothing is ever invalidated by hand.

A cache entry is never trusted for more than its key says. Each entry is
``MAGIC + HMAC-SHA256(secret, kind, key, payload) + payload``, the secret being
a random key of the user's own (``~/.cache/edition/secret``), never in the
project: an entry that is truncated, damaged, written by another program or
by another person (a stranger's folder copied with a project) fails the check
and is a miss, like a missing one. Reading never follows a symbolic link,
never opens anything but a regular file and never reads more than
``MAX_ENTRY`` bytes; the folder is not used at all when it is a link. Values
are bytes or JSON checked by the caller (never pickle: a value is data, never
code). Writing is best effort (a full disk or a read-only project only costs
time) and atomic (a new file renamed over the old).

One cache per process is active while a build runs (``use``), as with
``readlog``: the stages that cache ask ``active()``. This module imports
nothing from the pipeline, so every stage may use it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FOLDER = ".edition-cache"
MAGIC = b"edition-cache 1\n"
MAC_SIZE = 32
#: An entry is never larger (a font subset of a CJK face is a few MB).
MAX_ENTRY = 64 * 1024 * 1024
#: The folder is pruned to this size, oldest entries first, after a build.
MAX_TOTAL = 512 * 1024 * 1024
#: Kinds are folder names: letters, digits and dashes only.
_KIND_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


class Cache:
    """The entries of one cache folder."""

    def __init__(self, folder: Path, secret: bytes) -> None:
        self.folder = folder
        self.secret = secret
        self.hits = 0
        self.misses = 0

    # -- reading ----------------------------------------------------------------

    def get(self, kind: str, key: str) -> bytes | None:
        """The payload stored for ``key``, or None (a miss) for anything else."""
        path = self._path(kind, key)
        data = _read_regular(path) if path is not None and self._usable() else None
        payload = self._verified(kind, key, data) if data is not None else None
        if payload is None:
            self.misses += 1
            return None
        self.hits += 1
        with contextlib.suppress(OSError):  # used: pruned last
            os.utime(path, follow_symlinks=False)
        return payload

    def get_json(self, kind: str, key: str, valid: Callable[[Any], bool]) -> Any:
        """A JSON value stored for ``key`` that ``valid`` accepts, or None."""
        payload = self.get(kind, key)
        if payload is None:
            return None
        try:
            value = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            value = None
        if value is None or not _accepts(valid, value):
            self.hits -= 1
            self.misses += 1
            return None
        return value

    # -- writing ----------------------------------------------------------------

    def put(self, kind: str, key: str, payload: bytes) -> None:
        """Store ``payload`` for ``key`` (best effort: a failure only costs time)."""
        path = self._path(kind, key)
        if path is None or len(payload) > MAX_ENTRY or not self._usable(create=True):
            return
        data = MAGIC + self._mac(kind, key, payload) + payload
        try:
            _make_dirs(self.folder, path.parent)
            temporary = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            log.debug("cache: %s not stored: %s", path, exc)

    def put_json(self, kind: str, key: str, value: Any) -> None:
        self.put(kind, key, json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8"))

    # -- upkeep -----------------------------------------------------------------

    def prune(self, limit: int = MAX_TOTAL) -> None:
        """Remove the least recently used entries until the folder holds ``limit`` bytes."""
        if not self._usable():
            return
        entries = []
        for shard in _subfolders(self.folder, depth=2):
            with contextlib.suppress(OSError), os.scandir(shard) as found:
                for entry in found:
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode):
                        entries.append((info.st_mtime_ns, info.st_size, entry.path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= limit:
                break
            with contextlib.suppress(OSError):
                os.unlink(path)
                total -= size

    # -- inside -----------------------------------------------------------------

    def _path(self, kind: str, key: str) -> Path | None:
        if not kind or not set(kind) <= _KIND_CHARS or len(key) != 64 or not set(key) <= set("0123456789abcdef"):
            return None
        return self.folder / kind / key[:2] / key

    def _usable(self, create: bool = False) -> bool:
        """The folder is a real folder of ours (or, with ``create``, can be made)."""
        try:
            info = os.lstat(self.folder)
        except FileNotFoundError:
            if not create:
                return False
            try:
                os.mkdir(self.folder, 0o700)
            except OSError:
                return False
            return True
        except OSError:
            return False
        return stat.S_ISDIR(info.st_mode)

    def _mac(self, kind: str, key: str, payload: bytes) -> bytes:
        return hmac.new(self.secret, f"{kind}\0{key}\0".encode() + payload, hashlib.sha256).digest()

    def _verified(self, kind: str, key: str, data: bytes) -> bytes | None:
        head = len(MAGIC) + MAC_SIZE
        if len(data) < head or not data.startswith(MAGIC):
            return None
        payload = data[head:]
        if not hmac.compare_digest(data[len(MAGIC) : head], self._mac(kind, key, payload)):
            return None
        return payload


def _accepts(valid: Callable[[Any], bool], value: Any) -> bool:
    try:
        return bool(valid(value))
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        return False


def _read_regular(path: Path) -> bytes | None:
    """A regular file's bytes, never through a link, never more than ``MAX_ENTRY``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY + len(MAGIC) + MAC_SIZE:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(MAX_ENTRY + len(MAGIC) + MAC_SIZE + 1)
        return data if len(data) <= MAX_ENTRY + len(MAGIC) + MAC_SIZE else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _make_dirs(root: Path, folder: Path) -> None:
    """Make ``folder`` under ``root``, refusing any part that is not a real folder."""
    current = root
    for part in folder.relative_to(root).parts:
        current = current / part
        try:
            os.mkdir(current, 0o700)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(current).st_mode):
                raise NotADirectoryError(f"{current} is not a folder") from None


def _subfolders(root: Path, depth: int) -> Iterator[str]:
    """Real folders ``depth`` levels under ``root`` (links are not followed)."""
    level = [str(root)]
    for _ in range(depth):
        below = []
        for folder in level:
            with contextlib.suppress(OSError), os.scandir(folder) as found:
                below += [e.path for e in found if e.is_dir(follow_symlinks=False)]
        level = below
    yield from level


# -- the secret -------------------------------------------------------------------


def secret_path() -> Path | None:
    """Where the user's secret is kept: ``$XDG_CACHE_HOME`` (when absolute, as
    the XDG spec says) or ``~/.cache``; None when there is no home of the user's
    own to keep it (no ``HOME`` and no entry in the password database, or a
    relative one: never a folder relative to where the build runs)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            home = Path.home()
        except (RuntimeError, KeyError, OSError):
            return None
        if not home.is_absolute() or home == Path(home.anchor):
            return None
        base = str(home / ".cache")
    return Path(base) / "edition" / "secret"


@functools.cache
def secret() -> bytes | None:
    """The user's own cache secret, made on first use; None when there is no
    place of the user's own to keep it (then nothing is cached)."""
    path = secret_path()
    if path is None:
        log.debug("cache: no home folder to keep a secret in: nothing is cached")
        return None
    for _ in range(3):
        data = _read_regular(path)
        try:
            info = os.lstat(path) if data is not None else None
        except OSError:
            continue  # removed meanwhile
        if data is not None and info is not None:
            ours = info.st_uid == os.getuid() and not info.st_mode & 0o077
            if ours and len(data) == 32:
                return data
            if not ours:
                log.debug("cache: %s is not a secret of this user's: nothing is cached", path)
                return None
            with contextlib.suppress(OSError):  # ours but not a secret (an older build's, cut short): made anew
                os.unlink(path)
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _create_whole(path, secrets.token_bytes(32))
        except FileExistsError:
            continue  # another process made it meanwhile: read it
        except OSError as exc:
            log.debug("cache: no secret at %s (%s): nothing is cached", path, exc)
            return None
    return None


def _create_whole(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data``, all at once: written under another name
    and linked into place (``FileExistsError`` if it exists), so no process
    ever reads it half-written, and a build killed while writing leaves no
    empty secret behind that would turn the cache off for good."""
    temporary = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path, follow_symlinks=False)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


# -- the active cache ---------------------------------------------------------------

_active: list[Cache | None] = [None]


@contextlib.contextmanager
def use(folder: Path | None) -> Iterator[Cache | None]:
    """Make the cache in ``folder`` the active one (None: no cache) while the block runs."""
    previous = _active[0]
    key = secret() if folder is not None else None
    _active[0] = Cache(folder, key) if folder is not None and key is not None else None
    try:
        yield _active[0]
    finally:
        _active[0] = previous


def active() -> Cache | None:
    return _active[0]


# -- keys ---------------------------------------------------------------------------


def key(*parts: str | bytes) -> str:
    """SHA-256 of the parts, each length-prefixed (two lists of parts never collide)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


CODE_DIR = Path(__file__).resolve().parent


@functools.cache
def code_version() -> str:
    """The pipeline's own code (every module, by content) and the versions of
    the tools and of Python: part of every key, so an upgrade never reuses a
    result made by other code."""
    from .freshness import tool_versions

    digest = hashlib.sha256()
    for path in sorted(CODE_DIR.rglob("*.py")):
        digest.update(path.relative_to(CODE_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(json.dumps(tool_versions(), sort_keys=True).encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


@functools.cache
def _file_digest(path: str, _signature: tuple[int, int, int, int]) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file's content (read once per process while its size and date hold)."""
    info = os.stat(path)
    return _file_digest(str(path), (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns))
