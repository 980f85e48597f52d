"""The new work's ``work.yaml``, from what the manuscript says of itself.

The title, subtitle, authors and date come from the text when it gives them
(Word's Title, Subtitle, Author and Date paragraphs, or a single top heading),
else from the file's properties; the language from the properties (or the
document's default language). A work needs more than a manuscript records (a
publisher, a rights statement): such a value is written as a placeholder that
builds, ``To be filled in: …``, and listed for the author. The identifier is
made from the file's bytes (the same file gives the same identifier).
"""

from __future__ import annotations

import datetime
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import yaml

from edition.infra.tools import csl_styles_dir
from edition.manuscripts.pandoc_ast import Node, meta_list, meta_text, stringify, text_inlines
from edition.manuscripts.properties import Properties
from edition.read.schema import DATE_RE

PLACEHOLDER = "To be filled in: {what}"
DATE_FORMS = ("%d %B %Y", "%B %d, %Y", "%B %d %Y", "%d %b %Y", "%b %d, %Y", "%B %Y", "%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")


@dataclass
class Metadata:
    values: dict[str, Any]
    to_fill: list[str] = field(default_factory=list)  # what the author must give
    to_check: list[str] = field(default_factory=list)  # what the import guessed


def title_inlines(
    meta: dict[str, Any], heading_title: list[Node], props: Properties, stem: str
) -> tuple[list[Node], str]:
    """The work's title as inlines, and where it came from."""
    if meta.get("title", {}).get("t") == "MetaInlines" and stringify(meta["title"]["c"]).strip():
        return meta["title"]["c"], "text"
    if heading_title:
        return heading_title, "text"
    if props.title:
        return text_inlines(props.title), "properties"
    return text_inlines(" ".join(re.split(r"[-_\s]+", stem)).strip() or "Untitled"), "file name"


def work_yaml(
    meta: dict[str, Any],
    title_markdown: str,
    title_source: str,
    subtitle_markdown: str,
    props: Properties,
    digest: bytes,
    bib_name: str | None,
    file_date: str,
) -> Metadata:
    result = Metadata({})
    values = result.values
    values["title"] = title_markdown
    if title_source == "file name":
        result.to_check.append("title (taken from the file's name: the file gives none)")
    if subtitle_markdown:
        values["subtitle"] = subtitle_markdown
    authors = [meta_text(a) for a in meta_list(meta.get("author"))] or list(props.authors)
    authors = [a for a in authors if a]
    if authors:
        values["authors"] = [{"name": a} for a in authors]
    else:
        values["authors"] = [{"name": PLACEHOLDER.format(what="the author's name")}]
        result.to_fill.append("authors (the file names no author)")
    values["publisher"] = PLACEHOLDER.format(what="the publisher")
    result.to_fill.append("publisher")
    date = _date(meta_text(meta.get("date")))
    if date:
        values["date"] = date
    else:
        values["date"] = props.modified or props.created or file_date
        result.to_check.append(f"date ({values['date']}: the day the file was last saved, not a publication date)")
    language = props.language or meta_text(meta.get("lang"))
    if language:
        values["language"] = language
    else:
        values["language"] = "en"
        result.to_check.append("language (the file names none: 'en' is written)")
    values["identifier"] = "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "edition-import:" + digest.hex()))
    values["rights"] = PLACEHOLDER.format(what="who holds the rights to the text, and what readers may do with it")
    result.to_fill.append("rights")
    if bib_name:
        values["bibliography"] = bib_name
    style = _installed_style(props.zotero_style)
    if style:
        values["csl"] = style
    elif props.zotero_style:
        result.to_check.append(
            f"csl (the citation manager used {props.zotero_style}, which is not among the installed styles: "
            "the work uses the default, Chicago notes and bibliography)"
        )
    # the text keeps the characters the author typed: "straight" quotes stay straight
    values["smart_quotes"] = False
    return result


def _date(text: str) -> str:
    text = " ".join(text.split())
    if DATE_RE.match(text):
        return text
    for form in DATE_FORMS:
        try:
            return datetime.datetime.strptime(text, form).date().isoformat()
        except ValueError:
            continue
    return ""


def _installed_style(style_id: str) -> str:
    """The style's name when the CSL repository's copy is installed and is a
    style of its own (not a dependent one, which the build refuses)."""
    name = style_id.rstrip("/").rsplit("/", 1)[-1]
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        return ""
    path = csl_styles_dir() / f"{name}.csl"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    return "" if 'rel="independent-parent"' in text else name


def dump(metadata: Metadata, source_name: str) -> str:
    """The YAML text, with a head saying what to fill in and check."""
    head = [
        f"# Imported from {source_name} by python build.py --import.",
        "# Check every value against the manuscript.",
    ]
    if metadata.to_fill:
        head.append("# To fill in (the file does not say): " + "; ".join(metadata.to_fill) + ".")
    if metadata.to_check:
        head.append("# To check (guessed by the import): " + "; ".join(metadata.to_check) + ".")
    body = yaml.safe_dump(metadata.values, allow_unicode=True, sort_keys=False, width=1000)
    return "\n".join(head) + "\n" + body
