"""A manuscript's package, checked before Pandoc or anything else reads it.

A ``.docx`` and an ``.odt`` are ZIP packages of XML parts and media, and the
file may come from anyone. Before a byte of it is interpreted:

- the file is read as a regular file (not a pipe, a device or a folder), at
  most ``MAX_FILE_BYTES``;
- an OLE compound file is what Word writes for a file with a password (its
  ``EncryptedPackage`` stream) and for the old ``.doc``: both are refused,
  each with its own fix;
- the ZIP is read member by member within bounds (``MAX_MEMBERS`` members,
  each at most ``MAX_MEMBER_BYTES``, all together ``MAX_UNPACKED_BYTES``, none
  inflating more than ``MAX_RATIO`` times its packed size when over 1 MiB), so
  a small file that inflates to gigabytes (a zip bomb) is refused from its
  directory, and a member that holds more than it declares fails its check;
- a package carrying macros (``vbaProject.bin``, a ``.docm``'s content type,
  Basic modules in an ``.odt``) is refused: nothing in it is ever run;
- every XML part is parsed with lxml without entities, DTDs or the network,
  and one that declares a DOCTYPE (Word and LibreOffice never write one) is
  refused.

Pandoc then reads ``Package.repacked()``: a new ZIP of exactly the members
checked here (an XML part in UTF-16, which the standard allows and Pandoc
does not read, re-encoded as UTF-8), so that it never sees a byte the checks
did not (two ZIP readers can disagree on an ambiguous archive).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from edition.diagnostics import BuildFailed, Diagnostic
from edition.model import SourceLocation

#: Largest manuscript file read (a long book with its images).
MAX_FILE_BYTES = 256 * 1024 * 1024
#: Most members of the package.
MAX_MEMBERS = 10_000
#: Largest member, inflated.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
#: Most bytes all members inflate to.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
#: Most a member over 1 MiB may inflate, times its packed size (XML packs 5 to
#: 20 times; a zip bomb thousands of times).
MAX_RATIO = 200
SMALL_MEMBER = 1024 * 1024

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
#: ODF Basic modules and scripts (the library index files alone are no macro).
ODF_MACRO_RE = re.compile(r"^(?:Basic|Scripts)/.+/(?!script-lb\.xml$|dialog-lb\.xml$)[^/]+$")

#: How deep libxml2 nests elements without its "huge" option (which stays off).
XML_DEPTH = 256
SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass
class Package:
    """The checked members of a manuscript, by name, in the archive's order."""

    path: Path
    kind: str  # "docx" or "odt"
    members: dict[str, bytes]
    digest: bytes = b""  # the SHA-256 of the file's bytes
    _xml: dict[str, etree._Element] = field(default_factory=dict)

    def xml(self, name: str) -> etree._Element | None:
        """A member's XML root (parsed and checked when the package was read)."""
        return self._xml.get(name)

    def repacked(self) -> bytes:
        """A ZIP of exactly the checked members (stored: Pandoc reads it at once)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
            for name, data in self.members.items():
                out.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
        return buffer.getvalue()


def refuse(path: Path, code: str, message: str) -> BuildFailed:
    return BuildFailed([Diagnostic(SourceLocation(path), code, message)])


def read_package(path: Path) -> Package:
    """The manuscript at ``path``, checked; ``BuildFailed`` with one diagnostic if not."""
    data = _read_file(path)
    if data.startswith(OLE_MAGIC):
        raise _ole_refusal(path, data)
    if not data.startswith(ZIP_MAGIC):
        raise refuse(
            path,
            "import.format",
            "this is not a Word (.docx) or OpenDocument (.odt) file (those are ZIP packages); "
            "open it in Word or LibreOffice and save it as .docx",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError) as exc:
        raise refuse(path, "import.format", f"the file is damaged: its ZIP directory cannot be read ({exc})") from None
    _check_directory(path, infos)
    members = _read_members(path, archive, infos)
    kind = _kind(path, members)
    _check_macros(path, kind, members)
    if kind == "odt":
        _check_odf_encryption(path, members)
    package = Package(path, kind, members, hashlib.sha256(data).digest())
    for name, content in list(members.items()):
        if name.endswith((".xml", ".rels")):
            root = package._xml[name] = _parse_xml(path, name, content)
            if (root.getroottree().docinfo.encoding or "UTF-8").upper() not in ("UTF-8", "UTF8"):
                # XML may be UTF-16 (the standard allows it); Pandoc reads UTF-8 only
                members[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return package


def _read_file(path: Path) -> bytes:
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise refuse(path, "file.missing", "no such file") from None
    except OSError as exc:
        raise refuse(path, "file.unreadable", f"the file cannot be read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise refuse(path, "file.unreadable", "this path is not a file; give the manuscript's .docx or .odt file")
        if info.st_size > MAX_FILE_BYTES:
            raise refuse(
                path,
                "file.size",
                f"the file is {info.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit for a manuscript; "
                "make its images smaller, or split it",
            )
        try:
            data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise refuse(path, "file.unreadable", f"the file cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise refuse(path, "file.size", f"the file grew over the {MAX_FILE_BYTES}-byte limit while it was read")
    return data


def _ole_refusal(path: Path, data: bytes) -> BuildFailed:
    """Word saves a file with a password as an OLE compound file holding an
    ``EncryptedPackage`` stream; any other OLE file is a Word 97-2003 ``.doc``
    (or not a Word file at all)."""
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        return refuse(
            path,
            "import.encrypted",
            "the file is encrypted with a password; remove the password (Word: File > Info > Protect Document > "
            "Encrypt with Password, empty; LibreOffice: File > Properties > Security) and import it again",
        )
    return refuse(
        path,
        "import.format",
        "this is a Word 97-2003 .doc file (an OLE compound file), which the import does not read; "
        "open it in Word or LibreOffice and save it as .docx",
    )


def _check_directory(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """The ZIP directory within bounds, before anything is inflated."""
    if len(infos) > MAX_MEMBERS:
        raise refuse(path, "file.size", f"the package has {len(infos)} members, over the limit of {MAX_MEMBERS}")
    seen: set[str] = set()
    total = 0
    for info in infos:
        if info.filename in seen:
            raise refuse(path, "import.format", f"the package names the member {info.filename!r} twice; it is damaged")
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise refuse(
                path,
                "import.encrypted",
                f"the package's member {info.filename!r} is encrypted; save the file without a password",
            )
        if info.file_size > MAX_MEMBER_BYTES:
            raise refuse(
                path,
                "file.size",
                f"the member {info.filename!r} inflates to {info.file_size} bytes, over the {MAX_MEMBER_BYTES}-byte limit",
            )
        if info.file_size > SMALL_MEMBER and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise refuse(
                path,
                "file.size",
                f"the member {info.filename!r} inflates {info.file_size // max(info.compress_size, 1)} times its size "
                f"({info.compress_size} to {info.file_size} bytes), over the limit of {MAX_RATIO} times: "
                "a file made to exhaust the memory (a zip bomb) is not read",
            )
        total += info.file_size
        if total > MAX_UNPACKED_BYTES:
            raise refuse(
                path,
                "file.size",
                f"the package's members inflate to more than {MAX_UNPACKED_BYTES} bytes in all; "
                "make its images smaller, or split it",
            )


def _read_members(path: Path, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> dict[str, bytes]:
    """Each member's bytes; the ZIP reader stops at the declared size, and a
    member whose data does not match its size and checksum is refused."""
    members: dict[str, bytes] = {}
    for info in infos:
        if info.is_dir():
            continue
        try:
            with archive.open(info) as handle:
                content = handle.read(info.file_size + 1)
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            NotImplementedError,
            RuntimeError,
            ValueError,
            OSError,
        ) as exc:
            raise refuse(
                path, "import.format", f"the member {info.filename!r} cannot be read ({exc}); the file is damaged"
            ) from None
        if len(content) != info.file_size:
            raise refuse(
                path,
                "import.format",
                f"the member {info.filename!r} holds {len(content)} bytes but declares {info.file_size}; the file is damaged",
            )
        members[info.filename] = content
    return members


def _kind(path: Path, members: dict[str, bytes]) -> str:
    if "word/document.xml" in members and "[Content_Types].xml" in members:
        return "docx"
    if members.get("mimetype", b"").strip() == ODT_MIMETYPE and "content.xml" in members:
        return "odt"
    if members.get("mimetype", b"").startswith(b"application/vnd.oasis.opendocument"):
        what = members["mimetype"].decode("ascii", "replace").rsplit(".", 1)[-1]
        return _not_text(path, f"an OpenDocument {what} file, not a text document")
    if "xl/workbook.xml" in members or "ppt/presentation.xml" in members:
        return _not_text(path, "a spreadsheet or presentation, not a Word document")
    return _not_text(path, "a ZIP file without a Word document's parts (word/document.xml); it is no .docx")


def _not_text(path: Path, what: str) -> str:
    raise refuse(path, "import.format", f"this is {what}; give the manuscript as .docx or .odt")


def _check_macros(path: Path, kind: str, members: dict[str, bytes]) -> None:
    if kind == "docx":
        carriers = [n for n in members if n.lower().endswith(("vbaproject.bin", "vbadata.xml"))]
        types = members.get("[Content_Types].xml", b"")
        if carriers or b"macroEnabled" in types or b"vbaProject" in types:
            where = carriers[0] if carriers else "[Content_Types].xml"
            raise refuse(
                path,
                "import.macros",
                f"the file carries macros ({where}); the import never runs them and does not read such a file: "
                "save it as a Word Document (.docx), which keeps no macros, and import that",
            )
    else:
        carriers = [n for n in members if ODF_MACRO_RE.match(n)]
        if carriers:
            raise refuse(
                path,
                "import.macros",
                f"the file carries macros ({carriers[0]}); the import never runs them and does not read such a file: "
                "delete them (Tools > Macros > Organize Macros > Basic) or save a copy as .docx, and import that",
            )


def _check_odf_encryption(path: Path, members: dict[str, bytes]) -> None:
    if b"encryption-data" in members.get("META-INF/manifest.xml", b""):
        raise refuse(
            path,
            "import.encrypted",
            "the file is encrypted with a password; save a copy without it (LibreOffice: File > Save As, "
            "'Save with password' unchecked) and import that",
        )


def _parse_xml(path: Path, name: str, content: bytes) -> etree._Element:
    try:
        root = etree.fromstring(content, SAFE_XML)
    except etree.XMLSyntaxError as exc:
        if "Excessive depth" in str(exc):
            raise refuse(
                path,
                "import.format",
                f"the part {name!r} nests its XML more than {XML_DEPTH} levels deep "
                "(tables in tables in tables …), past what the import reads; flatten the document",
            ) from None
        raise refuse(
            path, "import.format", f"the part {name!r} is not well-formed XML ({exc}); the file is damaged"
        ) from None
    if root.getroottree().docinfo.doctype:
        raise refuse(
            path,
            "import.format",
            f"the part {name!r} declares a DOCTYPE, which Word and LibreOffice never write; the file is not read",
        )
    return root
