"""Rich text: what the editor offers and what survives the server-side sanitiser.

The prose editor's own allowlist is generated from its extensions, but the stored HTML is
cleaned by `inbound.models.sanitize_html` (nh3) on every save, whatever the write path: the
admin, a service, the API or a data migration. Word's pasted markup (`mso-` styles, classes,
`<o:p>`, conditional comments) does not survive it, because no style or class is allowed.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.html import strip_tags

from inbound.models import sanitize_html

WORDS_PER_MINUTE = 200

# Headings h2–h4 (h1 is the page title), lists, links, tables and quotes. Images in the
# body are a later slice (they need the upload view and alt-text enforcement).
BODY_EXTENSIONS: dict[str, Any] = {
    "Bold": True,
    "Italic": True,
    "Heading": {"levels": [2, 3, 4]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Blockquote": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto", "tel"]},
    "Table": True,
    "TableRow": True,
    "TableHeader": True,
    "TableCell": True,
    "HardBreak": True,
    "History": True,
}

# Short answers (FAQ): no headings or tables.
ANSWER_EXTENSIONS: dict[str, Any] = {
    "Bold": True,
    "Italic": True,
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto", "tel"]},
    "HardBreak": True,
    "History": True,
}


def rich_text_clean(html: str | None) -> str:
    """Sanitise staff HTML; an editor's lone empty paragraph becomes an empty string."""
    if not html:
        return ""
    cleaned = sanitize_html(html).strip()
    return "" if cleaned in {"<p></p>", "<p><br></p>"} else cleaned


def reading_minutes(html: str) -> int:
    """Minutes to read at 200 words per minute, rounded up; at least one for any text."""
    words = len(strip_tags(html).split())
    return max(1, math.ceil(words / WORDS_PER_MINUTE)) if words else 0
