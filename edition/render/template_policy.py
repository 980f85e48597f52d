"""What a template may reach: data, and calls that read it.

A project's templates come from whoever made the folder, so a template is a
stranger's program (``template_sandbox`` runs it). This module is its
allowlist. A template may hold only data: text, numbers, lists, mappings,
the edition's records (the dataclasses of ``model``, ``tabular`` and
``papers``) and Jinja's own loop, macro and block objects; never a path, a
Markdown token, bytes, a module, a class or a function it was not handed.
It may call only its macros, the build's functions and filters
(``Exposed``), and the methods in ``PURE_METHODS``, which read a value,
change nothing and build nothing much larger than it.
"""

from __future__ import annotations

import datetime
import decimal
import types
from dataclasses import is_dataclass
from typing import Any

import jinja2
from jinja2.environment import TemplateModule
from jinja2.runtime import BlockReference, LoopContext, Macro, TemplateReference
from jinja2.sandbox import SecurityError
from markupsafe import Markup

from edition import model, papers
from edition.render import tabular

#: Where a refusal sends the template's author.
REACH = "a template may use only what README's 'Templates' section lists"

#: Jinja's default globals a template may not use: ``lipsum``'s function and
#: the classes hand a template Python objects (``cycler.__init__.__globals__``).
LEFT_OUT_GLOBALS = ("lipsum", "cycler", "joiner", "namespace", "dict")
#: Jinja's filters a template may not use: ``format`` is printf
#: (``%0999999999d``), ``pprint`` prints a Python repr (this machine's paths),
#: ``random`` makes a build irreproducible, ``tojson``, ``urlize`` and
#: ``xmlattr`` make markup from data; ``center``, ``indent``, ``wordwrap`` and
#: ``urlencode`` lay out plain text, building many times their input.
LEFT_OUT_FILTERS = (
    "format",
    "pprint",
    "random",
    "tojson",
    "urlize",
    "xmlattr",
    "center",
    "indent",
    "wordwrap",
    "urlencode",
)

_STR_METHODS = frozenset(
    {
        "split",
        "rsplit",
        "splitlines",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "lower",
        "upper",
        "title",
        "capitalize",
        "casefold",
        "swapcase",
        "find",
        "rfind",
        "index",
        "rindex",
        "count",
        "partition",
        "rpartition",
        "removeprefix",
        "removesuffix",
        "isalpha",
        "isdigit",
        "isalnum",
        "isspace",
        "islower",
        "isupper",
        "istitle",
        "isnumeric",
        "isdecimal",
    }
)
_MAPPING_METHODS = frozenset({"keys", "values", "items", "get"})
_SEQUENCE_METHODS = frozenset({"index", "count"})
#: The methods a template may call, by the exact type of their object: not
#: ``format`` (it reaches attributes and pads to any width), ``join``,
#: ``replace``, ``center`` and the like (they build text of any length; the
#: bounded filters do that), nothing that changes its object.
PURE_METHODS: dict[type, frozenset[str]] = {
    str: _STR_METHODS,
    Markup: _STR_METHODS | {"striptags", "unescape"},
    dict: _MAPPING_METHODS,
    types.MappingProxyType: _MAPPING_METHODS,
    list: _SEQUENCE_METHODS,
    tuple: _SEQUENCE_METHODS,
    range: _SEQUENCE_METHODS,
    LoopContext: frozenset({"cycle", "changed"}),
}

#: Values a template may hold: data, never a handle on the machine.
DATA_TYPES: tuple[type, ...] = (
    type(None),
    bool,
    int,
    float,
    decimal.Decimal,
    str,
    tuple,
    list,
    dict,
    types.MappingProxyType,
    frozenset,
    set,
    range,
    datetime.date,
    datetime.time,
)
#: What Jinja itself hands a template.
JINJA_TYPES: tuple[type, ...] = (
    jinja2.Undefined,
    LoopContext,
    Macro,
    TemplateModule,
    TemplateReference,
    BlockReference,
)
#: What a template may print, join or concatenate: text and numbers.
PRINTABLE: tuple[type, ...] = (str, int, float, decimal.Decimal, type(None), jinja2.Undefined)
#: Modules whose dataclasses are the edition's records. A field of a record
#: that holds anything but data (a path, Markdown tokens, bytes) stays out of reach.
RECORD_MODULES = (model, tabular, papers)


class Unsafe(SecurityError):
    """A template reached beyond what it may (``template.unsafe``)."""


class Exposed:
    """A function of the build handed to templates (``template_limits.Expose``, which bounds and charges it)."""


class Handed:
    """Something the build hands templates that is not data but may be used:
    the macros of a template called from Python (``template_sandbox.Macros``)."""


def _records() -> frozenset[type]:
    found = set()
    for module in RECORD_MODULES:
        for value in vars(module).values():
            if isinstance(value, type) and is_dataclass(value) and value.__module__ == module.__name__:
                found.add(value)
    return frozenset(found)


RECORD_TYPES = _records()


def is_data(value: Any) -> bool:
    """A value a template may hold."""
    return isinstance(value, DATA_TYPES + JINJA_TYPES + (Handed,)) or type(value) in RECORD_TYPES


def is_pure_method(value: Any) -> bool:
    """A bound method of data that reads it and changes nothing."""
    if not isinstance(value, (types.BuiltinMethodType, types.MethodType)):
        return False
    allowed = PURE_METHODS.get(type(getattr(value, "__self__", None)))
    return allowed is not None and value.__name__ in allowed


def is_callable(value: Any) -> bool:
    """What a template may call."""
    return isinstance(value, (Macro, LoopContext, BlockReference, Exposed, Handed)) or is_pure_method(value)


def refusal(obj: Any, attr: str, value: Any) -> str | None:
    """Why a template may not take ``attr`` of ``obj`` (``value``); None if it may."""
    if attr.startswith("_"):
        return f"'{attr}', one of Python's internals (a name beginning with '_')"
    if not is_data(obj):
        return f"'{attr}' of {kind(obj)}, which is not data"
    if is_data(value) or is_pure_method(value):
        return None
    if callable(value):
        return f"'{attr}' of {kind(obj)}, {kind(value)}, which templates may not call"
    return f"'{attr}' of {kind(obj)}, which is {kind(value)}, not data"


def kind(value: Any) -> str:
    """What ``value`` is, for a message."""
    if isinstance(value, (types.BuiltinMethodType, types.MethodType)):
        return f"the method {value.__name__}() of {type(getattr(value, '__self__', None)).__name__}"
    if isinstance(value, types.ModuleType):
        return f"the module {value.__name__}"
    if isinstance(value, type):
        return f"the class {value.__name__}"
    if callable(value) and not isinstance(value, Handed):
        return f"the function {getattr(value, '__name__', type(value).__name__)}"
    return f"a {type(value).__name__}"
