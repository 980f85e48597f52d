"""The edition against the source transcript, word by word (issue: faithful content)."""

from __future__ import annotations

import difflib

import pytest
import yaml

from . import outputs, transcript
from .projects import ROOT, SOURCE

REGISTER = ROOT / "content" / "juche" / "editorial-register.yaml"


@pytest.fixture(scope="module")
def expected(source: transcript.Transcript) -> list[str]:
    entries = yaml.safe_load(REGISTER.read_text(encoding="utf-8"))["entries"]
    return transcript.apply_register(source, entries)


def compare(expected: list[str], actual: list[str], what: str) -> None:
    matcher = difflib.SequenceMatcher(a=expected, b=actual, autojunk=False)
    differences = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    report = "\n".join(
        f"  {tag}: transcript {expected[a1 - 3 : a2 + 3]} | {what} {actual[b1 - 3 : b2 + 3]}"
        for tag, a1, a2, b1, b2 in differences
    )
    print(
        f"{what}: {len(actual)} words, transcript {len(expected)} words, {len(differences)} unexplained difference(s)"
    )
    assert not differences, f"{what} differs from the transcript:\n{report}"


def test_epub_text_is_the_transcript_word_for_word(expected, epub_items):
    compare(expected, outputs.words_only(epub_items), "EPUB")


def test_pdf_text_is_the_transcript_word_for_word(expected, built):
    compare(expected, outputs.pdf_words(built.pdf), "PDF")


def test_register_entries_are_real_changes(source):
    """Every register entry names a word that is at its line in the transcript
    and stands changed in its file of the edition."""
    entries = yaml.safe_load(REGISTER.read_text(encoding="utf-8"))["entries"]
    assert entries, "the register is empty"
    for entry in entries:
        line_words = [t.word for t in source.tokens if t.line == entry["source_line"]]
        assert any(entry["source"] in w for w in line_words), entry
        edition_text = (REGISTER.parent / entry["file"]).read_text(encoding="utf-8").replace("\n", " ")
        assert entry["edition"] in edition_text, entry
        assert entry["source"] != entry["edition"]


def test_61_note_calls_after_the_same_words(source, epub_items):
    calls = [(c.number, c.after) for c in outputs.iter_calls(epub_items)]
    assert len(calls) == 61
    assert [n for n, _ in calls] == list(range(1, 62))
    assert calls == source.calls


def test_note_calls_in_the_pdf_in_order(pdf_pages):
    calls = [n for page in pdf_pages for n in page["calls"]]
    assert calls == list(range(1, 62))


def test_32_original_page_markers_at_the_first_word_of_each_page(source, epub_items):
    markers = [(item.page, epub_items[i + 1]) for i, item in enumerate(epub_items) if isinstance(item, outputs.Marker)]
    assert [p for p, _ in markers] == list(range(1, 33))
    assert {p: w for p, w in markers} == source.page_starts


def test_original_page_markers_in_the_pdf(pdf_pages, source):
    """32 margin markers, in order, each in the margin level with a line whose
    author text holds the word the original page begins with."""
    found = []
    for page in pdf_pages:
        found += [m["page"] for m in page["markers"]]
        for marker in page["markers"]:
            assert marker["x1"] < page["text_left"], f"marker [{marker['page']}] is not in the margin"
    assert found == list(range(1, 33))
    for number, page in enumerate(pdf_pages, 1):
        for marker in page["markers"]:
            assert source.page_starts[marker["page"]] in page["text"], (number, marker)


def test_author_slips_are_kept(epub_items):
    words = " ".join(outputs.words_only(epub_items))
    for slip in ("Haili Miriam", "Selassi,", "cannot not be solved"):
        assert slip in words


def test_table_data_is_the_printed_table():
    """66 rows, one per country, each with the year of its printed line."""
    import csv
    import re

    lines = SOURCE.read_text(encoding="utf-8").split("\n")
    printed: list[tuple[int, str]] = []
    year = None
    for raw in lines[99:120]:  # the table, lines 100-120 of the transcript
        text = raw.strip()
        match = re.match(r"(19[78]\d) (.*)", text)
        if match:
            year, text = int(match.group(1)), match.group(2)
        elif not text or not year or text in transcript.FURNITURE or text.isdigit():
            continue
        printed += [(year, c) for c in text.rstrip(",").split(", ")]
    printed = [(y, c) for y, c in printed if c]
    # a country wrapped at a line end ("Sao" / "Tome- Principe") is one country
    joined: list[tuple[int, str]] = []
    for y, c in printed:
        if joined and joined[-1][1] == "Sao":
            joined[-1] = (y, "Sao " + c)
        else:
            joined.append((y, c))
    rows = [
        (int(r["year"]), r["country"])
        for r in csv.DictReader((ROOT / "content/juche/tables/diplomatic-relations.csv").open())
    ]
    assert len(rows) == 66
    assert rows == joined


def test_every_cited_key_is_in_the_bibtex():
    import re

    from edition.diagnostics import Collector
    from edition.read import bibliography

    bib = ROOT / "bib/juche.bib"
    keys = set(bibliography.parse(bib.read_text(encoding="utf-8"), bib, Collector()))
    cited = set()
    for path in (ROOT / "content/juche").rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        cited |= set(re.findall(r"@([\w][\w:.#$%&+?<>~/-]*\w)", text))
        cited |= set(re.findall(r"^cite: (\S+)$", text, re.M))
    assert cited and cited <= keys
