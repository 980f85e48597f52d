"""The shape of the code: its stages as folders, kept as layers by import-linter,
and one answer to "which editions does this project have"."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from edition import project as project_facts
from edition.cli import main

from .projects import BIB_MIN, ROOT, make_project, section

LINT = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
]


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*LINT, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_stages_import_only_downwards():
    """The layers of pyproject.toml's contract hold, imports inside functions included."""
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 kept, 0 broken" in run.stdout


def test_an_import_up_the_layers_breaks_the_contract(tmp_path):
    """The contract is not empty: a reader that imports the layout (an arrow
    up, from inside a function) is caught."""
    copy = tmp_path / "code"
    shutil.copytree(ROOT / "edition", copy / "edition", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy)
    work = copy / "edition" / "read" / "work.py"
    work.write_text(
        work.read_text(encoding="utf-8")
        + "\n\ndef _up():\n    from edition.layout import engine\n\n    return engine\n",
        encoding="utf-8",
    )
    run = _lint(copy)
    assert run.returncode != 0
    assert "edition.read is not allowed to import edition.layout" in run.stdout


def test_no_folder_holds_more_than_fifteen_modules():
    for folder in [ROOT / "edition", *(p for p in (ROOT / "edition").rglob("*") if p.is_dir())]:
        if folder.name == "__pycache__":
            continue
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= 15, f"{folder.relative_to(ROOT)} holds {len(modules)} modules"


def test_a_hidden_old_copy_of_a_work_is_no_edition_anywhere(tmp_path, capsys):
    """content/.old-copy/ (a work copied aside) is neither built nor waited
    for: the no-change rebuild is up to date."""
    project = make_project(tmp_path / "project", sections={"01-one.md": section("One paragraph.")}, bib=BIB_MIN)
    shutil.copytree(project / "content" / "test", project / "content" / ".old-copy")
    assert project_facts.works(project) == ["test"]
    out = tmp_path / "dist"
    assert main(["-q", "--format", "epub", "--out", str(out)], project=project) == 0
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "test.epub",
        "test.preflight.json",
    ]
    capsys.readouterr()
    assert main(["--format", "epub", "--out", str(out)], project=project) == 0
    assert "up to date" in capsys.readouterr().out


def test_the_fork_server_preloads_modules_that_exist():
    """The edit loop's fork server imports these once (``multiprocessing``
    ignores a name that does not import: a wrong one would only cost time)."""
    import importlib

    from edition.loop.children import PRELOAD

    for name in PRELOAD:
        importlib.import_module(name)


def test_every_name_the_benchmark_and_the_tests_import_from_the_package_exists():
    """``bench/`` and the tests import from the package inside functions too,
    where only running them would find a name that moved (``bench/lawreview.py``
    kept importing ``environment`` from ``render/body.py`` after it moved to
    ``render/environment.py``; no test runs the benchmark)."""
    import ast
    import importlib

    missing = []
    for path in sorted([*(ROOT / "bench").glob("*.py"), *(ROOT / "tests").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "edition":
                module = importlib.import_module(node.module)
                for alias in node.names:
                    found = hasattr(module, alias.name)
                    if not found:
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                            found = True
                        except ModuleNotFoundError:
                            pass
                    if not found:
                        missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}.{alias.name}")
    assert missing == []
