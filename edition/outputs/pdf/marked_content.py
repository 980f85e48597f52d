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

from edition.outputs.pdf.structure import Artifact

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
    """Rewrite the page's content (and the form XObjects it draws, which share
    its MCIDs); returns old MCID -> new MCID for the sequences that stay real
    content."""
    rewriter = _Rewriter(pdf, artifacts, actual_text)
    page.obj.Contents = pdf.make_stream(rewriter.rewrite(pikepdf.parse_content_stream(page), page.obj))
    return rewriter.renumber


class _Rewriter:
    def __init__(self, pdf: pikepdf.Pdf, artifacts: Mapping[int, Artifact], actual_text: Mapping[int, str]) -> None:
        self.pdf = pdf
        self.artifacts = artifacts
        self.actual_text = actual_text
        self.renumber: dict[int, int] = {}
        self.done: set[tuple[int, int]] = set()

    def rewrite(self, ops, holder: pikepdf.Object) -> bytes:
        xobjects = (holder.get("/Resources") or {}).get("/XObject") or {}
        marked_forms = {name: x for name, x in xobjects.items() if _has_mcids(x)}
        out: list = []
        depth = 0
        wrapping: set[str] | None = None
        for instruction in ops:
            op = str(instruction.operator) if hasattr(instruction, "operator") else "INLINE IMAGE"
            if op == "BDC":
                instruction = self._marked(instruction)
                depth += 1
            elif op == "BMC":
                depth += 1
            elif op == "EMC":
                depth -= 1
            elif op == "Do" and str(instruction.operands[0]) in marked_forms:
                self._form(marked_forms[str(instruction.operands[0])])
            elif depth == 0 and wrapping is None and _starts_object(op, instruction, marked_forms):
                out.append(ContentStreamInstruction([Name.Artifact], Operator("BMC")))
                wrapping = {"ET"} if op == "BT" else PATH_END if op in PATH_START else {op}
            out.append(instruction)
            if wrapping is not None and op in wrapping:
                out.append(ContentStreamInstruction([], Operator("EMC")))
                wrapping = None
        return pikepdf.unparse_content_stream(out)

    def _form(self, form: pikepdf.Stream) -> None:
        """A form XObject with marked content of its own, rewritten in place once."""
        if form.objgen in self.done:
            return
        self.done.add(form.objgen)
        form.write(self.rewrite(pikepdf.parse_content_stream(form), form))

    def _marked(self, instruction):
        tag, props = instruction.operands
        if not isinstance(props, Dictionary) or "/MCID" not in props:
            return instruction
        mcid = int(props.MCID)
        if mcid in self.artifacts:
            return ContentStreamInstruction([Name.Artifact, artifact_properties(self.artifacts[mcid])], Operator("BDC"))
        new = self.renumber.setdefault(mcid, len(self.renumber))
        fresh = Dictionary(MCID=new)
        if mcid in self.actual_text:
            fresh.ActualText = pikepdf.String(self.actual_text[mcid])
        return ContentStreamInstruction([tag, fresh], Operator("BDC"))


def _has_mcids(xobject: pikepdf.Object) -> bool:
    return xobject.get("/Subtype") == "/Form" and b"/MCID" in xobject.read_bytes()


def _starts_object(op: str, instruction, marked_forms) -> bool:
    if op == "Do":
        return str(instruction.operands[0]) not in marked_forms
    return op == "BT" or op in PATH_START or op in SINGLE
