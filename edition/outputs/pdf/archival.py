"""The archival PDF/A-3a: the print PDF, made self-describing, with the
edition's own sources embedded as associated files.

The PDF/A is the print PDF finished further (``to_pdfa``), not a second
WeasyPrint write of the layout: its pages, fonts, tags and links are the print
PDF's own, and what PDF/A-3a adds is set with pikepdf: the sRGB output intent,
the embedded sources (``attach``), the XMP identification, images without
interpolation, every annotation printable. A write leaves state on a
WeasyPrint document (``color_profiles``, ``xmp_metadata``), so the writes that
remain (print, press) go through ``isolated_write``.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pydyf
import weasyprint
from PIL import Image

from edition.infra import fingerprints
from edition.infra.tools import pandoc_version
from edition.model import Edition
from edition.outputs.pdf import save as pdfsave
from edition.outputs.pdf import tag_faults as pdftagfaults
from edition.outputs.pdf import ua as pdfua
from edition.read import readlog
from edition.render.printed import plain

#: How a file relates to the PDF (ISO 32000-2, 7.11.3), by what it is.
RELATIONSHIPS = {".md": "Source", ".bib": "Source", ".csv": "Data", ".yaml": "Data", ".json": "Supplement"}
MIME_TYPES = {
    ".md": "text/markdown",
    ".bib": "application/x-bibtex",
    ".csv": "text/csv",
    ".yaml": "application/yaml",
    ".json": "application/json",
    ".html": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".css": "text/css",
    ".pdf": "application/pdf",
}
MANIFEST_NAME = "build-manifest.json"
#: Sources embedded as they are, after WeasyPrint has written the PDF/A (``attach``):
#: a PDF is compressed already, and WeasyPrint would deflate it again at level 9
#: (16 s for a 70 MB scan).
STORED = (".pdf",)


@dataclass(frozen=True)
class SourceFile:
    name: str  # path relative to the project, as stored in the PDF
    data: bytes
    role: str = ""  # what the file is to the edition, when its suffix does not say

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix

    @property
    def relationship(self) -> str:
        return RELATIONSHIPS.get(self.suffix, "Source")

    @property
    def description(self) -> str:
        if self.role:
            return f"{self.role}: {self.name}"
        kinds = {
            ".md": "Markdown text of the edition",
            ".bib": "BibTeX bibliography",
            ".csv": "table data",
            ".yaml": "metadata",
            ".json": "build manifest: tool versions, input hashes, build date",
            ".pdf": "source PDF of a reading, whose pages the volume prints",
        }
        if self.name.startswith("templates/"):
            return f"template or stylesheet of the edition: {self.name}"
        return f"{kinds.get(self.suffix, 'source file')}: {self.name}"


def edition_sources(edition: Edition, project: Path, used: Iterable[Path] = ()) -> list[SourceFile]:
    """Every file the edition is made from, with the bytes the build read: its
    works' inputs, the reader definition, and the templates, stylesheets,
    images and layouts the builders loaded (``used``). Files outside the
    project (the fonts) are not embedded. By project-relative path, sorted.
    Nothing else lying in the project's folders is embedded."""
    root = project.resolve()
    paths: set[Path] = set()
    for work in edition.parts:
        paths.update(work.inputs)
    if edition.reader:
        paths.add(edition.reader.definition)
    paths.update(used)
    # a file outside the project (the fonts; anything the sandbox let through) is never published
    inside = [p for p in sorted(paths) if p.resolve().is_relative_to(root)]
    by_name = {path.resolve().relative_to(root).as_posix(): path for path in inside}
    copy_texts = {(w.root / w.meta.copy_text).resolve() for w in edition.parts if w.meta.copy_text}
    role = "copy-text, the transcript of the published original this edition was made from"
    files = []
    for name, path in sorted(by_name.items()):
        files.append(SourceFile(name, readlog.read_once(path), role if path.resolve() in copy_texts else ""))
    return files


