"""What a build writes, and when: safe on a stranger's folder (issue 12, the output side).

- the set of an edition's outputs changes together or not at all, whatever
  signal arrives whenever (real build processes, paused at named points by
  ``tests/pausing_build.py``), and a SIGKILL is undone by the next invocation;
- two builds into one folder: the second waits, saying so;
- the up-to-date stamp never certifies a stale output;
- ``--extract`` is bounded, checked and all-or-nothing;
- outputs keep the project's guarantees: PDF/A without interpolated images,
  links only to web and mail addresses, a permissions CSV no spreadsheet runs,
  and a PDF/A that embeds only the templates the build loaded.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from edition.cli import main
from edition.commands import extract as extract_module

from . import outputs, pdfa_check
from .projects import BIB_MIN, ROOT, WORK_YAML, make_project, section

TEXT = "content/test/text/01-one.md"
WRAPPER = str(ROOT / "tests" / "pausing_build.py")
OUTPUTS = ("test.preflight.json", "test.epub", "test.pdf", "test-pdfa.pdf", ".edition-build.json")


# -- helpers ---------------------------------------------------------------------------


def tree(folder: Path) -> dict[str, bytes]:
    """Every file and folder below ``folder`` (hidden ones too), with its bytes."""
    if not folder.exists():
        return {}
    found = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        found[name + "/" if path.is_dir() else name] = b"" if path.is_dir() else path.read_bytes()
    return found


def start(project: Path, points: str, *args: str) -> subprocess.Popen:
    """A real build process of ``project`` into its dist/, paused at ``points``."""
    return subprocess.Popen(
        [sys.executable, WRAPPER, points, "--", "--out", str(project / "dist"), *args],
        cwd=project,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(process: subprocess.Popen, line: str) -> list[str]:
    """Read the process's stderr until ``line``; the lines read."""
    seen = []
    while True:
        got = process.stderr.readline()
        assert got, f"the process ended before {line!r}: {seen}"
        seen.append(got.rstrip("\n"))
        if seen[-1] == line:
            return seen


def resume(process: subprocess.Popen) -> None:
    process.stdin.write("\n")
    process.stdin.flush()


def finish(process: subprocess.Popen) -> tuple[int, list[str]]:
    _, err = process.communicate(timeout=300)
    return process.returncode, err.splitlines()


def build(project: Path, *args: str, out: str = "dist") -> subprocess.CompletedProcess:
    """A real build process, not paused."""
    return subprocess.run(
        [sys.executable, WRAPPER, "-", "--", "--out", str(project / out), *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_bounded(argv: list[str], cwd: Path, mem_bytes: int, cpu_seconds: int) -> subprocess.CompletedProcess:
    """Run ``argv`` in a child limited in address space and CPU time, so a
    regression fails fast instead of eating the machine. (The input side's
    ``tests/bounded.py`` offers the same; this one stands until it is merged.)"""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))

    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, preexec_fn=limit, timeout=600)


def anchors(xhtml: str) -> set[str]:
    """The targets of the links in ``xhtml`` that leave the book."""
    return {h for h in re.findall(r'<a\b[^>]*\shref="([^"]*)"', xhtml) if not re.match(r"(#|[\w.-]+\.xhtml)", h)}


def pdf_text(path: Path) -> str:
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split())


def pdf_uris(path: Path) -> set[str]:
    with pikepdf.open(path) as pdf:
        return {
            str(annot.A.URI)
            for page in pdf.pages
            for annot in page.get("/Annots") or []
            if annot.get("/A") is not None and annot.A.get("/URI") is not None
        }


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A small project built once into dist/, then edited, and the edited
    project built into ref/ (what a complete new build writes). Built once;
    each test gets a copy (the outputs and the stamp do not depend on where
    the project lies)."""
    project = make_project(
        tmp_path_factory.mktemp("prepared") / "p", sections={"01-one.md": section("First text.\n")}, bib=BIB_MIN
    )
    assert build(project).returncode == 0
    (project / TEXT).write_text(section("Second text, edited.\n"), encoding="utf-8")
    assert build(project, out="ref").returncode == 0
    return project


@pytest.fixture
def edited(prepared, tmp_path):
    """``(project, dist/ before, what a complete new build writes)``, in this test's own folder."""
    project = tmp_path / "p"
    shutil.copytree(prepared, project, symlinks=True)
    return project, tree(project / "dist"), tree(project / "ref")


# -- 1. the set of outputs changes together or not at all -----------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1])
def test_a_signal_between_two_renames_never_splits_the_set(edited, sig):
    """The signal is held until the swap is done, then the swap is undone: an
    interrupted build changes nothing, wherever it was."""
    project, before, _ = edited
    process = start(project, "rename:2", "--force")
    wait_for(process, "paused at rename:2")
    process.send_signal(sig)
    resume(process)
    status, lines = finish(process)
    assert tree(project / "dist") == before, "the previous set is not back, or temporary files are left"
    # every signal that ends a process is an interruption, said as one (SIGQUIT and
    # SIGUSR1 once took their default action, silently)
    assert status == 130
    assert lines[-1] == f"build interrupted; {project / 'dist'}/ was not changed"


