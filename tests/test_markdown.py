"""Pandoc's Markdown, construct by construct: rendered in both outputs, or
refused with file:line. Never printed as raw syntax.

The cases follow the examples of Pandoc's manual ("Pandoc's Markdown"),
reworded. The supported ones are built together, one section each, into a PDF
and an EPUB; the text of both must show each construct rendered and none of
its syntax.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from lxml import etree

from edition.cli import main
from edition.diagnostics import BuildFailed
from edition.read.work import read_work

from . import outputs
from .projects import BIB_MIN, KITCHEN_SINK, make_project, section

TEXT = "content/test/text/01-one.md"

#: name -> (Markdown, texts the outputs must show)
SUPPORTED = {
    "emphasis": ("*Emphasis*, **strong**, ***both*** and _underscores_.", ["Emphasis, strong, both and underscores."]),
    "strikeout": ("This ~~is deleted text.~~ stays.", ["This is deleted text. stays."]),
    "superscript-subscript": ("H~2~O is a liquid. 2^10^ is 1024.", ["H2O is a liquid. 210 is 1024."]),
    "verbatim": ("The `<$>` operator, and ``*not emphasis*``.", ["The <$> operator, and *not emphasis*."]),
    "small-caps": ("[Small caps]{.smallcaps} and [underlined]{.underline}.", ["Small caps and underlined."]),
    "setext-heading": ("A heading\n---------\n\nText under it.", ["A heading", "Text under it."]),
    "atx-heading": ("## A level-two heading ##\n\nText.", ["A level-two heading"]),
    "heading-attributes": (
        "## My heading {#foo .bar lang=en}\n\n### Unnumbered {-}\n\nSee [the heading](#foo).",
        ["My heading", "Unnumbered", "See the heading"],
    ),
    "implicit-identifier": ("## Heading identifiers in HTML\n\nSee [it](#heading-identifiers-in-html).", ["See it"]),
    "implicit-header-reference": (
        "## Implicit references\n\nSee [Implicit references], [Implicit references][] or [this][implicit references].",
        ["See Implicit references, Implicit references or this."],
    ),
    "smart-dashes": ("Pages 33--35 --- and so on...", ["Pages 33\u201335 \u2014 and so on\u2026"]),
    "smart-quotes": (
        '"Quoted" and \'single\', the author\'s, `"code"` kept.',
        ['\u201cQuoted\u201d and \u2018single\u2019, the author\u2019s, "code" kept.'],
    ),
    "block-quotation": ("> This is a block quote.\n>\n> > A block quote within it.", ["This is a block quote."]),
    "indented-code": ("Code:\n\n    if (a > 3) {\n      moveShip(5 * gravity, DOWN);\n    }", ["moveShip(5"]),
    "fenced-code": ("~~~~ {#mycode .haskell}\nqsort [] = []\n~~~~", ["qsort"]),
    "line-block": (
        "| The limerick packs laughs anatomical\n| In space that is quite economical.\n|    But the good ones I've seen",
        ["The limerick packs laughs anatomical", "But the good ones I\u2019ve seen"],
    ),
    "bullet-list": ("* one\n* two\n* three\n\n- loose one\n\n- loose two", ["one", "loose two"]),
    "nested-list": ("* fruits\n    + apples\n        - macintosh\n    + pears\n* vegetables", ["macintosh"]),
    "ordered-list": ("1.  one\n2.  two\n3.  three\n\n9)  Ninth\n10) Tenth", ["three", "Tenth"]),
    "definition-list": (
        "Term 1\n\n:   Definition 1\n\nTerm 2 with *inline markup*\n\n:   Definition 2\n\n        { some code }\n\n"
        "    Third paragraph.\n\nTerm 3\n~ Compact definition",
        ["Term 1", "Definition 1", "Term 2 with inline markup", "Compact definition"],
    ),
    "horizontal-rule": ("Before.\n\n*  *  *  *\n\nBetween.\n\n---------------\n\nAfter.", ["Before.", "After."]),
    "pipe-table": (
        "| Right | Left | Default | Center |\n|------:|:-----|---------|:------:|\n|   12  |  12  |    12   |    12  |\n"
        "|  123  |  123 |   123   |   123  |\n\n  : Demonstration of pipe table syntax.",
        ["Demonstration of pipe table syntax.", "Right"],
    ),
    "pipe-table-caption-first": ("Table: Fruits\n\nfruit| price\n-----|-----:\napple|2.05\npear|1.37", ["Fruits"]),
    "grid-table": (
        ": Sample grid table.\n\n+---------------+---------------+--------------------+\n"
        "| Fruit         | Price         | Advantages         |\n"
        "+===============+===============+====================+\n"
        "| Bananas       | $1.34         | - built-in wrapper |\n"
        "|               |               | - bright color     |\n"
        "+---------------+---------------+--------------------+\n"
        "| Oranges       | $2.10         | - cures scurvy     |\n"
        "|               |               | - tasty            |\n"
        "+---------------+---------------+--------------------+",
        ["Sample grid table.", "built-in wrapper", "cures scurvy"],
    ),
    "grid-table-spans": (
        "+---------------------+----------+\n| Property            | Earth    |\n+=============+=======+==========+\n"
        "|             | min   | -89.2 °C |\n| Temperature +-------+----------+\n"
        "| 1961-1990   | mean  | 14 °C    |\n+-------------+-------+----------+",
        ["Temperature", "1961-1990"],
    ),
    "figure": ("![A lone image is a figure](map.png){#fig:lone}\n\nSee [the figure](#fig:lone).", ["A lone image"]),
    "inline-image": ("An inline ![small map](map.png) image.", ["An inline", "image."]),
    "links": (
        '<https://example.org>, [inline](https://example.org "title"), [ref][my ref].\n\n'
        "[my ref]: https://example.org/ref",
        ["https://example.org, inline, ref."],
    ),
    "fenced-div": ("::: {.warning}\nA div.\n:::", ["A div."]),
    "backslash-escapes": (
        "\\_not emphasized\\_, \\[not a link\\] and a non\\ breaking space.",
        ["_not emphasized_, [not a link] and a non\u00a0breaking space."],
    ),
    "hard-line-break": ("First line\\\nsecond line  \nthird line.", ["First line", "third line."]),
    "comments": ("Before.\n\n<!-- a comment\nover lines -->\n\nAfter <!-- inline --> this.", ["Before.", "After"]),
    "footnotes": (
        "Here is a note reference,[^1] and another.[^longnote] And an inline note.^[Inlines notes are easier.]\n\n"
        "[^1]: Here is the note.\n\n[^longnote]: Here's one with multiple blocks.\n\n    Subsequent paragraphs.",
        ["Here is the note.", "Subsequent paragraphs.", "Inlines notes are easier."],
    ),
    "citations": (
        "Blah blah [see @suh1988, pp. 33-35; also @suh1988, chap. 1]. Blah [@suh1988, 33-35, 38-39 and passim].\n\n"
        "@suh1988 says blah. @suh1988 [p. 33] says blah. Suh says blah [-@suh1988].",
        ["Suh says blah."],
    ),
    "currency-is-not-math": ("It cost $20,000 and $30,000.", ["It cost $20,000 and $30,000."]),
}

#: name -> (Markdown, the message's start, the line of the problem in the file)
UNSUPPORTED = {
    "tex-math": ("Text.\n\nInline math $x = y^2$ here.", "TeX math", 6),
    "display-math": ("Text.\n\n$$\nx = y\n$$", "TeX math", 6),
    "raw-tex": ("Text with a\n\\emph{command} in it.", "raw TeX (\\emph)", 5),
    "raw-attribute": ("```{=html}\n<b>bold</b>\n```", "raw {=html} content", 4),
    "fancy-letters": ("Text.\n\na.  first\nb.  second", "a list numbered 'a.'", 6),
    "fancy-roman": ("Text.\n\n iv. fourth\n  v. fifth", "a list numbered 'iv.'", 6),
    "fancy-parens": ("Text.\n\n(1) first\n(2) second", "a list numbered '(1)'", 6),
    "hash-list": ("#. one\n#. two", "a list numbered '#.'", 4),
    "example-list": ("(@)  My first example.\n(@)  My second.", "a list numbered '(@)'", 4),
    "task-list": ("- [ ] an unchecked task\n- [x] a checked task", "a task list item", 4),
    "simple-table": (
        "Text.\n\n  Right     Left     Center\n-------     ------ ----------\n     12     12        12",
        "a simple or multiline table",
        7,
    ),
    "multiline-table": (
        "-------------------------------\n Centered   Default\n  Header    Aligned\n----------- -------\n   First    row\n"
        "-------------------------------",
        "a simple or multiline table",
        7,
    ),
    "citation-in-heading": ("## On @suh1988\n\nText.", "a citation in a heading", 4),
    "note-in-heading": ("## A heading[^1]\n\nText.\n\n[^1]: A note.", "a note in a heading", 4),
    "bad-attributes": ("Text [span]{.x\nand more.", "attributes that cannot be read", 4),
    "unclosed-div": ("Text.\n\n::: {.x\nNo closing.", "a fenced div that cannot be read", 6),
    "note-in-link": ("A [link^[with a note]](https://example.org).", "a note inside a link's text", 4),
    # a note holds paragraphs: a block in it would break the <p> of the EPUB's note
    "quotation-in-note": ("Text.[^1]\n\n[^1]: A note.\n\n    > A quotation.", "a block quotation inside a note", 8),
    "list-in-note": ("Text.[^1]\n\n[^1]: A note.\n\n    - an item\n    - another", "a list inside a note", 8),
    "table-in-note": ("Text.[^1]\n\n[^1]: A note.\n\n    | a | b |\n    |---|---|\n    | 1 | 2 |", "a table inside", 8),
    # raw HTML: never passed through, and as text its syntax would print
    "raw-html-inline": ("Text.\n\nA line<br>break and <sup>2</sup>.", "raw HTML (<br>) is not supported", 6),
    "raw-html-block": ('<div class="x">\nText.\n</div>', 'raw HTML (<div class="x">)', 4),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every supported construct, one section each, built into a PDF and an EPUB."""
    root = tmp_path_factory.mktemp("corpus")
    sections = {
        f"{k:02d}-{name}.md": section(body + "\n", title=name)
        for k, (name, (body, _)) in enumerate(sorted(SUPPORTED.items()), 1)
    }
    project = make_project(
        root,
        sections=sections,
        bib=BIB_MIN,
        extra={"content/test/text/map.png": (KITCHEN_SINK / "content/kitchen-sink/text/map.png").read_bytes()},
    )
    status = main(["-q", "--out", str(root / "dist"), "--format", "pdf", "--format", "epub"], project=project)
    assert status == 0
    pdf = subprocess.run(["pdftotext", str(root / "dist/test.pdf"), "-"], capture_output=True, text=True).stdout
    epub = {
        name: outputs.block_text(etree.fromstring(data).find(f"{outputs.XHTML}body"))
        for name, data in outputs.epub_spine(root / "dist/test.epub")
    }
    return {"pdf": pdf, "epub": epub, "sections": sorted(sections)}


