"""BibTeX files: parsed and checked with bibtexparser 2, converted to CSL JSON.

Pandoc's BibLaTeX reader makes the CSL JSON (names, dates, LaTeX accents, case
protection); it drops the archival fields Chicago needs, so those are copied in
from bibtexparser's parse (``ARCHIVE_FIELDS``).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import subprocess
from pathlib import Path
from typing import Any

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock

from edition.diagnostics import BuildFailed, Collector, Diagnostic
from edition.infra import cache, fingerprints
from edition.infra.tools import run_pandoc
from edition.model import BibEntry, SourceLocation
from edition.read import readlog
from edition.read.bibtex import csl_markup
from edition.read.bibtex import entry_types as bibtypes
from edition.read.bibtex import failure as bibfailure

#: BibTeX field -> CSL variable that Pandoc's reader does not map.
ARCHIVE_FIELDS = {
    "archive": "archive",
    "signature": "archive_location",
    "archive_location": "archive_location",
    "archive_place": "archive-place",
    "collection": "collection-title",
}

#: Pandoc's thesis genres -> the words CMOS uses (14.113: "PhD diss.").
GENRES = {"PhD thesis": "PhD diss.", "Master’s thesis": "master’s thesis", "Master's thesis": "master’s thesis"}

#: Fields each supported entry type needs; a tuple means "one of these".
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "book": (("title",), ("date", "year"), ("publisher",)),
    "article": (("author",), ("title",), ("journaltitle", "journal"), ("date", "year")),
    "incollection": (("author",), ("title",), ("booktitle",), ("date", "year")),
    "report": (("author", "institution"), ("title",), ("institution",), ("date", "year")),
    "thesis": (("author",), ("title",), ("institution", "school"), ("date", "year")),
    "phdthesis": (("author",), ("title",), ("school", "institution"), ("date", "year")),
    "online": (("title",), ("url",)),
    # undated manuscripts and web pages are common: the style prints "n.d."
    "misc": (("title",),),
    "unpublished": (("title",),),
}

logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)

#: Most entries (and other @-blocks) in one BibTeX file: each is parsed, and
#: converted by Pandoc, whose heap (``PANDOC_HEAP``) holds about 60,000.
MAX_ENTRIES = 20_000
#: The start of a BibTeX block (``@book{``, ``@string(``), as counted before parsing.
BLOCK_RE = re.compile(r"@[ \t]*[A-Za-z]+[ \t]*[{(]")


def parse(text: str, path: Path, diags: Collector) -> dict[str, BibEntry]:
    """Entries by key of a BibTeX file's text (read by the caller, through the
    sandbox); syntax errors, duplicates and missing fields go to ``diags``.
    A file of more than ``MAX_ENTRIES`` entries is refused before it is parsed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as ``read_text`` gave
    for count, block in enumerate(BLOCK_RE.finditer(text), 1):
        if count > MAX_ENTRIES:
            diags.error(
                SourceLocation(path, text.count("\n", 0, block.start()) + 1),
                "file.size",
                f"more than {MAX_ENTRIES} BibTeX entries in one file; give the work a file of the entries it cites",
            )
            return {}
    library = bibtexparser.parse_string(text)
    for block in library.failed_blocks:
        _report_failed(block, path, diags)
    entries: dict[str, BibEntry] = {}
    for entry in library.entries:
        fields = {f.key.lower(): str(f.value) for f in entry.fields}
        loc = SourceLocation(path, entry.start_line + 1)
        entries[entry.key] = BibEntry(entry.key, entry.entry_type.lower(), fields, loc)
        _check_required(entries[entry.key], diags)
    return entries


def _report_failed(block: Any, path: Path, diags: Collector) -> None:
    line = block.start_line + 1
    if isinstance(block, DuplicateFieldKeyBlock):
        for name in sorted(block.duplicate_keys):
            offset = _second_occurrence(block.raw, name)
            diags.error(
                SourceLocation(path, line + offset),
                "bib.duplicate-field",
                f"field {name!r} appears twice in this entry; keep one",
            )
    elif isinstance(block, DuplicateBlockKeyBlock):
        diags.error(
            SourceLocation(path, line),
            "bib.duplicate-key",
            f"key {block.key!r} is already used by another entry; give each entry its own key",
        )
    else:
        error = getattr(block, "error", None)
        reason = getattr(error, "abort_reason", None) or str(error or "") or "syntax error"
        detail = " ".join(reason.split())
        diags.error(SourceLocation(path, line), "bib.syntax", f"BibTeX entry cannot be parsed: {detail}")


def _second_occurrence(raw: str, name: str) -> int:
    seen = 0
    for number, text in enumerate(raw.split("\n")):
        if text.strip().lower().startswith(name.lower()) and "=" in text:
            seen += 1
            if seen == 2:
                return number
    return 0


