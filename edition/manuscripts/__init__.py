"""``python build.py --import MANUSCRIPT.docx [--slug SLUG]``: a Word or
OpenDocument manuscript becomes a work folder that builds.

The steps, each in its module:

1. ``package``: the file is checked as a package from a stranger (size, zip
   bomb, encryption, macros, XML without entities) before anything reads it;
2. ``revisions``: unresolved tracked changes refuse it; comments are listed;
   ``boxes``, ``fields``: text boxes made paragraphs, and Word's fields
   settled, in its XML (citations' ids, the citation manager's bibliography,
   tables of contents);
3. ``reading``: Pandoc reads it (``docx+citations``) into its JSON model,
   within bounds;
4. ``convert``, ``tables``, ``images``, ``citations``: the model becomes the
   work's parts (sections, notes, data tables, images, BibTeX), words untouched;
5. ``markdown``: Pandoc's writer writes the Markdown the build reads;
6. ``metadata``: ``work.yaml`` from the text and the file's properties;
7. ``writing``: the folder and the BibTeX file appear at once, never over
   an existing work.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from edition import ids
from edition.diagnostics import BuildFailed, Collector, Diagnostic, printable
from edition.fonts import scripts
from edition.manuscripts import (
    boxes,
    citations,
    convert,
    fields,
    images,
    markdown,
    metadata,
    package,
    properties,
    reading,
    revisions,
    writing,
)
from edition.manuscripts.notices import Notices
from edition.manuscripts.pandoc_ast import walk
from edition.model import SourceLocation

#: The manuscript formats the import reads, by suffix.
SUFFIXES = (".docx", ".docm", ".odt")
#: The longest work name the import makes (a file name holds at most 255 bytes,
#: and the outputs add to the name: ``-pdfa.pdf``, ``.preflight.json``).
MAX_SLUG = 100


@dataclass
class Imported:
    slug: str
    sections: int
    notes: int
    citations: int
    images: int
    tables: int
    warnings: list[Diagnostic] = field(default_factory=list)
    to_fill: list[str] = field(default_factory=list)
    to_check: list[str] = field(default_factory=list)


def slug_for(path: Path, slug: str | None) -> str:
    """The work's name: ``--slug``, or made from the file's name
    (``Letters from Pyongyang (final).docx`` -> ``letters-from-pyongyang-final``)."""
    if slug is not None:
        if not ids.NAME_RE.match(slug):
            raise BuildFailed(
                [Diagnostic(None, "file.name", f"--slug {slug!r} is no work name: a work's name is {ids.NAME_RULE}")]
            )
        if len(slug) > MAX_SLUG:
            raise BuildFailed(
                [
                    Diagnostic(
                        None,
                        "file.name",
                        f"--slug is {len(slug)} characters long, over the limit of {MAX_SLUG} for a work's name "
                        "(its files' names hold it); give a shorter one",
                    )
                ]
            )
        return slug
    made = "-".join(ids.ascii_slug(path.stem).split("-")[:8])[:MAX_SLUG].strip("-")
    if made and not made[0].isalpha():
        made = "work-" + made
    if not made or not ids.NAME_RE.match(made):
        raise BuildFailed(
            [
                Diagnostic(
                    SourceLocation(path),
                    "file.name",
                    f"no work name can be made from the file's name; give one with --slug ({ids.NAME_RULE})",
                )
            ]
        )
    return made


def import_manuscript(path: Path, project: Path, slug: str | None = None) -> Imported:
    """Import the manuscript at ``path`` as ``content/<slug>/`` (and
    ``bib/<slug>.bib``) of ``project``; ``BuildFailed`` for a file it refuses."""
    name = slug_for(path, slug)
    writing.check_free(project, name, with_bib=False)
    if path.suffix.lower() not in SUFFIXES:
        raise package.refuse(
            path,
            "import.format",
            "the import reads .docx and .odt files; open it in Word or LibreOffice and save it as .docx",
        )
    checked = package.read_package(path)
    revisions.check_revisions(checked)
    images.check_linked(checked)
    work = Path("content") / name
    notices = Notices(path, work)
    for comment in revisions.comments(checked):
        notices.warn("import.comment", revisions.describe(comment))
    boxes.settle(checked, notices)
    settled = fields.settle(checked, notices)
    doc = reading.read_document(checked)
    bib_name = f"{name}.bib" if citations.rename_keys(doc) else None
    if settled.bibliographies:
        convert.settle_bibliography(doc, bool(bib_name), notices)
    if bib_name:
        writing.check_free(project, name, with_bib=True)
    props = properties.properties(checked)
    converted = convert.split(doc)
    title, title_source = metadata.title_inlines(doc["meta"], converted.title, props, path.stem)
    convert.shape(checked, converted, title, notices)
    subtitle = doc["meta"].get("subtitle", {})
    lines = markdown.write_inlines(
        [title, subtitle.get("c", []) if subtitle.get("t") == "MetaInlines" else []]
        + [p.title for p in converted.parts]
    )
    files, texts = _sections(converted, lines[2:], work)
    seen: dict[tuple[int, str], int] = {}
    for number, src in converted.alt_missing:
        nth = seen[number, src] = seen.get((number, src), -1) + 1
        notices.warn(
            "import.alt-text",
            f"image '{src}' has no alt text in the manuscript: describe it between the brackets, "
            f"![A map of …]({src}); the build refuses an image without one",
            notices.section(converted.parts[number].stem),
            f"![]({src})",
            nth,
        )
    bib = None
    if bib_name:
        bib_text = citations.buildable(citations.bibtex(doc), notices, bib_name)
        bib = bib_text.encode("utf-8")
        texts[citations.bibliography_path(bib_name)] = bib_text
    meta = metadata.work_yaml(
        doc["meta"], lines[0], title_source, lines[1], props, checked.digest, bib_name, _file_date(path)
    )
    files["work.yaml"] = metadata.dump(meta, printable(path.name)).encode("utf-8")
    writing.publish(project, name, files, bib)
    # a character no font of the edition draws (an emoji) stops the build: said now, where it stands
    glyphs = Collector()
    written = [(project / work / "work.yaml", files["work.yaml"].decode("utf-8"))]
    scripts.check_files([*written, *((project / path, text) for path, text in texts.items())], glyphs)
    blocks = [p.blocks for p in converted.parts]
    return Imported(
        slug=name,
        sections=len(converted.parts),
        notes=sum(1 for node in walk(blocks) if node["t"] == "Note"),
        citations=sum(len(node["c"][0]) for node in walk(blocks) if node["t"] == "Cite"),
        images=len(converted.images.files),
        tables=len(converted.tables),
        warnings=notices.diagnostics(project, texts)
        + [dataclasses.replace(d, severity="warning") for d in glyphs.items],
        to_fill=meta.to_fill,
        to_check=meta.to_check,
    )


def _sections(converted: convert.Converted, titles: list[str], work: Path) -> tuple[dict[str, bytes], dict[Path, str]]:
    """The work's files (relative to its folder) but ``work.yaml``, and the
    text of each Markdown file (relative to the project, for warnings' lines)."""
    files: dict[str, bytes] = {}
    texts: dict[Path, str] = {}
    bodies = markdown.write([part.blocks for part in converted.parts])
    for part, title, body in zip(converted.parts, titles, bodies, strict=True):
        front = yaml.safe_dump({"title": title}, allow_unicode=True, width=10_000)
        text = f"---\n{front}---\n{body}"
        files[f"text/{part.stem}.md"] = text.encode("utf-8")
        texts[work / "text" / f"{part.stem}.md"] = text
    for image_name, data in converted.images.files.items():
        files[f"text/{images.FOLDER}/{image_name}"] = data
    for table in converted.tables:
        files[f"tables/{table.ident}.csv"] = table.csv.encode("utf-8")
        files[f"tables/{table.ident}.yaml"] = table.yaml.encode("utf-8")
    return files, texts


def _file_date(path: Path) -> str:
    """The day the file was last changed (the date of last resort)."""
    try:
        return datetime.date.fromtimestamp(os.stat(path).st_mtime).isoformat()
    except OSError:
        return "2000"
