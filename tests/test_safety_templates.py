"""A stranger's folder runs no code: templates, and the patterns and tags of
its metadata (issue 27).

Templates are rendered in ``edition.template_sandbox``; each known way out of
Jinja's sandbox (and out of its default, unsandboxed environment, which the
build used) is tried here, in a template of its own, and must stop the build
with ``template.unsafe`` naming the template's file and line.
"""

from __future__ import annotations

import datetime
import decimal
import re
import types
from dataclasses import replace
from pathlib import Path

import pikepdf
import pytest

from edition.cli import main
from edition.diagnostics import BuildFailed
from edition.read.work import read_work
from edition.render import template_limits
from edition.render.environment import environment
from edition.render.template_limits import LIMITS, Expose, Limits
from edition.render.template_policy import Unsafe, is_callable, is_data, is_pure_method
from edition.render.template_sandbox import GuardedMacro, Macros

from .bounded import build_bounded, killed_by_limit
from .conftest import ROOT
from .projects import BIB_MIN, WORK_YAML, make_project, reader_head, section

#: Memory a bounded build of a small project may use.
MEMORY = 1024 * 1024 * 1024

PAGE = "templates/epub/page.xhtml"


def run_epub(project: Path, capsys, *args: str) -> tuple[int, list[str]]:
    code = main(["-q", "--out", str(project / "dist"), "--format", "epub", *args], project=project)
    err = capsys.readouterr().err.replace(str(project) + "/", "").strip().splitlines()
    return code, [line for line in err if not line.startswith("build failed")]


def put_line(path: Path, line: int, text: str) -> None:
    """Insert ``text`` as line ``line`` (1-based) of the template at ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(line - 1, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- the case, end to end ------------------------------------------------------------


def test_a_template_cannot_run_a_command(tmp_path, capsys, monkeypatch):
    """``{{ lipsum.__globals__['os'].system(...) }}`` in page.xhtml ran the
    command during ``--format epub`` (exit 0)."""
    project = make_project(tmp_path / "p", bib=BIB_MIN)
    monkeypatch.chdir(tmp_path)
    put_line(project / PAGE, 6, "{{ lipsum.__globals__['os'].system('touch pwned') }}")
    code, lines = run_epub(project, capsys)
    assert code == 2
    assert lines == [
        f"p/{PAGE}:6: error: 'lipsum' is not given to templates (Jinja's lipsum, cycler, joiner, namespace, dict "
        "are not); a template may use only what README's 'Templates' section lists [template.unsafe]"
    ]
    assert not (tmp_path / "pwned").exists() and not (project / "pwned").exists()
    assert not (project / "dist" / "test.epub").exists()


def test_a_macro_called_from_python_is_sandboxed_too(tmp_path, capsys):
    """The renderer calls the note macros from Python (not through a render):
    a way out there was as open, and its error had no template line."""
    project = make_project(
        tmp_path / "p", sections={"01-one.md": section("A call.[^1]\n\n[^1]: A note.\n")}, bib=BIB_MIN
    )
    put_line(project / "templates/body/notes.html", 9, "{{ work.root.joinpath('pwned').touch() }}")
    code, lines = run_epub(project, capsys)
    assert code == 2
    assert lines == [
        "templates/body/notes.html:9: error: the template reaches for 'root' of a Work, which is a PosixPath, "
        "not data; a template may use only what README's 'Templates' section lists [template.unsafe]"
    ]
    assert not (project / "content/test/pwned").exists()


def _replace_embedded(pdfa: Path, name: str, data: bytes) -> None:
    with pikepdf.open(pdfa, allow_overwriting_input=True) as pdf:
        stream = pdf.attachments[name].get_file().obj
        stream.write(data)
        stream.Params.Size = len(data)
        pdf.save(pdfa)


def test_templates_of_an_extracted_pdfa_are_sandboxed(tmp_path, capsys):
    """The same way out through ``--extract``: the templates a PDF/A embeds
    are replaced, the PDF/A extracted, the folder built."""
    project = make_project(tmp_path / "p", bib=BIB_MIN)
    assert main(["-q", "--out", str(project / "dist"), "--format", "pdfa"], project=project) == 0
    pdfa = project / "dist/test-pdfa.pdf"
    page = (ROOT / PAGE).read_text(encoding="utf-8").splitlines()
    page.insert(5, "{{ cycler.__init__.__globals__.os.system('touch pwned') }}")
    _replace_embedded(pdfa, PAGE, ("\n".join(page) + "\n").encode())
    folder = tmp_path / "extracted"
    assert main(["--extract", str(pdfa), str(folder)]) == 0
    capsys.readouterr()
    code, lines = run_epub(folder, capsys)
    assert code == 2
    assert lines == [
        f"{PAGE}:6: error: 'cycler' is not given to templates (Jinja's lipsum, cycler, joiner, namespace, dict "
        "are not); a template may use only what README's 'Templates' section lists [template.unsafe]"
    ]
    assert not (folder / "pwned").exists() and not (folder / "dist").exists()


# -- every known way out, one template each --------------------------------------------------


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A real work, as templates are handed it: with a path, tokens and a table."""
    project = make_project(
        tmp_path_factory.mktemp("work"),
        sections={"01-one.md": section("Text.[^1]\n\n::: {.table #t}\nA table.\n:::\n\n[^1]: A note.\n")},
        bib=BIB_MIN,
        extra={
            "content/test/tables/t.csv": "year,name\n1971,A\n",
            "content/test/tables/t.yaml": "columns:\n  year: integer\n  name: text\n",
        },
    )
    return read_work(project, "test")


