"""Writes the two works the page make-up is tested on (tests/makeup-works/),
byte for byte: ``python -m tests.makeup_works``.

- ``law-review``: an article as a law review prints it: Bluebook-style notes,
  six to eleven on a page, several of half a page, one longer than a page, and
  notes that name other notes ("supra note 3").
- ``chapter``: a chapter of a monograph: an epigraph, verse, block quotations,
  notes of two paragraphs, words in French, German and Russian, and figures and
  tables (with cross-references) too tall to stay where they are called.

The text is made from a fixed seed out of a small legal and historical
vocabulary: it reads as prose only at a glance, which is what the pages need.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent / "makeup-works"

NOUNS = [
    "owner",
    "court",
    "airspace",
    "column of air",
    "landowner",
    "maxim",
    "trespass",
    "nuisance",
    "statute",
    "easement",
    "flight",
    "surface",
    "navigable airspace",
    "servitude",
    "claim",
    "doctrine",
    "rule",
    "legislature",
    "tribunal",
    "commentator",
    "treatise",
    "drone",
    "operator",
    "boundary",
    "estate",
    "remedy",
    "injunction",
    "damage",
    "grant",
    "title",
]
VERBS = [
    "held",
    "read",
    "limited",
    "extended",
    "rejected",
    "assumed",
    "described",
    "confined",
    "restated",
    "qualified",
    "followed",
    "doubted",
    "applied",
    "questioned",
    "narrowed",
]
ADJECTIVES = [
    "ancient",
    "common-law",
    "federal",
    "reasonable",
    "exclusive",
    "public",
    "private",
    "immediate",
    "substantial",
    "navigable",
    "possessory",
    "customary",
    "equitable",
    "statutory",
]
LINKS = [
    "and",
    "but",
    "because",
    "although",
    "while",
    "so that",
    "even where",
    "as long as",
    "whereas",
    "until",
]
CASES = [
    ("United States v. Causby", "328 U.S. 256", 1946, ""),
    ("Hinman v. Pacific Air Transport", "84 F.2d 755", 1936, "9th Cir."),
    ("Swetland v. Curtiss Airports Corp.", "55 F.2d 201", 1932, "6th Cir."),
    ("Griggs v. Allegheny County", "369 U.S. 84", 1962, ""),
    ("Smith v. New England Aircraft Co.", "170 N.E. 385", 1930, "Mass."),
    ("Portsmouth Harbor Land & Hotel Co. v. United States", "260 U.S. 327", 1922, ""),
    ("Butler v. Frontier Telephone Co.", "79 N.E. 716", 1906, "N.Y."),
    ("Bernstein of Leigh v. Skyviews & General Ltd.", "[1978] Q.B. 479", 1977, "Eng."),
    ("Boggs v. Merideth", "No. 3:16-cv-00006", 2017, "W.D. Ky."),
    ("Huerta v. Pirker", "NTSB Order No. EA-5730", 2014, ""),
]
BOOKS = [
    ("William Blackstone", "Commentaries on the Laws of England", "vol. 2, 18", "1766"),
    ("Edward Coke", "The First Part of the Institutes of the Laws of England", "4a", "1628"),
    ("Stuart Banner", "Who Owns the Sky?", "15–22", "2008"),
    ("John Cooke", "The Law of Trespass", "112", "1820"),
]


class Writer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def phrase(self) -> str:
        r = self.rng
        return f"the {r.choice(ADJECTIVES)} {r.choice(NOUNS)}"

    def sentence(self, words: tuple[int, int] = (14, 30)) -> str:
        r = self.rng
        parts = [f"{self.phrase()} {r.choice(VERBS)} {self.phrase()}"]
        while len(" ".join(parts).split()) < r.randint(*words):
            parts.append(f"{r.choice(LINKS)} {self.phrase()} {r.choice(VERBS)} {self.phrase()}")
        text = ", ".join(parts) if r.random() < 0.5 else " ".join(parts)
        return text[0].upper() + text[1:] + "."

    def paragraph(self, sentences: tuple[int, int] = (3, 6)) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(*sentences)))

    def case(self) -> str:
        name, cite, year, court = self.rng.choice(CASES)
        pin = self.rng.randint(2, 60)
        first = int(cite.split()[-1]) if cite.split()[-1].isdigit() else 0
        where = f", {first + pin}" if first else ""
        court = f"{court} " if court else ""
        return f"*{name}*, {cite}{where} ({court}{year})"

    def book(self) -> str:
        author, title, pages, year = self.rng.choice(BOOKS)
        return f"{author}, *{title}* {pages} ({year})"

    def citation(self, earlier: list[int]) -> str:
        r = self.rng
        kind = r.random()
        if kind < 0.35:
            return f"{r.choice(['See ', 'Cf. ', 'See generally ', ''])}{self.case()}."
        if kind < 0.5:
            return f"{r.choice(['See ', ''])}{self.book()}."
        if kind < 0.62 and earlier:
            return f"See supra [](#note-{r.choice(earlier)})."
        if kind < 0.72:
            return f"Id. at {r.randint(2, 400)}."
        if kind < 0.82:
            return f"49 U.S.C. § {r.randint(40101, 40130)}(a)({r.randint(1, 4)}) (2018)."
        return f"Restatement (Second) of Torts § {r.randint(150, 170)} cmt. {r.choice('abcdefg')} (Am. L. Inst. 1965)."

    def note(self, words: int, earlier: list[int]) -> str:
        """A note of about ``words`` words: citations and explanatory sentences;
        beyond 150 words, paragraphs of its own."""
        paragraphs, current, count = [], [], 0
        while count < words:
            piece = self.citation(earlier) if self.rng.random() < 0.45 else self.sentence((12, 26))
            current.append(piece)
            count += len(piece.split())
            if count > 150 * (len(paragraphs) + 1) and count < words:
                paragraphs.append(" ".join(current))
                current = []
        paragraphs.append(" ".join(current))
        return "\n\n    ".join(paragraphs)


def law_review() -> dict[str, str]:
    """The article: sections with subheadings; (note words) for each note, in order."""
    w = Writer(24)
    plan = [
        ("I. From Ad Coelum to the Air Age", ["A. The Maxim at Common Law", "B. The Air Age"]),
        ("II. Navigable Airspace", ["A. Causby and Its Line", "B. The Low Flight"]),
        ("III. The Drone", ["A. Who Owns the Column", "B. A Rule for the Low Sky"]),
    ]
    # note lengths in words: mostly short, some half a page, one longer than a page
    lengths = [w.rng.choice([12, 18, 25, 35, 50, 70]) for _ in range(64)]
    for index, words in ((9, 300), (21, 330), (30, 280), (37, 1300), (47, 320), (55, 260)):
        lengths[index] = words
    # the text first (paragraphs of sentences), then the calls spread through it
    sections = []
    for title, subheadings in plan:
        blocks = []
        for heading in [None, *subheadings]:
            paragraphs = [[w.sentence() for _ in range(w.rng.randint(4, 7))] for _ in range(w.rng.randint(3, 4))]
            blocks.append((heading, paragraphs))
        sections.append((title, blocks))
    places = [
        (s, b, p, k)
        for s, (_, blocks) in enumerate(sections)
        for b, (_, ps) in enumerate(blocks)
        for p, sentences in enumerate(ps)
        for k in range(len(sentences))
    ]
    step = len(places) / len(lengths)
    chosen = sorted({min(len(places) - 1, int(i * step + w.rng.random() * step * 0.8)) for i in range(len(lengths))})
    calls: dict[tuple, list[int]] = {}
    number = 0
    for index in chosen:
        number += 1
        calls.setdefault(places[index], []).append(number)
        if w.rng.random() < 0.1 and number < len(lengths):  # a second call after the first
            number += 1
            calls[places[index]].append(number)
        if number >= len(lengths):
            break
    files = {}
    for s, (title, blocks) in enumerate(sections):
        body = []
        for b, (heading, paragraphs) in enumerate(blocks):
            if heading:
                body.append(f"## {heading}\n")
            for p, sentences in enumerate(paragraphs):
                marked = [
                    t[:-1] + "." + "".join(f"[^n{n}]" for n in calls.get((s, b, p, k), []))
                    for k, t in enumerate(sentences)
                ]
                body.append(" ".join(marked) + "\n")
        files[f"0{s + 1}-{_slug(title)}.md"] = (title, body)
    # each section's notes at the end of its file
    out = {}
    for name, (title, body) in files.items():
        text = "\n".join(body)
        defs = [f"[^n{n}]: {w.note(lengths[n - 1], list(range(max(1, n - 12), n)))}" for n in map(int, _calls(text))]
        out[name] = f'---\ntitle: "{title}"\n---\n{text}\n' + "\n".join(defs) + "\n"
    return out


def _calls(text: str) -> list[str]:
    import re

    return re.findall(r"\[\^n(\d+)\]", text)


def _slug(title: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:30].strip("-")


CHAPTER = """\
---
title: "The Harbour and the Hinterland"
---
::: {{.epigraph lang=de}}
Wer den Hafen hat, der hat das Land;
wer das Land hat, braucht den Hafen nicht.

