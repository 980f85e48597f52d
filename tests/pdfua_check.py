"""The PDF/UA-1 checker the tests use: the build's own (``edition.outputs.pdfua_check``).

The build claims PDF/UA-1 only when this checker passes a file, so the checker
lives in the package, where the build can run it; this module gives the tests
the same entry points as ``tests/pdfa_check.py`` (``check(path)`` and
``RULES``). Its rules, and what only a person or veraPDF/PAC can judge, are
listed in the README ("Accessibility").
"""

from __future__ import annotations

from edition.outputs.checks.pdfua import CLAIMS, RULES, File, check

__all__ = ["CLAIMS", "RULES", "File", "check"]
