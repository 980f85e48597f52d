"""Rewrite a page's marked content for its structure tree.

WeasyPrint marks every text box ``/Span <</MCID n>> BDC … EMC``, running heads
and folios included, and draws list markers unmarked. Given what each MCID has
become (``structure.Structure``), this rewrites the page's content stream with
pikepdf: artifacts become ``/Artifact`` sequences (typed ``Pagination`` with a
``Header``/``Footer`` subtype, or ``Layout``), the MCIDs that remain are
renumbered densely in stream order, a line ending in a typesetter's hyphen gets
an ``ActualText`` that ends in a soft hyphen (so the word reads back whole), and
any graphics object drawn outside marked content is wrapped as an artifact.
"""

from __future__ import annotations

from collections.abc import Mapping

import pikepdf
from pikepdf import ContentStreamInstruction, Dictionary, Name, Operator

from .structure import Artifact

#: Operators that begin a graphics object, and those that end it.
PATH_START = {"m", "re"}
PATH_END = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "n"}
SINGLE = {"sh", "Do", "INLINE IMAGE"}


def artifact_properties(artifact: Artifact) -> Dictionary:
    props = Dictionary(Type=Name("/" + artifact.kind))
    if artifact.subtype:
        props.Subtype = Name("/" + artifact.subtype)
    return props


def rewrite(
    pdf: pikepdf.Pdf,
    page: pikepdf.Page,
    artifacts: Mapping[int, Artifact],
    actual_text: Mapping[int, str],
) -> dict[int, int]:
    """Rewrite the page's content; returns old MCID -> new MCID for the
    sequences that stay real content."""
    renumber: dict[int, int] = {}
    out = _rewrite_ops(pikepdf.parse_content_stream(page), artifacts, actual_text, renumber, _images(page))
    page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(out))
    return renumber


def _images(page: pikepdf.Page) -> set[str]:
    """Names of the page's XObjects that hold no marked content of their own."""
    xobjects = (page.obj.get("/Resources") or {}).get("/XObject") or {}
    names = set()
    for name, xobject in xobjects.items():
        if xobject.get("/Subtype") == "/Image" or b"/MCID" not in xobject.read_bytes():
            names.add(name)
    return names


def _rewrite_ops(ops, artifacts, actual_text, renumber, plain_xobjects) -> list:
    out: list = []
    depth = 0
    wrapping: set[str] | None = None
    for instruction in ops:
        op = str(instruction.operator) if hasattr(instruction, "operator") else "INLINE IMAGE"
        if op == "BDC":
            instruction = _marked(instruction, artifacts, actual_text, renumber)
            depth += 1
        elif op == "BMC":
            depth += 1
        elif op == "EMC":
            depth -= 1
        elif depth == 0 and wrapping is None and _starts_object(op, instruction, plain_xobjects):
            out.append(ContentStreamInstruction([Name.Artifact], Operator("BMC")))
            wrapping = {"ET"} if op == "BT" else PATH_END if op in PATH_START else {op}
        out.append(instruction)
        if wrapping is not None and op in wrapping:
            out.append(ContentStreamInstruction([], Operator("EMC")))
            wrapping = None
    return out


def _starts_object(op: str, instruction, plain_xobjects: set[str]) -> bool:
    if op == "Do":
        return str(instruction.operands[0]) in plain_xobjects
    return op == "BT" or op in PATH_START or op in SINGLE


def _marked(instruction, artifacts, actual_text, renumber):
    tag, props = instruction.operands
    if not isinstance(props, Dictionary) or "/MCID" not in props:
        return instruction
    mcid = int(props.MCID)
    if mcid in artifacts:
        return ContentStreamInstruction([Name.Artifact, artifact_properties(artifacts[mcid])], Operator("BDC"))
    new = renumber.setdefault(mcid, len(renumber))
    fresh = Dictionary(MCID=new)
    if mcid in actual_text:
        fresh.ActualText = pikepdf.String(actual_text[mcid])
    return ContentStreamInstruction([tag, fresh], Operator("BDC"))
