"""Course readers: several works, or parts of works, as one volume.

A reader is defined in ``readers/<slug>.yaml``. Each reading is read from its
work's folder afresh (an excerpt numbers its own notes from 1), resolved on its
own (its own "Ibid." chains and bibliography), and given the id namespace
``r<n>-<work>`` so the same work can stand in a volume twice.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from . import bibliography, scripts
from .diagnostics import Collector, suggest
from .markdown import PARSER, walk_inline
from .model import BibEntry, Citation, Edition, Note, ReaderMeta, Reading, SourceLocation, Work
from .pdfreadings import is_pdf_reading, read_pdf_reading
from .reader import read_work
from .resolve import resolve_work
from .schema import Field, text, validate
from .sources import Mapping_, item_lines, load_yaml, read_text

READER_SCHEMA = {
    "title": Field(str, True),
    "course_code": Field(str, True),
    "instructor": Field(str, True),
    "institution": Field(str, True),
    "term": Field(str, True),
    "identifier": Field(str, True),
    "date": Field((str, int), True),
    "language": Field(str, True),
    "rights": Field(str, True),
    "introduction": Field(str),
    "permissions_page": Field(bool),
    "bibliography": Field(str),  # in bib/: the sources of the PDF readings
    "readings": Field(list, True),
}
READING_KEYS = {"work", "sections", "documents", "title", "permissions"}


def discover(project: Path) -> list[str]:
    folder = project / "readers"
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def read_reader(project: Path, slug: str) -> Edition:
    path = project / "readers" / f"{slug}.yaml"
    diags = Collector()
    source = read_text(path, diags)
    mapping = load_yaml(source, path, diags) if source is not None else None
    diags.check()
    assert mapping is not None
    if not validate(mapping, READER_SCHEMA, path, diags, "reader definition"):
        diags.check()
    d = mapping.data
    works = sorted(p.name for p in (project / "content").iterdir() if (p / "work.yaml").is_file())
    bib_path, bib = _read_bib(project, path, mapping, diags)
    lines = item_lines(source or "", "readings")
    readings: list[Work] = []
    original_words: dict[str, int] = {}  # each work is counted once, however often it is read
    for index, spec in enumerate(d["readings"], 1):
        item = lines[index - 1] if index <= len(lines) else {}
        where = SourceLocation(path, item.get("") or mapping.line("readings"))
        if is_pdf_reading(spec):
            part = read_pdf_reading(project, path, index, spec, item, bib, bib_path, d["language"], diags)
            if part is not None:
                readings.append(replace(part, reading=_with_source_line(part)))
            continue
        if not isinstance(spec, dict) or "work" not in spec or set(spec) - READING_KEYS:
            diags.error(
                where,
                "meta.type",
                f"reading {index} needs 'work' (or 'pdf') and may have {', '.join(sorted(READING_KEYS - {'work'}))}",
            )
            continue
        if spec["work"] not in works:
            diags.error(
                where,
                "meta.type",
                f"reading {index}: no work {spec['work']!r} in content/{suggest(str(spec['work']), works)}",
            )
            continue
        if spec["work"] not in original_words:
            original_words[spec["work"]] = count_words(read_work(project, spec["work"]))
        readings.append(_reading(project, index, spec, original_words[spec["work"]]))
    # the reader's bibliography prints too: the title pages of its PDF readings
    characters = scripts.check_files([path, *([bib_path] if bib_path else [])], diags)
    diags.check()
    intro_tokens = tuple(PARSER.parse(text(d.get("introduction")), {}))
    reader = ReaderMeta(
        title=d["title"],
        course_code=d["course_code"],
        instructor=d["instructor"],
        institution=d["institution"],
        term=d["term"],
        identifier=d["identifier"],
        date=str(d["date"]),
        language=d["language"],
        rights=d["rights"],
        introduction=intro_tokens,
        definition=path,
        permissions_page=bool(d.get("permissions_page")),
        characters=characters,
    )
    return Edition(
        slug=slug,
        title=reader.title,
        identifier=reader.identifier,
        language=reader.language,
        parts=tuple(readings),
        reader=reader,
    )


def _read_bib(
    project: Path, path: Path, mapping: Mapping_, diags: Collector
) -> tuple[Path | None, dict[str, BibEntry]]:
    """The reader's own bibliography (``bibliography: hist389.bib``, in bib/)."""
    name = mapping.data.get("bibliography")
    if not isinstance(name, str):
        return None, {}
    bib_path = project / "bib" / name
    if not bib_path.is_file():
        diags.error(
            SourceLocation(path, mapping.line("bibliography")),
            "file.missing",
            f"bibliography bib/{name} does not exist",
        )
        return None, {}
    return bib_path, bibliography.load(bib_path, diags)


def _reading(project: Path, index: int, spec: dict, original_words: int) -> Work:
    sections = spec.get("sections")
    documents = spec.get("documents")
    part = read_work(project, spec["work"], sections, documents)
    if sections is None and documents is None:
        kind = "whole"
    elif not part.sections and part.documents:
        kind = "documents"
    else:
        kind = "excerpt"
    if kind == "documents":
        title = spec.get("title") or "; ".join(d.title for d in part.documents)
    else:
        title = spec.get("title") or part.meta.title
    reading = Reading(
        work=spec["work"],
        kind=kind,
        title=" ".join(str(title).split()),
        show_authors=kind != "documents",
        permissions=text(spec.get("permissions")),
        words=count_words(part),
        original_words=original_words,
    )
    part = replace(part, slug=f"r{index}-{spec['work']}", reading=reading)
    part = resolve_work(part)
    return replace(part, reading=_with_source_line(part))


def count_words(work: Work) -> int:
    """Words of the work's own text: sections and documents, without notes."""
    total = sum(len(s.title.split()) for s in work.all_sections)
    for section in work.all_sections:
        for child, _ in walk_inline(list(section.tokens)):
            if child.type == "text":
                total += len(child.content.split())
    return total


def _with_source_line(work: Work) -> Reading:
    """ "Originally published as …", the work's own source cited in full (for
    a PDF reading, "Reproduced from …" its entry in the reader's bibliography)."""
    reading = work.reading
    assert reading is not None
    key = next(iter(work.bib)) if work.pdf else work.meta.source
    if not key:
        return reading
    from . import citeproc

    items = bibliography.to_csl(work.bib_path, dict(work.bib)) if work.bib_path else []
    location = work.pdf.location if work.pdf else SourceLocation(work.root / "work.yaml")
    citation = Citation("source", f"@{key}", (key,), location)
    note = Note("source", 1, (), location, (citation,), f"[@{key}]")
    html = citeproc.format_notes([note], items, "en-US", Collector()).citations.get("source", "")
    if reading.kind == "pdf":
        lead = "Reproduced from "
    elif reading.kind == "whole":
        lead = "Originally published as "
    elif reading.kind == "documents":
        labels = " and ".join(d.label.replace("DOCUMENT", "Document") for d in work.documents)
        lead = f"Printed as {labels} in "
    else:
        lead = "Excerpted from "
    plain = re.sub(r"<[^>]+>", "", html)
    return replace(reading, source_line=lead + html, source_text=lead + plain)
