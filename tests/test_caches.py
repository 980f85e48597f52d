"""The cache (``.edition-cache/``) never changes what a build writes.

Each kind of input is edited once; the build that reuses the cache must write
the same bytes as a build without it (``--no-cache``), and different bytes
from before the edit (so a stale result could not pass). A damaged, foreign
or hostile cache entry is a miss, never a crash and never an output.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from edition.cli import main
from edition.infra import cache, fingerprints

from .projects import BIB_MIN, make_project, pdf_project, png, project_with_every_input, section


@pytest.fixture(autouse=True)
def own_secret(tmp_path, monkeypatch):
    """A cache secret of the test's own (never the user's)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    cache.secret.cache_clear()
    yield
    cache.secret.cache_clear()


def build(project: Path, out: Path, *args: str) -> dict[str, bytes]:
    """Build every edition (``--force``); the outputs by name (the stamp left out)."""
    assert main(["-q", "--force", "--out", str(out), *args], project=project) == 0
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.startswith(".")}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


EDITS = {
    "section text": lambda p: edit(p / "content/test/text/01-one.md", "Opening words", "Changed words"),
    "a note": lambda p: edit(p / "content/test/text/01-one.md", "[@suh1988, 12]", "[@suh1988, 13]"),
    "BibTeX": lambda p: edit(p / "bib/test.bib", "Columbia University Press", "Columbia UP"),
    "work.yaml metadata": lambda p: edit(p / "content/test/work.yaml", "rights: Test rights.", "rights: Other rights."),
    "a table CSV": lambda p: edit(p / "content/test/tables/t.csv", "1971,Malta", "1971,Cyprus"),
    "a template": lambda p: edit(p / "templates/body/blocks.html", ">Bibliography</h2>", ">Works Cited</h2>"),
    "a CSS file": lambda p: _append(p / "templates/base.css", "\np { letter-spacing: 0.02em; }\n"),
    "a reader file": lambda p: edit(p / "readers/r.yaml", "Read the test work first.", "Read it twice."),
    "an image": lambda p: (p / "content/test/text/square.png").write_bytes(png(colour="blue")),
}


def test_every_edited_input_gives_the_bytes_of_a_build_without_cache(tmp_path, warm_project, every_input_built):
    project = warm_project  # built once, its cache kept: the first build of the edits below
    cached = tmp_path / "cached"
    before = every_input_built.outputs
    assert sorted(before) == [
        "r-pdfa.pdf",
        "r.epub",
        "r.pdf",
        "r.permissions.csv",
        "r.preflight.json",
        "test-pdfa.pdf",
        "test.epub",
        "test.pdf",
        "test.preflight.json",
    ]
    assert any((project / ".edition-cache").rglob("*")), "the build kept nothing"
    assert build(project, cached) == before  # the cache used: the same bytes
    for number, (kind, change) in enumerate(EDITS.items()):
        change(project)
        after = build(project, cached)
        clean = build(project, tmp_path / f"clean-{number}", "--no-cache")
        assert after == clean, f"after editing {kind}: the cached build differs from a build without cache"
        changed = {name for name in after if after[name] != before[name]}
        assert changed, f"editing {kind} changed no output: the test cannot tell a stale cache"
        if kind == "a reader file":
            assert changed <= {"r.pdf", "r-pdfa.pdf", "r.epub"}
        before = after


