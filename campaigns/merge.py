"""Merge tags: `{{ contact.first_name|default:"vecino/a" }}` in an e-mail's subject and body.

A sandbox by construction: a tag names one whitelisted contact field or one defined custom
property (`contact.properties.<key>`), with an optional fallback; nothing else is evaluated, so
`{{ contact.__class__ }}`, settings or other objects can't be reached. Anything else written
between `{{` and `}}` (or a template tag `{% … %}`) is an error reported at save time with its
line and column, and renders as nothing if it ever reached a send.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from django.utils.translation import gettext as _

# What staff may put in an e-mail about its recipient.
CONTACT_FIELDS = ("first_name", "last_name", "email", "district", "postal_code", "language")
PROPERTIES_PREFIX = "properties."

_OPENING = re.compile(r"\{\{|\{%")
_TAG = re.compile(
    r"\{\{\s*contact\.(?P<name>[a-z_]+(?:\.[a-z0-9_]+)?)\s*"
    r"(?:\|\s*default\s*:\s*(?:\"|&quot;)(?P<fallback>[^\"{}<>]*?)(?:\"|&quot;)\s*)?\}\}"
)


@dataclass(frozen=True)
class MergeTag:
    name: str  # "first_name" or "properties.<key>"
    fallback: str


@dataclass(frozen=True)
class MergeError:
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return _("Line %(line)s, column %(column)s: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


Piece = str | MergeTag


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def merge_parse(
    text: str, *, properties: Iterable[str] = ()
) -> tuple[list[Piece], list[MergeError]]:
    """The text cut into literal strings and merge tags, and every error with its position.

    A tag that is not allowed becomes an error and renders as nothing.
    """
    allowed = set(CONTACT_FIELDS) | {f"{PROPERTIES_PREFIX}{key}" for key in properties}
    pieces: list[Piece] = []
    errors: list[MergeError] = []
    position = 0
    while (opening := _OPENING.search(text, position)) is not None:
        pieces.append(text[position : opening.start()])
        line, column = _position(text, opening.start())
        tag = _TAG.match(text, opening.start())
        if tag is None:
            closing = text.find("}}" if opening.group() == "{{" else "%}", opening.end())
            end = len(text) if closing < 0 else closing + 2
            snippet = text[opening.start() : min(end, opening.start() + 60)]
            if opening.group() == "{%":
                message = _("template tags are not allowed in e-mails: %(tag)s")
            elif closing < 0:
                message = _("this merge tag is never closed with }}: %(tag)s")
            else:
                message = _(
                    "this is not a merge tag we know: %(tag)s (write for example "
                    '{{ contact.first_name|default:"vecino/a" }})'
                )
            errors.append(MergeError(line, column, message % {"tag": snippet}))
            position = end
            continue
        name = tag.group("name")
        if name not in allowed:
            errors.append(
                MergeError(
                    line,
                    column,
                    _("%(name)s can't be used in e-mails; you may use: %(allowed)s")
                    % {"name": f"contact.{name}", "allowed": ", ".join(sorted(allowed))},
                )
            )
        else:
            pieces.append(MergeTag(name, tag.group("fallback") or ""))
        position = tag.end()
    pieces.append(text[position:])
    return [piece for piece in pieces if piece != ""], errors


def merge_value(tag: MergeTag, contact: Any) -> str:
    """The recipient's own value for a tag ("" when they have none: the fallback applies)."""
    if tag.name.startswith(PROPERTIES_PREFIX):
        properties: Mapping[str, Any] = contact.properties or {}
        value = properties.get(tag.name.removeprefix(PROPERTIES_PREFIX))
    else:
        value = getattr(contact, tag.name, "")
    return "" if value is None else str(value).strip()


def merge_render(pieces: list[Piece], contact: Any, *, html: bool) -> str:
    """The pieces with the recipient's values, escaped when `html`. A fallback is written as it
    stands in the source (in HTML it is already HTML)."""
    out = []
    for piece in pieces:
        if isinstance(piece, MergeTag):
            value = merge_value(piece, contact)
            out.append((escape(value) if html else value) if value else piece.fallback)
        else:
            out.append(piece)
    return "".join(out)
