"""The law-review case of issue 23: what the page make-up costs against one layout.

    python bench/lawreview.py PROJECT    (run by bench/run.py in a fresh process)

``write(project)`` makes a work in the style of a law-review article: about
twelve pages, 75 notes, most of them short and every fifth one half a page or
more, so that a long note falls near almost every page end. This script lays
the work's first print HTML out once (``layout.engine.lay_out``: one
whole-document layout), then makes its pages up as the build does
(``print_layout.lay_out_with_notes_in_place``: every round laid out only from
the page it moves) and prints, as JSON, both times (of the CPU, which the load
of a shared machine disturbs less), the rounds, and whether the make-up gave up (a note WeasyPrint cannot keep on
its call's page: issue 24 splits such notes; it does not yet).
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SLUG = "lawreview"
NOTES = 75

TEXT = (
    "court held that the statute applies to every claim under the doctrine of implied preemption and "
    "the plaintiff argued in reply that congress never intended such a reading of the provision nor "
    "did the legislative history support the view adopted by the circuit in its earlier opinion"
)
WORDS = TEXT.split(" ")


def _sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."


def body(seed: int = 7) -> str:
    """The article's Markdown: paragraphs, each with a few calls; every fifth note is long."""
    rng = random.Random(seed)
    paragraphs, notes = [], []
    number = 0
    while number < NOTES:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            sentence = _sentence(rng, 5, 12)
            if rng.random() < 0.9 and number < NOTES:
                number += 1
                sentence = sentence[:-1] + f"[^{number}]."
                sentences_in_note = rng.randint(14, 24) if number % 3 == 0 else rng.randint(1, 2)
                notes.append(f"[^{number}]: " + " ".join(_sentence(rng, 6, 16) for _ in range(sentences_in_note)))
            sentences.append(sentence)
        paragraphs.append(" ".join(sentences))
    return '---\ntitle: "The Doctrine"\n---\n' + "\n\n".join(paragraphs) + "\n\n" + "\n\n".join(notes) + "\n"


def write(project: Path) -> Path:
    """A project holding the article (the repository's templates)."""
    import shutil

    shutil.copytree(ROOT / "templates", project / "templates", dirs_exist_ok=True)
    work = project / "content" / SLUG
    (work / "text").mkdir(parents=True, exist_ok=True)
    (work / "work.yaml").write_text(
        "title: The Doctrine of Implied Preemption\nauthors:\n  - name: A. Scholar\n    affiliation: Law School\n"
        "publisher: Law Review\ndate: 2026-01\nlanguage: en\n"
        "identifier: urn:uuid:00000000-0000-4000-8000-00000000aaaa\nrights: Bench.\nbibliography: lawreview.bib\n",
        encoding="utf-8",
    )
    (work / "text" / "01-doctrine.md").write_text(body(), encoding="utf-8")
    (project / "bib").mkdir(exist_ok=True)
    (project / "bib" / "lawreview.bib").write_text("", encoding="utf-8")
    return project


def measure(project: Path) -> dict:
    from edition.diagnostics import BuildFailed
    from edition.layout import engine, print_layout
    from edition.pipeline import Options, build_date
    from edition.read.work import read_work
    from edition.render.environment import environment
    from edition.resolve.edition import resolve_work, single_work_edition

    edition = single_work_edition(resolve_work(read_work(project, SLUG)))
    options = Options(project=project, out=project / "dist")
    job = print_layout.Typesetting(edition, environment(project / "templates"), options, build_date(edition))
    html = print_layout.html(job)
    began = time.process_time()
    document = engine.lay_out(html, project)
    one = time.process_time() - began
    began = time.process_time()
    gave_up = ""
    try:
        print_layout.lay_out_with_notes_in_place(job)
    except BuildFailed as failed:
        gave_up = str(failed.diagnostics[0])
    makeup = time.process_time() - began
    return {
        "pages": len(document.pages),
        "one layout": one,
        "make-up": makeup,
        "ratio": makeup / one,
        "rounds": job.rounds,
        "gave up": gave_up,
    }


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]))))