def render_case(folder: Path, source: str, work, **context) -> str:
    """Render ``source`` as ``templates/case.html`` (after two lines of text)
    with the work and the real body macros; the diagnostic's line(s) if it fails."""
    templates = folder / "templates"
    templates.mkdir(exist_ok=True)
    for name in ("body/blocks.html", "body/notes.html", "body/table.html"):
        (templates / name).parent.mkdir(parents=True, exist_ok=True)
        (templates / name).write_text((ROOT / "templates" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (templates / "case.html").write_text("<p>\n</p>\n" + source + "\n", encoding="utf-8")
    env = environment(templates)
    try:
        return env.render("case.html", work=work, blocks=env.macros("body/blocks.html"), **context)
    except BuildFailed as failed:
        return "\n".join(str(d).replace(str(templates) + "/", "") for d in failed.diagnostics)


README_SENDS = "a template may use only what README's 'Templates' section lists"
INTERNALS = "one of Python's internals (a name beginning with '_')"

#: (template, the diagnostic's message) for each way out: line 3 of case.html.
ESCAPES = {
    "lipsum": ("{{ lipsum.__globals__['os'].system('id') }}", "'lipsum' is not given to templates"),
    "cycler": ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "'cycler' is not given to templates"),
    "joiner": ("{{ joiner().__init__.__globals__ }}", "'joiner' is not given to templates"),
    "namespace": ("{% set ns = namespace(x=work) %}{{ ns.x }}", "'namespace' is not given to templates"),
    "dict": ("{{ dict(a=1) }}", "'dict' is not given to templates"),
    "globals": ("{{ work.meta.author_line.__globals__ }}", f"the template reaches for '__globals__', {INTERNALS}"),
    "subclasses": (
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        f"the template reaches for '__class__', {INTERNALS}",
    ),
    "mro": ("{{ work.__class__.__mro__ }}", f"the template reaches for '__class__', {INTERNALS}"),
    "init": ("{{ work.__init__.__globals__ }}", f"the template reaches for '__init__', {INTERNALS}"),
    "item": ("{{ work['__class__'] }}", f"the template reaches for '__class__', {INTERNALS}"),
    "attr filter": ("{{ work|attr('__class__') }}", f"the template reaches for '__class__', {INTERNALS}"),
    "computed attr": ("{{ work|attr('__cla' ~ 'ss__') }}", f"the template reaches for '__class__', {INTERNALS}"),
    "computed item": ("{{ work['__cla' ~ 'ss__'] }}", f"the template reaches for '__class__', {INTERNALS}"),
    "defined test": (
        "{% if work.meta|attr('_' ~ '_class__') is defined %}x{% endif %}",
        f"the template reaches for '__class__', {INTERNALS}",
    ),
    "template reference": (
        "{{ self._TemplateReference__context }}",
        f"the template reaches for '_TemplateReference__context', {INTERNALS}",
    ),
    "str.format": (
        '{{ "{0.__class__}".format(work) }}',
        "the template reaches for 'format' of a str, the method format() of str, which templates may not call",
    ),
    "str.format width": (
        '{{ "{0:>1500000000}".format(1) }}',
        "the template reaches for 'format' of a str, the method format() of str, which templates may not call",
    ),
    "format_map": (
        "{{ work.meta.title.format_map({}) }}",
        "the template reaches for 'format_map' of a str, the method format_map() of str, which templates may not call",
    ),
    "format filter": ("{{ '%s'|format(work) }}", "the filter 'format' is not given to templates"),
    "printf": (
        "{{ '%0999999999d' % 1 }}",
        "'%' formats text printf-style, which templates may not; join text with '~'",
    ),
    "pprint": ("{{ work|pprint }}", "the filter 'pprint' is not given to templates"),
    "a path": (
        "{{ work.root.read_text() }}",
        "the template reaches for 'root' of a Work, which is a PosixPath, not data",
    ),
    "set a path": (
        "{% set p = work.root %}",
        "the template reaches for 'root' of a Work, which is a PosixPath, not data",
    ),
    "a path by index": (
        "{{ work.inputs[0] }}",
        "the template reaches for the item 0 of a tuple, which is a PosixPath",
    ),
    "a path by iteration": (
        "{% for p in work.inputs %}{{ p.read_bytes() }}{% endfor %}",
        "the template reaches for 'read_bytes' of a PosixPath, which is not data",
    ),
    "a path by a filter": (
        "{{ (work.inputs|first).write_text('x') }}",
        "the template reaches for 'write_text' of a PosixPath, which is not data",
    ),
    "a path printed": (
        "{{ work.inputs|first }}",
        "the template prints a PosixPath; a template prints only text and numbers",
    ),
    "a path joined": (
        "{{ work.inputs|join(',') }}",
        "join() is given a PosixPath: a template prints only text and numbers",
    ),
    "a path stringified": (
        "{{ work.inputs|map('string')|list }}",
        "the filter is given a PosixPath: a template prints only text and numbers",
    ),
    "a path concatenated": (
        "{{ work.root ~ '' }}",
        "the template reaches for 'root' of a Work, which is a PosixPath, not data",
    ),
    "a token": (
        "{{ work.sections[0].tokens[0].attrSet('id', 'x') }}",
        "the template reaches for the item 0 of a tuple, which is a Token",
    ),
    "a method of a record": (
        "{{ work.meta.author_line.split()|join }}{{ work.tables.values()|list|length }}{{ work.tables['t'].groups() }}",
        "the template reaches for 'groups' of a Table, the method groups() of Table, which templates may not call",
    ),
    "a location's path": (
        "{{ work.sections[0].location.line }}{{ work.sections[0].location.path }}",
        "the template reaches for 'path' of a SourceLocation, which is a PosixPath, not data",
    ),
    "a record printed": ("{{ work.meta }}", "the template prints a WorkMeta; a template prints only text and numbers"),
    "a mutation": ("{{ work.notes|list|attr('append') }}", "the template reaches for 'append' of a list"),
    "macros' internals": ("{{ blocks._env }}", f"the template reaches for '_env', {INTERNALS}"),
    "a macro's function": (
        "{{ blocks.toc.__call__.__globals__ }}",
        f"the template reaches for '__call__', {INTERNALS}",
    ),
    "range's function": ("{{ range._fn.__globals__ }}", f"the template reaches for '_fn', {INTERNALS}"),
    "computed include": ("{% include work.meta.title %}", "a template is loaded by a name computed when rendering"),
    "computed import": (
        "{% import work.slug ~ '.html' as x %}",
        "a template is loaded by a name computed when rendering",
    ),
    "computed extends": ("{% extends work.slug %}", "a template is loaded by a name computed when rendering"),
    "include out of templates": (
        "{% include '../content/test/work.yaml' %}",
        "the template loads '../content/test/work.yaml': a template loads only templates in templates/",
    ),
    "import from an absolute path": (
        "{% from '/etc/passwd' import x %}",
        "the template loads '/etc/passwd': a template loads only templates in templates/",
    ),
    "a branch never taken": ("{% if false %}{{ lipsum }}{% endif %}", "'lipsum' is not given to templates"),
    # exhausting memory or time
    "text times 10**10": ("{{ 'a' * 10**10 }}", "the repetition would be 10,000,000,000 characters long"),
    "a list times 10**9": ("{{ [1] * 10**9 }}", "the repetition would hold 1,000,000,000 items"),
    "a huge power": ("{{ 10 ** 1000000 }}", "a number of about 4,000,000 bits"),
    "a huge range": ("{% for i in range(10**9) %}{% endfor %}", "range() would hold 1,000,000,000 items"),
    "a doubling macro": (
        "{% macro twice(s) %}{{ twice(s ~ s) }}{% endmacro %}{{ twice('ab') }}",
        "the joined text would be 33,554,432 characters long",
    ),
    "an endless macro": (
        "{% macro down(n) %}{{ down(n + 1) }}{% endmacro %}{{ down(0) }}",
        "macros call one another more than 50 deep",
    ),
    "an include of itself": (
        '{% include "case.html" %}',
        "templates include, import or extend one another in a loop, or too deep",
    ),
    "a huge join": ("{{ range(10)|join('x' * 10000000) }}", "the joined text would be 90,000,010 characters long"),
    "a huge replace": (
        "{{ ('x' * 1000)|replace('', 'y' * 100000) }}",
        "the replaced text would be 100,101,000 characters long",
    ),
    "a huge batch": ("{{ range(3)|batch(10**9, 'x')|list }}", "a batch would hold 1,000,000,000 items"),
    "a sum of lists": ("{{ [[1]] * 100000|sum(start=[]) }}", "sum() starts from a number"),
    "a padding filter": ("{{ 'x'|center(10**9) }}", "the filter 'center' is not given to templates"),
}


@pytest.mark.parametrize("case", ESCAPES, ids=list(ESCAPES))
def test_every_known_way_out_is_refused(tmp_path, work, case):
    source, message = ESCAPES[case]
    out = render_case(tmp_path, source, work)
    assert out.startswith(f"case.html:3: error: {message}"), out
    assert out.endswith("[template.unsafe]") and "\n" not in out, out


def test_names_that_do_not_exist_are_template_errors(tmp_path, work):
    """Flask's ``config`` and ``request``, Python's ``__builtins__``: not there."""
    for name in ("config", "request", "url_for", "self.__init__"):
        out = render_case(tmp_path, f"{{{{ {name} }}}}", work)
        assert out.startswith("case.html:3: error: ") and ("[template.error]" in out or "[template.unsafe]" in out), out


def test_what_a_template_is_handed_it_may_use(tmp_path, work):
    """The allowlist leaves templates their data, macros, filters and pure methods."""
    source = (
        "{{ work.meta.title|upper }} {{ work.meta.authors|map(attribute='name')|join(', ') }} "
        "{{ work.notes|length }} {{ 'a-b'.split('-')|join('+') }} {{ range(3)|sum }} "
        "{% for n in work.notes %}{{ loop.index }}{{ loop.cycle('x', 'y') }}{% endfor %} "
        "{{ blocks.series_line(work) }}{{ output_id(work.slug, 'x') }} {{ '2009-04'|display_date }} "
        "{{ {'a': 1}.items()|list|length }} {{ 'x' * 3 ~ 2 ** 10 }}"
    )
    out = render_case(tmp_path, source, work)
    assert out == "<p>\n</p>\nA TEST WORK Ada Tester 1 a+b 3 1x test--x April 2009 1 xxx1024\n"


def test_a_step_limit_stops_loops_inside_loops(tmp_path, work, monkeypatch):
    """Two loops of 100,000 turns one inside the other: 10 billion turns. The
    real bound is 10 million steps (a few seconds); a hundredth of it here."""
    monkeypatch.setattr(template_limits, "LIMITS", replace(LIMITS, steps=LIMITS.steps // 100))
    out = render_case(
        tmp_path, "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", work
    )
    assert out.startswith("case.html:3: error: the templates take more than 100,000 steps"), out


def test_a_character_limit_stops_printing_the_same_text_again(tmp_path, work, monkeypatch):
    monkeypatch.setattr(template_limits, "LIMITS", replace(LIMITS, characters=LIMITS.characters // 100))
    out = render_case(tmp_path, "{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{{ s }}{% endfor %}", work)
    assert out.startswith("case.html:3: error: the templates write or build more than 1,342,177 characters"), out


def test_a_cpu_limit_stops_steps_that_each_cost_much(tmp_path, work, monkeypatch):
    """Sorting a list of 100,000 numbers is one step: the steps alone do not
    bound the time. The real bound is 30 s for an output; a fifth of a second here."""
    monkeypatch.setattr(template_limits, "LIMITS", replace(LIMITS, seconds=0.2))
    out = render_case(tmp_path, "{% for i in range(100000) %}{{ range(100000)|list|sort|length }}{% endfor %}", work)
    assert out.startswith("case.html:3: error: the templates take more than 0.2 s of CPU time for one output"), out


def test_a_build_bounds_the_cpu_time_of_all_its_outputs(monkeypatch):
    """The print edition is rendered again at every round of its make-up:
    each output's bound alone would let a build take 30 s a round."""
    monkeypatch.setattr(template_limits, "LIMITS", replace(LIMITS, seconds=10.0, build_seconds=0.0))
    with template_limits.build_scope(), template_limits.budget_scope() as budget:
        assert budget.seconds == 0.0
        with pytest.raises(Unsafe, match="more than 0 s of CPU time"):
            template_limits.charge(clock=True)


def test_a_function_of_the_build_takes_a_bounded_text(tmp_path, work):
    """``inline_markdown`` of 16 million characters takes minutes."""
    out = render_case(tmp_path, "{{ inline_markdown('*x* ' * 1000000) }}", work)
    assert out.startswith(
        "case.html:3: error: inline_markdown() is given 4,000,000 characters of text, over the 100,000 "
        "a function of the build takes [template.unsafe]"
    ), out


def test_balanced_measure_is_linear_in_its_title(tmp_path, work):
    """Measured anew at each break, a 100,000-character title took a minute;
    one pass takes a fraction of a second, and gives what it gave for titles."""
    import time

    from edition.render.environment import balanced_measure

    assert balanced_measure("Juche and North Korea's Global Aspirations") == "11.01em"  # as main gives them
    assert balanced_measure("The Korean War and the Cold War in Asia, 1945–1953") == "13.37em"
    started = time.process_time()
    out = render_case(tmp_path, "{{ ('word ' * 19999)|balanced_measure }}", work)
    assert time.process_time() - started < 5
    assert out.endswith("em\n"), out


def test_the_readme_states_the_template_limits():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert (
        Limits(
            steps=10_000_000,
            characters=128 * 1024 * 1024,
            value=16 * 1024 * 1024,
            items=100_000,
            integer_bits=4096,
            depth=50,
            text_argument=100_000,
            seconds=30.0,
            build_seconds=120.0,
        )
        == LIMITS
    )
    row = next(line for line in readme.splitlines() if line.startswith("| what one output's templates do"))
    for stated in (
        "10,000,000 steps",
        "134,217,728 characters",
        "16,777,216 characters",
        "100,000 items",
        "4,096 bits",
        "50 deep",
        "100,000 characters",
        "30 s of CPU time",
        "120 s",
    ):
        assert stated in row, stated


# -- nothing else is reachable -----------------------------------------------------------------


#: Data with nothing inside but more of itself (``(0.5).imag`` is a new float each time).
LEAVES = (int, float, decimal.Decimal, range, datetime.date, datetime.time, type(None))


def reachable(env, roots: list) -> list:
    """Everything a template can get from ``roots`` through the sandbox: its
    attributes and items as the sandbox hands them, and what iterating yields."""
    seen: set[int] = set()
    found, todo = [], list(roots)
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, str):
            continue
        seen.add(id(obj))
        found.append(obj)
        if not is_data(obj) or isinstance(obj, LEAVES):
            continue
        names = dir(obj._module) if isinstance(obj, Macros) else dir(obj)
        for name in names:
            if name.startswith("_"):
                continue
            try:
                todo.append(env.getattr(obj, name))
            except Unsafe:
                continue
            except Exception:  # an undefined value, a property that fails on this object
                continue
        if isinstance(obj, (dict, types.MappingProxyType)):
            todo.extend(obj.keys())
            todo.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo.extend(obj)
    return found


def test_nothing_but_data_is_reachable_from_what_templates_are_handed(tmp_path, monkeypatch):
    """Every context and macro argument the build hands templates, for a work
    with notes, a table, an image and documents, and a reader with a PDF
    reading, walked as far as the sandbox lets a template go."""
    from edition import pipeline
    from edition.fonts import faces, scripts
    from edition.outputs.epub import builder as epub
    from edition.read.course_reader import read_reader
    from edition.render.print_html import print_html
    from edition.resolve.edition import resolve_work, single_work_edition
    from edition.resolve.volume import resolve_volume
    from edition.settings import Options

    from .pdfs import scan
    from .test_pdf_readings import pdf_project

    project = pdf_project(tmp_path / "p", {"scan.pdf": scan([(300, 400)])})
    sink = ROOT / "tests/kitchen-sink/content/kitchen-sink"
    import shutil

    shutil.copytree(sink, project / "content/kitchen-sink")
    shutil.copy(ROOT / "tests/kitchen-sink/bib/kitchen-sink.bib", project / "bib/kitchen-sink.bib")
    roots: list = []
    real_render, real_call = type(environment(project / "templates")).render, GuardedMacro.__call__

    def render(self, name, **context):
        roots.extend(context.values())
        return real_render(self, name, **context)

    def call(self, *args, **kwargs):
        roots.extend(args)
        roots.extend(kwargs.values())
        return real_call(self, *args, **kwargs)

    monkeypatch.setattr(type(environment(project / "templates")), "render", render)
    monkeypatch.setattr(GuardedMacro, "__call__", call)
    cut = lambda *_args: b"\x00\x01\x00\x00"  # noqa: E731 - the fonts are no template's business; cutting them takes long
    monkeypatch.setattr(faces, "cached_subset", cut)
    monkeypatch.setattr(scripts, "cached_subset", cut)
    env = environment(project / "templates")
    options = Options(project=project, out=tmp_path / "out")
    editions = [
        single_work_edition(resolve_work(read_work(project, "kitchen-sink"))),
        resolve_volume(read_reader(project, "r")),
    ]
    for edition in editions:
        date = pipeline.build_date(edition)
        print_html(edition, env, options, date)
        epub.build_epub(edition, env, project, date)
    found = reachable(env, roots + list(env.globals.values()))  # a filter is applied, never held
    assert len(found) > 1000
    # the build hands templates its paths, tokens and bytes inside the records ...
    kinds = {type(o) for o in found}
    assert any(issubclass(k, Path) for k in kinds) and any(k.__name__ == "Token" for k in kinds)
    for obj in found:
        if is_data(obj):
            assert not isinstance(obj, (types.ModuleType, type)), obj
            continue
        if callable(obj):  # ... and only the calls of the allowlist
            assert is_callable(obj), obj
            assert isinstance(obj, (Expose, GuardedMacro)) or is_pure_method(obj), obj
            continue
        # ... which are inert: nothing of them can be taken, printed or joined
        with pytest.raises(Unsafe):
            env.getattr(obj, "read_text" if isinstance(obj, Path) else "content")
        with pytest.raises(Unsafe):
            env.getitem(obj, 0)
        with pytest.raises(Unsafe):
            env.finalize(obj)
        assert not is_callable(obj)


# -- a pattern in work.yaml is a small language, not a format string --------------------------

WORK = "content/test/work.yaml"
DOCUMENT_2 = '---\nnumber: 2\ntitle: "A report"\nsource_line: "[Source: an archive.]"\n---\nThe report.\n'


def labelled(root: Path, pattern: str) -> Path:
    work_yaml = WORK_YAML.format(slug="test") + f"document_label: {pattern!r}\n"
    return make_project(root, bib=BIB_MIN, work_yaml=work_yaml, extra={"content/test/documents/2.md": DOCUMENT_2})


def problems_of(read) -> list[str]:
    try:
        read()
    except BuildFailed as failed:
        return [re.sub(r"^.*?/(content|readers|templates)/", r"\1/", str(d)) for d in failed.diagnostics]
    return []


FORM = 'write text with {number} once in it, as "Document No. {number}" (no other braces, no format) [meta.type]'


def test_a_label_pattern_that_would_pad_to_gigabytes_is_refused(tmp_path):
    """``{number:>1500000000}`` reached ``str.format``: gigabytes of spaces
    (MemoryError, exit 1). Run under a memory limit, as the old code would eat it."""
    project = labelled(tmp_path / "p", "{number:>1500000000}")
    result = build_bounded(project, "-q", "--format", "epub", "--out", str(project / "dist"), mem_bytes=MEMORY)
    assert not killed_by_limit(result), result.stderr[-2000:]
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        f"{WORK}:11: error: 'document_label' is '{{number:>1500000000}}': '{{number:>1500000000}}' "
        f"is not {{number}}; {FORM}"
    )


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("{number:.999999999}", "'{number:.999999999}' is not {number}"),  # ValueError, exit 1
        ("{number!r}", "'{number!r}' is not {number}"),
        ("{number.__class__}", "'{number.__class__}' is not {number}"),
        ("{number[0]}", "'{number[0]}' is not {number}"),
        ("{0}", "'{0}' is not {number}"),
        ("Doc {number} of {{", "'{' is not {number}"),
        ("Doc {number} {number}", "it holds {number} more than once"),
        ("Doc", "it holds {number} nowhere"),
    ],
)
def test_a_label_pattern_holds_text_and_the_number_only(tmp_path, pattern, problem):
    project = labelled(tmp_path / "p", pattern)
    assert problems_of(lambda: read_work(project, "test")) == [
        f"{WORK}:11: error: 'document_label' is {pattern!r}: {problem}; {FORM}"
    ]


def test_a_label_pattern_prints_its_text_around_the_number(tmp_path):
    project = labelled(tmp_path / "p", "Doc. {number} (50% of {all})".replace("{all}", "all"))
    assert [d.label for d in read_work(project, "test").documents] == ["Doc. 2 (50% of all)"]


def test_a_number_too_long_for_python_is_refused_in_yaml(tmp_path):
    """``original_page: 999…9`` (5,000 digits): Python refuses to read it (exit 1)."""
    work_yaml = WORK_YAML.format(slug="test") + "original_page: " + "9" * 5000 + "\n"
    project = make_project(tmp_path / "p", bib=BIB_MIN, work_yaml=work_yaml)
    assert problems_of(lambda: read_work(project, "test")) == [
        f"{WORK}:11: error: a number of 5000 characters, over the limit of 100 [yaml.limit]"
    ]


@pytest.mark.parametrize(
    ("body", "line", "page"),
    [
        ("One []{.op n=²} two.\n", 4, "²"),  # str.isdigit takes it, int does not (exit 1)
        ("One.[^1]\n\n[^1]: A note []{.op n=x} here.\n", 6, "x"),  # a marker in a note was never checked
        ("One []{.op n=" + "9" * 5000 + "} two.\n", 4, "9" * 5000),
    ],
)
def test_an_original_page_number_is_digits_in_the_text_and_its_notes(tmp_path, body, line, page):
    project = make_project(tmp_path / "p", sections={"01-one.md": section(body)}, bib=BIB_MIN)
    assert problems_of(lambda: read_work(project, "test")) == [
        f"content/test/text/01-one.md:{line}: error: original-page marker with page {page!r}: "
        "write []{.op n=5} with the page number [md.page-marker]"
    ]


# -- a language is a BCP 47 tag, wherever one is accepted -------------------------------------

NOT_A_TAG = "not a BCP 47 language tag (such as en, ko-Latn or zh-Hant)"


def test_a_work_language_cannot_write_attributes_into_the_package(tmp_path):
    """``language: 'en" dir="rtl" xmlns:x="urn:x'`` wrote attributes into the
    EPUB's ``<package>`` element."""
    work_yaml = WORK_YAML.format(slug="test").replace("language: en", 'language: \'en" dir="rtl" xmlns:x="urn:x\'')
    project = make_project(tmp_path / "p", bib=BIB_MIN, work_yaml=work_yaml)
    assert problems_of(lambda: read_work(project, "test")) == [
        f"{WORK}:7: error: 'language' in work metadata is 'en\" dir=\"rtl\" xmlns:x=\"urn:x', {NOT_A_TAG} [meta.language]"
    ]
    # and the package writes it escaped all the same
    from edition.outputs.epub.builder import _package_lang

    assert _package_lang(b"<package >", 'a"b') == b'<package xml:lang="a&#34;b" >'


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"language": "en_US"},
            f"{WORK}:7: error: 'language' in work metadata is 'en_US', {NOT_A_TAG} [meta.language]",
        ),
        ({"language": "jp"}, f"{WORK}:7: error: 'language' in work metadata is 'jp', {NOT_A_TAG} [meta.language]"),
        (
            {"title": 'A [Test]{lang="x onclick=y"} Work'},
            f"{WORK}:1: error: a span's lang= in 'title' in work metadata is 'x onclick=y', {NOT_A_TAG} [meta.language]",
        ),
    ],
)
def test_a_language_in_work_metadata_is_a_tag(tmp_path, change, expected):
    work_yaml = WORK_YAML.format(slug="test")
    for key, value in change.items():
        work_yaml = re.sub(rf"^{key}: .*$", f"{key}: {value!r}", work_yaml, flags=re.M)
    project = make_project(tmp_path / "p", bib=BIB_MIN, work_yaml=work_yaml)
    assert problems_of(lambda: read_work(project, "test")) == [expected]