def _check_required(entry: BibEntry, diags: Collector) -> None:
    for options in REQUIRED.get(entry.entry_type, ()):
        if not any(o in entry.fields for o in options):
            diags.error(
                entry.location,
                "bib.missing-field",
                f"@{entry.entry_type}{{{entry.key}}} lacks the field {' or '.join(options)!r}"
                + ("; write year = {n.d.} for an undated work" if "year" in options else ""),
            )


def to_csl(path: Path, entries: dict[str, BibEntry]) -> list[dict[str, Any]]:
    """CSL JSON items for the file, through Pandoc's reader plus our archival fields.

    Pandoc runs once per file content: a course reader that cites one work's
    bibliography in several readings (and in their source lines) reuses it."""
    data = readlog.read_once(path)  # the bytes load() checked
    key = fingerprints.sha256(data)
    if key not in _CSL_CACHE or cache.active() is not None:  # (a cache is kept even when memo'd)
        try:
            stdout, _ = run_pandoc(["+RTS", f"-M{PANDOC_HEAP}", "-RTS", "-f", "biblatex", "-t", "csljson"], data)
        except subprocess.CalledProcessError as failed:
            raise BuildFailed([_pandoc_failed(path, failed.returncode, failed.stderr or b"", data)]) from None
        _CSL_CACHE[key] = json.loads(stdout)
    items = copy.deepcopy(_CSL_CACHE[key])
    for item in items:
        entry = entries.get(item["id"])
        if entry is not None:
            _augment(item, entry)
    return items


def written_title(entry: BibEntry) -> str:
    """The entry's title as its author wrote it (Pandoc's CSL JSON gives an
    English title in sentence case, as CSL wants it), read by Pandoc's
    BibLaTeX reader all the same (``--`` an en dash, ``\\emph`` emphasis,
    accents), as a line of Markdown (``csl_markup``); "" without a title."""
    title = entry.fields.get("title", "")
    if not title:
        return ""
    if title not in _WRITTEN:
        # an entry of no language is not recased: Pandoc keeps the title's capitals
        source = f"@misc{{written,\n  title = {{{title}}},\n  langid = {{undetermined}},\n}}\n".encode()
        try:
            stdout, _ = run_pandoc(["+RTS", f"-M{PANDOC_HEAP}", "-RTS", "-f", "biblatex", "-t", "csljson"], source)
            items = json.loads(stdout)
        except (subprocess.CalledProcessError, ValueError):
            items = []
        value = str(items[0].get("title", "")) if items else ""
        _WRITTEN[title] = csl_markup.to_markdown(value) if value else csl_markup.to_markdown(re.sub(r"[{}]", "", title))
    return _WRITTEN[title]


_WRITTEN: dict[str, str] = {}
_CSL_CACHE: dict[str, list[dict[str, Any]]] = {}
#: Pandoc's heap for reading one BibTeX file (its manual's advice for untrusted
#: input): 60,000 entries (5 MB) need about 1 GB; ``@string`` macros that
#: double at each level (28 lines standing for 2 GB of text) stop here.
PANDOC_HEAP = "1536m"


def _pandoc_failed(path: Path, status: int, stderr: bytes, data: bytes) -> Diagnostic:
    said = stderr.decode("utf-8", "replace")
    if "Heap exhausted" in said:
        return Diagnostic(
            SourceLocation(path),
            "file.size",
            f"Pandoc cannot read this BibTeX file within {PANDOC_HEAP[:-1]} MB of memory "
            "(@string macros that expand too far, or a very large library); give the work a file of the entries it cites",
        )
    detail = " ".join(said.split())[:300] or f"exit status {status}"
    detail = re.sub(
        r'^Error at "[^"]*" ', "Error at ", detail
    )  # Pandoc's name for its input is no file of the author's
    line, what, advice = bibfailure.locate(data.decode("utf-8", "replace"), said)
    if what and advice:
        message = f"Pandoc cannot read {what}: {advice} (Pandoc: {detail})"
    elif what:
        message = f"Pandoc cannot read {what}: {detail}"
    else:
        message = f"Pandoc cannot read this BibTeX file: {detail}"
    return Diagnostic(SourceLocation(path, line), "bib.syntax", message)


def _augment(item: dict[str, Any], entry: BibEntry) -> None:
    bibtypes.complete(item, entry)
    for bib_field, csl_var in ARCHIVE_FIELDS.items():
        if bib_field in entry.fields:
            item[csl_var] = entry.fields[bib_field]
    if item.get("genre") in GENRES:
        item["genre"] = GENRES[item["genre"]]
    kind = entry.fields.get("type", "").lower()
    if entry.entry_type in ("misc", "unpublished"):
        if kind == "speech":
            item["type"] = "speech"
            item.pop("genre", None)
        elif "archive" in entry.fields:
            item["type"] = "document"
        elif not item.get("type"):
            item["type"] = "manuscript" if entry.entry_type == "unpublished" else "document"
