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
and is a miss, like a missing one. Reading, writing and pruning never
follow a symbolic link (each step is taken from an open folder), never open
anything but a regular file and never read more than ``MAX_ENTRY`` bytes; the
folder is not used at all when it is a link or another user's. Values
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAGIC = b"edition-cache 1\n"
MAC_SIZE = 32
#: An entry is never larger (a font subset of a CJK face is a few MB).
MAX_ENTRY = 64 * 1024 * 1024
#: The folder is pruned to this size, oldest entries first, after a build.
MAX_TOTAL = 512 * 1024 * 1024
#: Kinds are folder names: letters, digits and dashes only.
_KIND_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


class Cache:
    """The entries of one cache folder.

    Every step below the folder is taken from an open folder (``dir_fd``),
    never through a link, and the folder itself is used only when it is a real
    folder of this user's: a stranger who owns the project (and so may rename
    or replace anything in it while a build runs) can neither point a read,
    a write nor a removal elsewhere, nor have an entry of theirs taken."""

    def __init__(self, folder: Path, secret: bytes) -> None:
        self.folder = folder
        self.secret = secret
        self.hits = 0
        self.misses = 0

    # -- reading ----------------------------------------------------------------

    def get(self, kind: str, key: str) -> bytes | None:
        """The payload stored for ``key``, or None (a miss) for anything else."""
        parts = _parts(kind, key)
        data = self._in_shard(parts, False, _read_regular) if parts is not None else None
        payload = self._verified(kind, key, data) if data is not None else None
        if payload is None:
            self.misses += 1
            return None
        self.hits += 1
        self._in_shard(parts, False, _touch)  # used: pruned last
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
        parts = _parts(kind, key)
        if parts is None or len(payload) > MAX_ENTRY:
            return
        data = MAGIC + self._mac(kind, key, payload) + payload
        self._in_shard(parts, True, lambda shard, name: _write_whole(shard, name, data))

    def put_json(self, kind: str, key: str, value: Any) -> None:
        self.put(kind, key, json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8"))

    # -- upkeep -----------------------------------------------------------------

    def prune(self, limit: int = MAX_TOTAL) -> None:
        """Remove the least recently used entries until the folder holds ``limit`` bytes."""
        with self._opened(create=False) as root:
            if root is None:
                return
            entries = []
            for kind in _folders_in(root):
                for shard in _folders_in(root, kind):
                    with contextlib.suppress(OSError):
                        fd = _descend(root, (kind, shard), create=False)
                        try:
                            with os.scandir(fd) as found:
                                for entry in found:
                                    info = entry.stat(follow_symlinks=False)
                                    if stat.S_ISREG(info.st_mode):
                                        entries.append((info.st_mtime_ns, info.st_size, kind, shard, entry.name))
                        finally:
                            os.close(fd)
            total = sum(entry[1] for entry in entries)
            for _, size, kind, shard, name in sorted(entries):
                if total <= limit:
                    break
                with contextlib.suppress(OSError):
                    fd = _descend(root, (kind, shard), create=False)
                    try:
                        os.unlink(name, dir_fd=fd)
                        total -= size
                    finally:
                        os.close(fd)

    # -- inside -----------------------------------------------------------------

    @contextlib.contextmanager
    def _opened(self, create: bool) -> Iterator[int | None]:
        """The folder, opened (never through a link), if it is a real folder of
        this user's (or, with ``create``, one could be made); else None."""
        fd = None
        try:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(self.folder, 0o700)
            fd = os.open(self.folder, _DIR_FLAGS)
            if os.fstat(fd).st_uid != os.getuid():
                os.close(fd)
                fd = None
        except OSError:
            fd = None
        try:
            yield fd
        finally:
            if fd is not None:
                os.close(fd)

    def _in_shard(self, parts: tuple[str, str, str], create: bool, action: Callable[[int, str], Any]) -> Any:
        """``action(shard_fd, name)`` in the entry's folder, or None when the
        folder is not there (or not a real one) or the action fails."""
        with self._opened(create) as root:
            if root is None:
                return None
            try:
                shard = _descend(root, parts[:2], create)
            except OSError:
                return None
            try:
                return action(shard, parts[2])
            except OSError as exc:
                log.debug("cache: %s/%s: %s", self.folder, "/".join(parts), exc)
                return None
            finally:
                os.close(shard)

    def _mac(self, kind: str, key: str, payload: bytes) -> bytes:
        return sign(self.secret, kind, key, payload)

    def _verified(self, kind: str, key: str, data: bytes) -> bytes | None:
        head = len(MAGIC) + MAC_SIZE
        if len(data) < head or not data.startswith(MAGIC):
            return None
        payload = data[head:]
        if not hmac.compare_digest(data[len(MAGIC) : head], self._mac(kind, key, payload)):
            return None
        return payload


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def _parts(kind: str, key: str) -> tuple[str, str, str] | None:
    """Where an entry lives below the folder: ``kind/ab/abcdef…``; None for a
    kind or key that is not a plain name (never a way out of the folder)."""
    if not kind or not set(kind) <= _KIND_CHARS or len(key) != 64 or not set(key) <= set("0123456789abcdef"):
        return None
    return kind, key[:2], key


def _descend(root: int, parts: tuple[str, ...], create: bool) -> int:
    """An open descriptor of the folder ``parts`` below ``root``, each step a
    real folder (``O_NOFOLLOW``), made (``create``) when missing."""
    fd = os.dup(root)
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o700, dir_fd=fd)
            below = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = below
    except BaseException:
        os.close(fd)
        raise
    return fd


def _folders_in(root: int, *parts: str) -> list[str]:
    """The names of the real folders in ``parts`` below ``root`` (links are not followed)."""
    try:
        fd = _descend(root, parts, create=False)
    except OSError:
        return []
    try:
        with os.scandir(fd) as found:
            return [entry.name for entry in found if entry.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    finally:
        os.close(fd)


def _write_whole(folder: int, name: str, data: bytes) -> None:
    """``name`` in ``folder`` holds ``data`` (a new file renamed over the old: atomic)."""
    temporary = f".{name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
        raise


def _touch(folder: int, name: str) -> None:
    os.utime(name, dir_fd=folder, follow_symlinks=False)


def _accepts(valid: Callable[[Any], bool], value: Any) -> bool:
    try:
        return bool(valid(value))
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        return False


def sign(secret: bytes, kind: str, key: str, payload: bytes) -> bytes:
    """HMAC-SHA256 of ``payload`` for ``kind`` and ``key`` under the user's
    ``secret``: what a cache entry carries, and the output folder's stamp
    (``freshness``), so that neither is trusted unless this user made it."""
    return hmac.new(secret, f"{kind}\0{key}\0".encode() + payload, hashlib.sha256).digest()


def _read_regular(path: Path | int, name: str | None = None) -> bytes | None:
    return read_regular(path, name, MAX_ENTRY + len(MAGIC) + MAC_SIZE)


def read_regular(path: Path | int, name: str | None = None, limit: int = MAX_ENTRY) -> bytes | None:
    """A regular file's bytes, never through a link, never more than ``limit``
    (``read_regular(path)``, or ``read_regular(folder_fd, name)``); None for
    anything else (a link, a pipe, a folder, a larger file, an error)."""
    try:
        if isinstance(path, int):
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=path)
        else:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
        return data if len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


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
