"""What the templates of one output may spend, and the filters that keep to it.

A template in a stranger's folder must not exhaust the machine: a loop over
``range(10**9)``, ``'a' * 10**10``, a macro that calls itself, two loops of
100,000 turns one inside the other. So the templates of one output (the print
book, the EPUB) share one ``Budget``: steps (a block entered, a loop's turn,
a call, an operator, a lookup), characters (written, and built by operators,
filters and methods), the depth of calls one inside another, and CPU time
(a step's cost varies: a filter over a long list, a function of the build
over a long text). A value a template builds (a string, a list, a whole
number, a range) is bounded, and an operator or filter that would build one
over its bound is refused before it is made; a text handed to a function of
the build is bounded too. Steps and characters are counted, so they stop a
template at the same place on every machine; the CPU time (which a template
of the project's own takes milliseconds of) is the last resort, for each
output and for all the outputs of one build (``build_scope``: the print
edition is rendered again at each round of its make-up). ``LIMITS`` holds
the bounds (README "Limits").
"""

from __future__ import annotations

import contextlib
import decimal
import functools
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2.filters import FILTERS, make_attrgetter
from jinja2.utils import _PassArg

from edition.render.template_policy import PRINTABLE, REACH, Exposed, Unsafe, is_data, kind


@dataclass(frozen=True)
class Limits:
    """What the templates of one output may do."""

    steps: int = 10_000_000  # blocks entered, loop turns, calls, operators, lookups
    characters: int = 128 * 1024 * 1024  # written, and built by operators, filters and methods
    value: int = 16 * 1024 * 1024  # characters of one string a template builds
    items: int = 100_000  # items of one list a template builds, or of one range
    integer_bits: int = 4096  # a whole number a template computes (1,233 digits)
    depth: int = 50  # macros and recursive loops called one inside another
    text_argument: int = 100_000  # characters of a text handed to a function of the build (one YAML value's)
    seconds: float = 30.0  # CPU time of one output's templates
    build_seconds: float = 120.0  # CPU time of all the templates of one build


LIMITS = Limits()


@dataclass
class Budget:
    """What the templates of one output have spent."""

    steps: int = 0
    characters: int = 0
    depth: int = 0
    started: float = field(default_factory=time.process_time)
    seconds: float = LIMITS.seconds  # CPU time it may take (less when the build has spent much)

    def spend(self, characters: int = 0, clock: bool = False) -> None:
        """A step; ``clock``: one that may have been long, so the CPU time is read now
        (else at every 1,024th step)."""
        self.steps += 1
        self.characters += characters
        if (clock or not self.steps & 1023) and time.process_time() - self.started > self.seconds:
            raise Unsafe(
                f"the templates take more than {self.seconds:g} s of CPU time for one output "
                f"(or all of a build's more than {LIMITS.build_seconds:g} s); loop over the data, not over a large range"
            )
        if self.steps > LIMITS.steps:
            raise Unsafe(
                f"the templates take more than {LIMITS.steps:,} steps (blocks, loop turns, calls, lookups) "
                "for one output; loop over the data, not over a large range"
            )
        if self.characters > LIMITS.characters:
            raise Unsafe(
                f"the templates write or build more than {LIMITS.characters:,} characters for one output; "
                "print each value once"
            )

    @contextlib.contextmanager
    def deeper(self) -> Iterator[None]:
        """A call one level deeper (a macro, a recursive loop, a block)."""
        self.depth += 1
        try:
            if self.depth > LIMITS.depth:
                raise Unsafe(f"macros call one another more than {LIMITS.depth} deep; end the recursion sooner")
            yield
        finally:
            self.depth -= 1


_BUDGET: ContextVar[Budget | None] = ContextVar("template_budget", default=None)
#: CPU seconds the templates of the running build have taken (``build_scope``).
_BUILD: ContextVar[list[float] | None] = ContextVar("template_build", default=None)