@pytest.mark.parametrize(
    ("body", "line", "lang"),
    [
        ('A [word]{lang="en onclick=x"} here.\n', 4, "en onclick=x"),
        ("::: {lang=xx-yy-zz}\nA block.\n:::\n", 4, "xx-yy-zz"),
        ("# A heading {lang=english}\n\nText.\n", 4, "english"),
        ("Text.[^1]\n\n[^1]: A [mot]{lang=fr_FR} in a note.\n", 6, "fr_FR"),
        ("A `code`{lang=en-Latn-Latn} span.\n", 4, "en-Latn-Latn"),
    ],
)
def test_a_language_in_markdown_is_a_tag(tmp_path, body, line, lang):
    project = make_project(tmp_path / "p", sections={"01-one.md": section(body)}, bib=BIB_MIN)
    assert problems_of(lambda: read_work(project, "test")) == [
        f"content/test/text/01-one.md:{line}: error: lang={lang!r} is {NOT_A_TAG} [md.language]"
    ]


def test_a_reader_language_is_a_tag(tmp_path):
    from edition.read.course_reader import read_reader

    project = make_project(
        tmp_path / "p",
        bib=BIB_MIN,
        extra={
            "readers/r.yaml": reader_head("R").replace("language: en", "language: de-DE-x-\u00e9")
            + "readings:\n  - work: test\n"
        },
    )
    assert problems_of(lambda: read_reader(project, "r")) == [
        f"readers/r.yaml:8: error: 'language' in reader definition is 'de-DE-x-\u00e9', {NOT_A_TAG} [meta.language]"
    ]