def manifest(
    edition: Edition, sources: list[SourceFile], date: datetime.datetime, options: dict[str, Any]
) -> SourceFile:
    versions = {
        "python": fingerprints.python_version(),
        "pandoc": pandoc_version(),
        **fingerprints.installed_versions(),
    }
    data = {
        "edition": edition.slug,
        "identifier": edition.identifier,
        "build_date": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "options": options,
        "tools": versions,
        "inputs": {s.name: fingerprints.sha256(s.data) for s in sources},
    }
    return SourceFile(MANIFEST_NAME, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def attach(pdf, files: list[SourceFile], date: datetime.datetime) -> None:
    """Embed files in an open pikepdf PDF as associated files (Flate-compressed;
    a PDF, compressed already, is stored as it is), each with its MIME type,
    size, MD5 checksum, dates, description and relationship."""
    import pikepdf

    stamp = pikepdf.String(date.strftime("D:%Y%m%d%H%M%SZ"))
    if "/Names" not in pdf.Root:
        pdf.Root.Names = pikepdf.Dictionary()
    names = pdf.Root.Names
    tree = pikepdf.NameTree(names.EmbeddedFiles) if "/EmbeddedFiles" in names else pikepdf.NameTree.new(pdf)
    names.EmbeddedFiles = tree.obj
    if "/AF" not in pdf.Root:
        pdf.Root.AF = pikepdf.Array()
    related = pdf.Root.AF
    for f in files:
        stream = pdf.make_stream(
            b"",
            Type=pikepdf.Name.EmbeddedFile,
            Subtype=pikepdf.Name("/" + MIME_TYPES.get(f.suffix, "application/octet-stream")),
            Params=pikepdf.Dictionary(
                Size=len(f.data),
                CheckSum=pikepdf.String(hashlib.md5(f.data, usedforsecurity=False).digest()),
                CreationDate=stamp,
                ModDate=stamp,
            ),
        )
        if f.suffix in STORED:
            stream.write(f.data)
        else:
            stream.write(zlib.compress(f.data, 9), filter=pikepdf.Name.FlateDecode)
        spec = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Filespec,
                F=pikepdf.String(f.name),
                UF=pikepdf.String(f.name),
                Desc=pikepdf.String(f.description),
                AFRelationship=pikepdf.Name("/" + f.relationship),
                EF=pikepdf.Dictionary(F=stream),
            )
        )
        tree[f.name] = spec
        related.append(spec)


@contextlib.contextmanager
def isolated_write(document: weasyprint.Document) -> Iterator[None]:
    """Undo what a write leaves on a document (output intents, XMP, attachments)."""
    profiles = dict(document.color_profiles)
    intent = document.output_intent
    xmp = list(document.metadata.xmp_metadata)
    attached = list(document.metadata.attachments)
    try:
        yield
    finally:
        document.color_profiles.clear()
        document.color_profiles.update(profiles)
        document.output_intent = intent
        document.metadata.xmp_metadata[:] = xmp
        document.metadata.attachments[:] = attached


def write_print(document: weasyprint.Document, edition: Edition) -> bytes:
    """The print PDF, tagged (``claim`` makes it PDF/UA-1 once it is complete)."""
    with isolated_write(document), pdfua.recording() as record:
        # uncompressed: the finisher rewrites the content streams and compresses every stream once
        data = document.write_pdf(pdf_identifier=edition.identifier.encode(), pdf_tags=True, uncompressed_pdf=True)
    xmp = lambda info, claim: xmp_packet(info, edition, False, claim)  # noqa: E731
    return pdfua.finish(data, record, document, xmp)


def write_press(document: weasyprint.Document, edition: Edition, pdfx: bool) -> bytes:
    """The press file: PDF/X-4 when a CMYK output profile was given, else a
    plain PDF with the same bleed, crop marks and embedded fonts; tagged like
    every PDF of the build (it claims no PDF/UA: it is for the printer)."""
    identifier = edition.identifier.encode()
    with isolated_write(document), pdfua.recording() as record:
        if not pdfx:
            data = document.write_pdf(pdf_identifier=identifier, pdf_tags=True)
        else:
            data = document.write_pdf(
                pdf_variant="pdf/x-4", pdf_identifier=identifier, finisher=_stable_pdfx_ids, pdf_tags=True
            )
    xmp = None if pdfx else lambda info, _claim: xmp_packet(info, edition, False, False)  # PDF/X keeps its own
    return pdfua.finish(data, record, document, xmp)


def claim(data: bytes, edition: Edition, pdfa: bool) -> bytes:
    """The complete print PDF (``pdfa``: the PDF/A) claimed as PDF/UA-1 when the
    checker passes it; never with an untagged PDF reading in it (the build has
    said so with a ``pdf.untagged`` warning)."""
    if edition.untagged_pdf_readings:
        return data
    name = f"{edition.slug}-pdfa.pdf" if pdfa else f"{edition.slug}.pdf"
    explain = functools.partial(pdftagfaults.explain, edition, name)
    return pdfua.claim(data, lambda info, claimed: xmp_packet(info, edition, pdfa, claimed), name, explain)