def _squash(text: str) -> str:
    return re.sub(r"[ \t\n]+", " ", text.replace("\u00ad", "")).strip()


@pytest.mark.parametrize("name", sorted(SUPPORTED))
def test_construct_is_rendered_in_the_epub(corpus, name):
    file = next(f for f in corpus["sections"] if f.split("-", 1)[1] == f"{name}.md")
    text = corpus["epub"][f"test-{file.removesuffix('.md')}.xhtml"]
    for expected in SUPPORTED[name][1]:
        assert expected in _squash(text), expected
    for construct, pattern in outputs.RAW_SYNTAX.items():
        if name == "verbatim" and construct == "emphasis":  # the code is "*not emphasis*"
            continue
        assert not re.search(pattern, text), f"{construct} syntax in the EPUB's {name}"


def test_no_construct_prints_raw_syntax_in_the_pdf(corpus):
    text = corpus["pdf"]
    for name, (_, expected) in SUPPORTED.items():
        for line in expected:
            assert line.split()[0] in text, (name, line)
    exempt = {"emphasis"}  # the code "*not emphasis*" is text (checked per section in the EPUB)
    found = {c: re.findall(p, text) for c, p in outputs.RAW_SYNTAX.items() if c not in exempt}
    assert {c: f for c, f in found.items() if f} == {}
    assert "$20,000 and $30,000" in _squash(text)


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_construct_is_refused_at_its_line(tmp_path, name):
    body, message, line = UNSUPPORTED[name]
    project = make_project(tmp_path, sections={"01-one.md": section(body + "\n")}, bib=BIB_MIN)
    with pytest.raises(BuildFailed) as failed:
        read_work(project, "test")
    problems = [(d.code, d.location.line, d.message) for d in failed.value.diagnostics]
    assert any(c == "md.unsupported" and n == line and m.startswith(message) for c, n, m in problems), problems


