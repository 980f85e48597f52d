"""What a stylesheet would fetch, read as a reading system reads it.

The EPUB's stylesheets come from ``templates/``; one that names a file
(``url(https://…)``) makes the reading system fetch it: a tracking request,
or a file the book does not hold. A pattern on the text misses what CSS
allows: escapes (``\\75 rl(`` is ``url(``), any case (``URL(``), strings
(``@import "x.css"``, ``image-set("https://…" 1x)``). So the stylesheet is
read with tinycss2 (WeasyPrint's CSS tokenizer, a CSS Syntax Level 3
parser), and every token that can fetch is found after unescaping: a URL
token, a function that takes a resource (``url()``, ``src()``,
``image()``, ``image-set()``, ``cross-fade()``, their ``-webkit-`` forms),
``attr(… url)``, and ``@import``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import tinycss2

#: CSS functions whose arguments are resources to fetch.
FETCHING = frozenset({"url", "src", "image", "image-set", "-webkit-image-set", "cross-fade", "-webkit-cross-fade"})


def fetches(css: str) -> list[tuple[int, str]]:
    """(line, what) of everything in a stylesheet that would fetch a resource."""
    return sorted(_walk(tinycss2.parse_stylesheet(css, skip_comments=True)))


def fetches_in_declarations(css: str) -> list[tuple[int, str]]:
    """The same for a ``style`` attribute's declarations."""
    return sorted(_walk(tinycss2.parse_blocks_contents(css, skip_comments=True)))


def _walk(nodes: Iterable) -> Iterator[tuple[int, str]]:
    todo = list(nodes)
    while todo:
        node = todo.pop(0)
        kind = getattr(node, "type", "")
        line = getattr(node, "source_line", 0)
        if kind == "url":
            yield line, "url("
        elif kind == "function" and node.lower_name in FETCHING:
            yield line, f"{node.lower_name}("
        elif kind == "function" and node.lower_name == "attr" and _names_url(node.arguments):
            yield line, "attr(… url)"
        elif (kind == "at-rule" and node.lower_at_keyword == "import") or (
            kind == "at-keyword" and node.lower_value == "import"
        ):
            yield line, "@import"
        for part in ("prelude", "content", "arguments", "value"):
            inner = getattr(node, part, None)
            if isinstance(inner, list):
                todo.extend(inner)


def _names_url(arguments: list) -> bool:
    return any(getattr(a, "type", "") == "ident" and a.lower_value == "url" for a in arguments)
