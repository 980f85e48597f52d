"""A valid project broken on purpose: the build must refuse it cleanly.

``refuse`` (the ``refused`` fixture of ``conftest.py``) builds a valid project,
applies a change, builds again and asserts exit 2, exactly the expected
diagnostic lines, ``dist/`` unchanged and no temporary file left.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .bounded import build_bounded, killed_by_limit
from .builds import cli_epub, diagnostic_lines
from .projects import BIB_MIN, make_project, write_files

#: Memory and CPU a bounded build of a small project may use.
MEMORY = 1024 * 1024 * 1024
CPU = 30

Change = Callable[[Path], None] | dict[str, str | bytes]


build = cli_epub


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in the folder, hidden ones (temporary files) included."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def apply(project: Path, change: Change) -> None:
    if callable(change):
        change(project)
        return
    write_files(project, change)


def refuse(
    tmp_path: Path,
    capsys,
    valid_project,
    change: Change,
    expected: list[str],
    bounded: bool,
    fresh: bool,
    **project: object,
) -> Path:
    if fresh:
        root = make_project(tmp_path / "project", bib=BIB_MIN, **project)  # type: ignore[arg-type]
        assert build(root, capsys) == (0, [])
    else:
        root = valid_project(tmp_path / "project", **project)
    before = snapshot(root / "dist")
    apply(root, change)
    if bounded:
        result = build_bounded(
            root, "-q", "--force", "--format", "epub", "--out", str(root / "dist"), mem_bytes=MEMORY, cpu_seconds=CPU
        )
        assert not killed_by_limit(result), result.stderr[-2000:]
        status, lines = result.returncode, diagnostic_lines(result.stderr, root)
    else:
        status, lines = build(root, capsys, "--force")
    assert lines == expected
    assert status == 2
    assert snapshot(root / "dist") == before, "dist/ changed, or a temporary file was left"
    return root
