"""Every word the edition may print: the words of its sources and data, of
its templates' own text, and of the text the renderer writes.

The preflight reads the edition's own text (contents, title page, imprint,
editorial notes, document heads, back matter) back from the layout and
reports any word not found here: two words a template joined ("26respectively",
"Africa(64"), or a word cut in two. Words are compared after splitting at
spaces, dashes and slashes and trimming punctuation, so "(64 countries)."
gives "64" and "countries".
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path

import jinja2
from jinja2 import nodes
from markdown_it.token import Token

SPLIT = re.compile(r"[\s\u2010\u2013\u2014/-]+")
#: Characters trimmed from both ends of a word before it is looked up.
PUNCTUATION = ".,;:!?()[]{}<>“”‘’\"'«»…*%†‡§¶·\u00a0"
TAG = re.compile(r"<[^>]*>")


def words(text: str) -> Iterator[str]:
    """The words of a text, as the preflight compares them."""
    for token in SPLIT.split(text):
        # an apostrophe as typed in YAML or CSV ("Gov't") prints curly ("Gov’t"): one word
        core = token.strip(PUNCTUATION).replace("\u2019", "'").replace("\u2018", "'")
        if core:
            yield core


def is_number(word: str) -> bool:
    return bool(re.fullmatch(r"[\d.,]+", word))


def _strings(value, seen: set[int]) -> Iterator[str]:
    """Every string in the document model, markup stripped."""
    if id(value) in seen:
        return
    if isinstance(value, str):
        yield html.unescape(TAG.sub(" ", value)) if "<" in value or "&" in value else value
    elif isinstance(value, Token):
        yield _token_text(value)
        for child in value.children or ():
            yield from _strings(child, seen)
    elif isinstance(value, dict) or hasattr(value, "items") and callable(value.items):
        seen.add(id(value))
        for k, v in value.items():
            yield from _strings(k, seen)
            yield from _strings(v, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        seen.add(id(value))
        for item in value:
            yield from _strings(item, seen)
    elif is_dataclass(value) and not isinstance(value, type):
        seen.add(id(value))
        for f in fields(value):
            yield from _strings(getattr(value, f.name), seen)
        for name in ("author_line", "running_title"):
            if hasattr(type(value), name):
                yield getattr(value, name)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield str(value)


def _token_text(token: Token) -> str:
    """An inline token's text as printed: its text children joined, breaks as spaces."""
    if token.type != "inline":
        return token.content if token.type in ("text", "code_inline", "code_block", "fence") else ""
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak", "footnote_ref"):
            parts.append(" ")
    return "".join(parts)


def template_text(env: jinja2.Environment) -> Iterator[str]:
    """The literal text of every template and the strings its expressions hold."""
    for name in env.list_templates(extensions=["html", "xhtml"]):
        source = env.loader.get_source(env, name)[0]
        tree = env.parse(source)
        for node in tree.find_all(nodes.TemplateData):
            yield html.unescape(TAG.sub(" ", node.data))
        for node in tree.find_all(nodes.Const):
            if isinstance(node.value, str):
                yield html.unescape(TAG.sub(" ", node.value))


def module_text(paths: Iterable[Path]) -> Iterator[str]:
    """The string constants of the modules that write text (month names,
    register kinds, the contents' titles, the permissions' shares)."""
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield node.value


def vocabulary(edition, env: jinja2.Environment) -> set[str]:
    package = Path(__file__).parents[1]
    texts: list[str] = []
    texts.extend(_strings(edition, set()))
    texts.extend(template_text(env))
    texts.extend(
        module_text(
            [
                package / "render" / "body.py",
                package / "render" / "contents.py",
                package / "render" / "environment.py",
                package / "read" / "course_reader.py",
                package / "resolve" / "volume.py",
                package / "resolve" / "citeproc.py",
            ]
        )
    )
    return {w for text in texts for w in words(text)}
