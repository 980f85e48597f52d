"""Word manuscripts for the import tests, written as the office suites write them.

``word_manuscript`` writes a ``.docx`` with python-docx and adds what
python-docx has no API for as Word itself writes it: the footnotes part
(``word/footnotes.xml``, with Word's two separator notes), note calls
(``w:footnoteReference``), Zotero citation fields (a complex field whose
instruction is ``ADDIN ZOTERO_ITEM CSL_CITATION {json}`` and whose result is
the citation as Zotero formatted it), image alt text (``wp:docPr/@descr``),
tracked changes and comments. ``pandoc_manuscript`` and ``libreoffice_copy``
give the same text as Pandoc and LibreOffice write it.
"""

from __future__ import annotations

import copy
import io
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
FOOTNOTES_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"

#: The works the Zotero fields cite, as Zotero writes their data (CSL JSON) into the field.
KIM = {
    "id": 101,
    "type": "book",
    "title": "Everyday Life in the North Korean Revolution, 1945–1950",
    "publisher": "Cornell University Press",
    "publisher-place": "Ithaca",
    "author": [{"family": "Kim", "given": "Suzy"}],
    "issued": {"date-parts": [["2013"]]},
}
SZALONTAI = {
    "id": 102,
    "type": "article-journal",
    "title": "Political and Economic Crisis in North Korea in the Early 1990s",
    "container-title": "Cold War International History Project Bulletin",
    "volume": "14/15",
    "page": "117-120",
    "author": [{"family": "Szalontai", "given": "Balázs"}],
    "issued": {"date-parts": [["2004"]]},
}

#: The citations as Zotero formats them in Chicago notes-bibliography (CMOS 18,
#: which drops the place of publication): the field's result, what Word shows.
KIM_NOTE = "Suzy Kim, *Everyday Life in the North Korean Revolution, 1945–1950* (Cornell University Press, 2013), 12."
SZALONTAI_NOTE = (
    "Balázs Szalontai, “Political and Economic Crisis in North Korea in the Early 1990s,” "
    "*Cold War International History Project Bulletin* 14/15 (2004): 118."
)


def _run_xml(text: str, italic: bool = False) -> str:
    props = "<w:rPr><w:i/></w:rPr>" if italic else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _runs_from_stars(text: str) -> str:
    """Runs of a text where ``*…*`` is italic (the formatted citations)."""
    parts = text.split("*")
    return "".join(_run_xml(part, bool(i % 2)) for i, part in enumerate(parts) if part)


