"""Which PDF reading keeps a volume from being claimed as PDF/UA-1.

A tagged PDF reading's structure is grafted into the volume as it is (see
``pdfpages``), so the tags a browser or a word processor wrote come along: a
list without labels, a rule drawn as content. When the finished volume breaks
a rule of the checker, each tagged reading whose own file breaks the same rule
is named at its line of the reader (``pdf.tags``), so the compiler knows which
file to replace; a fault no reading explains is left to the general warning.
"""

from __future__ import annotations

import io
import logging

import pikepdf

from edition.diagnostics import Diagnostic
from edition.model import Edition
from edition.outputs.checks import pdfua as pdfua_check

log = logging.getLogger(__name__)


def explain(edition: Edition, name: str, faults: list[str]) -> bool:
    """Warn, for each tagged PDF reading, which of the volume's ``faults`` its
    own file has; True when every fault is explained by one of them."""
    explained: set[str] = set()
    for work in edition.parts:
        source = work.pdf
        if source is None or not source.tagged:
            continue
        with pikepdf.open(io.BytesIO(source.data)) as pdf:
            own = [f for f in pdfua_check.check(pdf) if f in faults]
        if not own:
            continue
        explained.update(own)
        message = (
            f"{source.name}: its own tags break the PDF/UA rules {', '.join(own)} (see README, 'Accessibility'), "
            f"and they are kept in the volume, so {name} is not claimed as PDF/UA-1; "
            "give a copy of the file that passes PDF/UA (or one without tags, printed as figures)"
        )
        log.warning("%s", Diagnostic(source.location, "pdf.tags", message, "warning"))
    return explained >= set(faults)