--- Sprichwort der Küste
:::

{p1}[^c1] {p2}

{p3}[^c2] The survey of 1911 is reproduced as [](#fig:survey), and the
tonnage of the port in [](#tonnage).

{p4} {p5}[^c3]

![The harbour as the survey of 1911 drew it: quays, the mole and the warehouses
along the canal](survey.png){{#fig:survey}}

{p6}[^c4] As the harbour master wrote in his report:

> {q1} {q2}

{p7} The local song, sung [en français]{{lang=fr}} on the quays, kept the older
names:

| Au port de la mer, les bateaux sont rentrés,
| les filets sont pendus, les quais sont lavés;
| et le vent du large a chassé la fumée
| des maisons du canal jusqu'aux champs du marché.

{p8}[^c5] {p9}

::: {{.table #tonnage}}
Tonnage entered and cleared, 1900–1913
:::

{p10}[^c6] The Russian consul called the canal [гавань]{{lang=ru}}, a haven,
and the German traders [das Hinterland]{{lang=de}}; see [](#fig:canal) and
[](#tonnage).

{p11} {p12}[^c7]

![The canal and the market fields, from the tower of the customs house: a drawing
made for the harbour board](canal.png){{#fig:canal}}

{p13}[^c8] {p14}

> {q3}

{p15}[^c9] {p16} {p17}[^c10]

::: {{.table #warehouses}}
Warehouses on the canal, by owner
:::

{p18}[^c11] {p19}

[^c1]: {n1}

    {n1b}
[^c2]: {n2}
[^c3]: {n3}

    {n3b}
[^c4]: {n4}
[^c5]: {n5}
[^c6]: {n6}

    {n6b}
[^c7]: {n7}
[^c8]: {n8} See [](#fig:survey).
[^c9]: {n9}

    {n9b}
[^c10]: {n10}
[^c11]: {n11}
"""


def chapter() -> str:
    w = Writer(1911)
    fill = {f"p{i}": w.paragraph((4, 7)) for i in range(1, 20)}
    fill |= {f"q{i}": w.paragraph((2, 3)) for i in range(1, 4)}
    fill |= {f"n{i}": w.sentence((20, 40)) + " " + w.sentence((20, 40)) for i in range(1, 12)}
    fill |= {f"n{i}b": w.paragraph((2, 3)) for i in (1, 3, 6, 9)}
    return CHAPTER.format(**fill)


def tonnage() -> tuple[str, str]:
    rng = random.Random(1900)
    rows = ["year,entered,cleared,vessels"]
    for year in range(1900, 1914):
        entered = rng.randint(180_000, 420_000)
        rows.append(f"{year},{entered},{entered - rng.randint(-20_000, 30_000)},{rng.randint(400, 1200)}")
    description = (
        "columns:\n"
        "  year: {type: integer, header: Year}\n"
        "  entered: {type: integer, header: Entered, unit: tons}\n"
        "  cleared: {type: integer, header: Cleared, unit: tons}\n"
        "  vessels: {type: integer, header: Vessels}\n"
        "totals: {label: All years, columns: [entered, cleared, vessels]}\n"
        "source: Harbour board, *Annual Reports*, 1900–1913.\n"
    )
    return "\n".join(rows) + "\n", description


def warehouses() -> tuple[str, str]:
    rng = random.Random(1913)
    owners = ["Harbour board", "Customs", "Baltic Trading Co.", "Hanseatic Line", "Municipal", "Private"]
    rows = ["owner,buildings,floor,built"]
    for owner in owners:
        rows.append(f"{owner},{rng.randint(2, 19)},{rng.randint(2, 40) * 1000},{rng.randint(1860, 1912)}")
    description = (
        "columns:\n"
        "  owner: {type: text, header: Owner}\n"
        "  buildings: {type: integer, header: Buildings}\n"
        "  floor: {type: integer, header: Floor space, unit: m²}\n"
        "  built: {type: integer, header: Oldest built}\n"
        "notes: [Counted in the survey of 1911.]\n"
    )
    return "\n".join(rows) + "\n", description


def drawing(width: int, height: int, seed: int) -> Image.Image:
    """A line drawing in greys (quays, blocks, a canal), small as a PNG."""
    rng = random.Random(seed)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle([4, 4, width - 5, height - 5], outline=0, width=3)
    draw.rectangle([0, height * 2 // 3, width, height * 2 // 3 + height // 10], fill=190)
    for _ in range(28):
        x, y = rng.randint(10, width - 80), rng.randint(10, height * 2 // 3 - 60)
        draw.rectangle([x, y, x + rng.randint(30, 70), y + rng.randint(20, 50)], outline=0, width=2, fill=230)
    for k in range(6):
        x = 20 + k * (width - 40) // 6
        draw.line([x, height * 2 // 3 + height // 10, x + 30, height - 10], fill=60, width=2)
    return image


WORK_YAML = """\
# A work written for the tests of the page make-up (tests/test_makeup.py),
# made by tests/makeup_works.py.
title: "{title}"
authors:
  - name: {author}
    sort_name: {sort}
    affiliation: Test University
publisher: Test Press
date: 2026-01
edition_date: 2026-12-01
language: en
identifier: {identifier}
rights: Written for the tests of the edition pipeline; free to reuse.
"""


def write(root: Path = HERE) -> None:
    if root.exists():
        shutil.rmtree(root)
    law = root / "content" / "law-review"
    (law / "text").mkdir(parents=True)
    (law / "work.yaml").write_text(
        WORK_YAML.format(
            title="Above the Land: Ad Coelum and the Low Sky",
            author="Ada Tester",
            sort="Tester, Ada",
            identifier="urn:uuid:5d0c1f3e-8e57-4f0a-9b3e-2b1d4c6a7e24",
        ),
        encoding="utf-8",
    )
    for name, text in law_review().items():
        (law / "text" / name).write_text(text, encoding="utf-8")
    chap = root / "content" / "chapter"
    (chap / "text").mkdir(parents=True)
    (chap / "tables").mkdir()
    (chap / "work.yaml").write_text(
        WORK_YAML.format(
            title="The Harbour and the Hinterland",
            author="Grace Tester",
            sort="Tester, Grace",
            identifier="urn:uuid:9a7e2c41-0f3b-4d8e-8c5a-1e6f2b3d4c19",
        ),
        encoding="utf-8",
    )
    (chap / "text" / "01-the-harbour.md").write_text(chapter(), encoding="utf-8")
    for name, (data, description) in (("tonnage", tonnage()), ("warehouses", warehouses())):
        (chap / "tables" / f"{name}.csv").write_text(data, encoding="utf-8")
        (chap / "tables" / f"{name}.yaml").write_text(description, encoding="utf-8")
    drawing(1200, 900, 1).save(chap / "text" / "survey.png", optimize=True)
    drawing(900, 1300, 2).save(chap / "text" / "canal.png", optimize=True)


if __name__ == "__main__":
    write()