# -- the EPUB fetches nothing: its stylesheets and its pages ----------------------------------


@pytest.mark.parametrize(
    ("rule", "found"),
    [
        ("a { background: \\75 rl(https://tracker.example/p.png); }", "url("),  # a CSS escape
        ('a { background-image: image-set("https://tracker.example/p.png" 1x); }', "image-set("),
        ('@import "https://tracker.example/a.css";', "@import"),
        ("a { background: URL(https://tracker.example/p.png); }", "url("),
        ("a { mask: -webkit-image-set('https://tracker.example/m.png' 1x); }", "-webkit-image-set("),
        ("@media print { @import url(x.css); }", "@import"),
        ("a::after { content: attr(data-x url); }", "attr(… url)"),
        ("@font-face { font-family: X; src: src('https://tracker.example/f.woff'); }", "src("),
    ],
)
def test_the_epubs_stylesheet_fetches_nothing_however_written(tmp_path, capsys, rule, found):
    project = make_project(tmp_path / "p", bib=BIB_MIN)
    css = project / "templates/epub/epub.css"
    css.write_text("/* the house style */\n" + rule + "\n" + css.read_text(encoding="utf-8"), encoding="utf-8")
    code, lines = run_epub(project, capsys)
    assert code == 2
    assert lines == [
        f"templates/epub/epub.css:2: error: template error: the EPUB's stylesheet refers to another file ({found}…), "
        "which the EPUB does not hold; the build adds the fonts itself [template.error]"
    ]


