"""Lay out only what changed (issue 23), and never a byte other than a clean build's.

A build keeps each chain of its print layout in the cache (``layout.chains.cache``)
and, after an edit, lays out and writes only the chains the edit reaches. These
tests edit the paper, the demo reader and the kitchen sink as an author does
(one word, a note made half a page longer, a paragraph moved, a section added,
the paper size changed, a reading added to a reader), build with the cache
after each edit, and compare every output with a clean ``--no-cache`` build of
the same files, byte for byte; they also check that the cache was used (some
chains were taken over), which a build that lays everything out again would
not show. The builds of a project are shared, in order, by one test each.
``--slow`` adds a random sequence of such edits (Hypothesis).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pikepdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edition.pipeline import Options, run

from .builds import typesetting
from .outputs import structure_tree, wrong_page_references
from .projects import DEMO_READER as READER
from .projects import KITCHEN_SINK as SINK
from .projects import ROOT

ESSAY = Path("content") / "juche" / "text" / "03-joining-the-third-world.md"


def copy_project(root: Path, *, sink: bool = False, reader: bool = False) -> Path:
    """The paper (with the demo reader) or the kitchen sink, in a folder of its own."""
    project = root / "project"
    if sink:
        shutil.copytree(SINK, project)
    else:
        for folder in ("content", "bib", *(["readers"] if reader else [])):
            shutil.copytree(ROOT / folder, project / folder)
    shutil.copytree(ROOT / "templates", project / "templates")
    return project


class Builds:
    """Builds of one project: with a cache of its own (kept from build to
    build) and clean (no cache), each into a new folder."""

    def __init__(self, project: Path, slug: str) -> None:
        self.project, self.slug = project, slug
        self.cache = project.parent / "cache"
        self.count = 0
        self.last_clean: dict[str, bytes] = {}

    def build(self, cached: bool, **options) -> tuple[dict[str, bytes], object]:
        self.count += 1
        out = self.project.parent / f"out-{self.count}"
        result = run(
            Options(
                project=self.project,
                out=out,
                slugs=(self.slug,),
                cache=self.cache if cached else None,
                **options,
            )
        )
        files = {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file() and not p.name.startswith(".")}
        return files, result

    def same_as_clean(self, **options) -> tuple[int, int]:
        """Build with the cache and clean; the outputs are the same bytes.
        Returns (chains laid out, chains) of the build with the cache."""
        cached, result = self.build(True, **options)
        clean, _ = self.build(False, **options)
        self.last_clean = clean
        assert cached.keys() == clean.keys()
        for name in clean:
            assert cached[name] == clean[name], f"{name} differs from a clean build's"
        return result.chains[self.slug]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


LONG_NOTE = " ".join(
    ["The embassy's report adds that the delegation was received with every courtesy and sent home"] * 12
)


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    builds = Builds(copy_project(tmp_path_factory.mktemp("incremental-paper")), "juche")
    builds.build(True)  # the cache as an earlier build left it
    return builds


def test_the_paper_after_a_word_is_changed(paper):
    edit(paper.project / ESSAY, "Coincidentally", "Remarkably")
    laid, chains = paper.same_as_clean()
    assert chains > 1 and laid < chains, "the chains the edit did not reach come from the cache"
    one_at_a_time, _ = paper.build(False, jobs=1)  # the chains laid out one after another
    assert one_at_a_time == paper.last_clean


def test_the_paper_after_a_note_is_made_half_a_page_longer(paper):
    edit(
        paper.project / ESSAY,
        "[^16]: [@armstrong2009juche, n. 16]",
        f"[^16]: [@armstrong2009juche, n. 16]. {LONG_NOTE}.",
    )
    paper.same_as_clean()  # the essay's pages move: the contents and the appendix may follow


def test_the_paper_after_only_its_rights_are_changed(paper):
    edit(paper.project / "content" / "juche" / "work.yaml", "may be reused with attribution.", "may be reused.")
    laid, chains = paper.same_as_clean()
    assert laid == 1, "only the title page's chain holds the rights"


@pytest.fixture(scope="module")
def sink_builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    builds = Builds(copy_project(tmp_path_factory.mktemp("incremental-sink"), sink=True), "kitchen-sink")
    builds.build(True)
    return builds


def _swap_paragraphs(path: Path) -> None:
    """Move the first plain paragraph after the one that follows it."""
    text = path.read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    plain = re.compile(r"[A-Z][^\n]*")
    for i in range(1, len(blocks) - 1):
        if all(plain.fullmatch(b.split("\n")[0]) and "[^" not in b for b in blocks[i : i + 2]):
            blocks[i], blocks[i + 1] = blocks[i + 1], blocks[i]
            path.write_text("\n\n".join(blocks), encoding="utf-8")
            return
    raise AssertionError(f"no two plain paragraphs side by side in {path}")


def test_the_kitchen_sink_after_a_paragraph_is_moved(sink_builds):
    _swap_paragraphs(sink_builds.project / "content" / "kitchen-sink" / "text" / "02-structure.md")
    sink_builds.same_as_clean()


def test_the_kitchen_sink_after_a_section_is_added(sink_builds):
    added = sink_builds.project / "content" / "kitchen-sink" / "text" / "06-added.md"
    added.write_text('---\ntitle: "An Added Section"\n---\nA section written after the others.\n', encoding="utf-8")
    sink_builds.same_as_clean()


def test_the_kitchen_sink_after_the_paper_size_is_changed(sink_builds):
    sink_builds.same_as_clean(paper="a4")


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    builds = Builds(copy_project(tmp_path_factory.mktemp("incremental-reader"), reader=True), READER)
    builds.build(True)
    return builds


def test_the_reader_after_a_reading_is_added(reader):
    definition = reader.project / "readers" / f"{READER}.yaml"
    definition.write_text(
        definition.read_text(encoding="utf-8")
        + "  - pdf: readings/hist389-study-guide.pdf\n    pages: 1-1\n    cite: hist389guide\n"
        "    permissions: Written for this course and dedicated to the public domain (CC0 1.0).\n",
        encoding="utf-8",
    )
    laid, chains = reader.same_as_clean()
    # the contents, the reading the permissions page followed, and the new one
    assert laid == 3 and chains > 3, "the readings before the added one come from the cache"


# -- a random sequence of edits (--slow) ------------------------------------------------

WORDS = ["Remarkably", "Indeed", "Moreover", "Meanwhile", "Curiously"]


def _apply(project: Path, kind: str, n: int) -> dict:
    """One author's edit of the paper; the options of the next build."""
    essay = project / ESSAY
    if kind == "word":
        text = essay.read_text(encoding="utf-8")
        essay.write_text(text.replace("North Korea", f"North Korea {WORDS[n % len(WORDS)].lower()}", 1), "utf-8")
    elif kind == "note":
        text = essay.read_text(encoding="utf-8")
        essay.write_text(text.replace("n. 16]", f"n. 16]. {LONG_NOTE[: 80 * (n % 6 + 1)]}.", 1), "utf-8")
    elif kind == "move":
        _swap_paragraphs(essay)
    elif kind == "section":
        (essay.parent / f"07-added-{n}.md").write_text(f'---\ntitle: "Added {n}"\n---\nAdded text {n}.\n', "utf-8")
    elif kind == "rights":
        edit(project / "content" / "juche" / "work.yaml", "reused", "reused" + " freely" * (n % 3 + 1))
    return {"paper": "a4"} if kind == "paper" else {}


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(["word", "note", "move", "section", "rights", "paper"]), min_size=3, max_size=6))
def test_random_edits_never_change_a_byte(tmp_path_factory, edits):
    builds = Builds(copy_project(tmp_path_factory.mktemp("random-edits")), "juche")
    builds.build(True)
    for n, kind in enumerate(edits):
        builds.same_as_clean(**_apply(builds.project, kind, n))