@pytest.mark.parametrize(
    ("point", "sig"),
    [
        ("stage:1", signal.SIGTERM),
        ("stage:3", signal.SIGINT),
        ("commit", signal.SIGHUP),
        ("commit", signal.SIGTERM),
        # other signals, other timings: SIGUSR1 there died at once and left the staging folder
        ("stage:2", signal.SIGUSR1),
        ("stage:1", signal.SIGALRM),
        ("commit", signal.SIGQUIT),
    ],
)
def test_a_signal_before_the_swap_leaves_dist_untouched(edited, point, sig):
    project, before, _ = edited
    process = start(project, point, "--force")
    wait_for(process, f"paused at {point}")
    process.send_signal(sig)
    status, lines = finish(process)
    assert status == 130
    assert lines[-1] == f"build interrupted; {project / 'dist'}/ was not changed"
    assert tree(project / "dist") == before


@pytest.mark.parametrize("point", ["stage:2", "commit", "rename:1", "rename:4"])
def test_after_sigkill_the_next_invocation_restores_the_previous_files(edited, point):
    project, before, _ = edited
    process = start(project, point, "--force")
    wait_for(process, f"paused at {point}")
    process.kill()
    process.wait()
    assert tree(project / "dist") != before  # something was left: staged files, or half a swap
    # the next invocation repairs dist/ before anything else, even one that then fails
    again = build(project, "nosuch")
    assert again.returncode == 2
    dist = project / "dist"
    if point.startswith("rename"):
        notice = f"an interrupted build had left {dist} half-written: restored the previous files (5)"
    else:
        notice = f"removed the temporary files of an interrupted build from {dist}"
    assert again.stderr.splitlines()[:2] == [notice, "error: no work 'nosuch' in content/ or readers/ [cli.option]"]
    assert tree(dist) == before
    # and the next build is a normal one
    assert build(project).returncode == 0
    assert {p.name for p in dist.iterdir()} == set(OUTPUTS)


def test_stale_temporary_files_of_older_versions_are_removed(edited):
    project, before, _ = edited
    stale = project / "dist" / ".test.pdf.k2j4_x9a.tmp"
    stale.write_bytes(b"half a PDF")
    result = build(project, "nosuch")
    assert (
        result.stderr.splitlines()[0] == f"removed the temporary files of an interrupted build from {project / 'dist'}"
    )
    assert tree(project / "dist") == before


def test_a_journal_in_a_strangers_dist_touches_nothing_outside_it(edited, tmp_path):
    """A dist/ that came with the folder may hold a crafted journal: recovery
    never follows a name out of dist/, nor a link."""
    project, before, _ = edited
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_bytes(b"keep me")
    dist = project / "dist"
    (dist / "link").symlink_to(victim)
    journal = {
        "staging": ".edition-staging.1.ab",
        "files": [
            {"name": "link/precious.txt", "previous": False},
            {"name": "../../victim/precious.txt", "previous": False},
            {"name": "/etc/hostname", "previous": False},
        ],
        "folders": ["link"],
    }
    (dist / ".edition-journal.json").write_text(json.dumps(journal), encoding="utf-8")
    result = build(project, "nosuch")
    assert result.returncode == 2
    assert (victim / "precious.txt").read_bytes() == b"keep me"
    assert (dist / "link").is_symlink()
    after = {name: data for name, data in tree(dist).items() if not name.startswith("link")}
    assert after == before


def test_a_build_that_fails_late_changes_nothing_and_says_so(edited):
    """A failure after the layout (--strict on a preflight fault) leaves dist/ as it was."""
    project, before, _ = edited
    (project / TEXT).write_text(section("Word " * 5 + "\n\n" + "x" * 400 + "\n"), encoding="utf-8")
    result = build(project, "--strict")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith(f"; {project / 'dist'}/ was not changed")
    assert tree(project / "dist") == before


def test_a_failed_build_into_a_new_folder_leaves_no_folder(tmp_path):
    project = make_project(tmp_path, sections={"01-one.md": section("Text.[^1]\n")}, bib=BIB_MIN)
    result = build(project, out="fresh")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"build failed: 1 error(s); {project / 'fresh'}/ was not changed"
    assert not (project / "fresh").exists()


def test_parallel_builds_stage_into_one_set(tmp_path):
    """--jobs: each edition is built in its own process; the set is still swapped once."""
    extra = {
        "content/second/work.yaml": WORK_YAML.format(slug="second").replace("-000000000001", "-000000000002"),
        "content/second/text/01-one.md": section("Another text.\n"),
        "bib/second.bib": BIB_MIN,
    }
    project = make_project(tmp_path, bib=BIB_MIN, extra=extra)
    result = build(project, "--jobs", "2")
    assert result.returncode == 0, result.stderr
    names = {p.name for p in (project / "dist").iterdir()}
    assert names == set(OUTPUTS) | {n.replace("test", "second") for n in OUTPUTS}
    assert build(project, "--jobs", "2").stdout == f"up to date: nothing to build in {project / 'dist'}\n"


# -- 2. two builds into one folder -------------------------------------------------------------


def test_a_second_build_into_the_same_folder_waits_for_the_first(edited):
    project, _, ref = edited
    first = start(project, "commit", "--force")
    wait_for(first, "paused at commit")
    second = start(project, "-")
    wait_for(second, f"waiting for another build writing into {project / 'dist'} to finish")
    resume(first)
    assert finish(first)[0] == 0
    out, _ = second.communicate(timeout=300)
    assert second.returncode == 0
    # it waited for the first build's outcome, and that outcome is up to date
    assert out == f"up to date: nothing to build in {project / 'dist'}\n"
    assert tree(project / "dist") == ref


