"""The source transcript as a word sequence, by the rules of its README.

Page furniture is removed (the web address, the running title, the series line,
bare folio numbers), note numbers are taken out and remembered with the word
they follow, the ``***`` separators between documents are dropped, and a line
starting with a space (or the first line after a folio) starts a page of the
original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FURNITURE = {
    "www.wilsoncenter.org/nkidp",
    "\u201cJuche\u201d and North Korea\u2019s Global Aspirations",
    "NKIDP Working Paper #1",
}
NOTES = 61


@dataclass
class Token:
    word: str
    line: int


@dataclass
class Transcript:
    tokens: list[Token] = field(default_factory=list)
    calls: list[tuple[int, str]] = field(default_factory=list)  # (note, word before)
    page_starts: dict[int, str] = field(default_factory=dict)  # page -> its first word

    @property
    def words(self) -> list[str]:
        return [t.word for t in self.tokens]


def read(path: Path) -> Transcript:
    out = Transcript()
    expected = 1
    page = 1
    after_folio = False
    pending_page: int | None = None
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, raw in enumerate(lines, 1):
        text = raw.strip()
        starts_page = number > 1 and raw.startswith(" ") and bool(text)
        if not text or text in FURNITURE:
            continue
        if re.fullmatch(r"\d+", text):
            if text == str(expected) and expected <= NOTES:
                out.calls.append((expected, out.tokens[-1].word))
                expected += 1
            else:
                after_folio = True  # a folio: the next line of text starts a page
            continue
        if starts_page or after_folio or number == 1:
            if number > 1:
                page += 1
            pending_page = page
        after_folio = False
        if text == "***":
            continue
        for word in text.split():
            if expected <= NOTES and word == str(expected) and out.tokens:
                out.calls.append((expected, out.tokens[-1].word))
                expected += 1
                continue
            glued = re.fullmatch(r"(.*\D)(\d+)", word)
            if glued and expected <= NOTES and glued.group(2) == str(expected):
                word = glued.group(1)
                out.tokens.append(Token(word, number))
                out.calls.append((expected, word))
                expected += 1
                continue
            if pending_page is not None:
                out.page_starts[pending_page] = word
                pending_page = None
            out.tokens.append(Token(word, number))
    return out


def apply_register(transcript: Transcript, entries: list[dict]) -> list[str]:
    """The transcript's words with every register entry applied at its line."""
    tokens = list(transcript.tokens)
    for entry in entries:
        hits = [i for i, t in enumerate(tokens) if t.line == entry["source_line"] and entry["source"] in t.word]
        if len(hits) != 1:
            raise AssertionError(f"register entry {entry} matches {len(hits)} words at its line")
        i = hits[0]
        replaced = tokens[i].word.replace(entry["source"], entry["edition"], 1).split()
        tokens[i : i + 1] = [Token(w, tokens[i].line) for w in replaced]
    return [t.word for t in tokens]
