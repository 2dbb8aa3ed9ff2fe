"""Blocks other apps place in rich text, without `content` importing them.

Staff write a paragraph holding exactly `[[<name>:<key>]]` (e.g. `[[cta:boletin-movilidad]]`);
on display `blocks_render` swaps it for the HTML of the renderer registered under `<name>`
(`conversion` registers `cta` in its AppConfig.ready()). An unknown name, a key the renderer
does not find, or a renderer that fails leaves nothing: a reader never sees the marker or an
error. Renderers must return safe HTML (built with `format_html`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

BlockRenderer = Callable[[str], SafeString | None]

_renderers: dict[str, BlockRenderer] = {}

# A paragraph holding only the marker (whitespace and &nbsp; around it allowed). The key is a
# slug or a number, so nothing but these characters ever reaches a renderer.
_BLOCK_RE = re.compile(
    r"<p>(?:\s|&nbsp;)*\[\[([a-z][a-z0-9_-]{0,30}):([A-Za-z0-9_-]{1,80})\]\](?:\s|&nbsp;)*</p>"
)


def register_block(name: str, renderer: BlockRenderer) -> None:
    """Render paragraphs `[[name:key]]` with `renderer(key)` (None: the block is removed)."""
    _renderers[name] = renderer


def blocks_render(html: str) -> SafeString:
    """Sanitised rich text with its block markers replaced (or removed)."""

    def replace(match: re.Match[str]) -> str:
        renderer = _renderers.get(match.group(1))
        if renderer is None:
            return ""
        try:
            rendered = renderer(match.group(2))
        except Exception:  # a broken block must not break the article
            logger.exception("block %s:%s failed to render", match.group(1), match.group(2))
            return ""
        return str(rendered) if rendered else ""

    # The input is the stored rich text, sanitised by nh3 on every save; renderers return
    # format_html output.
    return mark_safe(_BLOCK_RE.sub(replace, html or ""))  # noqa: S308