def test_a_build_waiting_for_the_lock_can_be_stopped(edited):
    project, before, _ = edited
    first = start(project, "commit", "--force")
    wait_for(first, "paused at commit")
    second = start(project, "-", "--force")
    wait_for(second, f"waiting for another build writing into {project / 'dist'} to finish")
    second.send_signal(signal.SIGTERM)
    status, lines = finish(second)
    assert status == 130 and lines[-1] == f"build interrupted; {project / 'dist'}/ was not changed"
    staged = {name for name in tree(project / "dist") if name.startswith(".edition-staging.")}
    assert {k: v for k, v in tree(project / "dist").items() if k not in staged} == before  # the first's set waits
    first.send_signal(signal.SIGINT)
    assert finish(first)[0] == 130
    assert tree(project / "dist") == before


# -- 3. the up-to-date stamp --------------------------------------------------------------------


def test_an_edit_during_the_build_is_never_called_up_to_date(edited):
    project, _, _ = edited
    process = start(project, "built", "--force")
    wait_for(process, "paused at built")
    (project / TEXT).write_text(section("Third text, written during the build.\n"), encoding="utf-8")
    resume(process)
    status, lines = finish(process)
    assert status == 0
    assert lines[-1] == (
        "note: input files changed while the build read them; the outputs are written "
        "but not marked up to date, so the next build builds again"
    )
    again = build(project)
    assert again.returncode == 0 and again.stdout.startswith("built ")
    assert "Third text, written during the build." in pdf_text(project / "dist/test.pdf")
    assert build(project).stdout == f"up to date: nothing to build in {project / 'dist'}\n"


def test_a_file_changed_and_changed_back_during_the_build_is_not_certified(edited):
    """The snapshots before and after agree, but the build read other bytes."""
    project, _, _ = edited
    original = (project / TEXT).read_text(encoding="utf-8")
    process = start(project, "run,built", "--force")
    wait_for(process, "paused at run")
    (project / TEXT).write_text(section("A passing state of the file.\n"), encoding="utf-8")
    resume(process)
    wait_for(process, "paused at built")
    (project / TEXT).write_text(original, encoding="utf-8")
    resume(process)
    status, lines = finish(process)
    assert status == 0 and lines[-1].startswith("note: input files changed while the build read them")
    assert "A passing state of the file." in pdf_text(project / "dist/test.pdf")
    assert build(project).stdout.startswith("built ")
    assert "Second text, edited." in pdf_text(project / "dist/test.pdf")


def test_a_file_read_outside_the_snapshots_folders_is_checked_too(tmp_path, capsys):
    """An image in the project's own assets/ (not content/, bib/, readers/ or
    templates/): the snapshot did not see it, so an edit to it was called up
    to date and the EPUB kept the old picture."""

    def square(colour: str) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (40, 40), colour).save(out, format="PNG")
        return out.getvalue()

    body = section("![A square](../../../assets/square.png)\n")
    project = make_project(tmp_path / "p", sections={"01-one.md": body}, bib=BIB_MIN)
    (project / "assets").mkdir()
    (project / "assets/square.png").write_bytes(square("red"))
    args = ["--out", str(project / "dist"), "--format", "epub"]

    def built() -> tuple[int, str]:
        status = main(args, project=project)
        return status, capsys.readouterr().out

    assert built()[0] == 0
    assert built() == (0, f"up to date: nothing to build in {project / 'dist'}\n")
    (project / "assets/square.png").write_bytes(square("blue"))
    status, said = built()
    assert status == 0 and not said.startswith("up to date")
    with zipfile.ZipFile(project / "dist/test.epub") as epub:
        assert epub.read("EPUB/images/test-square.png") == square("blue")
    assert built() == (0, f"up to date: nothing to build in {project / 'dist'}\n")


def test_a_dist_link_the_project_brings_is_not_written_through(tmp_path, capsys, monkeypatch):
    """A stranger's folder that ships ``dist`` as a link to another folder
    had the build write its outputs (and clean up) there."""
    project = make_project(tmp_path / "p", bib=BIB_MIN)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not the build's\n", encoding="utf-8")
    (project / "dist").symlink_to(elsewhere)
    monkeypatch.chdir(project)
    assert main(["-q", "--format", "epub"], project=project) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"dist: error: the output folder dist is a symbolic link to {elsewhere}, outside the project; "
        "remove the link, or name the folder with --out [resource.refused]"
    ]
    assert tree(elsewhere) == {"keep.txt": b"not the build's\n"}
    # named on purpose, the folder is taken as given; a link inside the project is no way out
    assert main(["-q", "--format", "epub", "--out", str(elsewhere)], project=project) == 0
    (project / "dist").unlink()
    (project / "build").mkdir()
    (project / "dist").symlink_to("build")
    assert main(["-q", "--format", "epub"], project=project) == 0
    assert (project / "build/test.epub").is_file()


@pytest.mark.parametrize(
    "rule", ['@import url("../../../secret.css");', "body { background: url(../../../private.png); }"]
)
def test_the_epubs_stylesheet_points_at_no_file_it_does_not_hold(tmp_path, capsys, rule):
    """The EPUB's CSS is copied from templates/: an ``@import`` or ``url()``
    in it pointed out of the book (EPUBCheck: a missing resource), exit 0."""
    project = make_project(tmp_path / "p", bib=BIB_MIN)
    args = ["-q", "--out", str(project / "dist"), "--format", "epub"]
    assert main(args, project=project) == 0
    before = tree(project / "dist")
    css = project / "templates/epub/epub.css"
    css.write_text("/* the house style */\n" + rule + "\n" + css.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(args, project=project) == 2
    found = "@import" if rule.startswith("@import") else "url("
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{css}:2: error: template error: the EPUB's stylesheet refers to another file ({found}…), "
        "which the EPUB does not hold; the build adds the fonts itself [template.error]"
    )
    assert tree(project / "dist") == before


