"""Templates are code: the Jinja environment every template renders in.

A project's ``templates/`` (or the templates of a folder extracted from a
PDF/A; a course reader uses the project's) comes from whoever made the
folder, and Jinja renders a template by running Python. So a template runs in
Jinja's immutable sandbox, tightened from its denylist to an allowlist
(``template_policy``: data, the build's functions and filters, methods that
read), within the bounds of one output (``template_limits``), and reads other
templates only by names written in it. What a template writes that it may
not use (``lipsum``, ``__globals__``, ``|format``, a computed ``include``) is
refused before it runs; what it reaches for while it runs is refused there.
Either way the build stops with ``template.unsafe`` naming the template's
file and line; any other failure of a template is ``template.error``. Every
entry into a template is covered: ``Template.render``, a template's module,
and a macro called from Python (``macros``).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.debug import rewrite_traceback_stack
from jinja2.environment import TemplateModule
from jinja2.runtime import BlockReference, Context, LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup

from edition.diagnostics import BuildFailed, Diagnostic
from edition.model import SourceLocation
from edition.render.template_limits import (
    Expose,
    bounded_filters,
    bounded_range,
    budget_scope,
    charge,
    check_integer,
    check_items,
    check_printable,
    check_repeat,
    check_text,
    current,
    size,
)
from edition.render.template_policy import (
    LEFT_OUT_FILTERS,
    LEFT_OUT_GLOBALS,
    PRINTABLE,
    REACH,
    Handed,
    Unsafe,
    is_callable,
    is_data,
    is_pure_method,
    kind,
    refusal,
)

PACKAGE = Path(__file__).resolve().parents[1]  # edition/
INTERNALS = "one of Python's internals (a name beginning with '_')"


# -- what a template may write in itself ---------------------------------------


def _walk(tree: nodes.Node) -> Iterator[nodes.Node]:
    """Every node, inner ones first, in the order written (``lipsum`` before
    ``lipsum.__globals__``), without recursion (a template may nest deeply)."""
    todo: list[tuple[nodes.Node, bool]] = [(tree, False)]
    while todo:
        node, expanded = todo.pop()
        if expanded:
            yield node
            continue
        todo.append((node, True))
        todo.extend((child, False) for child in reversed(list(node.iter_child_nodes())))


def _loads(node: nodes.Expr) -> str | None:
    """Why a template may not load the template(s) ``node`` names: a name
    computed when rendering (the PDF/A embeds the templates the templates
    name), or a path that is not a plain one inside templates/."""
    names = node.items if isinstance(node, (nodes.Tuple, nodes.List)) else [node]
    for name in names:
        if not (isinstance(name, nodes.Const) and isinstance(name.value, str)):
            return "a template is loaded by a name computed when rendering; write the name in the template"
        parts = name.value.replace("\\", "/").split("/")
        if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            return (
                f"the template loads {name.value!r}: a template loads only templates in templates/, by their path there"
            )
    return None


def _key(node: nodes.Node) -> str | None:
    """The name a lookup written as a constant reaches for: ``x['__class__']``,
    ``x|attr('__class__')``; None for any other node."""
    if isinstance(node, nodes.Getitem):
        key = node.arg
    elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
        key = node.args[0]
    else:
        return None
    return key.value if isinstance(key, nodes.Const) and isinstance(key.value, str) else None


def refusals(tree: nodes.Template) -> Iterator[tuple[int, str]]:
    """(line, message) for each thing a template writes that it may not use,
    whether or not a rendering would reach it."""
    for node in _walk(tree):
        name = node.attr if isinstance(node, nodes.Getattr) else _key(node)
        if name is not None and name.startswith("_"):
            yield node.lineno, f"the template reaches for '{name}', {INTERNALS}"
        elif isinstance(node, nodes.Filter) and node.name in LEFT_OUT_FILTERS:
            yield (
                node.lineno,
                f"the filter '{node.name}' is not given to templates ({', '.join(LEFT_OUT_FILTERS)} are not)",
            )
        elif isinstance(node, nodes.Name) and node.ctx == "load" and node.name in LEFT_OUT_GLOBALS:
            yield (
                node.lineno,
                f"'{node.name}' is not given to templates (Jinja's {', '.join(LEFT_OUT_GLOBALS)} are not)",
            )
        elif isinstance(node, (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)) and _loads(node.template):
            yield node.lineno, _loads(node.template)


def check_template(tree: nodes.Template, filename: str | None) -> None:
    """Refuse what ``refusals`` finds in a template: one diagnostic a line,
    for the first thing refused on it."""
    found: dict[int, str] = {}
    for line, message in refusals(tree):
        found.setdefault(line, message)
    if found:
        raise BuildFailed(
            [_diagnostic("template.unsafe", f"{found[line]}; {REACH}", filename, line) for line in sorted(found)]
        )


# -- the code templates compile to ---------------------------------------------


def _literal_size(body: list[nodes.Node]) -> int:
    """Characters a block writes as written in the template, without its inner blocks."""
    total = 0
    for node in body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    total += len(child.data)
                elif isinstance(child, nodes.Const) and isinstance(child.value, str):
                    total += len(child.value)
    return total


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with a step charged on entering every block (a
    loop's turn, a macro's call, a branch) for the text it writes as written,
    and ``~`` checked before it joins."""

    def blockvisit(self, body: Any, frame: Frame) -> None:
        body = list(body)
        self.writeline(f"environment.sandbox_block({_literal_size(body)})")
        super().blockvisit(body, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if self.optimizer is not None and not frame.eval_ctx.volatile:  # as @optimizeconst does
            folded = self.optimizer.visit(node, frame.eval_ctx)
            if folded != node:
                self.visit(folded, frame)
                return
        # the join Jinja's own visit_Concat chooses
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.sandbox_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _BudgetedTemplate(jinja2.Template):
    """A template that runs within the budget of the output it is part of."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        with budget_scope():
            return super().render(*args, **kwargs)

    def make_module(self, *args: Any, **kwargs: Any) -> TemplateModule:
        with budget_scope():
            return super().make_module(*args, **kwargs)


# -- the environment -----------------------------------------------------------


class TemplateEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, tightened to an allowlist (module docstring).
    ``functions`` and ``filters`` are all a template is handed besides its data."""

    code_generator_class = _BoundedCodeGenerator
    template_class = _BudgetedTemplate
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, functions: dict[str, Callable], filters: dict[str, Callable], **kwargs: Any) -> None:
        super().__init__(finalize=self._finalize, **kwargs)
        self.globals.clear()  # lipsum, cycler, joiner, namespace, dict; Jinja's range
        self.globals["range"] = Expose("range", bounded_range)
        self.globals.update({name: Expose(name, fn) for name, fn in functions.items()})
        self.filters.clear()
        self.filters.update(bounded_filters())
        self.filters.update({name: Expose(name, fn) for name, fn in filters.items()})

    def compile(
        self, source: Any, name: str | None = None, filename: str | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        """What a template writes that it may not use is refused before it runs."""
        if isinstance(source, str):
            try:
                source = self.parse(source, name, filename)
            except (RecursionError, ValueError) as exc:  # nested past Python's stack; a number too long
                raise BuildFailed([_diagnostic("template.error", f"template error: {exc}", filename, None)]) from None
            check_template(source, filename)
        try:
            return super().compile(source, name, filename, *args, **kwargs)
        except (RecursionError, SyntaxError, ValueError) as exc:  # "too many statically nested blocks"
            message = f"template error: the template is nested too deeply to run ({exc})"
            raise BuildFailed([_diagnostic("template.error", message, filename, None)]) from None

    # -- what a template reaches while it runs

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return super().is_safe_attribute(obj, attr, value) and refusal(obj, attr, value) is None

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        """Jinja returns an undefined value for an unsafe attribute, which ``is
        defined`` would pass over in silence; here the template stops."""
        value = getattr(obj, attribute, None) if is_data(obj) and not attribute.startswith("_") else None
        raise Unsafe(f"the template reaches for {refusal(obj, attribute, value) or repr(attribute)}; {REACH}")

    def getattr(self, obj: Any, attribute: str) -> Any:
        charge()
        if attribute.startswith("_") or not is_data(obj):  # before a property of it runs
            return self.unsafe_undefined(obj, attribute)
        try:
            value = getattr(obj, attribute)
        except AttributeError:
            return self._item(obj, attribute)
        if self.is_safe_attribute(obj, attribute, value):
            return value
        return self.unsafe_undefined(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        charge()
        if not is_data(obj) or (isinstance(argument, str) and argument.startswith("_")):
            return self.unsafe_undefined(obj, str(argument))
        try:
            value = obj[argument]
        except (TypeError, LookupError):
            if isinstance(argument, str):
                return self.getattr(obj, argument)
            return self.undefined(obj=obj, name=argument)
        return self._data_item(obj, argument, value)

    def _item(self, obj: Any, key: str) -> Any:
        try:
            value = obj[key]
        except (TypeError, LookupError):
            return self.undefined(obj=obj, name=key)
        return self._data_item(obj, key, value)

    @staticmethod
    def _data_item(obj: Any, key: Any, value: Any) -> Any:
        if not is_data(value):
            raise Unsafe(f"the template reaches for the item {key!r} of {kind(obj)}, which is {kind(value)}; {REACH}")
        return value

    def is_safe_callable(self, obj: Any) -> bool:
        return is_callable(obj)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        if not self.is_safe_callable(obj):
            raise Unsafe(f"the template calls {kind(obj)}, which templates may not call; {REACH}")
        charge(size(obj.__self__) if is_pure_method(obj) else 0)  # a method reads all of its value
        budget = current()
        nested = budget is not None and isinstance(obj, (Macro, LoopContext, BlockReference, Handed))
        with budget.deeper() if nested else contextlib.nullcontext():
            result = context.call(obj, *args, **kwargs)
        if is_pure_method(obj):
            made = size(result) + (sum(size(r) for r in result) if isinstance(result, (list, tuple)) else 0)
            charge(made, clock=True)
        return result

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        charge()
        if operator == "%" and isinstance(left, str):
            raise Unsafe("'%' formats text printf-style, which templates may not; join text with '~'")
        if operator == "*":
            check_repeat(left, right)
            check_repeat(right, left)
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            check_integer(max(abs(left).bit_length(), 1) * right)
        elif operator == "+" and isinstance(left, str) and isinstance(right, str):
            check_text(len(left) + len(right), "the sum")
        elif operator == "+" and isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
            check_items(len(left) + len(right), "the sum")
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, int):
            check_integer(result.bit_length())
        charge(size(result))
        return result

    # the code _BoundedCodeGenerator writes calls these two
    def sandbox_block(self, characters: int) -> None:
        charge(characters)

    def sandbox_concat(self, join: Callable, pieces: tuple) -> str:
        for piece in pieces:
            check_printable(piece, "'~' is given")
        check_text(sum(len(str(p)) for p in pieces), "the joined text")
        joined = join(pieces)  # escaped, it may be longer
        check_text(len(joined), "the joined text")
        charge(len(joined))
        return joined

    def _finalize(self, value: Any) -> Any:
        """Every ``{{ … }}`` a template prints: text or a number."""
        if isinstance(value, PRINTABLE):
            charge(size(value))
            return value
        raise Unsafe(f"the template prints {kind(value)}; a template prints only text and numbers")

    # -- every failure of a template names its file and line

    def handle_exception(self, source: str | None = None) -> Any:
        """Jinja calls this in the ``except`` of a failed render or compile."""
        if isinstance(sys.exc_info()[1], BuildFailed):
            raise  # an inner template's diagnostic, as it is
        exc = rewrite_traceback_stack(source=source)
        failure = self.failure(exc)
        if failure is None:
            raise exc
        raise failure from None

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Templates run from Python: within the output's budget, failures as diagnostics."""
        with budget_scope():
            try:
                yield
            except BuildFailed:
                raise
            except Exception:
                exc = rewrite_traceback_stack()
                failure = self.failure(exc)
                if failure is None:
                    raise exc from None
                raise failure from None

    def failure(self, exc: BaseException) -> BuildFailed | None:
        """``exc`` (its traceback rewritten to template lines) as the template's
        diagnostic; None for an error of the build's own code."""
        if isinstance(exc, BuildFailed):
            return exc
        if not isinstance(exc, Exception) or isinstance(exc, MemoryError):
            return None
        if isinstance(exc, jinja2.TemplateSyntaxError):
            return BuildFailed(
                [_diagnostic("template.error", f"template error: {exc.message}", exc.filename, exc.lineno)]
            )
        filename, line = self._where(exc)
        if isinstance(exc, SecurityError):
            message = str(exc) if isinstance(exc, Unsafe) else f"{exc}; {REACH}"
            return BuildFailed([_diagnostic("template.unsafe", message, filename, line)])
        if isinstance(exc, jinja2.TemplateNotFound):
            message = f"template error: no template {exc.name!r} in templates/"
            return BuildFailed([_diagnostic("template.error", message, filename, line)])
        if isinstance(exc, jinja2.TemplateError):
            return BuildFailed([_diagnostic("template.error", f"template error: {exc}", filename, line)])
        if isinstance(exc, RecursionError) and filename is not None:  # {% include %} of itself, or a loop of them
            message = "templates include, import or extend one another in a loop, or too deep; end the loop"
            return BuildFailed([_diagnostic("template.unsafe", message, filename, line)])
        if filename is not None and _raised_by_template(exc):
            message = f"template error: {type(exc).__name__}: {exc}"
            return BuildFailed([_diagnostic("template.error", message, filename, line)])
        return None

    def _where(self, exc: BaseException) -> tuple[str | None, int | None]:
        """The innermost template's file and line in ``exc``'s traceback."""
        loaded = {str(path) for path in getattr(self.loader, "loaded", ())}
        found: tuple[str | None, int | None] = (None, None)
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename in loaded:
                found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
            tb = tb.tb_next
        return found

    # -- the entries from Python

    def render(self, name: str, **context: Any) -> str:
        """Template ``name`` rendered; its failure a diagnostic naming its line."""
        with self.guard():
            return self.get_template(name).render(**context)

    def macros(self, name: str) -> Macros:
        """The macros of template ``name``, to be called from Python."""
        with self.guard():
            return Macros(self, self.get_template(name).module)


def _diagnostic(code: str, message: str, filename: str | None, line: int | None) -> Diagnostic:
    return Diagnostic(SourceLocation(Path(filename), line) if filename else None, code, message)


def _raised_by_template(exc: BaseException) -> bool:
    """Whether the innermost frame is a template's, Jinja's or this sandbox's,
    rather than the build's own code (a bug, exit 1)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    where = Path(tb.tb_frame.f_code.co_filename)
    sandbox = {PACKAGE / "render" / "template_sandbox.py", PACKAGE / "render" / "template_limits.py"}
    return where.resolve() in sandbox or not where.resolve().is_relative_to(PACKAGE)


class GuardedMacro(Handed):
    """A macro called from Python, or from a template it was handed to."""

    def __init__(self, env: TemplateEnvironment, macro: Macro) -> None:
        self._env, self._macro = env, macro

    def __call__(self, *args: Any, **kwargs: Any) -> Markup:
        with self._env.guard():
            return self._macro(*args, **kwargs)


class Macros(Handed):
    """The macros of one template; each call runs in the guard."""

    def __init__(self, env: TemplateEnvironment, module: TemplateModule) -> None:
        self._env, self._module = env, module

    def __getattr__(self, name: str) -> GuardedMacro:
        macro = getattr(self._module, name) if not name.startswith("_") else None
        if not isinstance(macro, Macro):
            raise AttributeError(name)
        return GuardedMacro(self._env, macro)