# -- the engine: a layout made again from a page, a chain laid out on its own ----------


def _paper_html(corrections=None) -> str:
    from edition.layout import makeup
    from edition.layout.print_layout import html

    return html(typesetting(ROOT, "juche"), corrections or makeup.Corrections())


def _pdf(document) -> bytes:
    return document.write_pdf(pdf_identifier=b"test")


def test_a_layout_made_again_from_its_changed_pages_is_a_fresh_layout(built):
    """The make-up's last round laid out only from the pages its corrections
    changed is, byte for byte, the layout of its HTML from nothing."""
    from edition.layout.chains.pagination import Layouter
    from edition.layout.engine import lay_out

    final = _paper_html(built.result.corrections["juche"])
    layouter = Layouter(ROOT)
    layouter.lay_out(_paper_html())
    again = layouter.lay_out(final)
    assert layouter.made[1] < len(again.pages), "pages were taken over from the first layout"
    assert _pdf(again) == _pdf(lay_out(final, ROOT))


def test_chains_laid_out_apart_and_settled_are_the_document_laid_out_whole(built):
    """Each chain of the paper laid out on its own boxes, numbered from 1 and
    told none of the pages it cites, then settled, gives the pages of one
    layout of the whole document."""
    from edition.layout.chains import book, breaks, pagination
    from edition.layout.chains.pagination import Sandbox
    from edition.layout.engine import lay_out

    final = _paper_html(built.result.corrections["juche"])
    sandbox = Sandbox(ROOT)
    count = len(breaks.find(sandbox.build(final).root_box))
    assert count == 3  # the title page and contents, the essay, the appendix and back matter
    layouts = []
    for index in range(count):
        built_apart = sandbox.build(final)  # each its own boxes, as in its own process
        layouts.append(pagination.paginate(built_apart, chain=breaks.find(built_apart.root_box)[index]))
    said = [
        book.Said(len(x.pages), x.blank, pagination.anchors(x), pagination.set_strings(x), pagination.cited(x))
        for x in layouts
    ]
    assert said[0].cited and said[1].cited, "the contents and the essay's notes cite pages of other chains"
    for layout, settling in zip(layouts, book._settlings(sandbox.build(final), said), strict=True):
        pagination.settle(
            layout, settling.first, settling.blank, dict(settling.strings), dict(settling.targets), settling.total
        )
    documents = [pagination.document(layout) for layout in layouts]
    whole = documents[0].copy([page for document in documents for page in document.pages])
    assert _pdf(whole) == _pdf(lay_out(final, ROOT))


