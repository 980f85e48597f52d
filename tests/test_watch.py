"""The edit loop: a real ``python build.py --watch`` on a small project, real saves,
and the ``--serve`` preview in a real headless Chromium."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import subprocess
import time
import zipfile
from pathlib import Path

from edition.loop import watched
from edition.loop.dependents import Dependents, Inputs
from edition.loop.watched import DEBOUNCE_MS

from .cdp import Browser
from .projects import BIB_MIN, make_project, section, small_project
from .watcher import TIMEOUT, Watcher

FORMATS = ("--format", "epub", "--format", "pdf")
BAD_LINE = (
    "content/test/text/01-one.md:4: error: note [^9] is called but never defined; "
    "add a line '[^9]: ...' [md.footnote-undefined]"
)


def save(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def epub_text(path: Path) -> str:
    with zipfile.ZipFile(path) as epub:
        return epub.read("EPUB/test-01-one.xhtml").decode()


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# -- --watch ---------------------------------------------------------------------


def test_a_save_rebuilds_the_edition(tmp_path, watch):
    project = small_project(tmp_path)
    dist = project / "dist"
    watcher = watch(project, *FORMATS, "--out", "dist")
    watcher.expect(r"^test: outputs ready")
    assert "First words" in epub_text(dist / "test.epub")
    assert "First words" in pdf_text(dist / "test.pdf")
    save(project / "content/test/text/01-one.md", section("Second words, saved while watching.\n"))
    watcher.expect(r"^test: input checked \(\d+\.\d\d s after the save\)$")
    watcher.expect(r"^test: building$")
    watcher.expect(r"^built test\.preflight\.json, test\.epub, test\.pdf")
    watcher.expect(r"^test: outputs ready")
    assert "Second words, saved while watching" in epub_text(dist / "test.epub")
    assert "Second words, saved while watching" in pdf_text(dist / "test.pdf")
    assert watcher.interrupt() == 130
    assert list(watcher.tmp.iterdir()) == [], "temporary files were left"


def test_a_temporary_folder_too_long_for_a_socket_is_no_traceback(tmp_path, watch):
    """The fork server's socket is made in the temporary folder; a ``TMPDIR``
    longer than a socket's path may be (107 bytes) is worked around (the
    loop started with a traceback), and nothing is left in it."""
    project = small_project(tmp_path / ("long-" * 14) / "project")
    watcher = watch(project, "--format", "epub", "--out", "dist")
    assert len(os.fsencode(watcher.tmp)) > 107
    watcher.expect(r"^test: outputs ready")
    assert watcher.interrupt() == 130
    assert not any("Traceback" in line for line in watcher.output)
    assert list(watcher.tmp.iterdir()) == [], "temporary files were left"


def test_a_bad_save_prints_the_diagnostic_and_keeps_the_outputs(tmp_path, watch):
    project = small_project(tmp_path)
    watcher = watch(project, "--format", "pdf", "--out", "dist")
    watcher.expect(r"^test: outputs ready")
    before = snapshot(project / "dist")
    save(project / "content/test/text/01-one.md", section("A call to a note never written.[^9]\n"))
    assert watcher.expect(r"error: ").string == BAD_LINE
    watcher.expect(r"^test: 1 error\(s\) in the input \(.*\); dist/ keeps the last good build$")
    assert snapshot(project / "dist") == before
    # the fix is seen too
    save(project / "content/test/text/01-one.md", section("Mended words.\n"))
    watcher.expect(r"^test: outputs ready")
    assert "Mended words" in pdf_text(project / "dist/test.pdf")
    assert watcher.interrupt() == 130


def test_ctrl_c_stops_cleanly_even_during_a_build(tmp_path, watch):
    project = small_project(tmp_path)
    watcher = watch(project, *FORMATS, "--out", "dist")
    watcher.expect(r"^test: outputs ready")
    before = snapshot(project / "dist")
    save(project / "content/test/text/01-one.md", section("Interrupted words.\n"))
    watcher.expect(r"^test: building$")
    code = watcher.interrupt()  # at once: the build has just started
    assert code == 130
    assert watcher.output[-1] == "stopped watching"
    assert not any("Traceback" in line for line in watcher.output), "\n".join(watcher.output)
    if "build interrupted; dist/ was not changed" in watcher.output:
        assert snapshot(project / "dist") == before
    else:  # the build was quicker than the signal: its outputs are whole
        assert sorted(snapshot(project / "dist")) == sorted(before)
        assert "Interrupted words" in pdf_text(project / "dist/test.pdf")
    assert list(watcher.tmp.iterdir()) == [], "temporary files were left"


def test_a_save_during_a_build_is_built_with_the_newest_text(tmp_path, watch):
    project = small_project(tmp_path)
    watcher = watch(project, *FORMATS, "--out", "dist")
    watcher.expect(r"^test: outputs ready")
    path = project / "content/test/text/01-one.md"
    save(path, section("Words of the first save.\n"))
    watcher.expect(r"^test: building$")
    save(path, section("Words of the second save.\n"))  # the build of the first is under way
    while "second save" not in pdf_text(project / "dist/test.pdf"):
        watcher.expect(r"^test: outputs ready")
    assert "Words of the second save" in epub_text(project / "dist/test.epub")
    assert watcher.interrupt() == 130
    assert not any("Traceback" in line for line in watcher.output), "\n".join(watcher.output)


def test_only_the_editions_a_save_affects_are_rebuilt(tmp_path, watch):
    project = small_project(tmp_path)
    make_project(project, slug="other", sections={"01-one.md": section("Another work.\n")}, bib=BIB_MIN)
    watcher = watch(project, "--format", "pdf", "--out", "dist")
    watcher.expect(r"^other, test: outputs ready")
    save(project / "content/other/text/01-one.md", section("Another work, edited.\n"))
    assert watcher.expect(r": building$").string == "other: building"
    watcher.expect(r"^other: outputs ready")
    save(project / "bib/test.bib", BIB_MIN.replace("Kim Il Sung", "Kim Il Sung: A Biography"))
    assert watcher.expect(r": building$").string == "test: building"
    watcher.expect(r"^test: outputs ready")
    assert watcher.interrupt() == 130


def test_which_editions_depend_on_a_file(tmp_path):
    project = tmp_path
    deps = Dependents(project)
    deps.learn("a", Inputs(frozenset({"a"}), frozenset({project / "content/a/work.yaml", project / "bib/a.bib"})))
    pdf = project / "readers/readings/guide.pdf"
    deps.learn("r", Inputs(frozenset({"a"}), frozenset({project / "readers/r.yaml", project / "bib/a.bib", pdf})))
    deps.learn("b", Inputs(frozenset({"b"}), frozenset({project / "bib/b.bib"})))
    watched = ["a", "b", "r", "new"]  # "new" was never read: it depends on every input
    assert deps.affected([project / "content/a/text/02-new.md"], watched) == ["a", "r", "new"]
    assert deps.affected([project / "bib/b.bib"], watched) == ["b", "new"]
    assert deps.affected([project / "readers/r.yaml"], watched) == ["r"]
    assert deps.affected([pdf], watched) == ["r", "new"]
    assert deps.affected([project / "templates/base.css"], watched) == watched
    assert deps.affected([project / "dist/a.pdf", project / "content/notes.txt"], watched) == []


# -- --serve ---------------------------------------------------------------------


def serving(watch, project: Path) -> tuple[Watcher, str]:
    watcher = watch(project, "--serve", "--port", "0", *FORMATS, "--out", "dist")
    url = watcher.expect(r"^preview at (http://127\.0\.0\.1:\d+/)$").group(1)
    watcher.expect(r"^test: outputs ready")
    return watcher, url


def get(url: str, path: str, host: str | None = None) -> tuple[int, bytes]:
    """A request with ``path`` sent exactly as written (no client-side normalizing)."""
    address = url.removeprefix("http://").rstrip("/")
    connection = http.client.HTTPConnection(address, timeout=TIMEOUT)
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", host or address)
    connection.endheaders()
    response = connection.getresponse()
    return response.status, response.read()


FRAME_TEXT = "document.getElementById('view').contentDocument.body.textContent"
DIAGNOSTICS = "document.getElementById('diagnostics').textContent"


def shown(browser: Browser, expression: str) -> str:
    """The page's ``expression``, or "" while the page is being replaced."""
    try:
        return browser.evaluate(expression) or ""
    except RuntimeError:  # no such element yet, or the old page's context is gone
        return ""