@contextlib.contextmanager
def build_scope() -> Iterator[None]:
    """One build: its outputs' templates share ``LIMITS.build_seconds``."""
    token = _BUILD.set([0.0])
    try:
        yield
    finally:
        _BUILD.reset(token)


@contextlib.contextmanager
def budget_scope() -> Iterator[Budget]:
    """The budget the templates of one output share: the one open, or a new one."""
    current = _BUDGET.get()
    if current is not None:
        yield current
        return
    build = _BUILD.get()
    budget = Budget(seconds=LIMITS.seconds if build is None else min(LIMITS.seconds, LIMITS.build_seconds - build[0]))
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)
        if build is not None:
            build[0] += time.process_time() - budget.started


def current() -> Budget | None:
    return _BUDGET.get()


def charge(characters: int = 0, clock: bool = False) -> None:
    """One step of the running templates. Outside an output (Jinja folds
    constants when it compiles a template) there is nothing to charge."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.spend(characters, clock)


def size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 0


def check_text(length: int, what: str) -> None:
    if length > LIMITS.value:
        raise Unsafe(f"{what} would be {length:,} characters long, over the {LIMITS.value:,} a template may build")


def check_items(count: int, what: str) -> None:
    if count > LIMITS.items:
        raise Unsafe(f"{what} would hold {count:,} items, over the {LIMITS.items:,} a template may build")


def check_size(value: Any, what: str) -> None:
    if isinstance(value, str):
        check_text(len(value), what)
    elif isinstance(value, (list, tuple)):
        check_items(len(value), what)
    elif isinstance(value, int):
        check_integer(value.bit_length())


def check_integer(bits: int) -> None:
    if bits > LIMITS.integer_bits:
        raise Unsafe(f"a number of about {bits:,} bits, over the {LIMITS.integer_bits:,} a template may compute")


def check_printable(value: Any, what: str) -> None:
    if not isinstance(value, PRINTABLE):
        raise Unsafe(f"{what} {kind(value)}: a template prints only text and numbers")


def check_repeat(sequence: Any, times: Any) -> None:
    """``sequence * times`` (``'a' * 10**10``, ``[1] * 10**9``, a huge number) before it is made."""
    if isinstance(times, int) and isinstance(sequence, str):
        check_text(len(sequence) * max(times, 0), "the repetition")
    elif isinstance(times, int) and isinstance(sequence, (list, tuple)):
        check_items(len(sequence) * max(times, 0), "the repetition")
    elif isinstance(times, int) and isinstance(sequence, int):
        check_integer(abs(times).bit_length() + abs(sequence).bit_length())


def bounded_range(*args: int) -> range:
    """``range``, at most ``LIMITS.items`` long (Jinja's own sandbox raises OverflowError)."""
    values = range(*args)
    check_items(len(values), "range()")
    return values


class Expose(Exposed):
    """A function of the build handed to templates. Its result is charged and
    bounded; its failure on what a template gave it is the template's error,
    at the template's line."""

    def __init__(self, name: str, fn: Callable) -> None:
        self._name, self._fn = name, fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        texts = sum(len(a) for a in (*args, *kwargs.values()) if isinstance(a, str))
        if texts > LIMITS.text_argument:
            raise Unsafe(
                f"{self._name}() is given {texts:,} characters of text, over the {LIMITS.text_argument:,} "
                "a function of the build takes"
            )
        try:
            result = self._fn(*args, **kwargs)
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            raise jinja2.TemplateRuntimeError(f"{self._name}() cannot take these arguments ({exc})") from exc
        check_size(result, f"the result of {self._name}()")
        charge(texts + size(result), clock=True)
        return result


# -- Jinja's filters, bounded ----------------------------------------------------


def _bounded(name: str, fn: Callable, check: Callable[..., None] | None) -> Callable:
    """Jinja's filter ``fn``, its arguments checked before it runs, its result charged."""
    passes = _PassArg.from_obj(fn) is not None

    @functools.wraps(fn)  # keeps Jinja's pass_context / pass_environment mark
    def run(*args: Any, **kwargs: Any) -> Any:
        if check is not None:
            check(*(args[1:] if passes else args), **kwargs)
        result = fn(*args, **kwargs)
        check_size(result, f"the result of the filter {name}")
        charge(size(result), clock=True)
        return result

    return run


def _text(value: Any, *_args: Any, **_kwargs: Any) -> None:
    check_printable(value, "the filter is given")


def _data(value: Any, *_args: Any, **_kwargs: Any) -> None:
    if not is_data(value):
        raise Unsafe(f"the filter attr reaches into {kind(value)}, which is not data; {REACH}")


def _replace(value: Any, old: Any = "", new: Any = "", count: Any = None, *_: Any) -> None:
    _text(value)
    text, old, new = str(value), str(old), str(new)
    times = (len(text) + 1) if not old else text.count(old)
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    check_text(len(text) + times * max(len(new) - len(old), 0), "the replaced text")


def _truncate(value: Any, *args: Any, end: Any = "...", **__: Any) -> None:
    _text(value)
    if len(args) >= 3:  # truncate(s, length, killwords, end)
        end = args[2]
    check_text(len(str(end)), "the truncation mark")


def _batch(_value: Any, linecount: Any = 1, *_: Any) -> None:
    check_items(int(linecount), "a batch")


def _slice(_value: Any, slices: Any = 1, *_: Any) -> None:
    check_items(int(slices), "slice()")


def _sum(_value: Any, _attribute: Any = None, start: Any = 0) -> None:
    if not isinstance(start, (int, float, decimal.Decimal)):
        raise Unsafe("sum() starts from a number; a template may not add up lists or text")


def _join(fn: Callable) -> Callable:
    """``join`` of printable items, its length known before it is made."""

    @functools.wraps(fn)
    def run(eval_ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> Any:
        items = list(value)
        if attribute is not None:
            items = list(map(make_attrgetter(eval_ctx.environment, attribute), items))
        check_items(len(items), "the joined list")
        check_printable(d, "join() is given the separator")
        for item in items:
            check_printable(item, "join() is given")
        length = sum(len(str(i)) for i in items) + len(str(d)) * max(len(items) - 1, 0)
        check_text(length, "the joined text")
        charge(length, clock=True)
        return fn(eval_ctx, items, d)

    return run


#: Jinja's filters a template may use, with the check each makes before it
#: runs (``template_policy.LEFT_OUT_FILTERS`` names the others, and why).
FILTER_CHECKS: dict[str, Callable[..., None] | None] = {
    "abs": None,
    "attr": _data,
    "batch": _batch,
    "capitalize": _text,
    "count": None,
    "d": None,
    "default": None,
    "dictsort": None,
    "e": _text,
    "escape": _text,
    "filesizeformat": None,
    "first": None,
    "float": None,
    "forceescape": _text,
    "groupby": None,
    "int": None,
    "items": None,
    "last": None,
    "length": None,
    "list": None,
    "lower": _text,
    "map": None,
    "max": None,
    "min": None,
    "reject": None,
    "rejectattr": None,
    "replace": _replace,
    "reverse": None,
    "round": None,
    "safe": _text,
    "select": None,
    "selectattr": None,
    "slice": _slice,
    "sort": None,
    "string": _text,
    "striptags": _text,
    "sum": _sum,
    "title": _text,
    "trim": _text,
    "truncate": _truncate,
    "unique": None,
    "upper": _text,
    "wordcount": _text,
}


def bounded_filters() -> dict[str, Callable]:
    """Jinja's filters a template may use, each bounded."""
    out = {name: _bounded(name, FILTERS[name], check) for name, check in FILTER_CHECKS.items()}
    out["join"] = _join(FILTERS["join"])
    return out
