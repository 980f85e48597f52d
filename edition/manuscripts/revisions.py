"""Tracked changes and comments in a manuscript, found in its XML.

An unresolved tracked change is two texts at once: the import cannot choose
between them for the author (Pandoc would silently accept every change), so
the file is refused with the way to resolve them. Comments are the editor's
and the author's notes to each other, no part of the text: they are dropped,
and each is listed so that nothing disappears without a word.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from edition.manuscripts.package import Package, refuse

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
DC = "{http://purl.org/dc/elements/1.1/}"

#: Word's revision marks: insertions, deletions, moves and formatting changes.
WORD_REVISIONS = tuple(
    W + name
    for name in (
        "ins",
        "del",
        "moveFrom",
        "moveTo",
        "rPrChange",
        "pPrChange",
        "sectPrChange",
        "tblPrChange",
        "trPrChange",
        "tcPrChange",
        "cellIns",
        "cellDel",
        "numberingChange",
    )
)
#: The parts of a .docx whose text the import reads.
WORD_TEXT_PARTS = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml")
#: Longest quotation of a comment in its line.
QUOTED = 80


@dataclass(frozen=True)
class Comment:
    author: str
    text: str
    on: str  # the words it was anchored to, if known


def check_revisions(package: Package) -> None:
    """Refuse a manuscript with unresolved tracked changes, in one line."""
    if package.kind == "docx":
        marks = [
            element
            for name in WORD_TEXT_PARTS
            if (root := package.xml(name)) is not None
            for element in root.iter(*WORD_REVISIONS)
        ]
        authors = sorted({m.get(W + "author") for m in marks if m.get(W + "author")})
        accept = "in Word, Review > Accept > Accept All Changes (or Reject > Reject All Changes)"
    else:
        root = package.xml("content.xml")
        marks = list(root.iter(TEXT + "changed-region")) if root is not None else []
        authors = sorted(
            {(c.text or "").strip() for m in marks for c in m.iter(DC + "creator") if (c.text or "").strip()}
        )
        accept = "in LibreOffice, Edit > Track Changes > Manage > Accept All (or Reject All)"
    if not marks:
        return
    by = f" by {', '.join(authors[:3])}{' and others' if len(authors) > 3 else ''}" if authors else ""
    raise refuse(
        package.path,
        "import.tracked-changes",
        f"the file has {len(marks)} unresolved tracked change(s){by}; {accept}, "
        "save, and import it again (the import does not choose between two versions of the text)",
    )


def comments(package: Package) -> list[Comment]:
    """The comments the import drops, in the order of the file."""
    if package.kind == "docx":
        return _word_comments(package)
    root = package.xml("content.xml")
    if root is None:
        return []
    found = []
    for note in root.iter(OFFICE + "annotation"):
        author = " ".join("".join(c.itertext()) for c in note.iter(DC + "creator")).strip()
        text = " ".join(" ".join(p.itertext()) for p in note.iter(TEXT + "p")).strip()
        found.append(Comment(author, " ".join(text.split()), ""))
    return found


def _word_comments(package: Package) -> list[Comment]:
    root = package.xml("word/comments.xml")
    if root is None:
        return []
    anchors: dict[str | None, str] = {}
    for part in WORD_TEXT_PARTS:  # a comment may stand on a note's words
        anchors |= _word_anchors(package.xml(part))
    found = []
    for comment in root.iter(W + "comment"):
        text = " ".join(" ".join(t.text or "" for t in p.iter(W + "t")) for p in comment.iter(W + "p"))
        found.append(
            Comment(comment.get(W + "author") or "", " ".join(text.split()), anchors.get(comment.get(W + "id"), ""))
        )
    return found


def _word_anchors(document: etree._Element | None) -> dict[str | None, str]:
    """The text each comment is anchored to (between its range marks)."""
    if document is None:
        return {}
    open_ranges: dict[str | None, list[str]] = {}
    done: dict[str | None, str] = {}
    for element in document.iter(W + "commentRangeStart", W + "commentRangeEnd", W + "t"):
        if element.tag == W + "commentRangeStart":
            open_ranges[element.get(W + "id")] = []
        elif element.tag == W + "commentRangeEnd":
            key = element.get(W + "id")
            done[key] = " ".join("".join(open_ranges.pop(key, [])).split())
        else:
            for words in open_ranges.values():
                words.append(element.text or "")
    return done


def describe(comment: Comment) -> str:
    """One line for a dropped comment."""
    who = f" by {comment.author}" if comment.author else ""
    on = f" on '{_cut(comment.on)}'" if comment.on else ""
    return f"comment{who}{on} dropped (comments are no part of the text): '{_cut(comment.text)}'"


def _cut(text: str) -> str:
    return text if len(text) <= QUOTED else text[: QUOTED - 1] + "…"
