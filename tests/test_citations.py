"""Chicago notes-bibliography citations, formatted by Pandoc's citeproc."""

from __future__ import annotations

import re

import pytest

from edition.read.work import read_work
from edition.resolve.edition import resolve_work

from .projects import make_project, section

BIB = r"""
@book{suh1988,
  author = {Suh, Dae-Sook},
  title = {Kim Il Sung: The North Korean Leader},
  publisher = {Columbia University Press},
  location = {New York},
  date = {1988},
}
@article{szalontai2005,
  author = {Szalontai, Balázs},
  title = {“You Have No Political Line of Your Own”: Kim Il Sung and the Soviets, 1953–1964},
  journaltitle = {Cold War International History Project Bulletin},
  volume = {14/15},
  date = {2004},
  pages = {87--103},
}
@incollection{cumings1997,
  author = {Cumings, Bruce},
  title = {The Corporate State in North Korea},
  booktitle = {State and Society in Contemporary Korea},
  editor = {Koo, Hagen},
  publisher = {Cornell University Press},
  location = {Ithaca},
  date = {1993},
  pages = {197--230},
}
@report{armstrong2009,
  author = {Armstrong, Charles K.},
  title = {Juche and North Korea's Global Aspirations},
  type = {NKIDP Working Paper},
  number = {1},
  institution = {Woodrow Wilson International Center for Scholars},
  date = {2009},
}
@thesis{kim2001,
  author = {Kim, Suzy},
  title = {Everyday Life in the North Korean Revolution},
  type = {phdthesis},
  institution = {University of Chicago},
  date = {2001},
}
@online{wilson2024,
  author = {{Wilson Center Digital Archive}},
  title = {North Korea International Documentation Project},
  url = {https://digitalarchive.wilsoncenter.org/},
  urldate = {2024-05-01},
  date = {2024},
}
@misc{memo1984,
  title = {Memorandum on the Conversation between {Erich} {Honecker} and {Kim Il Sung}},
  date = {1984-06-01},
  archive = {SAPMO-BA},
  archive_place = {Berlin},
  signature = {DY 30, 2460},
  translator = {Schaefer, Bernd},
}
"""


def formatted(tmp_path, notes: list[str]) -> list[str]:
    """The formatted text of each note (its citations' text, tags removed)."""
    calls = " ".join(f"Call.[^{i}]" for i in range(1, len(notes) + 1))
    definitions = "\n".join(f"[^{i}]: {text}" for i, text in enumerate(notes, 1))
    project = make_project(tmp_path, sections={"01-one.md": section(f"{calls}\n\n{definitions}\n")}, bib=BIB)
    work = resolve_work(read_work(project, "test"))
    texts = []
    for note in work.notes:
        parts = [re.sub(r"<[^>]+>", "", work.citations[c.id]) for c in note.citations]
        texts.append(" | ".join(parts))
    return texts


def test_first_note_full_later_note_short(tmp_path):
    first, second, later = formatted(tmp_path, ["[@suh1988, 204]", "[@armstrong2009]", "[@suh1988, 12]"])
    assert first == "Dae-Sook Suh, Kim Il Sung: The North Korean Leader (Columbia University Press, 1988), 204."
    assert later == "Suh, Kim Il Sung, 12."
    assert second.startswith("Charles K. Armstrong, Juche and North Korea’s Global Aspirations")


def test_ibid_with_and_without_locator(tmp_path):
    notes = formatted(tmp_path, ["[@suh1988, 204]", "[@suh1988, 210]", "[@suh1988]", "[@kim2001]", "[@kim2001]"])
    assert notes[1] == "Ibid., 210."
    # the whole work after a page of it: "Ibid." would mean that page again (CMOS 13.37)
    assert notes[2] == "Suh, Kim Il Sung."
    assert notes[4] == "Ibid."


def test_ibid_is_capitalized_only_at_the_start_of_a_note(tmp_path):
    notes = formatted(tmp_path, ["[@suh1988, 204]", "[see @suh1988, 205]"])
    assert notes[1] == "See ibid., 205."


