"""Manuscripts made to hurt (issue 25's review): packages pointing outside
themselves, pictures declared huge, XML nested past reason or in UTF-16, ZIPs
with odd member names, a real encrypted file, names that collide or break a
line. Each gets one diagnostic line (or imports), never a traceback, never a
byte read from outside the file, never a file written outside the project.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import zipfile
import zlib
from pathlib import Path

import pytest

from . import manuscripts
from .test_import import run_cli

W_NS = manuscripts.W_NS


def _picture_docx(path: Path, descr: str = "A red block") -> Path:
    blocks = [("Normal", manuscripts.picture("rIdPng", descr=descr)), ("Normal", manuscripts.text_run("Text."))]
    return manuscripts.word_document(path, blocks, media={"rIdPng": ("image1.png", manuscripts.png())})


def _with_image_target(tmp_path: Path, target: str, external: bool, link_only: bool = False) -> Path:
    """The picture's relationship pointed at ``target`` (``r:link``: Word's
    "Link to File" without a copy in the document)."""
    source = _picture_docx(tmp_path / "source.docx")
    mode = ' TargetMode="External"' if external else ""

    def retarget(data: bytes) -> bytes:
        changed = re.sub(
            rb'(/image" Target=")[^"]*"', lambda m: m.group(1) + target.encode() + b'"' + mode.encode(), data
        )
        assert changed != data
        return changed

    out = tmp_path / "linked.docx"
    manuscripts.rewrite_member(source, out, "word/_rels/document.xml.rels", retarget)
    if link_only:
        again = tmp_path / "link-only.docx"
        manuscripts.rewrite_member(out, again, "word/document.xml", lambda d: d.replace(b"r:embed=", b"r:link="))
        return again
    return out


@pytest.fixture
def listener():
    """A local server that counts the connections made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    connections = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connections.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize(
    ("target", "external", "link_only"),
    [
        ("http://127.0.0.1:{port}/map.png", True, True),  # Word: Insert > Pictures > Link to File
        ("http://127.0.0.1:{port}/map.png", True, False),
        ("file:///etc/passwd", True, False),
        ("../../../../etc/passwd", False, False),
        ("/etc/passwd", False, False),
    ],
)
def test_a_picture_outside_the_file_is_refused_and_never_read(target, external, link_only, listener, tmp_path, capsys):
    """Pandoc drops such a picture without a word: the import refuses it,
    naming it, and nothing is fetched."""
    port, connections = listener
    target = target.format(port=port)
    path = _with_image_target(tmp_path, target, external, link_only)
    status, out, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 2 and out == []
    assert err[0] == (
        f"{path}: error: the text shows a picture linked to a file outside the document ({target}), which the "
        "import never reads: insert the picture into the document itself (Word: Insert > Pictures > This Device; "
        "or Edit Links to Files > Save picture in document) and import again [import.image]"
    )
    assert connections == []
    assert not (tmp_path / "project/content").exists()