def test_the_chains_combined_have_the_structure_tree_of_one_write(built):
    """The paper's print PDF, its chains written apart and combined, is tagged
    as the whole document written at once: every element (a work's ``Div``
    that a forced page break splits included) once, with the same role,
    attributes and kids, each marked-content kid on the same page."""
    from edition.layout.engine import lay_out
    from edition.outputs.pdf import archival

    edition = typesetting(ROOT, "juche").edition
    whole = archival.write_print(lay_out(_paper_html(built.result.corrections["juche"]), ROOT), edition)
    assert built.result.chains["juche"][1] > 1, "the paper was laid out in chains"
    assert structure_tree(built.pdf) == structure_tree(whole)


def test_the_preflight_made_chain_by_chain_is_the_whole_layouts(sink):
    """The kitchen sink's preflight, its chains laid out and checked apart,
    finds what a check of its whole final layout finds: its contents (in the
    first chain) point into the other chains, and their entries are checked
    against their targets there."""
    from edition.layout import preflight
    from edition.layout.engine import lay_out
    from edition.layout.print_layout import html

    project, result = sink["project"], sink["result"]
    assert result.chains["kitchen-sink"][1] > 1, "the kitchen sink was laid out in chains"
    job = typesetting(project, "kitchen-sink")
    whole = lay_out(html(job, result.corrections["kitchen-sink"]), project)
    assert result.preflight["kitchen-sink"].as_dict() == preflight.preflight(whole, job.words()).as_dict()


def test_every_page_reference_of_the_reader_names_its_targets_page(built_reader):
    """The demo reader's contents and cross-references, settled chain by chain
    once the chains before are laid out, name the pages their targets are on
    (a whole-document layout said "Bibliography, page 16" of page 17, and
    "page 17" of the "Note on the Text" on page 18)."""
    assert wrong_page_references(built_reader.out / f"{READER}.pdf") == []


def test_the_combined_parent_tree_is_a_number_tree_every_page_finds_its_entry_in(built, built_reader, sink):
    """A number tree's keys go in ascending order (PDF 32000-1, 7.9.7), or a
    reader's binary search misses: the chains' parent trees combined keep
    them so (the reader's PDF readings were tagged through a lookup that
    failed on the combined tree), and each page's ``StructParents`` finds its
    marked-content list."""
    for path in (built.pdf, built_reader.out / f"{READER}.pdf", sink["pdf"]):
        with pikepdf.open(path) as pdf:
            keys = _number_tree_keys(pdf.Root.StructTreeRoot.ParentTree)
            assert keys and keys == sorted(set(keys)), path.name
            found = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
            for page in pdf.pages:
                assert isinstance(found[int(page.obj.StructParents)], pikepdf.Array), path.name


def _number_tree_keys(node) -> list[int]:
    """A number tree's keys in the order its nodes hold them (leaves left to right)."""
    if "/Nums" in node:
        return [int(node.Nums[i]) for i in range(0, len(node.Nums), 2)]
    return [key for kid in node.get("/Kids", []) for key in _number_tree_keys(kid)]