@pytest.mark.parametrize(
    ("markup", "found"),
    [
        ('<img src="https://tracker.example/p.png" alt=""/>', "src='https://tracker.example/p.png'"),
        ('<link rel="stylesheet" href="//tracker.example/a.css"/>', "href='//tracker.example/a.css'"),
        ('<p style="background: \\75 rl(https://tracker.example/)">x</p>', "a style= with url(…"),
        ('<style>@import "https://tracker.example/a.css";</style>', "a <style> with @import…"),
        ('<p onmouseover="alert(1)">x</p>', "a script (onmouseover=)"),
        (
            '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.example/y.png"/></svg>',
            "href='https://tracker.example/y.png'",
        ),
        ("<script>alert(1)</script>", "a <script> element"),
        ('<img src="../../secret.png" alt=""/>', "src='../../secret.png'"),
        (
            '<img srcset="images/a.png 1x, https://tracker.example/b.png 2x" alt=""/>',
            "srcset='images/a.png 1x, https://tracker.example/b.png 2x'",
        ),
    ],
)
def test_a_template_cannot_make_an_epub_page_load_anything_else(tmp_path, capsys, markup, found):
    """Templates write the pages: a tracking image, a remote stylesheet, a script."""
    project = make_project(tmp_path / "p", bib=BIB_MIN)
    put_line(project / "templates/epub/section.xhtml", 1, markup)
    code, lines = run_epub(project, capsys)
    assert code == 2
    assert lines == [
        f"error: the EPUB page test-01-one.xhtml holds {found}, which would load or run what is not a file of the "
        "book; a template may write only pages that load the book's own files [template.unsafe]"
    ]