def test_an_odt_picture_linked_outside_the_file_is_refused(tmp_path, capsys):
    source = manuscripts.pandoc_manuscript(
        tmp_path / "source.odt", "# One\n\n![A plan](plan.png)\n", {"plan.png": manuscripts.png()}
    )

    def relink(data: bytes) -> bytes:
        changed = re.sub(rb'xlink:href="Pictures/[^"]*"', b'xlink:href="../../etc/plan.png"', data)
        assert changed != data
        return changed

    path = manuscripts.rewrite_member(source, tmp_path / "linked.odt", "content.xml", relink)
    status, _, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 2 and "(../../etc/plan.png)" in err[0] and err[0].endswith("[import.image]")


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` pixels (its data is a few bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("size", "said"),
    [
        ((100_000, 100_000), "has more pixels than Pillow opens (a decompression bomb?)"),
        ((9_000, 9_000), "has 9000 x 9000 pixels"),
    ],
)
def test_a_picture_declared_huge_is_refused_for_its_size(size, said, tmp_path, capsys):
    source = _picture_docx(tmp_path / "source.docx")
    path = manuscripts.rewrite_member(
        source, tmp_path / "huge.docx", "word/media/image1.png", lambda _: _png_declaring(*size)
    )
    status, _, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 2
    assert err[0].startswith(f"{path}: error: image 1 (word/media/image1.png) {said}, over the limit of ")
    assert err[0].endswith("[file.size]")


def _document(body: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="'
        + W_NS.encode()
        + b'"><w:body>'
        + body
        + b"</w:body></w:document>"
    )


def test_xml_nested_past_reason_is_refused_as_such(tmp_path, capsys):
    deep = b"<w:tbl><w:tr><w:tc>" * 100 + b"<w:p/>" + b"</w:tc></w:tr></w:tbl>" * 100
    source = manuscripts.small_word(tmp_path / "source.docx", [manuscripts.text_run("Text.")])
    path = manuscripts.rewrite_member(source, tmp_path / "deep.docx", "word/document.xml", lambda _: _document(deep))
    status, _, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 2
    assert err[0] == (
        f"{path}: error: the part 'word/document.xml' nests its XML more than 256 levels deep (tables in tables in "
        "tables …), past what the import reads; flatten the document [import.format]"
    )


def test_a_part_in_utf16_is_read(tmp_path, capsys):
    """XML may be UTF-16 (the standard allows it); Pandoc reads UTF-8 only."""
    source = manuscripts.small_word(tmp_path / "source.docx", [manuscripts.text_run("Grüße aus Köln.")])

    def utf16(data: bytes) -> bytes:
        return data.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1).encode("utf-16")

    path = manuscripts.rewrite_member(source, tmp_path / "wide.docx", "word/document.xml", utf16)
    status, _, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 0, err
    assert "Grüße aus Köln." in (tmp_path / "project/content/wide/text/01-a-short-manuscript.md").read_text(
        encoding="utf-8"
    )


def test_a_password_protected_file_made_by_word_s_encryption_is_refused(tmp_path, capsys):
    """A real encrypted package (ECMA-376 agile encryption, as Word writes it)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = manuscripts.small_word(tmp_path / "plain.docx", [manuscripts.text_run("Secret text.")])
    path = tmp_path / "secret.docx"
    with plain.open("rb") as source, path.open("wb") as out:
        OOXMLFile(source).encrypt("password", out)
    status, _, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 2 and err[0].endswith("[import.encrypted]") and len(err) == 2


def _zip_with(tmp_path: Path, name: str, extra_name: str) -> Path:
    source = manuscripts.small_word(tmp_path / "source.docx", [manuscripts.text_run("Odd members.")])
    path = tmp_path / name
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        info = zipfile.ZipInfo("placeholder")
        info.filename = extra_name  # as written, unsanitised
        zout.writestr(info, b"<x/>")
    return path


@pytest.mark.parametrize(
    "member", ["../../escaped.xml", "/etc/escaped.xml", "..\\..\\escaped.xml", "word/" + "a" * 5000 + ".xml"]
)
def test_odd_member_names_are_data_never_paths(member, tmp_path, capsys):
    path = _zip_with(tmp_path, "odd.docx", member)
    project = tmp_path / "in" / "project"
    status, _, err = run_cli(["--import", str(path)], project, capsys)
    assert status == 0, err
    assert not list(tmp_path.rglob("escaped.xml"))
    assert sorted(p.name for p in (project / "content/odd").rglob("*") if p.is_file()) == [
        "01-a-short-manuscript.md",
        "work.yaml",
    ]


def test_a_zip64_package_is_read(tmp_path, capsys):
    source = manuscripts.small_word(tmp_path / "source.docx", [manuscripts.text_run("Zip64 text.")])
    path = tmp_path / "wide.docx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            with zout.open(info.filename, "w", force_zip64=True) as member:
                member.write(zin.read(info))
    assert run_cli(["--import", str(path)], tmp_path / "project", capsys)[0] == 0


@pytest.mark.parametrize(("name", "other"), [("swapped.odt", ".docx"), ("swapped.docx", ".odt")])
def test_a_manuscript_named_for_the_other_format_is_read_as_what_it_is(name, other, tmp_path, capsys):
    if other == ".docx":
        source = manuscripts.small_word(tmp_path / "source.docx", [manuscripts.text_run("Named wrong.")])
    else:
        source = manuscripts.pandoc_manuscript(tmp_path / "source.odt", "Named wrong.\n")
    path = tmp_path / name
    path.write_bytes(source.read_bytes())
    status, _, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 0, err
    assert "Named wrong." in "".join(p.read_text() for p in (tmp_path / "project/content/swapped/text").glob("*.md"))


def test_a_slug_that_names_a_course_reader_is_refused(tmp_path, capsys):
    """The build refuses a work and a reader of one name (both would write
    dist/<slug>.pdf): the import must not make such a work."""
    project = tmp_path / "project"
    (project / "readers").mkdir(parents=True)
    (project / "readers/hist389.yaml").write_text("title: A reader\n", encoding="utf-8")
    path = manuscripts.small_word(tmp_path / "hist389.docx", [manuscripts.text_run("Text.")])
    for argv in (["--import", str(path)], ["--import", str(path), "--slug", "hist389"]):
        status, _, err = run_cli(argv, project, capsys)
        assert status == 2
        assert err[0] == (
            "readers/hist389.yaml: error: a course reader has the name 'hist389', and a work cannot share it (both "
            "would write dist/hist389.pdf); import the manuscript under another name (--slug hist389-text) "
            "[import.exists]"
        )
    assert not (project / "content").exists()


def test_a_file_name_with_a_line_break_is_shown_on_one_line(tmp_path, capsys):
    path = manuscripts.small_word(tmp_path / "My chapter\nfinal.docx", [manuscripts.text_run("Text.")])
    status, out, _ = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 0
    assert out[0].startswith("imported My chapter\\nfinal.docx as content/my-chapter-final/: 1 section(s)")
    assert (
        "# Imported from My chapter\\nfinal.docx"
        in (tmp_path / "project/content/my-chapter-final/work.yaml").read_text()
    )


def test_pandoc_s_failure_is_one_line_without_its_backtrace(tmp_path, capsys):
    """A document part Pandoc cannot decode (named so that no check parses it
    as XML first): its message, without the Haskell backtrace after it."""
    source = manuscripts.small_word(tmp_path / "source.docx", [manuscripts.text_run("Text.")])
    path = manuscripts.rewrite_member(
        source,
        tmp_path / "astray.docx",
        "_rels/.rels",
        lambda d: d.replace(b'Target="word/document.xml"', b'Target="word/document.dat"'),
        add={"word/document.dat": b"\xff\xfe<w:document/>"},
    )
    status, _, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 2 and len(err) == 2
    assert err[0].startswith(f"{path}: error: Pandoc cannot read the file: ")
    assert err[0].endswith("[import.format]") and "HasCallStack" not in err[0] and "backtrace" not in err[0]


def test_a_work_name_too_long_for_a_file_name_is_refused_or_cut(tmp_path, capsys):
    path = manuscripts.small_word(tmp_path / ("Chapter" + "x" * 240 + ".docx"), [manuscripts.text_run("Text.")])
    status, _, err = run_cli(["--import", str(path), "--slug", "a" * 300], tmp_path / "project", capsys)
    assert status == 2
    assert err[0] == (
        "error: --slug is 300 characters long, over the limit of 100 for a work's name (its files' names hold it); "
        "give a shorter one [file.name]"
    )
    status, out, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 0, err
    assert out[-1] == f"build it with: python build.py {('chapter' + 'x' * 240)[:100]} --check"
