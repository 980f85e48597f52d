"""The page make-up's marks, written into the print HTML before a layout:
a page break before a named block, a note split into the parts that run on
from page to page, a figure or table moved to the head of a page.

The make-up (``makeup``) decides as data where pages end, where a note
breaks and where a float goes; this module only writes those decisions into
the HTML the layout engine lays out, so any engine that lays out HTML can
take them. A print HTML without marks is returned as it is, byte for byte.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence

from lxml import html as lxml_html

from edition.ids import note_id
from edition.layout.pages import CONTINUED
from edition.layout.pagestart import text_blocks

#: Classes of the elements whose text is not the source's own (their tails are).
NOT_COUNTED = {"original-page"}

#: (float's number in the work's order, where the page before it ends: a paragraph's position
#: (work, paragraph, characters; -1 after it) or a named block ("#", id, index))
FloatMoves = Sequence[tuple[int, tuple]]
#: note -> (characters of it before each later part, the note its later parts follow, if not itself)
NoteCuts = Mapping[tuple[str, int], tuple[Sequence[int], tuple[str, int] | None]]


def apply(
    html: str, blocks: Sequence[tuple[str, int]] = (), notes: NoteCuts | None = None, floats: FloatMoves = ()
) -> str:
    """The print HTML with a page break before each named block (a block the
    renderer does not number: a table row, a template's paragraph), each
    note of ``notes`` cut into parts at the given characters, and each float
    of ``floats`` moved to the head of the page after the page end given."""
    if not blocks and not notes and not floats:
        return html
    root = lxml_html.document_fromstring(html)
    number_floats(root)
    for anchor_id, index in blocks:
        _break_before(root, anchor_id, index)
    for index, end in floats:
        move_float(root, index, end)
    for (work, number), (cuts, beside) in sorted((notes or {}).items()):
        span = root.get_element_by_id(note_id(work, number), None)
        after = root.get_element_by_id(note_id(*beside), None) if beside else None
        if span is not None and cuts:
            run_on(span, cuts, after)
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")


def _break_before(root, anchor_id: str, index: int) -> None:
    target = _block(root, anchor_id, index)
    if target is not None:
        _add_class(target, "page-start")


def _block(root, anchor_id: str, index: int):
    found = root.get_element_by_id(anchor_id, None)
    texts = text_blocks(found) if found is not None else []
    if index >= len(texts):
        return None
    target = texts[index]
    return target.getparent() if target.tag in ("td", "th") else target


def _add_class(element, name: str) -> None:
    classes = (element.get("class") or "").split()
    if name not in classes:
        element.set("class", " ".join([*classes, name]))


def _drop_class(element, name: str) -> None:
    classes = [c for c in (element.get("class") or "").split() if c != name]
    if classes:
        element.set("class", " ".join(classes))
    else:
        element.attrib.pop("class", None)


# -- floats ------------------------------------------------------------------------------


def number_floats(root) -> None:
    """Number the figures and tables (``data-float``) in the order the text
    places them, before any is moved: the make-up names them so."""
    for index, element in enumerate(floats_in(root)):
        element.set("data-float", str(index))


def move_float(root, index: int, end: tuple) -> None:
    """Move float ``index`` to the head of the page that begins after ``end``:
    it takes that page's forced break, and an empty, undisplayed
    ``span.float-origin`` keeps its place in the text (where the EPUB has it,
    and where the page starts count its blocks, ``pagestart.text_blocks``)."""
    element = next((e for e in root.iter() if e.get("data-float") == str(index)), None)
    target = _page_head(root, end)
    if element is None or target is None or target is element:
        return
    origin = lxml_html.Element("span", {"class": "float-origin", "data-float-origin": str(index)})
    origin.tail = element.tail
    element.addprevious(origin)
    element.tail = None
    _add_class(element, "float-moved")
    before, after = target
    if after is not None:  # the float goes after the block that ends the page (it breaks after itself)
        after.addnext(element)
        return
    before.addprevious(element)  # the float takes the page's break from the block that starts it
    _drop_class(before, "page-start")
    if "continued" in (before.get("class") or "").split():
        _add_class(before, "after-float")


def _page_head(root, end: tuple):
    """(the element the page after ``end`` begins with, None), or (None, the
    paragraph that ends the page before it with its last line)."""
    if end[0] == "#":
        block = _block(root, end[1], end[2])
        return (block, None) if block is not None else None
    work, paragraph, chars = end
    parts = [p for p in root.iter("p") if p.get("data-p") == f"{work}:{paragraph}"]
    if not parts:
        return None
    if chars < 0:
        return None, parts[-1]
    for part in parts:
        if int(part.get("data-chars") or 0) == chars:
            return part, None
    return None


def floats_in(root) -> list:
    """The figures and tables under ``root`` (not one inside another), in
    document order: what the make-up may move to the head of a page."""
    found: list = []

    def visit(element) -> None:
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if _is_float(child):
                found.append(child)
            else:
                visit(child)

    visit(root)
    return found


def _is_float(element) -> bool:
    tag = element.tag.rsplit("}", 1)[-1]
    if tag == "figure" or (tag == "div" and "table-block" in (element.get("class") or "").split()):
        return True
    return tag == "table" and any(isinstance(c.tag, str) and c.tag.rsplit("}", 1)[-1] == "caption" for c in element)


# -- notes that run on ---------------------------------------------------------------------


def run_on(span, cuts: Sequence[int], after=None) -> list:
    """Cut a print footnote (``span.footnote``) before the words holding the
    given non-space characters of its text: the first part keeps the call
    and the number, each later part follows it (or the note ``after``, called
    beside it) as a ``span.footnote-continued`` (``data-part`` 2, 3…,
    ``data-chars`` where its text begins). Returns the parts."""
    parts = [span]
    done = 0
    current = span
    place = after if after is not None else span
    for number, cut in enumerate(sorted({c for c in cuts if c > 0}), 2):
        halves = split(current, cut - done)
        if halves is None:
            break
        head, tail = halves
        _replace_content(current, head)
        tail.attrib.clear()
        tail.set("class", f"footnote {CONTINUED}")
        tail.set("id", f"{span.get('id')}-part-{number}")
        tail.set("data-note", span.get("data-note") or "")
        tail.set("data-part", str(number))
        tail.set("data-chars", str(cut))
        tail.tail = place.tail
        place.tail = None
        place.addnext(tail)
        parts.append(tail)
        current, done, place = tail, cut, tail
    return parts


def _replace_content(element, source) -> None:
    for child in list(element):
        element.remove(child)
    element.text = source.text
    for child in source:
        element.append(child)


def split(element, chars: int):
    """Two copies of ``element``: its content before the word that holds its
    ``chars``-th non-space character (counted from 0), and the rest; elements
    open at the cut are closed in the first and opened again in the second
    (without their ids). None if the text has no such character."""
    work = copy.deepcopy(element)
    place = _word_start(work, chars)
    if place is None:
        return None
    node, slot, offset = place
    cut = lxml_html.Element("cut")
    if slot == "text":
        text = node.text or ""
        node.text, cut.tail = text[:offset], text[offset:]
        node.insert(0, cut)
    else:
        text = node.tail or ""
        node.tail, cut.tail = text[:offset], text[offset:]
        node.addnext(cut)
    head, tail = copy.deepcopy(work), copy.deepcopy(work)
    _keep_before(head)
    _keep_after(tail)
    return head, tail


def _text_slots(element) -> Iterator[tuple[object, str, str]]:
    """(node, "text" | "tail", string) in reading order inside ``element``,
    leaving out the text of elements that are not the source's."""
    if element.text:
        yield element, "text", element.text
    for child in element:
        if isinstance(child.tag, str) and not NOT_COUNTED & set((child.get("class") or "").split()):
            yield from _text_slots(child)
        if child.tail:
            yield child, "tail", child.tail


def _word_start(element, chars: int) -> tuple[object, str, int] | None:
    """Where the word holding the ``chars``-th non-space character begins."""
    seen = 0
    start = None
    for node, slot, text in _text_slots(element):
        for offset, char in enumerate(text):
            if char.isspace():
                start = None
                continue
            if start is None:
                start = (node, slot, offset)
            if seen == chars:
                return start
            seen += 1
    return None


def _cut(root):
    return next(root.iter("cut"))


def _keep_before(root) -> None:
    """Drop everything after the cut (and the cut), up to ``root``."""
    cut = _cut(root)
    node = cut
    while node is not root:
        parent = node.getparent()
        node.tail = None
        for following in list(node.itersiblings()):
            parent.remove(following)
        if parent is not root and parent.tag == "a":  # its page reference follows its other half
            _add_class(parent, "runs-on")
        node = parent
    cut.getparent().remove(cut)
    _trim_end(root)


def _keep_after(root) -> None:
    """Drop everything before the cut (and the cut), up to ``root``. The
    elements the cut stood in lose their ids (their first copy keeps them),
    and a paragraph of the note cut inside is marked ``continued`` (its first
    line is no paragraph's first: no indent)."""
    cut = _cut(root)
    node = cut
    while node is not root:
        parent = node.getparent()
        before = (parent.text or "").strip() or any(
            "".join(s.itertext()).strip() or (s.tail or "").strip() for s in node.itersiblings(preceding=True)
        )
        for preceding in list(node.itersiblings(preceding=True)):
            parent.remove(preceding)
        parent.text = None
        if parent is not root:
            parent.attrib.pop("id", None)
            if before and "note-paragraph" in (parent.get("class") or "").split():
                _add_class(parent, "continued")
        node = parent
    holder = cut.getparent()
    holder.text = cut.tail
    holder.remove(cut)


def _trim_end(root) -> None:
    """The first part ends with its last word: no space, no empty element."""
    last = root
    while len(last):
        child = last[-1]
        if not "".join(child.itertext()).strip() and not len(child) and not (child.tail or "").strip():
            last.remove(child)
            continue
        if (child.tail or "").strip():
            child.tail = child.tail.rstrip()
            return
        child.tail = None
        last = child
    if last.text:
        last.text = last.text.rstrip()


def whole(copied, original):
    """A note's first part (``copied``, a copy of ``original``) with the text
    of the parts that run on after it put back: the whole note."""
    for part in original.itersiblings():
        if CONTINUED not in (part.get("class") or "").split():
            if "footnote" in (part.get("class") or "").split():
                continue  # a note called beside it, which its parts follow
            break
        if (part.get("id") or "").rsplit("-part-", 1)[0] != original.get("id"):
            continue
        pieces = copy.deepcopy(part)
        for paragraph in pieces.iter("span"):
            _drop_class(paragraph, "continued")
        for link in copied.iter("a"):
            _drop_class(link, "runs-on")
        last = copied[-1] if len(copied) else None
        if last is not None:
            last.tail = (last.tail or "") + " " + (pieces.text or "")
        else:
            copied.text = (copied.text or "") + " " + (pieces.text or "")
        for child in pieces:
            copied.append(child)
    return copied
