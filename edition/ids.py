"""Output ids and file names: the one place where work-local ids are namespaced.

Content refers to its own ids (``#document-3``); a volume of several works
must never see two ``document-3``s, so every id in an output is
``<work>--<local id>``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

#: What a work's or a reader's folder name may be: it names the output files
#: and begins every id of the edition, so it must be safe in both.
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*$")
NAME_RULE = "letters, digits and single hyphens or underscores, beginning with a letter"


def output_id(work_slug: str, local: str) -> str:
    return f"{work_slug}--{local}"


def note_id(work_slug: str, number: int) -> str:
    return output_id(work_slug, f"note-{number}")


def noteref_id(work_slug: str, number: int) -> str:
    return output_id(work_slug, f"noteref-{number}")


def original_page_id(work_slug: str, page: int) -> str:
    return output_id(work_slug, f"op-{page}")


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits joined by hyphens; accents dropped
    (``Zwei Ä`` -> ``zwei-a``); empty if nothing of the text is Latin."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def slugify(text: str) -> str:
    return ascii_slug(text) or "section"


def file_id(stem: str) -> str:
    """A section's id, and its part of the EPUB file name, from its file name
    (``02 zwei ä`` -> ``02-zwei-a``): safe in a URL, an XML id and a zip entry.
    A name with no Latin letter or digit gets a stable one from its hash."""
    return ascii_slug(stem) or "s-" + hashlib.sha1(stem.encode()).hexdigest()[:8]
