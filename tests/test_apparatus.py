"""What the edition adds around the author's words, read back from both outputs:
figures and tables numbered in their captions, cross-references printing
their target's label and (in print) its page, note calls side by side kept
apart, and the epigraph (issue 24).

One small work, built once (print PDF and EPUB), holds every case.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pikepdf
import pytest

from edition.cli import main
from edition.outputs.checks import epubcheck

from .pdfua_check import File, check
from .projects import BIB_MIN, make_project, png, section

BIB = (
    BIB_MIN
    + "@book{kim2001,\n  author = {Kim, Suzy},\n  title = {Everyday Life},\n  publisher = {Cornell},\n  date = {2001},\n}\n"
)

TEXT = """\
::: {.epigraph lang=de}
Grau, teurer Freund, ist alle Theorie,
und grün des Lebens goldner Baum.

--- Goethe, *Faust I*
:::

The harbour (see [Figure 1](#fig:harbour)) and the houses, [](#tbl:houses), are shown
below; [](#fig:square) is a square.[^one][^two] A citation [@kim2001].[^three] Two
citations [@suh1988] [@kim2001] end here. [](#trade) is placed from its data.

![The harbour of Wonsan](square.png){#fig:harbour}

| Street | Houses |
|--------|-------:|
| Harbour Road | 12 |

Table: Houses of the port. {#tbl:houses}

::: {.table #trade}
Trade of the port
:::

![A red square](square.png){#fig:square}

:::: epigraph
| A line block
| of verse.

::: attribution
Anonymous
:::
::::

After the second epigraph.

[^one]: See supra [](#note-2) and notes [1](#note-1)–[2](#note-2), and [the harbour](#fig:harbour).
[^two]: The second note.
[^three]: The third note.
"""

TABLE = {
    "content/test/tables/trade.csv": "partner,value\nChina,12\nUSSR,30\n",
    "content/test/tables/trade.yaml": "columns: {partner: text, value: integer}\n",
}


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("apparatus")
    extra = {"content/test/text/square.png": png(4, 4, "red"), **TABLE}
    project = make_project(root, sections={"01-one.md": section(TEXT)}, bib=BIB, extra=extra)
    out = root / "dist"
    assert main(["-q", "--out", str(out), "--format", "pdf", "--format", "epub"], project=project) == 0
    with pikepdf.open(out / "test.pdf") as pdf:
        texts = [_page_text(out / "test.pdf", n) for n in range(1, len(pdf.pages) + 1)]
    with zipfile.ZipFile(out / "test.epub") as z:
        xhtml = z.read("EPUB/test-01-one.xhtml").decode()
    return {"out": out, "pdf": out / "test.pdf", "epub": out / "test.epub", "text": " ".join(texts), "xhtml": xhtml}


def _page_text(pdf: Path, number: int) -> str:
    import subprocess

    text = subprocess.run(
        ["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.sub(r"\s+", " ", text)


def test_figures_and_tables_are_numbered_in_their_captions(work):
    for caption in ("Figure 1. The harbour of Wonsan", "Table 1. Houses of the port.", "Table 2. Trade of the port"):
        assert caption in work["text"], caption
    assert "Figure 2. A red square" in work["text"]
    for caption in ("Figure 1.</span> The harbour", "Table 1.</span> Houses", "Table 2.</span> Trade"):
        assert caption in work["xhtml"], caption


def test_a_caption_with_its_own_label_is_printed_as_written(tmp_path):
    body = "Text.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nTable: TABLE: As the original printed it.\n"
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN)
    assert main(["-q", "--out", str(tmp_path / "dist"), "--format", "pdf"], project=project) == 0
    text = _page_text(tmp_path / "dist/test.pdf", 3)
    assert "TABLE: As the original printed it." in text and "Table 1." not in text


def test_a_cross_reference_prints_the_label_and_the_page_without_doubled_parentheses(work):
    text = work["text"]
    assert "(see Figure 1, p. 3)" in text
    assert "the houses, table 1, p. 3, are" in text
    assert "; figure 2, p. 3 is a square" in text
    assert "Table 2, p. 3 is placed" in text  # a sentence's first word
    assert "((" not in text and "(p." not in text


def test_a_reference_to_a_note_prints_its_number_and_no_page(work):
    text = work["text"]
    assert "See supra note 2 and notes 1–2, and the harbour, p. 3." in text
    assert "note 2, p." not in text
    assert '<a class="xref xref-note" href="test-01-one.xhtml#test--note-2">note 2</a>' in work["xhtml"]


def test_the_epub_links_print_the_labels_without_pages(work):
    xhtml = work["xhtml"]
    assert '<a class="xref" href="test-01-one.xhtml#test--tbl:houses">table 1</a>' in xhtml
    assert '<a class="xref" href="test-01-one.xhtml#test--fig:square">figure 2</a>' in xhtml
    assert "p.\u00a0" not in re.sub(r"<[^>]+>", "", xhtml)


def test_note_calls_side_by_side_are_kept_apart(work):
    """CMOS 14.26: never "12" for calls 1 and 2; a citation that became a note
    beside a written note ("[@kim2001].[^three]") too."""
    text = work["text"]
    assert "square.1,2 A citation.3,4 Two citations5,6 end" in text
    assert len(re.findall(r'class="noteref adjacent"', work["xhtml"])) == 3


def test_a_link_text_naming_another_number_is_a_warning(tmp_path, capsys):
    body = "See [Figure 2](#fig:a).\n\n![A red square](square.png){#fig:a}\n"
    project = make_project(
        tmp_path,
        sections={"01-one.md": section(body)},
        bib=BIB_MIN,
        extra={"content/test/text/square.png": png(4, 4, "red")},
    )
    assert main(["-q", "--out", str(tmp_path / "dist"), "--format", "epub"], project=project) == 0
    said = capsys.readouterr().err
    assert (
        "content/test/text/01-one.md:4: warning: the link text 'Figure 2' names figure 2, but its target is "
        "figure 1; write [](#fig:a) to print the label [link.label]"
    ) in said
    assert main(["-q", "--strict", "--out", str(tmp_path / "strict"), "--format", "epub"], project=project) == 2


def test_the_epigraph_is_set_as_an_epigraph(work):
    xhtml = work["xhtml"]
    assert '<blockquote class="epigraph" lang="de" xml:lang="de" epub:type="epigraph" role="doc-epigraph">' in xhtml
    assert '<p class="attribution">— Goethe, <em>Faust I</em></p>' in xhtml
    assert '<span class="attribution-dash" data-edition="apparatus">—\u200a</span>Anonymous' in xhtml
    assert epubcheck.epubcheck(work["epub"].read_bytes(), "test.epub") == []


def test_the_epigraph_is_narrower_smaller_and_its_attribution_flush_right(work):
    import pdfplumber

    with pdfplumber.open(work["pdf"]) as pdf:
        page = pdf.pages[2]
        words = page.extract_words(extra_attrs=["size"])
        body = next(w for w in words if w["text"] == "harbour")
        quote = next(w for w in words if w["text"] == "Grau,")
        credit = next(w for w in words if w["text"] == "Goethe,")
        after = next(w for w in words if w["text"] == "Faust")
        text_left = min(w["x0"] for w in words if w["size"] == body["size"])
        text_right = max(w["x1"] for w in words if w["size"] == body["size"])
    assert quote["size"] < body["size"]
    assert quote["x0"] > text_left + 72  # a narrower measure, well in from the left
    assert after["x1"] > text_right - 72 and after["x1"] <= text_right + 0.5  # flush right in its measure
    assert credit["top"] > quote["top"]
    below = [w for w in words if w["top"] > credit["bottom"]]
    top = min(w["top"] for w in below)
    the = min((w for w in below if abs(w["top"] - top) < 2), key=lambda w: w["x0"])
    assert the["text"] == "The"
    assert the["top"] - credit["bottom"] > 1.5 * body["size"]  # space after it
    assert abs(the["x0"] - text_left) < 0.5  # the text after it starts flush


def test_the_epigraph_is_a_block_quote_with_its_attribution(work):
    assert check(work["pdf"]) == []
    with pikepdf.open(work["pdf"]) as pdf:
        f = File(pdf)
        quotes = [e for e in f.elements if e.role == "BlockQuote"]
        assert len(quotes) == 2
        first = quotes[0]
        assert str(first.obj.get("/Lang")) == "de"
        paragraphs = [f.text_of(k) for k in first.elements()]
        assert paragraphs[0].startswith("Grau, teurer Freund")
        assert paragraphs[-1].strip() == "— Goethe, Faust I"
