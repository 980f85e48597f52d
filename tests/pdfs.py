"""Small PDFs made in the tests, one per kind a course reader meets: a scan,
a born-digital PDF, and the broken and unsafe ones."""

from __future__ import annotations

import io

import pikepdf
from PIL import Image, ImageDraw


def scan(sizes: list[tuple[int, int]], rotate: dict[int, int] | None = None) -> bytes:
    """An image-only PDF (what a library scanner makes): one grey page image
    per size (in points, at 72 dpi), a frame drawn to its very edge so a cropped
    placement would show; ``rotate`` gives pages a /Rotate."""
    images = []
    for number, (width, height) in enumerate(sizes, 1):
        image = Image.new("L", (width, height), 235)
        draw = ImageDraw.Draw(image)
        draw.rectangle([0, 0, width - 1, height - 1], outline=0, width=3)
        draw.text((20, 20), f"scanned page {number}", fill=0)
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=72.0, save_all=True, append_images=images[1:])
    with pikepdf.open(io.BytesIO(out.getvalue())) as pdf:
        for index, angle in (rotate or {}).items():
            pdf.pages[index].obj.Rotate = angle
        result = io.BytesIO()
        pdf.save(result, deterministic_id=True)
    return result.getvalue()


def typeset(html: str, tags: bool = False) -> bytes:
    """A born-digital PDF made by WeasyPrint (fonts embedded with ToUnicode)."""
    import weasyprint

    page = f'<html lang="en"><body>{html}</body></html>'
    return weasyprint.HTML(string=page).write_pdf(pdf_tags=tags, pdf_identifier=b"test")


def unembedded_font() -> bytes:
    """A page of text in Helvetica that the file does not carry."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[0]
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(b"BT /F1 24 Tf 72 700 Td (Hello) Tj ET")
    return _save(pdf)


def empty() -> bytes:
    """A PDF with a page tree and no page."""
    return _save(pikepdf.new())


def encrypted(data: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user="user"))
    return out.getvalue()


def with_javascript_form_and_hidden_note(data: bytes) -> bytes:
    """The file with a script run on opening, a form field on its first page
    (its appearance a dark box), and a hidden comment."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('hi');"))
        page = pdf.pages[0]
        # the field's appearance: a filled box (drawn, so it needs no font)
        appearance = pdf.make_stream(
            b"q 0.2 g 0 0 150 20 re f Q",
            Type=pikepdf.Name.XObject,
            Subtype=pikepdf.Name.Form,
            BBox=[0, 0, 150, 20],
        )
        field = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Widget,
                FT=pikepdf.Name.Tx,
                T=pikepdf.String("name"),
                V=pikepdf.String("Filled in"),
                Rect=[72, 300, 222, 320],
                F=4,
                P=page.obj,
                AP=pikepdf.Dictionary(N=appearance),
            )
        )
        hidden = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Text,
                Rect=[72, 200, 92, 220],
                Contents=pikepdf.String("note"),
                F=2,
            )
        )
        page.obj.Annots = pdf.make_indirect(pikepdf.Array([field, hidden]))
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[field], DA=pikepdf.String("/Helv 0 Tf 0 g"))
        return _save(pdf)


def _save(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def browser_printed(html: str, header_footer: bool = True) -> bytes:
    """A page of HTML printed to PDF by Debian's headless Chromium, as a
    student prints an article from the web: tagged, and (``header_footer``)
    with the browser's own date, title, ``file://`` address and "1/1" in the
    page's top and bottom margins."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium is missing: run bash .ci/setup"
    with tempfile.TemporaryDirectory(prefix="edition-chromium-") as tmp:
        page = Path(tmp) / "article.html"
        page.write_text(
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>An Article</title></head><body>{html}</body></html>',
            encoding="utf-8",
        )
        out = Path(tmp) / "article.pdf"
        argv = [binary, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp}/profile"]
        argv += [] if header_footer else ["--no-pdf-header-footer"]
        subprocess.run([*argv, f"--print-to-pdf={out}", page.as_uri()], capture_output=True, timeout=120, check=True)
        return out.read_bytes()
