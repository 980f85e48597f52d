"""Output ids and file names: the one place where work-local ids are namespaced.

Content refers to its own ids (``#document-3``); a volume of several works
must never see two ``document-3``s, so every id in an output is
``<work>--<local id>``.
"""

from __future__ import annotations

import re


def output_id(work_slug: str, local: str) -> str:
    return f"{work_slug}--{local}"


def note_id(work_slug: str, number: int) -> str:
    return output_id(work_slug, f"note-{number}")


def noteref_id(work_slug: str, number: int) -> str:
    return output_id(work_slug, f"noteref-{number}")


def original_page_id(work_slug: str, page: int) -> str:
    return output_id(work_slug, f"op-{page}")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