def test_an_epub_alone_takes_the_page_list_from_the_cached_layout_until_an_input_changes(
    tmp_path, capsys, warm_project, every_input_built
):
    project, full = warm_project, every_input_built.outputs
    capsys.readouterr()
    assert main(["--force", "--format", "epub", "--out", str(tmp_path / "epub"), "test"], project=project) == 0
    said = capsys.readouterr().err
    assert (
        "test: the EPUB's page list comes from the cached print layout (4 pages, letter paper) of the same inputs:"
        " nothing was laid out" in said
    )
    assert (tmp_path / "epub/test.epub").read_bytes() == full["test.epub"]
    assert (tmp_path / "epub/test.preflight.json").read_bytes() == full["test.preflight.json"]
    # a stylesheet the layout loaded changes: the page list is laid out again
    _append(project / "templates/print/print.css", "\np { word-spacing: 0.05em; }\n")
    epub = build(project, tmp_path / "epub", "--format", "epub", "test")
    assert "cached print layout" not in capsys.readouterr().err
    assert epub == build(project, tmp_path / "epub-clean", "--no-cache", "--format", "epub", "test")
    # another paper is another layout
    assert main(["--force", "--format", "epub", "--paper", "a4", "--out", str(tmp_path / "a4")], project=project) == 0
    assert "cached print layout" not in capsys.readouterr().err


def test_a_paragraph_edit_runs_no_pandoc_and_a_note_edit_does(tmp_path, monkeypatch, warm_project):
    project = warm_project  # its cache holds the Pandoc runs of the inputs as they are
    runs: list[str] = []
    real = fingerprints.pandoc_path
    monkeypatch.setattr(fingerprints, "pandoc_path", lambda: runs.append("pandoc") or real())
    EDITS["section text"](project)
    build(project, tmp_path / "dist", "--format", "epub", "test")
    assert runs == []
    EDITS["a note"](project)
    build(project, tmp_path / "dist", "--format", "epub", "test")
    assert runs == ["pandoc"]  # citeproc again; the BibTeX's CSL is still the same
    # (a BibTeX file of its own: an earlier test's was converted in this process already)
    edit(project / "bib/test.bib", "Columbia University Press", "Columbia University Press, New York")
    build(project, tmp_path / "dist", "--format", "epub", "test")
    assert runs == ["pandoc"] * 3  # BibTeX to CSL, and citeproc


def _entries(project: Path) -> list[Path]:
    return sorted(p for p in (project / ".edition-cache").rglob("*") if p.is_file() and not p.is_symlink())


def test_damaged_entries_are_misses(tmp_path, warm_project, every_input_built):
    project, clean = warm_project, every_input_built.clean
    entries = _entries(project)
    assert len(entries) >= 6
    damage = [
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),  # truncated
        lambda p: p.write_bytes(p.read_bytes()[:-1] + bytes([p.read_bytes()[-1] ^ 1])),  # one bit flipped
        lambda p: p.write_bytes(b""),  # empty
        lambda p: p.write_bytes(os.urandom(300)),  # noise
        lambda p: (p.unlink(), p.symlink_to("/etc/passwd")),  # a link out
        lambda p: (p.unlink(), p.mkdir()),  # a folder
        lambda p: (p.unlink(), os.mkfifo(p)),  # a FIFO: never opened for reading
    ]
    for number, entry in enumerate(entries):
        damage[number % len(damage)](entry)
    assert build(project, tmp_path / "cached") == clean
    assert build(project, tmp_path / "cached") == clean  # and again, from what it kept anew


def test_entries_from_a_stranger_are_misses(tmp_path, warm_project, every_input_built):
    """A cache folder that came with the project (written with another secret,
    here with payloads that would change the outputs) is never read."""
    project, clean = warm_project, every_input_built.clean
    stranger = cache.Cache(project / ".edition-cache", b"s" * 32)
    mine = cache.Cache(project / ".edition-cache", cache.secret())
    for entry in _entries(project):
        kind, key = entry.parent.parent.name, entry.name
        payload = mine.get(kind, key)
        assert payload is not None
        stranger.put(kind, key, payload.replace(b"Suh", b"Evil").replace(b"Columbia", b"Evil"))
    assert build(project, tmp_path / "cached") == clean


