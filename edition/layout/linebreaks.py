"""A correction to WeasyPrint's line breaking, applied before any layout.

When a run of text ends with a space and is followed by an inline element
(a link, an emphasis, a span), and the run fits the line only without that
space, Pango reports that it fits while its measured width (space included)
exceeds the line: WeasyPrint then takes the run for one that cannot be split
earlier and breaks it after its *first word*. A line holding one word follows
("… trans. Balázs Szalontai," / "March" / "9, 1967, XIX-J-1-j Korea, …" in a
note of the paper on Letter paper). The trailing space is one WeasyPrint
itself does not count against the line (it hangs at a line end), so the run
is kept whole here; if the element after it does not fit, WeasyPrint breaks
the run again at its last break point, as it does for any run.
"""

from __future__ import annotations

from weasyprint.layout import inline
from weasyprint.text import line_break

_split_first_line = line_break.split_first_line


def split_first_line(text, style, context, max_width, justification_spacing, is_line_start=True, minimum=False):
    result = _split_first_line(text, style, context, max_width, justification_spacing, is_line_start, minimum)
    if max_width is None or result[2] is None or not text.endswith(" ") or not text.strip():
        return result
    stripped = text.rstrip(" ")
    fits = _split_first_line(stripped, style, context, max_width, justification_spacing, is_line_start, minimum)
    if fits[2] is not None or fits[3] > max_width:
        return result
    return _split_first_line(text, style, context, None, justification_spacing, is_line_start, minimum)


def apply() -> None:
    """Use the corrected function where WeasyPrint's inline layout calls it."""
    inline.split_first_line = split_first_line


apply()