def test_several_sources_in_one_citation(tmp_path):
    (note,) = formatted(tmp_path, ["[see @suh1988, 12; @kim2001]"])
    assert note.startswith(
        "See Dae-Sook Suh, Kim Il Sung: The North Korean Leader (Columbia University Press, 1988), 12;"
    )
    assert "Suzy Kim, “Everyday Life in the North Korean Revolution” (PhD diss., University of Chicago, 2001)." in note


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("suh1988", "Dae-Sook Suh, Kim Il Sung: The North Korean Leader (Columbia University Press, 1988), 5."),
        (
            "szalontai2005",
            "Balázs Szalontai, “‘You Have No Political Line of Your Own’: Kim Il Sung and the Soviets, 1953–1964,”"
            " Cold War International History Project Bulletin 14/15 (2004): 5.",
        ),
        (
            "cumings1997",
            "Bruce Cumings, “The Corporate State in North Korea,” in State and Society in Contemporary Korea,"
            " ed. Hagen Koo (Cornell University Press, 1993), 5.",
        ),
        (
            "armstrong2009",
            "Charles K. Armstrong, Juche and North Korea’s Global Aspirations, NKIDP Working Paper no. 1"
            " (Woodrow Wilson International Center for Scholars, 2009), 5.",
        ),
        (
            "kim2001",
            "Suzy Kim, “Everyday Life in the North Korean Revolution” (PhD diss., University of Chicago, 2001), 5.",
        ),
        (
            "wilson2024",
            "Wilson Center Digital Archive, “North Korea International Documentation Project,” 2024, 5,"
            " https://digitalarchive.wilsoncenter.org/.",
        ),
        (
            "memo1984",
            "Bernd Schaefer, trans., “Memorandum on the Conversation Between Erich Honecker and Kim Il Sung,”"
            " June 1, 1984, DY 30, 2460, p. 5, SAPMO-BA, Berlin.",
        ),
    ],
)
def test_each_entry_type_first_note(tmp_path, key, expected):
    (note,) = formatted(tmp_path, [f"[@{key}, 5]"])
    assert note == expected


def test_bibliography_lists_cited_works_once_in_order(tmp_path):
    calls = "A.[^1] B.[^2] C.[^3]"
    body = f"{calls}\n\n[^1]: [@suh1988]\n[^2]: [@kim2001]\n[^3]: [@suh1988, 3]\n"
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB)
    work = resolve_work(read_work(project, "test"))
    assert [key for key, _ in work.bibliography] == ["kim2001", "suh1988"]
    text = re.sub(r"<[^>]+>", "", dict(work.bibliography)["suh1988"])
    assert text == "Suh, Dae-Sook. Kim Il Sung: The North Korean Leader. Columbia University Press, 1988."


# -- citations in the running text, and the work's choice of style ---------------------


def resolved(tmp_path, body: str, csl: str = "", extra: dict | None = None):
    from .projects import WORK_YAML

    work_yaml = WORK_YAML.format(slug="test") + (f"csl: {csl}\n" if csl else "")
    project = make_project(
        tmp_path, sections={"01-one.md": section(body)}, bib=BIB, work_yaml=work_yaml, extra=extra or {}
    )
    return resolve_work(read_work(project, "test"))


def note_texts(work) -> list[str]:
    out = []
    for note in work.notes:
        texts = [re.sub(r"<[^>]+>", "", work.citations[c.id]) for c in note.citations]
        out.append(" | ".join(texts))
    return out


def test_running_text_citations_become_notes_in_order_with_written_ones(tmp_path):
    body = "One [@suh1988, 12]. Two.[^a] Three [-@kim2001]; four @cumings1997 [200] says.\n\n[^a]: [@suh1988, 13]\n"
    work = resolved(tmp_path, body)
    assert [n.auto for n in work.notes] == [True, False, True, True]
    assert note_texts(work) == [
        "Dae-Sook Suh, Kim Il Sung: The North Korean Leader (Columbia University Press, 1988), 12.",
        "Ibid., 13.",
        "“Everyday Life in the North Korean Revolution” (PhD diss., University of Chicago, 2001).",
        "“The Corporate State in North Korea,” in State and Society in Contemporary Korea, ed. Hagen Koo"
        " (Cornell University Press, 1993), 200.",
    ]
    # the narrative citation's name stays in the text
    (author,) = [c for c in work.citations if c.endswith("-author")]
    assert work.citations[author] == "Bruce Cumings"