# -- links kept from a PDF reading pass the project's own rule ---------------------------------


def test_links_kept_from_a_pdf_reading_pass_the_link_rule():
    """``http://``, ``mailto:``, a space and a NUL, a port out of range stayed clickable."""
    from edition.outputs.pdf.readings import _take_links

    uris = [
        "http://",
        "mailto:",
        "http://a b\x00x",
        "http://u:p@[::1]:99999/",
        "javascript:alert(1)",
        "https://example.org/a",
    ]
    pdf = pikepdf.new()
    pdf.add_blank_page()
    page = pdf.pages[0]
    page.obj.Annots = pdf.make_indirect(
        pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Link,
                    Rect=[0, 0, 10, 10],
                    A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String(uri)),
                )
                for uri in uris
            ]
        )
    )
    assert [link.uri for link in _take_links(page)] == ["https://example.org/a"]


# -- every text of a definition is bounded, in one place --------------------------------------


def test_a_pdf_readings_texts_are_bounded(tmp_path):
    """A PDF reading's ``permissions`` of 60,000 characters and ``title`` of
    5,000 passed, though README's Limits said 10,000 and 500."""
    from edition.read.course_reader import read_reader

    from .pdfs import scan
    from .test_pdf_readings import pdf_project

    more = f"    title: {'T' * 5000}\n    permissions: {'P' * 60000}\n"
    project = pdf_project(tmp_path / "p", {"scan.pdf": scan([(300, 400)])}, more=more)
    assert problems_of(lambda: read_reader(project, "r")) == [
        "readers/r.yaml:15: error: 'title' in a PDF reading is 5000 characters long, over the limit of 500; "
        "shorten it [meta.length]",
        "readers/r.yaml:16: error: 'permissions' in a PDF reading is 60000 characters long, over the limit of "
        "10000; shorten it [meta.length]",
    ]