def _page_size(pdf_path: Path) -> tuple[int, int]:
    with pikepdf.open(pdf_path) as pdf:
        box = [float(v) for v in pdf.pages[0].MediaBox]
    return round(box[2] - box[0]), round(box[3] - box[1])


def test_every_output_holds_the_image_the_build_read(tmp_path):
    """An image replaced after the layout: the PDF, the PDF/A and the EPUB all
    hold the one the layout used (WeasyPrint would read the file again), and
    the outputs are not certified."""
    original, other = _image("RGB", "PNG"), Image.new("RGB", (80, 60), (0, 0, 255))
    project = make_project(
        tmp_path / "p",
        sections={"01-one.md": section("![A map](map.png)\n")},
        bib=BIB_MIN,
        extra={"content/test/text/map.png": original},
    )
    process = start(project, "layout", "--force")
    wait_for(process, "paused at layout")
    other.save(project / "content/test/text/map.png", format="PNG")
    resume(process)
    status, lines = finish(process)
    assert status == 0 and lines[-1].startswith("note: input files changed while the build read them")
    for name in ("test.pdf", "test-pdfa.pdf"):
        with pikepdf.open(project / "dist" / name) as pdf:
            sizes = {
                (int(o.Width), int(o.Height))
                for o in pdf.objects
                if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"
            }
        assert sizes == {(40, 30)}, name
    with zipfile.ZipFile(project / "dist/test.epub") as epub:
        assert epub.read("EPUB/images/test-map.png") == original


def test_each_output_records_the_options_that_made_it(tmp_path, capsys):
    project = make_project(tmp_path, bib=BIB_MIN)
    out = project / "dist"

    def run(*args: str) -> str:
        assert main(["--out", str(out), *args], project=project) == 0
        return capsys.readouterr().out.strip().splitlines()[-1]

    letter, a4 = (612, 792), (595, 842)
    assert run("--paper", "letter").startswith("built ")
    assert run("--paper", "a4", "--format", "pdfa").startswith("built test.preflight.json, test-pdfa.pdf ")
    assert _page_size(out / "test.pdf") == letter and _page_size(out / "test-pdfa.pdf") == a4
    # the Letter PDF beside an A4 PDF/A is not an A4 build
    assert run("--paper", "a4").startswith("built ")
    assert _page_size(out / "test.pdf") == a4
    assert run("--paper", "a4") == f"up to date: nothing to build in {out}"
    assert run("--paper", "a4", "--format", "pdf") == f"up to date: nothing to build in {out}"
    for other in (["--strict"], ["--check"], ["--press"], ["--paper", "6x9", "--format", "epub"]):
        options = ["--paper", "a4", *other] if "--paper" not in other else other
        assert run(*options).startswith("built "), other
        assert run(*options) == f"up to date: nothing to build in {out}", other


def test_odd_files_in_the_project_never_make_a_traceback(tmp_path):
    project = make_project(tmp_path, bib=BIB_MIN)
    folder = project / "content" / "test"
    (folder / "loop").symlink_to("loop")
    (folder / "dangling").symlink_to("nowhere")
    (folder / "outside").symlink_to("/etc/hostname")
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to("..")
    (project / "templates" / "dir-loop").symlink_to(".")
    os.mkfifo(folder / "fifo")
    first = build(project)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert build(project).stdout == f"up to date: nothing to build in {project / 'dist'}\n"


def test_an_output_folder_inside_an_input_folder_is_not_an_input(tmp_path, capsys):
    project = make_project(tmp_path, bib=BIB_MIN)
    out = project / "content" / "test" / "dist"
    assert main(["-q", "--out", str(out)], project=project) == 0
    assert capsys.readouterr().err == ""  # certified: the outputs are not inputs that changed
    assert main(["--out", str(out)], project=project) == 0
    assert capsys.readouterr().out == f"up to date: nothing to build in {out}\n"


