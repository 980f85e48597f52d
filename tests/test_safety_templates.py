"""A stranger's folder runs no code: templates, and the patterns and tags of
its metadata (issue 27).

Templates are rendered in ``edition.templatesandbox``; each known way out of
Jinja's sandbox (and out of its default, unsandboxed environment, which the
build used) is tried here, in a template of its own, and must stop the build
with ``template.unsafe`` naming the template's file and line.
"""

from __future__ import annotations

import datetime
import decimal
import types
from dataclasses import replace
from pathlib import Path

import pikepdf
import pytest

from edition import templatelimits
from edition.cli import main
from edition.diagnostics import BuildFailed
from edition.reader import read_work
from edition.render import environment
from edition.templatelimits import LIMITS, Expose, Limits
from edition.templatepolicy import Unsafe, is_callable, is_data, is_pure_method
from edition.templatesandbox import GuardedMacro, Macros

from .conftest import ROOT
from .projects import BIB_MIN, make_project, section

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
    monkeypatch.setattr(templatelimits, "LIMITS", replace(LIMITS, steps=LIMITS.steps // 100))
    out = render_case(
        tmp_path, "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", work
    )
    assert out.startswith("case.html:3: error: the templates take more than 100,000 steps"), out


def test_a_character_limit_stops_printing_the_same_text_again(tmp_path, work, monkeypatch):
    monkeypatch.setattr(templatelimits, "LIMITS", replace(LIMITS, characters=LIMITS.characters // 100))
    out = render_case(tmp_path, "{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{{ s }}{% endfor %}", work)
    assert out.startswith("case.html:3: error: the templates write or build more than 1,342,177 characters"), out


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
    from edition import fonts, pipeline, scripts
    from edition.outputs import epub
    from edition.volume import read_reader

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
    monkeypatch.setattr(fonts, "cached_subset", cut)
    monkeypatch.setattr(scripts, "cached_subset", cut)
    env = environment(project / "templates")
    options = pipeline.Options(project=project, out=tmp_path / "out")
    editions = [
        pipeline.single_work_edition(pipeline.resolve_work(read_work(project, "kitchen-sink"))),
        read_reader(project, "r"),
    ]
    for edition in editions:
        date = pipeline.build_date(edition)
        pipeline.print_html(edition, env, options, date)
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
