"""BibTeX entry types beyond the ones Pandoc's reader maps, as CSL knows them.

Pandoc's BibLaTeX reader gives most types a CSL type (``@inproceedings`` a
``paper-conference``, ``@jurisdiction`` a ``legal_case``); a few it leaves
without one, and an entry without a type is formatted as nothing in
particular. What CSL has a type for is given it here: BibTeX's
``@conference`` (an ``@inproceedings``), the legal types Zotero's Better
BibLaTeX and the BibLaTeX-juristik styles write (``@case``, ``@statute``,
``@hearing``), and any CSL type written as an entry type (``@legal_case``).
A court is a case's ``authority`` in CSL; Pandoc reads it (``institution``)
as the publisher, which no style prints for a case. Anything else is formatted
as a document, and the build says so (``bib.type``, ``report``).
"""

from __future__ import annotations

import re
from typing import Any

from edition.model import BibEntry

#: The types of CSL 1.0.2.
CSL = frozenset(
    [
        "article",
        "article-journal",
        "article-magazine",
        "article-newspaper",
        "bill",
        "book",
        "broadcast",
        "chapter",
        "classic",
        "collection",
        "dataset",
        "document",
        "entry",
        "entry-dictionary",
        "entry-encyclopedia",
        "event",
        "figure",
        "graphic",
        "hearing",
        "interview",
        "legal_case",
        "legislation",
        "manuscript",
        "map",
        "motion_picture",
        "musical_score",
        "pamphlet",
        "paper-conference",
        "patent",
        "performance",
        "periodical",
        "personal_communication",
        "post",
        "post-weblog",
        "regulation",
        "report",
        "review",
        "review-book",
        "software",
        "song",
        "speech",
        "standard",
        "thesis",
        "treaty",
        "webpage",
    ]
)
#: BibTeX types Pandoc leaves without a CSL type, and the one they are.
ALIASES = {"conference": "paper-conference", "case": "legal_case", "statute": "legislation", "law": "legislation"}
#: Types the edition gives a type itself (``bibliography._augment``).
OWN = ("misc", "unpublished")
#: Cases whose court Pandoc reads as the publisher.
CASES = ("jurisdiction", "case", "legal_case")


def csl_type(entry: BibEntry) -> str | None:
    """The CSL type an entry of a type Pandoc does not map stands for, if CSL has one."""
    name = entry.entry_type.lower()
    if name in ALIASES:
        return ALIASES[name]
    spelled = re.sub(r"[_-]", "-", name)
    return next((t for t in CSL if re.sub(r"[_-]", "-", t) == spelled), None)


def complete(item: dict[str, Any], entry: BibEntry) -> None:
    """Give ``item`` (Pandoc's CSL for ``entry``) the type and the court CSL
    expects, where Pandoc left them out."""
    if not item.get("type") and entry.entry_type not in OWN:
        item["type"] = csl_type(entry) or "document"
    if item.get("type") == "legal_case" and entry.entry_type in CASES and "authority" not in item:
        court = entry.fields.get("court") or entry.fields.get("institution")
        if court and "publisher" not in entry.fields:
            item["authority"] = item.pop("publisher", None) or re.sub(r"[{}]", "", court)
        elif court:
            item["authority"] = re.sub(r"[{}]", "", court)


def unknown(entry: BibEntry, item: dict[str, Any]) -> bool:
    """True when neither Pandoc nor CSL knows the entry's type: ``complete``
    made it a document (Pandoc itself makes no type a document)."""
    return item.get("type") == "document" and entry.entry_type not in OWN and csl_type(entry) != "document"
