"""``python build.py --extract EDITION-pdfa.pdf DIR``: the sources back out.

The PDF/A carries every file the edition was made from under its project path;
extracting them into DIR gives a project that builds the same edition again.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pikepdf

from .atomic import write_bytes
from .diagnostics import BuildFailed, Diagnostic
from .model import SourceLocation


def embedded_files(pdf_path: Path) -> dict[str, bytes]:
    try:
        pdf = pikepdf.open(pdf_path)
    except (FileNotFoundError, pikepdf.PdfError) as exc:
        raise BuildFailed(
            [Diagnostic(SourceLocation(pdf_path), "file.missing", f"cannot open the PDF: {exc}")]
        ) from exc
    with pdf:
        return {name: spec.get_file().read_bytes() for name, spec in sorted(pdf.attachments.items())}


def extract(pdf_path: Path, target: Path) -> list[Path]:
    files = embedded_files(pdf_path)
    if not files:
        raise BuildFailed([Diagnostic(SourceLocation(pdf_path), "file.missing", "the PDF carries no embedded sources")])
    written = []
    for name, data in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise BuildFailed(
                [
                    Diagnostic(
                        SourceLocation(pdf_path),
                        "resource.refused",
                        f"embedded file {name!r} would land outside {target}",
                    )
                ]
            )
        path = target.joinpath(*relative.parts)
        write_bytes(path, data)
        written.append(path)
    return written