def test_a_no_change_rebuild_imports_no_layout_engine(edited):
    project, _, _ = edited
    assert build(project).returncode == 0
    probe = (
        "import sys; from pathlib import Path; from edition.cli import main;"
        f"code = main(['--out', {str(project / 'dist')!r}], project=Path.cwd());"
        "print(code, 'weasyprint' in sys.modules, 'edition.pipeline' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.stdout.splitlines()[-1] == "0 False False"


# -- 4. --extract ------------------------------------------------------------------------------------


def _pdf_with(path: Path, files: dict[str, bytes]) -> Path:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    for name, data in files.items():
        pdf.attachments[name] = pikepdf.AttachedFileSpec(pdf, data, filename=name or "x")
    pdf.save(path)
    return path


def _bomb_stream(total: int) -> tuple[bytes, int]:
    """A zlib stream inflating to ``total`` zero bytes, made without holding them:
    one fully flushed block of 16 MiB of zeros, repeated, then the checksum."""
    block_size = 16 * 1024 * 1024
    zeros = bytes(block_size)
    compressor = zlib.compressobj(9)
    head = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = zlib.compressobj(9, wbits=-15)
    body = block.compress(zeros) + block.flush(zlib.Z_FULL_FLUSH)
    count = total // block_size
    adler = 1
    for _ in range(count):
        adler = zlib.adler32(zeros, adler)
    tail = zlib.compressobj(9, wbits=-15).flush(zlib.Z_FINISH)
    return head + body * (count - 1) + tail + adler.to_bytes(4, "big"), count * block_size


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """A 3 MB PDF whose one attachment inflates to 3 GiB (checked with zlib, in steps)."""
    stream, size = _bomb_stream(3 * 1024**3)
    inflater = zlib.decompressobj()
    assert len(inflater.decompress(stream[:100_000], 1000)) == 1000
    return stream, size, tmp_path_factory.mktemp("bomb")


def _set_stream(pdf_path: Path, name: str, raw: bytes, declared: int | None) -> None:
    with pikepdf.open(pdf_path, allow_overwriting_input=True) as pdf:
        stream = pdf.attachments[name].get_file().obj
        stream.write(raw, filter=pikepdf.Name.FlateDecode)
        if declared is None:
            del stream.Params["/Size"]
        else:
            stream.Params.Size = declared
        pdf.save(pdf_path, stream_decode_level=pikepdf.StreamDecodeLevel.none, compress_streams=False)


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        (
            "honest",
            "embedded file 'content/big.md' declares 3221225472 bytes, over the 268435456-byte limit for one file",
        ),
        (
            None,
            "embedded file 'content/big.md' inflates to more than 268435456 bytes, over the 268435456-byte limit for one file",
        ),
        (
            10,
            "embedded file 'content/big.md' inflates to more than 268435456 bytes, over the 268435456-byte limit for one file",
        ),
    ],
)
def test_extract_bounds_an_attachment_that_inflates_to_gigabytes(bomb, declared, message):
    stream, size, folder = bomb
    pdf_path = _pdf_with(folder / f"bomb-{declared}.pdf", {"content/big.md": b"small"})
    _set_stream(pdf_path, "content/big.md", stream, size if declared == "honest" else declared)
    assert pdf_path.stat().st_size < 4_000_000
    target = folder / f"out-{declared}"
    result = run_bounded(
        [sys.executable, str(ROOT / "build.py"), "--extract", str(pdf_path), str(target)],
        cwd=ROOT,
        mem_bytes=1024**3,
        cpu_seconds=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"{pdf_path}: error: {message} [extract.size]",
        f"extraction failed; {target}/ was not changed",
    ]
    assert not target.exists()


