"""The demo reader's PDF reading: a study guide the project makes itself.

    python -m tests.study_guide            # rewrite readers/readings/hist389-study-guide.pdf

A course reader is mostly PDFs the instructor already has; the demo needs one
that is neither third-party nor a toy. This is an A4 handout of five pages,
written for the course and dedicated to the public domain (CC0 1.0): a cover,
reading questions, questions on the three documents (their titles and dates
read from content/juche/documents/) and a chronology of the DPRK's new
diplomatic relations (read from the work's own table). It is laid out by
WeasyPrint in Charis SIL, tagged by the build's own finisher (a structure tree
as PDF/UA asks, MarkInfo, Lang), with
every font embedded with a ToUnicode map, so its pages pass the PDF/A checks.
It has an internal link (into the pages the reader uses), one to its cover
(which the reader leaves out) and one to a web page, so the volume's link
handling is exercised by the real build. The output is byte-for-byte
reproducible; a test rebuilds it and compares with the committed file.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from markupsafe import escape

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "readers" / "readings" / "hist389-study-guide.pdf"

QUESTIONS_ESSAY = [
    "Why did the DPRK turn to Japan and Western Europe for trade and credit in the early 1970s, "
    "and what ended that turn?",
    "What does Armstrong mean when he calls juche a development model offered to the Third World? "
    "Who was it offered to, and through what means?",
    "How did North Korea use the Non-Aligned Movement and the United Nations? "
    "Compare its aims there with those of the South.",
    "Which of the essay’s claims rest on the archival documents printed after it, and which on other sources?",
    "Armstrong ends with the limits of North Korea’s “globalization.” What were they, in his account?",
]


#: One question for each document of the work's appendix, by number.
QUESTIONS_DOCUMENTS = {
    1: "Why did the reception of the Cuban ambassador strike the other ambassadors in Pyongyang, "
    "and what did they read into it?",
    2: "What did each side want from Honecker’s visit, and what did each get?",
    3: "Compare the tone of this conversation with the report of 1977. What had changed between the two parties?",
}


def _documents() -> list[tuple[int, str, str]]:
    from edition.read.work import read_work
    from edition.render.environment import display_date

    work = read_work(ROOT, "juche")
    return [(d.number, display_date(d.date), d.title) for d in work.documents]


def _chronology() -> list[tuple[int, list[str]]]:
    from edition.read.work import read_work

    table = read_work(ROOT, "juche").tables["diplomatic-relations"]
    return [(year, [row["country"] for row in rows]) for year, rows in table.groups()]


def html() -> str:
    from edition.fonts import faces as fonts

    documents = "".join(
        f"<li><p><strong>Document No. {n}</strong> ({escape(date)}): {escape(title)}</p>"
        f"<p>{escape(QUESTIONS_DOCUMENTS[n])}</p></li>"
        for n, date, title in _documents()
    )
    rows = "".join(
        f'<tr><th scope="row">{year}</th><td>{len(countries)}</td><td>{escape(", ".join(countries))}</td></tr>'
        for year, countries in _chronology()
    )
    questions = "".join(f"<li>{escape(q)}</li>" for q in QUESTIONS_ESSAY)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Study Guide: North Korea and the World, 1967–1984</title>
<meta name="author" content="HIST 389 teaching team">
<meta name="dcterms.created" content="2027-01-01T00:00:00Z">
<meta name="dcterms.modified" content="2027-01-01T00:00:00Z">
<style>
{fonts.font_face_css(lambda p: p.resolve().as_uri())}
@page {{ size: A4; margin: 22mm 24mm 26mm 24mm;
  @bottom-center {{ content: "Study guide · page " counter(page); font: 9pt "{fonts.FAMILY}"; }} }}
@page :first {{ @bottom-center {{ content: none; }} }}
html {{ font: 11pt/1.45 "{fonts.FAMILY}"; text-align: left; }}
h1 {{ font-size: 20pt; font-weight: normal; margin: 0 0 0.4em; }}
h2 {{ font-size: 14pt; margin: 0 0 0.6em; break-before: page; }}
.cover {{ text-align: center; padding-top: 60mm; }}
.cover p {{ margin: 0.3em 0; }}
.cover .licence {{ margin-top: 90mm; font-size: 9.5pt; text-align: left; }}
ol li {{ margin-bottom: 0.5em; }}
table {{ border-collapse: collapse; width: 100%; font-size: 10pt; }}
th, td {{ border-bottom: 0.5pt solid #777; padding: 3pt 5pt; vertical-align: top; text-align: left; }}
a {{ color: #1a3d7c; }}
</style></head>
<body>
<section class="cover" id="cover">
<h1>Study Guide</h1>
<p>North Korea and the World, 1967–1984</p>
<p>HIST 389 · Cold War Asia · Spring 2027</p>
<p class="licence">Written for the course reader by its teaching team and dedicated to the public
domain under CC0 1.0 Universal: anyone may copy, adapt and print it without asking. Made by the
edition project’s tests/study_guide.py from the project’s own data.</p>
</section>
<section id="reading">
<h2>1. Reading the essay</h2>
<p>Read Armstrong’s essay once straight through, then again with these questions. Keep a list of
the countries he names; the <a href="#chronology">chronology of new diplomatic relations</a> at
the end of this guide gives the years.</p>
<ol>{questions}</ol>
<p>The documents of this reader were published in English by the North Korea International
Documentation Project; its archive of translated documents is at
<a href="https://digitalarchive.wilsoncenter.org/">digitalarchive.wilsoncenter.org</a>.
The licence of this guide is on <a href="#cover">its cover</a>.</p>
</section>
<section id="documents">
<h2>2. Reading the documents</h2>
<p>Each document is a report written inside a government for other officials. Read the source line
first: it says which archive holds the document and who translated it. Then ask who wrote it, for
whom, and what the writer wanted the reader to do.</p>
<ol>{documents}</ol>
</section>
<section id="chronology">
<h2>3. Chronology: the DPRK’s new diplomatic relations, 1971–1980</h2>
<p>The countries with which the DPRK established diplomatic relations, by year, as the table in
Armstrong’s essay lists them.</p>
<table><thead><tr><th scope="col">Year</th><th scope="col">New</th><th scope="col">Countries</th></tr></thead>
<tbody>{rows}</tbody></table>
</section>
</body></html>
"""


def make() -> bytes:
    """The study guide's PDF bytes (the same on every run)."""
    import weasyprint

    from edition.fonts.faces import FONT_DIR
    from edition.layout.fetcher import SandboxFetcher

    fetcher = SandboxFetcher([ROOT, FONT_DIR])
    document = weasyprint.HTML(string=html(), base_url=str(ROOT) + "/", url_fetcher=fetcher).render()
    stamp = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
    assert document.metadata.created == stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    # tagged as the build tags its own PDFs (a structure tree PDF/UA asks for), so the
    # reader's volume, which grafts these tags, can be claimed as PDF/UA-1
    from edition.outputs.pdf import ua as pdfua

    with pdfua.recording() as record:
        data = document.write_pdf(pdf_tags=True, pdf_identifier=b"hist389-study-guide")
    return pdfua.finish(data, record, document)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(make())
    print(f"wrote {TARGET.relative_to(ROOT)} ({TARGET.stat().st_size} bytes)")