# -- the line of a problem inside a paragraph ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        ("One line,\nanother,\nand a citation [@nope, 3] on the third.\n", "cite.unknown", 6),
        ("One line,\nand @nope on the second.\n", "cite.unknown", 5),
        ("Text.[^1]\n\n[^1]: A note\n    whose second line cites [@nope].\n", "cite.unknown", 7),
        ("Text^[an inline note\nthat cites @nope on its second line].\n", "cite.unknown", 5),
        ("One line,\ntwo lines,\nthree []{.op n=x}here.\n", "md.page-marker", 6),
        ("One line,\nthen the note [^2] on the second.\n", "md.footnote-undefined", 5),
        ("A paragraph\nwith `code\nacross lines` and then\n![](missing.png)\n", "md.alt-text", 7),
        ("| a | b |\n|---|---|\n| 1 | [@nope] |\n", "cite.unknown", 6),
        # a grid-table border one column off: refused at its row, never a "|" in the cell
        ("+---+---+\n| a | b |\n+===+===+\n| 1 | 2 |\n+---+---+\n| 3| 4  |\n+---+---+\n", "md.table", 9),
    ],
)
def test_a_problem_is_reported_at_its_own_line(tmp_path, body, code, line):
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN)
    with pytest.raises(BuildFailed) as failed:
        read_work(project, "test")
    assert [(d.code, d.location.line) for d in failed.value.diagnostics if d.code == code] == [(code, line)], [
        str(d) for d in failed.value.diagnostics
    ]