def test_the_preview_reloads_with_the_new_text_and_shows_the_diagnostics(tmp_path, watch):
    project = small_project(tmp_path)
    save(project / "content/test/text/02-two.md", section("The second section.\n", title="Two"))
    watcher, url = serving(watch, project)
    browser = Browser(tmp_path / "profile")
    try:
        browser.navigate(url + "?e=test&p=test-01-one.xhtml")
        assert "First words of the test." in browser.evaluate(FRAME_TEXT)
        fonts = (  # the EPUB's own fonts, served with its pages
            "document.getElementById('view').contentDocument.fonts.ready.then("
            "(fonts) => [...fonts].filter((f) => f.status === 'loaded').map((f) => f.family))"
        )
        assert "Charis Edition" in browser.evaluate(fonts)
        # a save in another section: the page reloads on that section's page
        save(project / "content/test/text/02-two.md", section("Words the browser sees next.\n", title="Two"))
        while "Words the browser sees next." not in shown(browser, FRAME_TEXT):
            browser.wait_event("Page.loadEventFired")  # the page reloads when the preview or the build is ready
        assert browser.evaluate("location.search") == "?e=test&p=test-02-two.xhtml"
        save(project / "content/test/text/01-one.md", section("A call to a note never written.[^9]\n"))
        while BAD_LINE not in shown(browser, DIAGNOSTICS):
            browser.wait_event("Page.loadEventFired")
        assert "Words the browser sees next." in browser.evaluate(FRAME_TEXT)  # the last good preview stays
    finally:
        browser.close()
    assert watcher.interrupt() == 130