def test_entries_of_the_wrong_shape_are_misses(tmp_path, warm_project, every_input_built):
    """Even with the right secret, a value that is not what the step stores is a miss."""
    project, clean = warm_project, every_input_built.clean
    mine = cache.Cache(project / ".edition-cache", cache.secret())
    for entry in _entries(project):
        kind, key = entry.parent.parent.name, entry.name
        if kind in ("pandoc-run", "print-layout"):
            mine.put_json(kind, key, {"stdout": 1, "laid": [], "loaded": "x"})
        else:  # a font subset, the cover: bytes that are neither a font nor a PNG
            mine.put(kind, key, b"not what the step makes")
    assert build(project, tmp_path / "cached") == clean


def test_a_cache_folder_that_is_a_link_is_not_used(tmp_path):
    project = project_with_every_input(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / ".edition-cache").symlink_to(elsewhere)
    clean = build(project, tmp_path / "clean", "--no-cache")
    assert build(project, tmp_path / "cached") == clean
    assert list(elsewhere.iterdir()) == []


def test_the_store_itself(tmp_path):
    store = cache.Cache(tmp_path / "c", b"k" * 32)
    key = fingerprints.key("a", b"b")
    assert store.get("kind", key) is None
    store.put("kind", key, b"payload")
    assert store.get("kind", key) == b"payload"
    assert cache.Cache(tmp_path / "c", b"j" * 32).get("kind", key) is None  # another secret
    assert store.get("other-kind", key) is None  # another kind
    assert store.get("kind", fingerprints.key("a", b"c")) is None  # another key
    assert store.get("../kind", key) is None and store.get("kind", "../" + key[3:]) is None
    assert fingerprints.key("ab", "c") != fingerprints.key("a", "bc")  # parts never run together
    store.put_json("json", key, {"a": [1, 2]})
    assert store.get_json("json", key, lambda v: v["a"] == [1, 2]) == {"a": [1, 2]}
    assert store.get_json("json", key, lambda v: v["b"]) is None  # a validator that fails is a miss
    store.prune(limit=0)
    assert store.get("kind", key) is None


def test_no_secret_of_the_users_own_means_no_cache(tmp_path):
    home = tmp_path / "user-cache"
    (home / "edition").mkdir(parents=True)
    secret = home / "edition" / "secret"
    secret.write_bytes(b"x" * 32)
    secret.chmod(0o644)  # readable by others: not a secret
    cache.secret.cache_clear()
    assert cache.secret() is None
    with cache.use(tmp_path / "c") as store:
        assert store is None


def test_another_pandoc_is_another_result(tmp_path, monkeypatch, warm_project):
    """pypandoc may run a system Pandoc (``PATH``, ``PYPANDOC_PANDOC``) rather than
    the bundled one: a run cached with one Pandoc is never the output of another."""
    import pypandoc

    from edition.read import bibliography

    project = warm_project  # its cache holds the bundled Pandoc's runs
    other = tmp_path / "other-pandoc"
    other.write_text(f"#!/bin/sh\n'{pypandoc.get_pandoc_path()}' \"$@\" | sed 's/Columbia/Kolumbia/g'\n")
    other.chmod(0o755)
    monkeypatch.setattr(pypandoc, "get_pandoc_path", lambda: str(other))
    monkeypatch.setattr(bibliography, "_CSL_CACHE", {})  # the process's memo of the other Pandoc's runs
    fingerprints.pandoc_path.cache_clear()
    fingerprints.pandoc_signature.cache_clear()
    try:
        cached = build(project, tmp_path / "cached", "--format", "epub", "test")
        clean = build(project, tmp_path / "clean", "--no-cache", "--format", "epub", "test")
    finally:
        fingerprints.pandoc_path.cache_clear()
        fingerprints.pandoc_signature.cache_clear()
    assert "Kolumbia" in _epub_text(clean["test.epub"])  # the other Pandoc ran
    assert cached == clean


def _epub_text(epub: bytes) -> str:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(epub)) as book:
        return "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xhtml"))


