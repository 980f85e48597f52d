"""Saving a PDF the finishers opened with pikepdf, the same way everywhere:
deterministic identifiers (reproducible bytes), the XMP's own metadata date
kept, and by default every stream written as it is (never decoded, never
compressed again: a scan's JPEGs and an embedded PDF are compressed already)."""

from __future__ import annotations

import io

import pikepdf


def save(pdf: pikepdf.Pdf, *, recompress: bool = False) -> bytes:
    out = io.BytesIO()
    if recompress:
        pdf.save(out, deterministic_id=True, fix_metadata_version=False, compress_streams=True)
    else:
        pdf.save(
            out,
            deterministic_id=True,
            fix_metadata_version=False,
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
            compress_streams=False,
        )
    return out.getvalue()
