"""Characters no output may carry.

XML 1.0 forbids the C0 controls other than tab, line feed and carriage
return, lone surrogates, and U+FFFE and U+FFFF; it discourages DEL, the C1
controls and the Unicode noncharacters (U+FDD0-U+FDEF and the last two code
points of every plane), which EPUB reading systems and PDF text extraction
mishandle. The readers refuse all of them, in raw text and in values that
YAML escapes (``"a\\0b"``) produce.
"""

from __future__ import annotations

import re

FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(0x11))
    + "]"
)


def describe(char: str) -> str:
    """``U+0000 (a control character)`` and the like, for a message."""
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        kind = "a control character"
    elif 0xD800 <= code <= 0xDFFF:
        kind = "a lone surrogate"
    else:
        kind = "a Unicode noncharacter"
    return f"U+{code:04X} ({kind})"