# -- syntax written escaped is text --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("A path: C:\\\\Users\\\\Ada, and \\\\textbf typed.\n", "A path: C:\\Users\\Ada, and \\textbf typed."),
        ("Braces typed: \\{#id\\} and \\{.class\\}.\n", "Braces typed: {#id} and {.class}."),
        ("A call typed: \\[\\^1\\], not a note.\n", "A call typed: [^1], not a note."),
    ],
)
def test_syntax_written_escaped_is_the_text_typed(tmp_path, body, text):
    """The README's advice, "write \\\\ for a backslash", holds: raw TeX,
    attributes and note calls are refused as syntax, never when escaped (the
    import writes an author's C:\\Users so)."""
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN)
    work = read_work(project, "test")
    texts = [t.content for token in work.sections[0].tokens for t in token.children or () if t.type == "text"]
    assert text in "".join(texts)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("A path: C:\\Users\\Ada.\n", "md.unsupported"),
        ("Braces: {#id} here.\n", "md.unsupported"),
        ("A call: [^1] here.\n", "md.footnote-undefined"),
        ("Escaped \\\\ then raw \\textbf here.\n", "md.unsupported"),
    ],
)
def test_the_same_syntax_unescaped_is_still_refused(tmp_path, body, code):
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN)
    with pytest.raises(BuildFailed) as failed:
        read_work(project, "test")
    assert [d.code for d in failed.value.diagnostics] == [code]
