"""Where Pandoc's BibTeX reader failed, as an author can act on it.

bibtexparser reads a file first and reports what it cannot parse at the
entry's line. It is more lenient than Pandoc in one way: after a LaTeX line
break ``\\\\`` a brace does not count for it (it reads ``\\{``), while for
Pandoc the brace opens a group; such an entry swallows the rest of the file,
and Pandoc reports "unexpected end of input" at the file's last line. The
entry whose braces do not balance (a brace escaped by one backslash, ``\\{``,
does not count) is the one to name; failing that, the entry that holds the
line Pandoc names.
"""

from __future__ import annotations

import re

#: Where an entry begins: ``@type{`` or ``@type(`` at the start of a line.
ENTRY_START = re.compile(r"^[ \t]*@([A-Za-z]+)[ \t]*[{(][ \t]*([^,\s]*)", re.M)
#: Pandoc's position: ``(line 13, column 1)``.
POSITION = re.compile(r"line (\d+), column (\d+)")
#: A brace that opens or closes a group: not escaped by an odd run of backslashes.
BRACE = re.compile(r"(?<!\\)(?:\\\\)*([{}])")
#: Entries that are not bibliography entries.
NOT_ENTRIES = ("comment", "preamble", "string")


def locate(text: str, said: str) -> tuple[int | None, str, str]:
    """``(line, what, advice)`` for Pandoc's error message ``said`` about
    ``text``: the line of the entry to fix, how to name it (``@book{roe}``),
    and what to do; ``(line, "", "")`` when no entry can be named."""
    starts = [
        (text.count("\n", 0, m.start()) + 1, m.start(), m.group(1).lower(), m.group(2))
        for m in ENTRY_START.finditer(text)
        if m.group(1).lower() not in NOT_ENTRIES
    ]
    for index, (line, start, kind, key) in enumerate(starts):
        end = starts[index + 1][1] if index + 1 < len(starts) else len(text)
        braces = [m.group(1) for m in BRACE.finditer(text, start, end)]
        if braces.count("{") != braces.count("}"):
            return (
                line,
                f"@{kind}{{{key}}}",
                "its braces do not balance (a { after a line break \\\\ opens a group): close each {, "
                "and write a literal brace as \\{ or \\}",
            )
    position = POSITION.search(said)
    if position is None:
        return None, "", ""
    at = int(position.group(1))
    holding = [s for s in starts if s[0] <= at]
    if not holding:
        return at, "", ""
    line, _, kind, key = holding[-1]
    return line, f"@{kind}{{{key}}}", ""