def test_punctuation_moves_before_the_call_and_the_space_goes(tmp_path):
    work = resolved(tmp_path, "Text [@suh1988]; more, and @kim2001.\n")
    children = work.sections[0].tokens[1].children
    shape = [(c.type, c.content) for c in children if c.type != "text" or c.content]
    assert shape == [
        ("text", "Text"),
        ("text", ";"),
        ("footnote_ref", ""),
        ("text", " more, and "),
        ("citation", "@kim2001"),
        ("text", "."),
        ("footnote_ref", ""),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[@suh1988, p. 4]", "4"),
        ("[@suh1988, chap. 3]", "chap. 3"),
        ("[@suh1988, sec. 2]", "sec. 2"),
        ("[@suh1988, n. 14]", "n. 14"),
        ("[@suh1988, vol. 2]", "vol. 2"),
        ("[@suh1988, fig. 3]", "fig. 3"),
        ("[@suh1988, para. 7]", "para. 7"),
        ("[@suh1988, 33-35, 38-39 and passim]", "33–35, 38–39 and passim"),
    ],
)
def test_locator_labels(tmp_path, raw, expected):
    (text,) = note_texts(resolved(tmp_path, f"Text {raw}.\n"))
    assert text == f"Dae-Sook Suh, Kim Il Sung: The North Korean Leader (Columbia University Press, 1988), {expected}."


def test_an_author_date_style_keeps_citations_in_the_text(tmp_path):
    body = "One [@suh1988, 12]. @kim2001 [p. 3] says. Not [-@suh1988].[^a]\n\n[^a]: As [@cumings1997, 201].\n"
    work = resolved(tmp_path, body, csl="chicago-author-date")
    assert not work.style.notes
    assert [n.auto for n in work.notes] == [False]  # no note is made from a citation
    texts = [re.sub(r"<[^>]+>", "", v) for k, v in sorted(work.citations.items())]
    assert texts == ["(Suh 1988, 12)", "Kim (2001, 3)", "(1988)", "(Cumings 1993, 201)"]
    assert [k for k, _ in work.bibliography] == ["cumings1997", "kim2001", "suh1988"]


def test_a_csl_file_inside_the_project(tmp_path):
    from edition.infra.tools import csl_path

    style = csl_path("apa").read_text(encoding="utf-8")
    work = resolved(
        tmp_path, "One [@suh1988, 12].\n", csl="styles/house.csl", extra={"content/test/styles/house.csl": style}
    )
    assert work.style.path.name == "house.csl" and not work.style.notes
    assert re.sub(r"<[^>]+>", "", next(iter(work.citations.values()))) == "(Suh, 1988, p. 12)"
    assert work.style.path in work.inputs  # embedded in the PDF/A with the other sources


@pytest.mark.parametrize(
    ("csl", "files", "message"),
    [
        ("../../../elsewhere.csl", {}, "CSL style '../../../elsewhere.csl' is outside the project [resource.refused]"),
        ("house.csl", {}, "CSL style 'house.csl' does not exist [file.missing]"),
        (
            "house.csl",
            {"content/test/house.csl": "<style xmlns='http://purl.org/net/xbiblio/csl'/>"},
            '\'house.csl\' is not a CSL style: its <style> needs class="note" or "in-text" [cite.style]',
        ),
        (
            "house.csl",
            {
                "content/test/house.csl": "<style xmlns='http://purl.org/net/xbiblio/csl' class='note'>"
                "<info><link rel='independent-parent' href='http://www.zotero.org/styles/apa'/></info></style>"
            },
            "CSL style 'house.csl' is a dependent style (it has no citation layout of its own); use its parent style"
            " [cite.style]",
        ),
    ],
)
def test_a_bad_style_is_named_with_its_line(tmp_path, csl, files, message):
    from edition.diagnostics import BuildFailed

    with pytest.raises(BuildFailed) as failed:
        resolved(tmp_path, "One.\n", csl=csl, extra=files)
    assert [str(d).replace(str(tmp_path) + "/", "") for d in failed.value.diagnostics] == [
        f"content/test/work.yaml:11: error: {message}"
    ]
