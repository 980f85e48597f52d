"""Zotero and Mendeley citations: ``[@key]`` in the text, their data in BibTeX.

Pandoc's ``docx+citations`` reader turns each citation field into a citation
whose item data (CSL JSON, as the citation manager stored it in the field)
is in the document's ``references``. The import gives each item a readable
key (``kim2013everyday``: the first author's family name, the year, the
title's first word), writes the citations with it, and has Pandoc's BibLaTeX
writer write the items as ``bib/<slug>.bib`` (Pandoc maps CSL to BibLaTeX;
the build reads it back with the same Pandoc).

An entry that lacks a field the build requires of its type (a book without a
publisher) would stop the build: it is written as ``@misc`` with all its
fields, and a warning names the entry and the field to add before its type
is set back.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from edition import ids
from edition.diagnostics import Collector
from edition.infra.tools import run_pandoc
from edition.manuscripts.notices import Notices
from edition.manuscripts.pandoc_ast import Node, document, meta_list, meta_text, text_inlines, walk
from edition.read import bibliography

#: Locator labels as Zotero and Mendeley store them -> the abbreviation the citation syntax reads.
LABELS = {
    "page": "p.",
    "pages": "pp.",
    "chapter": "chap.",
    "section": "sec.",
    "paragraph": "para.",
    "volume": "vol.",
    "note": "n.",
    "figure": "fig.",
    "line": "l.",
    "book": "bk.",
    "column": "col.",
    "folio": "fol.",
    "number": "no.",
    "part": "pt.",
    "verse": "v.",
    "opus": "op.",
}
COMMON_WORDS = {"a", "an", "the", "on", "of", "in", "and", "der", "die", "das", "le", "la", "les", "el"}


def rename_keys(doc: dict[str, Any]) -> dict[str, str]:
    """Readable keys for the document's references, in ``doc`` (references
    and citations); returns old key -> new key."""
    references = meta_list(doc["meta"].get("references"))
    renamed: dict[str, str] = {}
    taken: set[str] = set()
    for item in references:
        fields = item.get("c", {}) if isinstance(item, dict) else {}
        old = meta_text(fields.get("id"))
        new = _key(fields, taken)
        taken.add(new)
        renamed[old] = new
        fields["id"] = {"t": "MetaString", "c": new}
    for node in walk(doc["blocks"]):
        if node["t"] == "Cite":
            for citation in node["c"][0]:
                citation["citationId"] = renamed.get(citation["citationId"], citation["citationId"])
                citation["citationSuffix"] = _suffix(citation["citationSuffix"])
    return renamed


def _key(fields: dict[str, Any], taken: set[str]) -> str:
    people = meta_list(fields.get("author")) or meta_list(fields.get("editor"))
    name = ""
    if people and isinstance(people[0], dict) and people[0].get("t") == "MetaMap":
        person = people[0]["c"]
        name = meta_text(person.get("family")) or meta_text(person.get("literal"))
    year = re.search(r"\d{4}", json.dumps(fields.get("issued", "")))
    title_words = [w for w in ids.ascii_slug(meta_text(fields.get("title"))).split("-") if w]
    word = next((w for w in title_words if w not in COMMON_WORDS), "")
    base = (ids.ascii_slug(name).replace("-", "") or "ref") + (year.group(0) if year else "") + word
    if not base[0].isalpha():
        base = "ref" + base
    key, letter = base, 0
    while key in taken:
        key = base + "abcdefghijklmnopqrstuvwxyz"[letter % 26] * (letter // 26 + 1)
        letter += 1
    return key


def _suffix(suffix: list[Node]) -> list[Node]:
    """``, page 12 `` (a field's locator as Pandoc gives it) as ``, p. 12``."""
    text = "".join(n["c"] if n["t"] == "Str" else " " for n in suffix if n["t"] in ("Str", "Space"))
    if any(n["t"] not in ("Str", "Space") for n in suffix):
        return suffix
    match = re.match(r"^(,\s*)(\w+)(\s+)(.*?)\s*$", text)
    if match and match.group(2).lower() in LABELS:
        text = f", {LABELS[match.group(2).lower()]} {match.group(4)}"
    return text_inlines(text.rstrip())


def bibtex(doc: dict[str, Any]) -> str:
    """The document's references as BibLaTeX, by Pandoc's writer."""
    if not meta_list(doc["meta"].get("references")):
        return ""
    only = document([], {"references": doc["meta"]["references"]})
    stdout, _ = run_pandoc(["-f", "json", "-t", "biblatex", "--wrap=none"], json.dumps(only).encode("utf-8"))
    return stdout.decode("utf-8")


def buildable(text: str, notices: Notices, bib_name: str) -> str:
    """``text`` with each entry that lacks a field its type requires written
    as ``@misc`` (named in a warning), so that the work builds."""
    diags = Collector()
    entries = bibliography.parse(text, bibliography_path(bib_name), diags)
    missing: dict[str, list[str]] = {}
    for diagnostic in diags.items:
        match = re.search(r"@(\w+)\{([^}]*)\} lacks the field '([^']+)'", diagnostic.message)
        if diagnostic.code == "bib.missing-field" and match:
            missing.setdefault(match.group(2), []).append(match.group(3))
    for key, fields in missing.items():
        kind = entries[key].entry_type
        text = re.sub(r"@" + re.escape(kind) + r"\{" + re.escape(key) + ",", "@misc{" + key + ",", text, count=1)
        notices.warn(
            "import.citation",
            f"the citation manager's entry {key!r} ({kind}) lacks {' and '.join(fields)}: it is written as @misc; "
            f"add the missing data and change its type back to @{kind}",
            bibliography_path(bib_name),
            "{" + key + ",",
        )
    return text


def bibliography_path(bib_name: str) -> Path:
    return Path("bib") / bib_name