def test_the_preview_serves_only_what_it_shows(tmp_path, watch):
    project = small_project(tmp_path)
    (tmp_path / "secret.txt").write_text("not for the browser")
    watcher, url = serving(watch, project)
    status, body = get(url, "/epub/test/test-01-one.xhtml")
    assert status == 200 and b"First words of the test." in body
    assert get(url, "/epub/test/css/base.css")[0] == 200
    assert get(url, "/epub/test/fonts/CharisSIL-Regular.ttf")[0] == 200
    status, body = get(url, "/pdf/test.pdf")
    assert status == 200 and body.startswith(b"%PDF-")
    for path in (
        "/epub/test/../../secret.txt",
        "/epub/test/%2e%2e/%2e%2e/secret.txt",
        "/epub/test/..%2f..%2fsecret.txt",
        "/epub/test/%252e%252e/%252e%252e/secret.txt",
        "/epub/test/..%5c..%5csecret.txt",
        "/epub/test//etc/passwd",
        "/epub/test/%2fetc%2fpasswd",
        "//etc/passwd",
        "/etc/passwd",
        str(tmp_path / "secret.txt"),
        "/epub/../secret.txt",
        "/pdf/..%2fsecret.txt",
        "/pdf/../test/test.pdf",
        "/epub/test/%00",
        "/content/test/text/01-one.md",
        "/dist/test.pdf",
        "/build.py",
    ):
        status, body = get(url, path)
        assert status == 404, path
        assert b"not for the browser" not in body and b"root:" not in body
    assert get(url, "/", host="attacker.example:80")[0] == 403  # no DNS rebinding
    assert watcher.interrupt() == 130


def test_the_preview_carries_the_fonts_of_every_script_it_shows(tmp_path):
    from edition.loop.preview import check

    project = make_project(tmp_path, sections={"01-one.md": section("The word [λόγος]{lang=grc}.\n")}, bib=BIB_MIN)
    sent: list[tuple] = []
    check(sent.append, project, ["test"], [], True, None)
    book = next(message[2] for message in sent if message[0] == "preview")
    assert "λόγος" in book.files["test-01-one.xhtml"].decode()
    urls = re.findall(r'url\("\.\./(fonts/[^"]+)"\)', book.files["css/base.css"].decode())
    assert "fonts/CharisSIL-Regular.ttf" in urls
    assert any(url.startswith("fonts/EditionGreek") for url in urls)
    assert all(url in book.files for url in urls), "a font the stylesheet names is not served"


# -- only the project's own files (issue 27) -------------------------------------------


def test_changes_outside_the_project_never_reach_the_loop(tmp_path, watch):
    """A link in the work's folder to a folder elsewhere: each change out there
    was a save in the work (60 writes, 61 cancelled builds, no output in a
    minute). Nor does a hidden file (an editor's lock) start a build."""
    project = small_project(tmp_path / "p")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "content/test/ext").symlink_to(elsewhere)
    watcher = watch(project, "--format", "epub", "--out", "dist")
    watcher.expect(r"^test: outputs ready")
    for number in range(30):
        (elsewhere / f"{number}.md").write_text(f"written elsewhere {number}\n", encoding="utf-8")
        time.sleep(0.02)
    (project / "content/test/text/.#01-one.md").write_text("an editor's lock\n", encoding="utf-8")
    time.sleep(DEBOUNCE_MS / 1000 + 0.5)  # any batch of those would have reached the loop by now
    save(project / "content/test/text/01-one.md", section("Words saved after the writes elsewhere.\n"))
    watcher.expect(r"^test: outputs ready")
    assert "Words saved after the writes elsewhere" in epub_text(project / "dist/test.epub")
    assert watcher.interrupt() == 130
    assert [line for line in watcher.output if line == "test: building"] == ["test: building"] * 2, watcher.output
    assert not any("cancelling" in line for line in watcher.output), watcher.output