def _stable_pdfx_ids(_document: weasyprint.Document, pdf: pydyf.PDF) -> None:
    """WeasyPrint's PDF/X XMP carries a random DocumentID: derive it from the content."""
    stream = pdf.objects[_number(pdf.catalog["Metadata"])]
    content = b"".join(part if isinstance(part, bytes) else str(part).encode() for part in stream.stream)
    digest = hashlib.sha256(re.sub(rb"xmp\.did:[0-9a-f-]+", b"", content)).hexdigest()[:32]
    stream.stream = [re.sub(rb"xmp\.did:[0-9a-f-]+", f"xmp.did:{digest}".encode(), content)]


def to_pdfa(data: bytes, edition: Edition, files: list[SourceFile], date: datetime.datetime) -> bytes:
    """The PDF/A-3a made from the complete print PDF (tagged, its PDF readings
    laid in): what WeasyPrint's ``pdf/a-3a`` variant would write, set on the
    finished file. ``claim`` makes it PDF/UA-1 too once it is checked."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        _output_intent(pdf)
        attach(pdf, files, date)
        _pdfa_images(pdf)
        for page in pdf.pages:  # PDF/A: every annotation prints
            for annotation in page.obj.get("/Annots") or []:
                annotation.F = 4
        pdfua.set_xmp(pdf, xmp_packet(pdfua.info(pdf), edition, True, False))
        # the PDF/A is a file of its own: its permanent identifier is not the print PDF's
        identifier = hashlib.md5((edition.identifier + "#pdfa").encode(), usedforsecurity=False).hexdigest()
        pdf.trailer.ID = pikepdf.Array([pikepdf.String(identifier.encode()), pdf.trailer.ID[1]])
        return pdfsave.save(pdf)  # the sources were compressed by ``attach``


def _output_intent(pdf) -> None:
    """The sRGB output intent (WeasyPrint's own profile, as its PDF/A variants use)."""
    import pikepdf

    profile = pdf.make_stream(zlib.compress(_srgb_profile(), 9), N=3)
    profile.Filter = pikepdf.Name.FlateDecode
    intent = pikepdf.Dictionary(
        Type=pikepdf.Name.OutputIntent,
        S=pikepdf.Name.GTS_PDFA1,
        OutputConditionIdentifier=pikepdf.String(SRGB_PROFILE),
        Info=pikepdf.String(SRGB_PROFILE),
        DestOutputProfile=profile,
    )
    pdf.Root.OutputIntents = pikepdf.Array([intent])


SRGB_PROFILE = "sRGB2014.icc"


def _srgb_profile() -> bytes:
    from importlib.util import find_spec

    spec = find_spec("weasyprint")
    assert spec is not None and spec.submodule_search_locations
    return (Path(list(spec.submodule_search_locations)[0]) / "pdf" / SRGB_PROFILE).read_bytes()


def _pdfa_images(pdf) -> None:
    """No image interpolation (PDF/A forbids it; WeasyPrint sets it for every
    image whose ``image-rendering`` is ``auto``), and no CMYK image under the
    RGB output intent."""
    import pikepdf

    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream) or obj.get("/Subtype") != "/Image":
            continue
        if "/Interpolate" in obj:
            obj.Interpolate = False
        if obj.get("/ColorSpace") == "/DeviceCMYK" and obj.get("/Filter") == "/DCTDecode":
            _cmyk_image_as_rgb(obj)


def _cmyk_image_as_rgb(image) -> None:
    """A CMYK image (a JPEG: WeasyPrint passes it through) in RGB. PDF/A allows
    DeviceCMYK only with a CMYK output intent; the PDF/A's is sRGB, and no free
    CMYK profile exists to convert with, so the conversion is Pillow's plain one."""
    import pikepdf

    picture = Image.open(io.BytesIO(image.read_raw_bytes()))  # Pillow undoes an Adobe JPEG's inverted CMYK
    out = io.BytesIO()
    picture.convert("RGB").save(out, format="JPEG", quality=95)
    image.write(out.getvalue(), filter=pikepdf.Name.DCTDecode)
    image.ColorSpace = pikepdf.Name.DeviceRGB
    for key in ("/Decode", "/DecodeParms"):
        if key in image:
            del image[key]


def _number(reference: bytes | str) -> int:
    """The object number of a pydyf reference (``b"12 0 R"``)."""
    return int(reference.split()[0])


def _info(info: dict, key: str) -> str:
    value = info.get(key)
    if value is None:
        return ""
    return str(value.string if hasattr(value, "string") else value)