def zotero_field(item: dict, locator: str, shown: str, note_index: int) -> str:
    """A Zotero citation as Word holds it: a complex field, its instruction the
    citation's CSL JSON, its result the formatted citation."""
    citation = {
        "citationID": f"c{item['id']}{note_index}",
        "properties": {
            "formattedCitation": shown.replace("*", ""),
            "plainCitation": shown.replace("*", ""),
            "noteIndex": note_index,
        },
        "citationItems": [
            {
                "id": item["id"],
                "uris": [f"http://zotero.org/users/1/items/ITEM{item['id']}"],
                "itemData": item,
                "locator": locator,
                "label": "page",
            }
        ],
        "schema": "https://github.com/citation-style-language/schema/raw/master/csl-citation.json",
    }
    instruction = "ADDIN ZOTERO_ITEM CSL_CITATION " + json.dumps(citation, ensure_ascii=False)
    return (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> {escape(instruction)} </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        f"{_runs_from_stars(shown)}"
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def footnotes_xml(notes: list[str], kind: str = "footnotes") -> bytes:
    """Word's footnotes (or endnotes) part: the separator (-1... here 0 and 1,
    as Word numbers them) and one ``w:footnote`` per note, each paragraph
    opening with the note's own reference mark (``w:footnoteRef``). ``notes``
    hold run XML (``</w:p><w:p>`` between a note's paragraphs)."""
    tag = kind[:-1]  # footnote, endnote
    body = [
        f'<w:{tag} w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
        f'w:lineRule="auto"/></w:pPr><w:r><w:separator/></w:r></w:p></w:{tag}>',
        f'<w:{tag} w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
        f'w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:{tag}>',
    ]
    style = "FootnoteText" if tag == "footnote" else "EndnoteText"
    for number, runs in enumerate(notes, 1):
        body.append(
            f'<w:{tag} w:id="{number}"><w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>'
            f'<w:r><w:rPr><w:rStyle w:val="{tag.capitalize()}Reference"/></w:rPr><w:{tag}Ref/></w:r>'
            f'<w:r><w:t xml:space="preserve"> </w:t></w:r>{runs}</w:p></w:{tag}>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:{kind} xmlns:w="{W_NS}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        + "".join(body)
        + f"</w:{kind}>"
    ).encode("utf-8")


def note_call(number: int) -> str:
    return (
        '<w:r><w:rPr><w:rStyle w:val="FootnoteReference"/><w:vertAlign w:val="superscript"/></w:rPr>'
        f'<w:footnoteReference w:id="{number}"/></w:r>'
    )


def _append_xml(paragraph, xml: str) -> None:
    from docx.oxml import parse_xml

    wrapped = parse_xml(f'<w:p xmlns:w="{W_NS}">{xml}</w:p>')
    for child in list(wrapped):
        paragraph._p.append(child)


def png(width: int = 60, height: int = 40, colour: tuple[int, int, int] = (180, 40, 40)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def word_manuscript(path: Path, alt_text: bool = True) -> Path:
    """A manuscript as Word writes it: properties, headings, formatting, a
    quotation, lists, a line break, a data table with its caption, an image
    with alt text, footnotes (one holding a Zotero citation) and a Zotero
    citation in the running text's note."""
    import docx
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.shared import Inches

    doc = docx.Document()
    props = doc.core_properties
    props.title = "Letters from Pyongyang"
    props.author = "Mira Song"
    props.language = "en-US"
    import datetime

    props.created = datetime.datetime(2024, 3, 1, 9, 30)
    props.modified = datetime.datetime(2024, 5, 17, 16, 0)

    doc.add_heading("Arrival", level=1)
    p = doc.add_paragraph("The delegation reached the capital in ")
    p.add_run("late spring").italic = True
    p.add_run(", as the ")
    p.add_run("Rodong Sinmun").bold = True
    p.add_run(" reported the next morning.")
    _append_xml(p, note_call(1))
    p.add_run(" Its members counted ")
    p.add_run("twelve").font.small_caps = True
    p.add_run(" cities, measured CO")
    p.add_run("2").font.subscript = True
    p.add_run(" in the 1")
    p.add_run("st").font.superscript = True
    p.add_run(" district and wrote home.")
    _append_xml(p, note_call(2))
    quote = doc.add_paragraph(
        "We have seen a country rebuilt from its foundations, and we are not the first to say so."
    )
    quote.style = doc.styles["Quote"]
    doc.add_paragraph("Their itinerary ran in three stages:")
    for item in ("Pyongyang and its factories", "Hamhung on the east coast", "Kaesong near the border"):
        doc.add_paragraph(item, style="List Number")
    doc.add_paragraph("The letters name two kinds of host:")
    for item in ("party officials", "factory managers"):
        doc.add_paragraph(item, style="List Bullet")
    verse = doc.add_paragraph("First line of the song")
    verse.runs[0].add_break()
    verse.add_run("second line of the song.")

    doc.add_heading("Work and Figures", level=1)
    doc.add_heading("The Factories", level=2)
    doc.add_paragraph("Output at the three factories they visited, as the hosts gave it:")
    caption = doc.add_paragraph("Table 1: Output of the factories visited, 1967", style="Caption")
    del caption
    table = doc.add_table(rows=1, cols=3)
    table.style = doc.styles["Table Grid"]
    for cell, text in zip(table.rows[0].cells, ("Factory", "Workers", "Tonnes"), strict=True):
        cell.text = text
    for row in (("Hwanghae Iron", "4200", "310.5"), ("Kangson Steel", "3900", "287.25"), ("Nampo Glass", "1150", "42")):
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    doc.add_paragraph("The figures are the hosts’ own.")
    image_path = path.parent / "figure-source.png"
    image_path.write_bytes(png())
    picture_paragraph = doc.add_paragraph()
    picture_paragraph.add_run().add_picture(str(image_path), width=Inches(1.5))
    image_path.unlink()
    if alt_text:
        docpr = picture_paragraph._p.xpath(".//wp:docPr")[0]
        docpr.set("descr", "A red block standing for the factory floor plan")
    doc.add_heading("The Return", level=2)
    p = doc.add_paragraph("On the way home they read the economists once more.")
    _append_xml(p, note_call(3))
    p.add_run(" Nothing they read matched what they saw.")

    notes = [
        _run_xml("The newspaper’s account is dated the ") + _run_xml("following", italic=True) + _run_xml(" day."),
        zotero_field(KIM, "12", KIM_NOTE, 2),
        zotero_field(SZALONTAI, "118", SZALONTAI_NOTE, 3),
    ]
    part = Part(PackURI("/word/footnotes.xml"), FOOTNOTES_CT, footnotes_xml(notes), doc.part.package)
    doc.part.relate_to(part, FOOTNOTES_RT)
    doc.save(path)
    return path


def pandoc_manuscript(path: Path, markdown: str, extra: dict[str, bytes] | None = None) -> Path:
    """``markdown`` written by Pandoc as ``path`` (.docx or .odt); ``extra``
    files (images) lie beside it while Pandoc reads it."""
    import pypandoc

    with tempfile.TemporaryDirectory() as tmp:
        for name, data in (extra or {}).items():
            (Path(tmp) / name).write_bytes(data)
        source = Path(tmp) / "manuscript.md"
        source.write_text(markdown, encoding="utf-8")
        subprocess.run(
            [pypandoc.get_pandoc_path(), "manuscript.md", "-o", str(path.resolve())],
            cwd=tmp,
            check=True,
            capture_output=True,
        )
    return path


def libreoffice_copy(source: Path, target: Path) -> Path:
    """``source`` opened and saved as ``.docx`` (or, for a ``target`` named
    ``.odt``, as OpenDocument) by LibreOffice Writer, headless, with a profile
    of its own (so it runs beside another LibreOffice, as root)."""
    kind = "odt:writer8" if target.suffix == ".odt" else "docx:MS Word 2007 XML"
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        raise RuntimeError("LibreOffice is not installed (bash .ci/setup installs libreoffice-writer-nogui)")
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        out = Path(tmp) / "out"
        env = {**os.environ, "HOME": tmp}
        subprocess.run(
            [
                office,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                kind,
                "--outdir",
                str(out),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=300,
            env=env,
        )
        shutil.move(out / (source.stem + target.suffix), target)
    return target


def rewrite_member(source: Path, target: Path, name: str, change, add: dict[str, bytes] | None = None) -> Path:
    """A copy of a ZIP package with member ``name`` changed by ``change(bytes) -> bytes``
    and members ``add`` added (a tracked change, a comment, a macro)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == name:
                data = change(data)
            zout.writestr(copy.copy(info), data)
        for extra_name, data in (add or {}).items():
            zout.writestr(extra_name, data)
    return target


def small_word(path: Path, paragraphs: list[str], notes: list[str] = (), heading: str = "") -> Path:
    """A short Word manuscript: an optional heading, paragraphs of run XML and
    footnotes of run XML (``note_call(n)`` in a paragraph calls note n)."""
    import docx
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    doc = docx.Document()
    doc.core_properties.title = "A Short Manuscript"
    doc.core_properties.author = "Ada Tester"
    if heading:
        _append_xml(doc.add_heading("", level=1), heading)
    for xml in paragraphs:
        _append_xml(doc.add_paragraph(), xml)
    if notes:
        part = Part(PackURI("/word/footnotes.xml"), FOOTNOTES_CT, footnotes_xml(list(notes)), doc.part.package)
        doc.part.relate_to(part, FOOTNOTES_RT)
    doc.save(path)
    return path


def text_run(text: str) -> str:
    return _run_xml(text)


def field(instruction: str, shown: str) -> str:
    """A complex field as Word writes it, its instruction split over two runs
    (Word splits long ones), ``shown`` the run XML of its result."""
    half = len(instruction) // 2
    return (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> {escape(instruction[:half])}</w:instrText></w:r>'
        f'<w:r><w:instrText xml:space="preserve">{escape(instruction[half:])} </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        f"{shown}"
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def csl_field(items: list[tuple[dict, dict]], shown: str, mendeley: bool = False) -> str:
    """A citation field of Zotero (``ADDIN ZOTERO_ITEM CSL_CITATION``) or
    Mendeley (``ADDIN CSL_CITATION``, its items numbered ``ITEM-1``, … in each
    citation): ``items`` are (item data, the citation's own fields: locator,
    label, prefix, suffix, suppress-author)."""
    cited = []
    for number, (data, extra) in enumerate(items, 1):
        item_id = f"ITEM-{number}" if mendeley else data["id"]
        uri = (
            f"http://www.mendeley.com/documents/?uuid={data['id']}"
            if mendeley
            else f"http://zotero.org/users/1/items/I{data['id']}"
        )
        cited.append({"id": item_id, "uris": [uri], "itemData": {**data, "id": item_id}, **extra})
    citation = {
        "citationID": f"c{abs(hash(shown)) % 100000}",
        "properties": {"formattedCitation": shown, "plainCitation": shown, "noteIndex": 0},
        "citationItems": cited,
        "schema": "https://github.com/citation-style-language/schema/raw/master/csl-citation.json",
    }
    if mendeley:
        citation["mendeley"] = {"formattedCitation": shown, "previouslyFormattedCitation": shown}
    head = "ADDIN CSL_CITATION " if mendeley else "ADDIN ZOTERO_ITEM CSL_CITATION "
    return field(head + json.dumps(citation, ensure_ascii=False), _runs_from_stars(shown))


def endnote_call(number: int) -> str:
    return (
        '<w:r><w:rPr><w:rStyle w:val="EndnoteReference"/><w:vertAlign w:val="superscript"/></w:rPr>'
        f'<w:endnoteReference w:id="{number}"/></w:r>'
    )


def word_document(
    path: Path,
    blocks: list[tuple[str, str]],
    notes: list[str] = (),
    endnotes: list[str] = (),
    title: str = "A Short Manuscript",
    media: dict[str, tuple[str, bytes]] | None = None,
) -> Path:
    """A Word manuscript of ``blocks``: (paragraph style, run XML), or
    ("", XML) for a body element written as is (a table, a content control);
    footnotes and endnotes of run XML; ``media``: relationship id -> (part
    name, bytes) for pictures the blocks show."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    doc = docx.Document()
    doc.core_properties.title = title
    doc.core_properties.author = "Ada Tester"
    rids = {}
    for rid, (name, data) in (media or {}).items():
        kind = "image/svg+xml" if name.endswith(".svg") else "image/png"
        rids[rid] = doc.part.relate_to(
            Part(PackURI(f"/word/media/{name}"), kind, data, doc.part.package), RELATIONSHIP_TYPE.IMAGE
        )
    body = doc.element.body
    for style, xml in blocks:
        for rid, real in rids.items():
            xml = xml.replace(f'"{rid}"', f'"{real}"')
        if style:
            _append_xml(doc.add_paragraph(style=style), xml)
        else:
            for element in parse_xml(f"<w:body {NAMESPACES}>{xml}</w:body>"):
                body.find(f"{{{W_NS}}}sectPr").addprevious(element)
    for kind, content in (("footnotes", notes), ("endnotes", endnotes)):
        if content:
            part_type = FOOTNOTES_CT.replace("footnotes", kind)
            part = Part(PackURI(f"/word/{kind}.xml"), part_type, footnotes_xml(list(content), kind), doc.part.package)
            doc.part.relate_to(part, FOOTNOTES_RT.replace("footnotes", kind))
    doc.save(path)
    return path


NAMESPACES = (
    f'xmlns:w="{W_NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)


def picture(rid: str, descr: str = "", title: str = "", svg_rid: str = "") -> str:
    """An inline picture as Word writes it (``descr``: its alt text; ``title``:
    Word 2010's alt text title; ``svg_rid``: an SVG stored beside the PNG)."""
    svg = (
        '<a:extLst><a:ext uri="{96DAC541-7B7A-43D3-8B79-37D633B846F1}"><asvg:svgBlip '
        f'xmlns:asvg="http://schemas.microsoft.com/office/drawing/2016/SVG/main" r:embed="{svg_rid}"/></a:ext></a:extLst>'
        if svg_rid
        else ""
    )
    return (
        f'<w:r><w:drawing><wp:inline {NAMESPACES}><wp:extent cx="571500" cy="381000"/>'
        f'<wp:docPr id="{abs(hash(rid)) % 1000 + 1}" name="Picture" descr="{escape(descr)}" title="{escape(title)}"/>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>'
        '<pic:nvPicPr><pic:cNvPr id="0" name="picture.png"/><pic:cNvPicPr/></pic:nvPicPr>'
        f'<pic:blipFill><a:blip r:embed="{rid}">{svg}</a:blip><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
        '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="571500" cy="381000"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
        "</wp:inline></w:drawing></w:r>"
    )


def text_box(runs: str) -> str:
    """A text box as Word writes it: the shape and its VML copy for older readers."""
    return (
        f'<w:r><mc:AlternateContent {NAMESPACES}><mc:Choice Requires="wps"><w:drawing><wp:anchor distT="0" '
        'distB="0" distL="0" distR="0" simplePos="0" relativeHeight="1" behindDoc="0" locked="0" layoutInCell="1" '
        'allowOverlap="1"><wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>0'
        '</wp:posOffset></wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset>'
        '</wp:positionV><wp:extent cx="1000000" cy="500000"/><wp:wrapSquare wrapText="bothSides"/>'
        '<wp:docPr id="900" name="Text Box 1"/><a:graphic><a:graphicData '
        'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp><wps:txbx><w:txbxContent>'
        f"<w:p>{runs}</w:p></w:txbxContent></wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic>"
        '</wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape style="width:100pt;height:50pt">'
        f"<v:textbox><w:txbxContent><w:p>{runs}</w:p></w:txbxContent></v:textbox></v:shape></w:pict>"
        "</mc:Fallback></mc:AlternateContent></w:r>"
    )


def pandoc_reading(path: Path) -> tuple[list[str], list[list[str]]]:
    """The manuscript's words as Pandoc reads the file (a citation field as the
    text the citation manager formatted): the text's words, notes left out, and
    the words of each note in the order of their calls. Super- and subscripts
    are part of their word (``CO2``, ``1st``), an image is its description, a
    figure its caption."""
    import pypandoc

    reader = "odt" if path.suffix == ".odt" else "docx"
    doc = json.loads(
        subprocess.run(
            [pypandoc.get_pandoc_path(), "-f", reader, "-t", "json", str(path)], check=True, capture_output=True
        ).stdout
    )
    notes: list[list[str]] = []

    def text(value, out: list[str]) -> None:
        if isinstance(value, list):
            for item in value:
                text(item, out)
            return
        if not isinstance(value, dict) or "t" not in value:
            return
        kind, content = value["t"], value.get("c")
        if kind == "Str":
            out.append(content)
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif kind == "Note":
            inner: list[str] = []
            text(content, inner)
            notes.append("".join(inner).split())
            out.append(" ")
        elif kind == "Figure":  # printed as its caption (the image's description is its alt text)
            out.append(" ")
            text(content[1], out)
            out.append(" ")
        elif kind in ("Para", "Plain", "Header", "CodeBlock", "HorizontalRule", "Table", "Div"):
            out.append(" ")
            text(content, out)
            out.append(" ")
        elif kind in ("Code", "Math"):
            out.append(content[1])
        elif kind in ("Image", "Link", "Span", "Cite"):
            text(content[1], out)
        elif isinstance(content, list):
            text(content, out)

    words: list[str] = []
    text(doc["blocks"], words)
    return "".join(words).split(), notes
