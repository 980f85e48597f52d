"""Small projects on disk, one per behaviour, built from a few strings."""

from __future__ import annotations

import shutil
from pathlib import Path

from .conftest import ROOT

WORK_YAML = """\
title: A Test Work
authors:
  - name: Ada Tester
    affiliation: Test University
publisher: Test Press
date: 2020-01
language: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000001
rights: Test rights.
bibliography: {slug}.bib
"""


def make_project(
    root: Path,
    slug: str = "test",
    sections: dict[str, str] | None = None,
    bib: str = "",
    work_yaml: str | None = None,
    extra: dict[str, str | bytes] | None = None,
) -> Path:
    """A project folder with the real templates and one work."""
    shutil.copytree(ROOT / "templates", root / "templates", dirs_exist_ok=True)
    work = root / "content" / slug
    (work / "text").mkdir(parents=True, exist_ok=True)
    (work / "work.yaml").write_text(
        work_yaml if work_yaml is not None else WORK_YAML.format(slug=slug), encoding="utf-8"
    )
    for name, text in (sections or {"01-one.md": '---\ntitle: "One"\n---\nText.\n'}).items():
        (work / "text" / name).write_text(text, encoding="utf-8")
    (root / "bib").mkdir(exist_ok=True)
    (root / "bib" / f"{slug}.bib").write_text(bib, encoding="utf-8")
    for name, data in (extra or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return root


def reader_head(title: str, course: str = "TEST 101", uuid_tail: str = "99") -> str:
    """The metadata every test reader gives (a reader's required keys), before
    its own introduction, bibliography and readings."""
    return (
        f"title: {title}\ncourse_code: {course}\ninstructor: Ina Structor\ninstitution: Test University\n"
        f"term: Fall 2027\nidentifier: urn:uuid:00000000-0000-4000-8000-0000000000{uuid_tail}\n"
        "date: 2027-09\nlanguage: en\nrights: Test.\n"
    )


def section(body: str, title: str = "One") -> str:
    return f'---\ntitle: "{title}"\n---\n{body}'


#: One valid entry, for projects that cite nothing in particular.
BIB_MIN = "@book{suh1988,\n  author = {Suh, Dae-Sook},\n  title = {Kim Il Sung},\n  publisher = {Columbia University Press},\n  date = {1988},\n}\n"