def test_no_home_of_the_users_own_means_no_cache_never_a_crash(tmp_path, monkeypatch):
    import pwd

    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("HOME", raising=False)

    def unknown(uid):
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", unknown)  # a user with no entry (a container's)
    cache.secret.cache_clear()
    assert cache.secret() is None
    # a relative XDG_CACHE_HOME is not a place (the XDG spec): never a folder where the build runs
    monkeypatch.setenv("HOME", "")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative-cache")
    monkeypatch.chdir(tmp_path)
    cache.secret.cache_clear()
    assert cache.secret() is None
    assert not (tmp_path / "relative-cache").exists()


def test_a_secret_cut_short_is_made_anew(tmp_path):
    """A secret of the user's own that is not 32 bytes (a build killed while an
    older version wrote it) is replaced, and a new one is never seen half-written."""
    secret = tmp_path / "user-cache" / "edition" / "secret"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"")
    secret.chmod(0o600)
    cache.secret.cache_clear()
    made = cache.secret()
    assert made is not None and len(made) == 32 and secret.read_bytes() == made
    assert sorted(p.name for p in secret.parent.iterdir()) == ["secret"]  # nothing left beside it


def test_an_epub_alone_after_a_pdf_reading_is_turned_follows_the_new_pdf(tmp_path, capsys):
    """A PDF reading's pages are not in the print HTML (only their count): the
    same PDF with its pages turned (/Rotate: the same words, another scale in
    the permissions table) is another layout, never the cached one."""
    from . import pdfs

    sizes = [(612, 792), (612, 792)]
    project = pdf_project(tmp_path / "project", {"scan.pdf": pdfs.scan(sizes)})
    before = build(project, tmp_path / "full")
    (project / "readers/readings/scan.pdf").write_bytes(pdfs.scan(sizes, rotate={0: 90, 1: 90}))
    capsys.readouterr()
    assert main(["--force", "--format", "epub", "--out", str(tmp_path / "epub"), "r"], project=project) == 0
    assert "cached print layout" not in capsys.readouterr().err
    clean = build(project, tmp_path / "clean", "--no-cache", "--format", "epub", "r")
    assert build(project, tmp_path / "epub", "--format", "epub", "r") == clean
    assert clean["r.permissions.csv"] != before["r.permissions.csv"]  # the turn moved the scale


def test_links_below_the_folder_are_never_followed(tmp_path):
    """A kind's or a shard's folder that is a link (a stranger owning the project
    may put one there) is neither read, written nor pruned through."""
    secret = b"k" * 32
    key = fingerprints.key("links")
    elsewhere = tmp_path / "elsewhere"
    cache.Cache(elsewhere, secret).put("kind", key, b"an entry of the user's own, elsewhere")
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "kind").symlink_to(elsewhere / "kind")
    store = cache.Cache(folder, secret)
    assert store.get("kind", key) is None  # not read through the link
    store.put("kind", fingerprints.key("other"), b"x")
    store.put("kind", key, b"y")
    assert sorted(p.name for p in (elsewhere / "kind").rglob("*") if p.is_file()) == [key]  # nor written
    store.prune(limit=0)
    assert (elsewhere / "kind" / key[:2] / key).is_file()  # nor removed
    (folder / "kind").unlink()
    (folder / "kind").mkdir()
    (folder / "kind" / key[:2]).symlink_to(elsewhere / "kind" / key[:2])
    assert store.get("kind", key) is None
    store.prune(limit=0)
    assert (elsewhere / "kind" / key[:2] / key).is_file()


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
def test_a_cache_folder_of_another_user_is_not_used(tmp_path):
    secret = b"k" * 32
    key = fingerprints.key("theirs")
    folder = tmp_path / "c"
    cache.Cache(folder, secret).put("kind", key, b"payload")
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, 12345, 12345, follow_symlinks=False)
    store = cache.Cache(folder, secret)
    assert store.get("kind", key) is None
    store.put("kind", fingerprints.key("mine"), b"x")
    assert not (folder / "kind" / fingerprints.key("mine")[:2]).exists()


