"""Pandoc reads the checked package into its document model (JSON).

Pandoc runs with the bounds the pipeline gives it for any stranger's input:
``--sandbox`` (it reads no file but the one given, fetches nothing), a heap
of ``PANDOC_HEAP`` and ``PANDOC_TIMEOUT`` seconds. A ``.docx`` is read with
the ``citations`` extension, which turns Zotero's and Mendeley's citation
fields into citations with their CSL data (``meta.references``); an ``.odt``
has no such fields Pandoc reads.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from edition.infra.tools import run_pandoc
from edition.manuscripts.package import Package, refuse
from edition.read.bibliography import PANDOC_HEAP

#: The longest Pandoc may take to read a manuscript (a long book takes seconds).
PANDOC_TIMEOUT = 600


def read_document(package: Package) -> dict[str, Any]:
    """Pandoc's JSON document of the manuscript."""
    reader = "docx+citations" if package.kind == "docx" else "odt"
    return json.loads(_pandoc(package, reader, "json"))


def _pandoc(package: Package, reader: str, writer: str, *extra: str) -> bytes:
    name = f"manuscript.{package.kind}"
    args = ["+RTS", f"-M{PANDOC_HEAP}", "-RTS", "--sandbox", "-f", reader, "-t", writer, *extra, "{" + name + "}"]
    try:
        stdout, _ = run_pandoc(args, b"", files={name: package.repacked()}, timeout=PANDOC_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise refuse(
            package.path, "file.size", f"Pandoc did not finish reading the file in {PANDOC_TIMEOUT} s; split it"
        ) from None
    except subprocess.CalledProcessError as failed:
        said = (failed.stderr or b"").decode("utf-8", "replace")
        if "Heap exhausted" in said:
            raise refuse(
                package.path,
                "file.size",
                f"Pandoc cannot read the file within {PANDOC_HEAP[:-1]} MB of memory; split it",
            ) from None
        said = said.split("HasCallStack", 1)[0]  # the rest is Haskell's backtrace, no help to an author
        detail = " ".join(said.replace("pandoc:", "").split())[:300] or f"exit status {failed.returncode}"
        raise refuse(package.path, "import.format", f"Pandoc cannot read the file: {detail}") from None
    return stdout