def test_extract_checks_what_an_attachment_declares(tmp_path, capsys):
    """The encoding is checked before DIR is touched; the content as it is inflated."""
    pdf_path = _pdf_with(tmp_path / "a.pdf", {"a.md": b"hello", "b.md": b"world", "c.md": b"x"})
    _set_stream(pdf_path, "a.md", zlib.compress(b"hello, and more"), 5)
    with pikepdf.open(pdf_path, allow_overwriting_input=True) as pdf:
        pdf.attachments["b.md"].get_file().obj.write(b"776f726c64>", filter=pikepdf.Name.ASCIIHexDecode)
        pdf.attachments["c.md"].get_file().obj.write(b"not zlib at all", filter=pikepdf.Name.FlateDecode)
        pdf.save(pdf_path, stream_decode_level=pikepdf.StreamDecodeLevel.none, compress_streams=False)
    target = tmp_path / "out"
    assert main(["--extract", str(pdf_path), str(target)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{pdf_path}: error: embedded file 'b.md' is encoded with /ASCIIHexDecode: only Flate (as the build writes) is read [extract.stream]",
        f"extraction failed; {target}/ was not changed",
    ]
    with pikepdf.open(pdf_path, allow_overwriting_input=True) as pdf:
        del pdf.attachments["b.md"]
        pdf.save(pdf_path, stream_decode_level=pikepdf.StreamDecodeLevel.none, compress_streams=False)
    assert main(["--extract", str(pdf_path), str(target)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{pdf_path}: error: embedded file 'a.md' declares 5 bytes but holds 15 [extract.stream]",
        f"{pdf_path}: error: embedded file 'c.md' is damaged: its stream does not inflate [extract.stream]",
        f"extraction failed; {target}/ was not changed",
    ]
    assert not target.exists()


def test_extract_bounds_the_total_and_the_number_of_files(tmp_path, capsys, monkeypatch):
    pdf_path = _pdf_with(tmp_path / "a.pdf", {f"f{n}.md": bytes(600) for n in range(4)})
    monkeypatch.setattr(extract_module, "MAX_TOTAL_BYTES", 1500)
    assert main(["--extract", str(pdf_path), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        f"{pdf_path}: error: embedded file 'f2.md' declares more than the 300 bytes left "
        "of the 1500-byte limit for all files [extract.size]"
    )
    monkeypatch.setattr(extract_module, "MAX_FILES", 3)
    assert main(["--extract", str(pdf_path), str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{pdf_path}: error: the PDF embeds more than 3 files, over the limit of 3 [extract.size]"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("names", "line"),
    [
        (["."], "embedded file '.' has no name [extract.name]"),
        ([""], "embedded file '' has no name [extract.name]"),
        (
            ["./a.md"],
            "embedded file './a.md' is not a plain path (write 'a/b', without '.', '//' or a trailing '/') [extract.name]",
        ),
        (
            ["a//b.md"],
            "embedded file 'a//b.md' is not a plain path (write 'a/b', without '.', '//' or a trailing '/') [extract.name]",
        ),
        (
            ["dir/"],
            "embedded file 'dir/' is not a plain path (write 'a/b', without '.', '//' or a trailing '/') [extract.name]",
        ),
        (
            [".git/config"],
            "embedded file '.git/config' has the hidden name '.git': an edition embeds none [extract.name]",
        ),
        (
            ["content/.env"],
            "embedded file 'content/.env' has the hidden name '.env': an edition embeds none [extract.name]",
        ),
        (["a\\b.md"], "embedded file 'a\\\\b.md' holds a control character or a backslash [extract.name]"),
        (["a\nb.md"], "embedded file 'a\\nb.md' holds a control character or a backslash [extract.name]"),
        (["/etc/x"], "embedded file '/etc/x' would land outside the folder [resource.refused]"),
        (["../x"], "embedded file '../x' would land outside the folder [resource.refused]"),
        (["a/../../x"], "embedded file 'a/../../x' would land outside the folder [resource.refused]"),
        (["x" * 256], f"embedded file '{'x' * 256}' has a name longer than 255 bytes [extract.name]"),
        (["x", "x/y"], "embedded files 'x' and 'x/y' clash: 'x' would be a file and a folder [extract.name]"),
        (
            ["a/b", "a/b/c/d"],
            "embedded files 'a/b' and 'a/b/c/d' clash: 'a/b' would be a file and a folder [extract.name]",
        ),
    ],
)
def test_extract_refuses_names_it_cannot_write_safely(tmp_path, capsys, names, line):
    pdf_path = _pdf_with(tmp_path / "a.pdf", {"ok.md": b"fine", **{n: b"data" for n in names}})
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.md").write_bytes(b"mine")
    assert main(["--extract", str(pdf_path), str(target)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{pdf_path}: error: {line}", f"extraction failed; {target}/ was not changed"]
    assert tree(target) == {"keep.md": b"mine"}
    assert tree(tmp_path).keys() == {"a.pdf", "out/", "out/keep.md"}


@pytest.mark.parametrize(
    ("existing", "line"),
    [
        ("file", "embedded file 'x/y.md' needs the folder {target}/x, which is not one [extract.name]"),
        ("link", "embedded file 'x/y.md' needs the folder {target}/x, which is not one [extract.name]"),
        ("folder", "embedded file 'x' would replace the folder {target}/x [extract.name]"),
    ],
)
def test_extract_never_writes_through_what_is_already_in_the_folder(tmp_path, capsys, existing, line):
    target = tmp_path / "out"
    target.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    names = {"x/y.md": b"data"} if existing != "folder" else {"x": b"data"}
    if existing == "file":
        (target / "x").write_bytes(b"a file")
    elif existing == "link":
        (target / "x").symlink_to(outside)
    else:
        (target / "x").mkdir()
    before = tree(target)
    pdf_path = _pdf_with(tmp_path / "a.pdf", names)
    assert main(["--extract", str(pdf_path), str(target)]) == 2
    assert capsys.readouterr().err.splitlines()[0] == f"{pdf_path}: error: {line.format(target=target)}"
    assert tree(target) == before and not any(outside.iterdir())


def test_extract_into_a_file_is_refused(tmp_path, capsys):
    pdf_path = _pdf_with(tmp_path / "a.pdf", {"a.md": b"x"})
    (tmp_path / "out").write_bytes(b"a file")
    assert main(["--extract", str(pdf_path), str(tmp_path / "out")]) == 2
    assert (
        capsys.readouterr().err.splitlines()[0]
        == f"error: the output folder {tmp_path / 'out'} is a file, not a folder; give --extract a folder [cli.option]"
    )


def test_an_interrupted_extraction_changes_nothing(tmp_path):
    pdf_path = _pdf_with(tmp_path / "a.pdf", {"a.md": b"new a", "b/c.md": b"new c"})
    target = tmp_path / "out"
    target.mkdir()
    (target / "a.md").write_bytes(b"old a")
    before = tree(target)
    process = subprocess.Popen(
        [sys.executable, WRAPPER, "rename:1", "--", "--extract", str(pdf_path), str(target)],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(process, "paused at rename:1")
    process.kill()
    process.wait()
    assert tree(target) != before
    # the next extraction into the folder restores it first, then extracts all
    assert main(["-q", "--extract", str(pdf_path), str(target)]) == 0
    assert tree(target) == {"a.md": b"new a", "b/": b"", "b/c.md": b"new c"}


# -- 5. outputs that keep the project's guarantees -------------------------------------------------


def _image(mode: str, fmt: str) -> bytes:
    colour = {"RGB": (200, 40, 40), "RGBA": (10, 20, 30, 128), "LA": (90, 128), "P": 3, "CMYK": (0, 200, 200, 0)}
    colour = colour.get(mode, 100)
    image = Image.new(mode, (40, 30), colour)
    data = io.BytesIO()
    image.save(data, format=fmt)
    return data.getvalue()


def test_images_of_every_kind_keep_the_pdfa_valid(tmp_path, capsys):
    kinds = {
        "rgb.png": ("RGB", "PNG"),
        "rgba.png": ("RGBA", "PNG"),
        "palette.png": ("P", "PNG"),
        "grey.png": ("L", "PNG"),
        "grey-alpha.png": ("LA", "PNG"),
        "bits.png": ("1", "PNG"),
        "sixteen.png": ("I;16", "PNG"),
        "photo.jpg": ("RGB", "JPEG"),
        "grey.jpg": ("L", "JPEG"),
        "press.jpg": ("CMYK", "JPEG"),
    }
    body = "".join(f"![{name}]({name})\n\n" for name in kinds)
    extra = {f"content/test/text/{name}": _image(*kind) for name, kind in kinds.items()}
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN, extra=extra)
    assert main(["-q", "--out", str(project / "dist")], project=project) == 0
    assert capsys.readouterr().err == ""
    assert pdfa_check.check(project / "dist/test-pdfa.pdf") == []
    with pikepdf.open(project / "dist/test-pdfa.pdf") as pdf:
        images = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
        assert len(images) >= len(kinds) and all(o.get("/Interpolate") is False for o in images)
        # the CMYK photograph, in RGB and in its colours (C 0, M 200, Y 200, K 0: a red)
        cmyk = [
            pikepdf.PdfImage(o).as_pil_image() for o in images if o.get("/Filter") == "/DCTDecode" and o.Width == 40
        ]
        assert {im.mode for im in cmyk} == {"RGB", "L"}
        colours = [im.getpixel((5, 5)) for im in cmyk if im.mode == "RGB"]
        assert any(r > 240 and 40 < g < 70 and 40 < b < 70 for r, g, b in colours), colours
    with pikepdf.open(project / "dist/test.pdf") as pdf:  # the print PDF keeps its smooth scaling
        assert pdfa_check.no_links_to_files(pdf) and pdfa_check.no_javascript(pdf)


LINK_BIB = """\
@online{fileurl,
  title = {A Local File},
  url = {file:///etc/passwd},
  date = {2001},
}
@online{script,
  title = {A Script},
  url = {javascript:alert(1)},
  date = {2002},
}
@online{upper,
  title = {An Upper-Case Script},
  url = {JavaScript:alert(2)},
  date = {2003},
}
@online{data,
  title = {A Data Address},
  url = {data:text/html,<b>x</b>},
  date = {2004},
}
@online{relative,
  title = {A Relative Address},
  url = {../../etc/passwd},
  date = {2005},
}
@online{nohost,
  title = {A Web Address Without Host},
  url = {https:///etc/passwd},
  date = {2006},
}
@online{good,
  title = {A Web Page},
  url = {https://example.org/page},
  date = {2007},
}
"""
LINK_KEYS = ["fileurl", "script", "upper", "data", "relative", "nohost", "good"]


def test_only_web_addresses_become_links_from_bibtex(tmp_path, capsys):
    calls = "".join(f"Claim {n}.[^{n}]\n" for n in range(1, len(LINK_KEYS) + 1))
    notes = "".join(f"\n[^{n}]: [@{key}]" for n, key in enumerate(LINK_KEYS, 1))
    project = make_project(tmp_path, sections={"01-one.md": section(calls + notes + "\n")}, bib=LINK_BIB)
    assert main(["-q", "--out", str(project / "dist")], project=project) == 0
    err = capsys.readouterr().err.replace(str(project) + "/", "").splitlines()
    bad = {
        "fileurl": "file:///etc/passwd",
        "script": "javascript:alert(1)",
        "upper": "JavaScript:alert(2)",
        "data": "data:text/html,<b>x</b>",
        "relative": "../../etc/passwd",
        "nohost": "https:///etc/passwd",
    }
    line = len(LINK_KEYS) + 5  # the note definitions follow the calls and a blank line
    expected = [
        f"{TEXT}:{line + n}: warning: the citation of {key!r} links to {bad[key]!r}, which is not an http(s) "
        "or mailto address: it is printed as text, not as a link [cite.link]"
        for n, key in enumerate(LINK_KEYS)
        if key in bad
    ]
    assert sorted(err) == sorted(expected)
    xhtml = b"".join(data for _, data in outputs.epub_spine(project / "dist/test.epub")).decode()
    assert anchors(xhtml) == {"https://example.org/page"}
    for name in ("test.pdf", "test-pdfa.pdf"):
        assert pdf_uris(project / "dist" / name) == {"https://example.org/page"}, name
    assert "file:///etc/passwd" in pdf_text(project / "dist/test.pdf")  # still printed, as text
    assert pdfa_check.check(project / "dist/test-pdfa.pdf") == []
    assert main(["-q", "--strict", "--out", str(project / "dist")], project=project) == 2


def test_only_web_and_mail_addresses_become_links_from_markdown(tmp_path):
    body = section(
        "[ftp](ftp://example.org/x) [scheme-relative](//evil.example/x) [relative](other.md) "
        "[mail-script](mailto:javascript:alert(1)) [upper](HTTPS://example.org/ok) "
        "[mail](mailto:someone@example.org) [plain](https://example.org/plain)\n"
    )
    project = make_project(tmp_path, sections={"01-one.md": body}, bib=BIB_MIN)
    result = build(project)
    assert result.returncode == 0, result.stderr
    expected = {"HTTPS://example.org/ok", "mailto:someone@example.org", "https://example.org/plain"}
    xhtml = dict(outputs.epub_spine(project / "dist/test.epub"))["test-01-one.xhtml"].decode()
    assert anchors(xhtml) == expected
    for name in ("test.pdf", "test-pdfa.pdf"):
        assert pdf_uris(project / "dist" / name) == expected, name


def test_links_in_a_readers_metadata_are_web_addresses_only(tmp_path):
    reader = (
        "title: Links\ncourse_code: T 1\ninstructor: I\ninstitution: U\nterm: T\n"
        "identifier: urn:uuid:00000000-0000-4000-8000-000000000077\ndate: 2027-01\nlanguage: en\nrights: R.\n"
        "introduction: 'See [a](ftp://example.org/a), [b](//evil.example/b) and [c](https://example.org/c).'\n"
        "readings:\n  - work: test\n"
    )
    project = make_project(tmp_path, bib=BIB_MIN, extra={"readers/links.yaml": reader})
    result = build(project, "links")
    assert result.returncode == 0, result.stderr
    xhtml = dict(outputs.epub_spine(project / "dist/links.epub"))["links-introduction.xhtml"].decode()
    assert anchors(xhtml) == {"https://example.org/c"}
    assert pdf_uris(project / "dist/links.pdf") == {"https://example.org/c"}


#: Reading titles and permission lines a spreadsheet would run, and how the CSV writes them
#: (an at sign is written ``\\@``: these lines are Markdown, where ``@x`` cites).
TITLES = {
    # printed as the title page prints it: with curly quotation marks
    '=HYPERLINK("http://evil.example","Click")': "'=HYPERLINK(“http://evil.example”,“Click”)",
    "+1+1": "'+1+1",
    "-2+3": "'-2+3",
    "\\@SUM(A1:A2)": "'@SUM(A1:A2)",
    "＝1+1": "'＝1+1",
    "A plain title": "A plain title",
}
PERMISSIONS = {
    "=cmd|' /C calc'!A0": "'=cmd|’ /C calc’!A0",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "' =1+1",  # a line break within a Markdown line prints as a space
    "  =1+1": "'  =1+1",
    "\n\\@x": "' @x",
    "Granted by the press.": "Granted by the press.",
}


def _yaml_string(value: str) -> str:
    return (
        '"'
        + value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")
        + '"'
    )


def test_the_permissions_report_runs_no_formula_in_a_spreadsheet(tmp_path):
    readings = "".join(
        f"  - work: test\n    title: {_yaml_string(title)}\n    permissions: {_yaml_string(permission)}\n"
        for title, permission in zip(TITLES, PERMISSIONS, strict=True)
    )
    reader = (
        "title: Formulas\ncourse_code: T 1\ninstructor: I\ninstitution: U\nterm: T\n"
        "identifier: urn:uuid:00000000-0000-4000-8000-000000000078\ndate: 2027-01\nlanguage: en\nrights: R.\n"
        "permissions_page: true\nreadings:\n" + readings
    )
    project = make_project(tmp_path, bib=BIB_MIN, extra={"readers/formulas.yaml": reader})
    result = build(project, "formulas", "--format", "epub")
    assert result.returncode == 0, result.stderr
    text = (project / "dist/formulas.permissions.csv").read_bytes().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["title"] for r in rows] == list(TITLES.values())
    assert [r["permissions"] for r in rows] == list(PERMISSIONS.values())
    assert [r["reading"] for r in rows] == [str(n) for n in range(1, len(TITLES) + 1)]  # numbers stay numbers
    for row in rows:
        for value in row.values():
            assert not value.lstrip(" \t\r\n").startswith(("=", "+", "-", "@", "＝")), value


def test_the_pdfa_embeds_only_the_templates_the_build_loads(tmp_path):
    extra = {
        "templates/.env": "SECRET=1\n",
        "templates/notes-to-self.txt": "private\n",
        "templates/print/print.css~": "old backup\n",
        "templates/epub/unused.xhtml": "<p>not used</p>\n",
        "templates/print/extra.css": "p { color: black; }\n",
    }
    project = make_project(tmp_path, bib=BIB_MIN, extra=extra)
    # a stylesheet @imported by print.css is loaded, so it is embedded
    css = project / "templates/print/print.css"
    css.write_text('@import url("extra.css");\n' + css.read_text(encoding="utf-8"), encoding="utf-8")
    assert build(project).returncode == 0
    with pikepdf.open(project / "dist/test-pdfa.pdf") as pdf:
        embedded = sorted(n for n in pdf.attachments if n.startswith("templates/"))
    assert embedded == [
        "templates/base.css",
        "templates/body/blocks.html",
        "templates/body/notes.html",
        "templates/body/pdfreading.html",
        "templates/body/table.html",
        "templates/epub/cover.xhtml",
        "templates/epub/cover.yaml",
        "templates/epub/epub.css",
        "templates/epub/nav.xhtml",
        "templates/epub/page.xhtml",
        "templates/epub/section.xhtml",
        "templates/epub/titlepage.xhtml",
        "templates/print/book.html",
        "templates/print/extra.css",
        "templates/print/press.css",
        "templates/print/print.css",
    ]
    # the same set whichever formats are built: the PDF/A is the same file
    only = build(project, "--format", "pdfa", "--force", out="only")
    assert only.returncode == 0
    assert (project / "only/test-pdfa.pdf").read_bytes() == (project / "dist/test-pdfa.pdf").read_bytes()


def test_a_sixteen_bit_grey_is_drawn_as_its_eight_bit_grey_turned_and_keyed():
    """WeasyPrint writes a 16-bit grey as 8-bit RGB noise; the layout is handed
    its 8-bit grey (rounded), turned as its EXIF says, its tRNS key an alpha."""
    from edition.layout.fetcher import printable

    picture = Image.new("I;16", (4, 2))
    for x, value in enumerate((65535, 32768, 0, 257)):
        picture.putpixel((x, 0), value)
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera held it turned: shown turned a quarter
    data = io.BytesIO()
    picture.save(data, format="PNG", transparency=32768, exif=exif.tobytes())
    with Image.open(io.BytesIO(printable(data.getvalue(), "image/png"))) as drawn:
        assert (drawn.mode, drawn.size) == ("LA", (2, 4))
        assert [drawn.getpixel((1, y)) for y in range(4)] == [(255, 255), (128, 0), (0, 255), (1, 255)]
    assert printable(b"not an image", "image/png") == b"not an image"