def test_a_layout_entry_of_the_wrong_shape_is_a_miss_for_an_epub_alone(tmp_path, warm_project):
    """Even with the right secret, a print-layout entry whose preflight report is
    not a report is a miss: the EPUB is built as without cache, never a crash."""
    import json

    project = warm_project
    clean = build(project, tmp_path / "clean", "--no-cache", "--format", "epub", "test")
    mine = cache.Cache(project / ".edition-cache", cache.secret())
    entries = [e for e in _entries(project) if e.parent.parent.name == "print-layout"]
    assert entries
    for entry in entries:
        value = json.loads(mine.get("print-layout", entry.name))
        value["laid"]["preflight"] = {}
        mine.put_json("print-layout", entry.name, value)
    assert build(project, tmp_path / "epub", "--format", "epub", "test") == clean


def test_other_tools_are_another_layout(tmp_path, monkeypatch, capsys, warm_project):
    """Another WeasyPrint (its version is in every key) or another Pango or
    HarfBuzz under it (Debian's, upgraded apart from it) may break lines
    elsewhere: an EPUB alone then lays out again, never takes the cached pages."""
    from edition.layout import cache as layoutcache

    project = warm_project

    def epub_alone() -> str:
        capsys.readouterr()
        assert main(["--force", "--format", "epub", "--out", str(tmp_path / "epub"), "test"], project=project) == 0
        return capsys.readouterr().err

    assert "cached print layout" in epub_alone()
    libraries = layoutcache._libraries()
    assert any("libpango" in library for library in libraries) and any("libharfbuzz" in lib for lib in libraries)
    monkeypatch.setattr(layoutcache, "_libraries", lambda: (*libraries[:-1], "another build of the library"))
    assert "cached print layout" not in epub_alone()
    monkeypatch.setattr(layoutcache, "_libraries", lambda: libraries)
    assert "cached print layout" in epub_alone()
    real = fingerprints.tool_versions
    monkeypatch.setattr(fingerprints, "tool_versions", lambda: {**real(), "weasyprint": "99.0"})
    fingerprints.code_version.cache_clear()
    try:
        assert "cached print layout" not in epub_alone()
    finally:
        fingerprints.code_version.cache_clear()


def test_a_loaded_file_that_became_a_pipe_is_a_miss_never_a_wait(tmp_path, capsys, warm_project):
    """The layout's entry names the stylesheet it loaded; when that is now a
    named pipe, checking the entry must not open it for reading (that waits
    for a writer forever): a miss, and the layout refuses it as without cache."""
    import signal

    project = warm_project
    css = project / "templates/print/print.css"
    css.unlink()
    os.mkfifo(css)

    def hung(*_):
        raise AssertionError("the build waits on the pipe")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(300)  # a bound on a hang, not a measure: the build takes seconds
    try:
        capsys.readouterr()
        code = main(["-q", "--force", "--format", "epub", "--out", str(tmp_path / "epub"), "test"], project=project)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert code == 2
    assert "print.css was not loaded: it is a named pipe, not a file" in capsys.readouterr().err


@pytest.mark.parametrize("tool", ["pandoc_signature", "text_libraries"])
def test_another_pandoc_or_text_library_is_not_up_to_date(tmp_path, capsys, monkeypatch, tool):
    """The no-change check names the same tools as the caches: after the system
    upgrades Pandoc or Pango, HarfBuzz, fontconfig or FreeType, the outputs are
    built again, never called up to date."""
    project = make_project(tmp_path / "project", sections={"01-one.md": section("One paragraph.")}, bib=BIB_MIN)
    out = tmp_path / "dist"
    build(project, out, "--format", "epub")

    def no_change() -> str:
        capsys.readouterr()
        assert main(["--format", "epub", "--out", str(out)], project=project) == 0
        printed = capsys.readouterr()
        return printed.out + printed.err

    assert "up to date" in no_change()
    real = getattr(fingerprints, tool)()
    other = "another build" if tool == "pandoc_signature" else (*real, "another build")
    monkeypatch.setattr(fingerprints, tool, lambda: other)
    assert "up to date" not in no_change()
    assert "up to date" in no_change()
