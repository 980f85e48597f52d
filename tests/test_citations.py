"""Chicago notes-bibliography citations, formatted by Pandoc's citeproc."""

from __future__ import annotations

import re

import pytest

from edition.reader import read_work
from edition.resolve import resolve_work

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