def test_the_loop_watches_only_the_projects_own_folders(tmp_path):
    project = small_project(tmp_path / "p")
    content = project / "content"
    (content / "test/usr").symlink_to("/usr")  # out of the project: never walked (it was, whole)
    (content / "test/root").symlink_to("../..")  # the project's root: holds dist/ and the caches
    (content / "test/loop").symlink_to(".")
    (content / "test/.git").mkdir()  # hidden: the build never reads it
    (project / "common/text").mkdir(parents=True)
    (content / "test/common").symlink_to("../../common")  # inside the project: followed once
    (content / "test/dist").mkdir()
    started = time.monotonic()
    found = watched.folders(project, content / "test/dist")
    assert time.monotonic() - started < 1
    names = [f.relative_to(project).as_posix() for f in found]
    assert [n for n in names if not n.startswith("templates/")] == [
        "content",
        "bib",
        "templates",
        "content/test",
        "content/test/common",
        "content/test/text",
        "content/test/common/text",
    ]
    assert {n for n in names if n.startswith("templates/")} == {
        p.relative_to(project).as_posix() for p in (project / "templates").rglob("*") if p.is_dir()
    }
    assert watched.relevant(content / "test/common/text/a.md", project)
    assert not watched.relevant(content / "test/usr/bin/python3", project)
    assert not watched.relevant(content / "test/text/.#01-one.md", project)
    assert not watched.relevant(tmp_path / "elsewhere.md", project)


def test_the_folders_watched_are_bounded(tmp_path, monkeypatch):
    project = small_project(tmp_path / "p")
    for number in range(20):
        (project / f"content/test/many/{number:02d}").mkdir(parents=True)
    monkeypatch.setattr(watched, "MAX_FOLDERS", 10)
    assert len(watched.folders(project)) == 10


def test_a_folder_made_while_watching_is_watched(tmp_path, watch):
    """Each folder is watched on its own (a recursive watch follows links out):
    a new folder, and the file saved in it, are seen all the same."""
    project = small_project(tmp_path / "p")
    watcher = watch(project, "--format", "epub", "--out", "dist")
    watcher.expect(r"^test: outputs ready")
    figures = project / "content/test/figures"
    figures.mkdir()
    (figures / "map.png").write_bytes(_png((200, 40, 40)))
    save(project / "content/test/text/01-one.md", section("A map.\n\n![A map](../figures/map.png)\n"))
    watcher.expect(r"^test: outputs ready")
    (figures / "map.png").write_bytes(_png((40, 40, 200)))  # only the image changes
    watcher.expect(r"^test: input checked")
    watcher.expect(r"^test: outputs ready")
    with zipfile.ZipFile(project / "dist/test.epub") as epub:
        images = [n for n in epub.namelist() if n.startswith("EPUB/images/test-")]
        assert [epub.read(n) for n in images] == [_png((40, 40, 200))]
    assert watcher.interrupt() == 130


def _png(colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    data = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(data, format="PNG")
    return data.getvalue()


def _cancelled_at_start(send, alive) -> None:
    """A child that the loop cancels while it is starting: SIGTERM arrives as it
    starts its thread (``children._child_main``'s first steps)."""
    import threading as real

    from edition.loop import children

    class Thread(real.Thread):
        def start(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler runs here
            super().start()

    children.threading.Thread = Thread  # type: ignore[misc] - in this forked child only
    children._child_main("check", send, alive)


def test_a_child_cancelled_as_it_starts_says_nothing_but_its_exit():
    """A save during the first steps of a build's child printed a traceback
    (``Terminated`` raised before the child's ``try``)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    alive, _keep = context.Pipe(duplex=False)
    process = context.Process(target=_cancelled_at_start, args=(send, alive))
    process.start()
    send.close()
    messages = []
    with contextlib.suppress(EOFError):
        while receive.poll(30):
            messages.append(receive.recv())
    process.join(30)
    assert not any("Traceback" in str(m) for m in messages), messages
    assert messages[-1] == ("exit", 130)