@pytest.mark.parametrize(
    ("description", "line", "name", "limit", "length"),
    [
        (f"columns:\n  year: integer\n  name: text\nnotes:\n  - {'N' * 20000}\n", 4, "a text in 'notes'", 10000, 20000),
        (
            f"columns:\n  year: integer\n  name: text\nheaders:\n  name: {'H' * 600}\n",
            4,
            "a text in 'headers'",
            500,
            600,
        ),
        (
            f"columns:\n  year: {{type: integer, header: {'H' * 600}}}\n  name: text\n",
            1,
            "a text in 'columns'",
            500,
            600,
        ),
    ],
)
def test_texts_inside_a_table_description_are_bounded(tmp_path, description, line, name, limit, length):
    """A table's notes (a list) and column heads (mappings) were never measured."""
    project = make_project(
        tmp_path / "p",
        sections={"01-one.md": section("::: {.table #t}\nA table.\n:::\n")},
        bib=BIB_MIN,
        extra={"content/test/tables/t.csv": "year,name\n1971,A\n", "content/test/tables/t.yaml": description},
    )
    assert problems_of(lambda: read_work(project, "test")) == [
        f"content/test/tables/t.yaml:{line}: error: {name} in table description is {length} characters long, "
        f"over the limit of {limit}; shorten it [meta.length]"
    ]