def _xmp_date(pdf_date: str) -> str:
    """``D:20261127000000Z`` -> ``2026-11-27T00:00:00Z``."""
    d = pdf_date.removeprefix("D:")
    return f"{d[0:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}Z"


def xmp_packet(info: dict, edition: Edition, pdfa: bool = True, pdfua: bool = False) -> bytes:
    """The XMP packet, consistent with the Info dictionary; ``pdfa`` and
    ``pdfua`` add the PDF/A-3a and PDF/UA-1 identification (a PDF/A that
    also claims PDF/UA declares the pdfuaid schema as a PDF/A extension)."""
    meta = edition.main.meta
    created = _xmp_date(_info(info, "CreationDate"))
    modified = _xmp_date(_info(info, "ModDate"))
    creators = "".join(f"<rdf:li>{escape(name)}</rdf:li>" for name in edition.creators)
    smart = edition.smart_quotes
    series, number = plain(meta.series, smart), plain(meta.number, smart)
    relation = f"{series} {number}".strip() if series and not edition.reader else ""
    fields = [
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(_info(info, "Title"))}</rdf:li></rdf:Alt></dc:title>',
        f"<dc:creator><rdf:Seq>{creators}</rdf:Seq></dc:creator>",
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(_info(info, "Subject"))}</rdf:li></rdf:Alt></dc:description>',
        f'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{escape(plain(edition.rights, smart))}</rdf:li></rdf:Alt></dc:rights>',
        f"<dc:language><rdf:Bag><rdf:li>{escape(edition.language)}</rdf:li></rdf:Bag></dc:language>",
        f"<dc:identifier>{escape(edition.identifier)}</dc:identifier>",
        f"<dc:date><rdf:Seq><rdf:li>{escape(edition.date)}</rdf:li></rdf:Seq></dc:date>",
        f"<dc:publisher><rdf:Bag><rdf:li>{escape(plain(edition.publisher, smart))}</rdf:li></rdf:Bag></dc:publisher>",
        "<dc:format>application/pdf</dc:format>",
    ]
    if relation:
        fields.append(
            f"<dc:relation><rdf:Bag><rdf:li>{escape('isPartOf: ' + relation)}</rdf:li></rdf:Bag></dc:relation>"
        )
    fields += [
        f"<xmp:CreateDate>{created}</xmp:CreateDate>",
        f"<xmp:ModifyDate>{modified}</xmp:ModifyDate>",
        f"<xmp:MetadataDate>{modified}</xmp:MetadataDate>",
        f"<xmp:CreatorTool>{escape(_info(info, 'Creator'))}</xmp:CreatorTool>",
        f"<pdf:Producer>{escape(_info(info, 'Producer'))}</pdf:Producer>",
        f"<pdf:Keywords>{escape(_info(info, 'Keywords'))}</pdf:Keywords>",
    ]
    if pdfa:
        fields += ["<pdfaid:part>3</pdfaid:part>", "<pdfaid:conformance>A</pdfaid:conformance>"]
    if pdfua:
        fields.append("<pdfuaid:part>1</pdfuaid:part>")
    body = "\n".join(fields)
    extension = PDFUA_EXTENSION if pdfa and pdfua else ""
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about=""'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:pdf="http://ns.adobe.com/pdf/1.3/"'
        ' xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"'
        ' xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">\n'
        f"{body}\n"
        f"</rdf:Description>\n{extension}</rdf:RDF>\n</x:xmpmeta>\n"
        '<?xpacket end="r"?>'
    )
    return packet.encode("utf-8")


#: PDF/A admits only the XMP schemas it predefines, and those a file declares:
#: a PDF/A that claims PDF/UA declares pdfuaid (ISO 19005-3, 6.6.2.3).
PDFUA_EXTENSION = (
    '<rdf:Description rdf:about=""'
    ' xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"'
    ' xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"'
    ' xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">\n'
    '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
    "<pdfaSchema:schema>PDF/UA identification schema</pdfaSchema:schema>"
    "<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>"
    "<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>"
    '<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">'
    "<pdfaProperty:name>part</pdfaProperty:name>"
    "<pdfaProperty:valueType>Integer</pdfaProperty:valueType>"
    "<pdfaProperty:category>internal</pdfaProperty:category>"
    "<pdfaProperty:description>The part of ISO 14289 the file conforms to</pdfaProperty:description>"
    "</rdf:li></rdf:Seq></pdfaSchema:property>"
    "</rdf:li></rdf:Bag></pdfaExtension:schemas>\n"
    "</rdf:Description>\n"
)
