"""One diagnostic type for every problem a build can find in its input.

Printed as ``path:line: error: message [code]`` (Sphinx's form, with Standard
Ebooks-style stable codes). Each phase collects all its problems and raises
``BuildFailed`` once, so the user sees every mistake in one run.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from edition.model import SourceLocation

#: Every code the pipeline emits, with what it means. The README's table is
#: checked against this mapping by the tests.
CODES: dict[str, str] = {
    "cli.option": "a command-line option has a value the pipeline does not know, or the output folder is no folder",
    "file.missing": "a file or folder the content refers to does not exist",
    "file.encoding": "a file is not valid UTF-8, or holds a character XML forbids",
    "file.size": "a content file, image, BibTeX file or PDF reading is larger than the pipeline reads",
    "file.unreadable": "a path the content names is a folder, a pipe or a device, or cannot be read",
    "file.unread": "a folder or a Markdown file in text/ or documents/ that the build would not read",
    "file.name": "a work or reader name the outputs cannot carry, or two editions whose outputs share a name",
    "yaml.syntax": "YAML metadata or front matter cannot be parsed",
    "yaml.limit": "YAML nested too deep, or aliases that expand too far or contain themselves",
    "yaml.duplicate-key": "a key written twice in one YAML mapping (the first would be dropped silently)",
    "meta.unknown-key": "metadata or front matter has a key the schema does not know",
    "meta.missing": "metadata or front matter lacks a required key",
    "meta.type": "a metadata value has the wrong type",
    "meta.length": "a metadata text is longer than its limit",
    "meta.date": "a date that is not YYYY, YYYY-MM or YYYY-MM-DD, or not in the calendar",
    "meta.language": "a language in metadata (or a span's lang= in it) that is not a BCP 47 tag",
    "md.footnote-undefined": "a note is called but never defined",
    "md.footnote-unused": "a note is defined but never called",
    "md.footnote-duplicate": "a note label is defined twice",
    "md.div": "a fenced div that places a table has no id",
    "md.nesting": "Markdown nested deeper than the pipeline reads",
    "md.page-marker": "an original-page marker whose page is not a number",
    "md.language": "a lang= in Markdown (a span, a div, a heading) that is not a BCP 47 tag",
    "md.size": "a work with more notes, files or table cells, or a longer paragraph, than the pipeline lays out",
    "id.duplicate": "two elements of the outputs would have one id",
    "link.target": "an internal link to an id that nothing has",
    "link.label": "a link's text names a figure, table or note by another number than its target's (a warning)",
    "link.address": "a Markdown link to an address that is not http(s) or mailto: its text is printed without the link (a warning)",
    "reader.selection": "a reading names a section or document its work does not have",
    "md.unsupported": "a Pandoc construct the pipeline does not render (the message names the alternative)",
    "md.table": "a pipe or grid table that cannot be read",
    "md.alt-text": "an image without alt text",
    "cite.unknown": "a citation key is not in the work's BibTeX file",
    "cite.syntax": "a citation that Pandoc reads differently",
    "cite.style": "the work's CSL style is not installed or not a CSL style",
    "cite.link": "a formatted citation links to an address that is not http(s) or mailto: printed as text",
    "bib.syntax": "a BibTeX block cannot be parsed",
    "bib.duplicate-key": "a BibTeX key is defined twice",
    "bib.duplicate-field": "a BibTeX entry has the same field twice",
    "bib.missing-field": "a BibTeX entry lacks a field its type requires",
    "bib.type": "a cited BibTeX entry of a type neither Pandoc nor CSL knows: formatted as a document (a warning)",
    "cite.bibliography": "a cited entry the style's bibliography leaves out, said in the log (a note)",
    "csv.header": "a CSV table's header differs from the declared columns",
    "csv.fields": "a CSV row has the wrong number of fields",
    "csv.type": "a CSV value has the wrong type",
    "csv.size": "a CSV table has more rows, columns or cells than the pipeline lays out",
    "table.unknown": "the text places a table that has no data file",
    "font.missing-glyph": "a character of the content is in no font of the edition",
    "template.error": "a template cannot be rendered",
    "template.unsafe": "a template reaches beyond the data it is handed, or past the bounds of what it may do",
    "resource.refused": "content refers to a resource outside the project",
    "pdf.unreadable": "a PDF reading's file is not a PDF, is damaged beyond reading, or has a page no viewer could show",
    "pdf.encrypted": "a PDF reading's file is encrypted",
    "pdf.pages": "a PDF reading's page range lies outside its file, the file has no pages, or the volume too many",
    "pdf.no-text": "a PDF reading asks for its text in the EPUB but the file has no text layer",
    "pdf.pdfa": "a PDF reading's pages hold what the archival PDF/A cannot carry (with --format pdfa)",
    "pdf.untagged": "a PDF reading has no tags, so the volume does not claim PDF/UA (a warning)",
    "pdf.furniture": "a PDF reading prints text where the volume prints its running heads and folios (a warning)",
    "pdf.tags": "a tagged PDF reading whose own tags break a PDF/UA rule, so the volume does not claim PDF/UA (a warning)",
    "layout.note-missing": "a note is missing from the laid-out PDF",
    "layout.note-misplaced": "a note is printed on another page than its call",
    "preflight.fault": "the print preflight finds a typographic fault (an error with --strict)",
    "check.epub": "EPUBCheck reports a problem (with --check)",
    "build.warning": "a warning turned into an error by --strict",
    "extract.name": "an embedded file's name cannot be written safely into the --extract folder",
    "extract.size": "an embedded file (or all of them) is over the --extract size limits",
    "extract.stream": "an embedded file's stream cannot be read safely (a filter other than Flate, damaged, a wrong size)",
    "import.format": "--import: the file is not a .docx or .odt manuscript, or is damaged",
    "import.encrypted": "--import: the manuscript is encrypted with a password",
    "import.macros": "--import: the manuscript carries macros (a .docm, Basic modules)",
    "import.tracked-changes": "--import: the manuscript has unresolved tracked changes",
    "import.exists": "--import: the work's folder or BibTeX file exists already (never overwritten), or a reader has its name",
    "import.image": "--import: an image the outputs cannot carry (a vector picture, a linked file)",
    "import.comment": "--import: a comment of the manuscript was dropped (a warning)",
    "import.alt-text": "--import: an image has no alt text in the manuscript (a warning: the build refuses it)",
    "import.citation": "--import: a citation manager's entry lacks a field its type needs and is written as @misc, "
    "or a citation field cites nothing readable and is kept as its text (a warning)",
    "import.field": "--import: a field Word generates (a table of contents, an index, the citation manager's "
    "bibliography) was left out, or a page number field keeps Word's number (a warning)",
    "import.moved": "--import: a note or citation in a heading, or a text box's text, was moved after it (a warning)",
    "import.note": "--import: a note held blocks a note cannot hold, kept as paragraphs (a warning)",
    "import.equation": "--import: an equation is kept as its TeX in code (a warning)",
    "import.link": "--import: a link to a place the work does not hold is kept as its words (a warning)",
}


@dataclass(frozen=True)
class Diagnostic:
    location: SourceLocation | None
    code: str
    message: str
    severity: str = "error"

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"undocumented diagnostic code {self.code!r}")

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return printable(f"{where}{self.severity}: {self.message} [{self.code}]")


#: What a terminal or a log would act on rather than show: control characters
#: (an escape sequence in a file name), line and paragraph separators, the
#: bidirectional overrides, and the surrogates a file name that is not UTF-8 decodes to.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` on one line, with every character a terminal would act on
    written as an escape (``\\x1b``, ``\\n``, ``\\u202e``): a diagnostic shows a
    stranger's file name, never runs it."""
    return UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class BuildFailed(Exception):
    """Bad input: carries every diagnostic of the phase that found them."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


@dataclass
class Collector:
    """Gathers a phase's diagnostics; ``check()`` raises if any is an error."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, location: SourceLocation | None, code: str, message: str) -> None:
        self.items.append(Diagnostic(location, code, message))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    def check(self, strict: bool = False) -> None:
        failing = [d for d in self.items if d.severity == "error" or strict]
        if failing:
            raise BuildFailed(self.items)


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choices, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
