"""Rich text: what the editor offers and what survives the server-side sanitiser.

The prose editor's own allowlist is generated from its extensions, but the stored HTML is
cleaned by `rich_text_clean` (nh3, the platform's `inbound.models` allowlist plus figures) on
every save, whatever the write path: the admin, a service, the API or a data migration. Word's
pasted markup (`mso-` styles, classes, `<o:p>`, conditional comments) does not survive it,
because no style or class is allowed.

Images come from the library (`content.images`). An `<img>` is kept only when its address is
a plain path under `MEDIA_URL`: another host would track readers and could swap the picture
after review, and `data:` or `javascript:` addresses are script vectors. Alternative text is
required when staff save (`Publishable.clean_fields`, WCAG 1.1.1), never invented here.
"""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import nh3
from django.conf import settings
from django.urls import reverse_lazy
from django.utils.html import strip_tags

from inbound.models import RICH_TEXT_ATTRIBUTES, RICH_TEXT_TAGS, RICH_TEXT_URL_SCHEMES

WORDS_PER_MINUTE = 200

# Headings h2–h4 (h1 is the page title), lists, links, tables, quotes and figures: an image
# from the library (the dialog's "Browse…" opens it) with its alternative text and a caption.
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
    "Figure": {"pickerUrl": reverse_lazy("admin:content_contentimage_picker")},
    "Image": True,
    "Caption": True,
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


# --- Images: only our own uploads, and never without alternative text ----------------------

IMAGE_ATTRIBUTES = frozenset({"src", "alt", "width", "height"})
# What Django's storage puts in a file URL: word characters, dots, dashes, slashes and the
# percent-encoding of anything else (a name with accents). No quotes, spaces or backslashes.
MEDIA_PATH = re.compile(r"[\w./%~-]+")
DIMENSION = re.compile(r"[1-9][0-9]{0,3}")
# An `<img>` as nh3 writes it: attribute values always double-quoted, with `"`, `<` and `>`
# escaped inside them, so a tag cannot end before its closing `>`.
SANITISED_IMG = re.compile(r'<img(?: [a-z-]+="[^"]*")*>')


def is_own_media_url(src: str) -> bool:
    """True for a file address under `MEDIA_URL`: no other host, scheme, query or dot segment."""
    media_url = settings.MEDIA_URL
    if not media_url or not src.startswith(media_url):
        return False
    rest = src[len(media_url) :]
    if not MEDIA_PATH.fullmatch(rest):
        return False
    # Browsers resolve `..` (and its percent-encoded forms) before requesting: refuse them,
    # or `/media/../admin/` would be an address outside the media folder.
    return all(segment not in {"", ".", ".."} for segment in unquote(rest).split("/"))


def image_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3 `attribute_filter`: an image's address must be ours, its size plain digits."""
    if tag != "img":
        return value
    if attribute == "src":
        return value if is_own_media_url(value) else None
    if attribute in {"width", "height"}:
        return value if DIMENSION.fullmatch(value) else None
    return value


def images_without_source_removed(html: str) -> str:
    """Drop the `<img>` tags the attribute filter left without an address (sanitised HTML)."""
    return SANITISED_IMG.sub(lambda match: match[0] if ' src="' in match[0] else "", html)


class _ImageAltCounter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.missing = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img" and not (dict(attrs).get("alt") or "").strip():
            self.missing += 1

    handle_startendtag = handle_starttag


def images_without_alt(html: str) -> int:
    """How many images in `html` have no alternative text (or only blanks)."""
    if "<img" not in html.lower():
        return 0
    counter = _ImageAltCounter()
    counter.feed(html)
    counter.close()
    return counter.missing


_cleaner = nh3.Cleaner(
    tags=set(RICH_TEXT_TAGS | {"figure", "figcaption", "img"}),
    attributes={
        **{tag: set(names) for tag, names in RICH_TEXT_ATTRIBUTES.items()},
        "img": set(IMAGE_ATTRIBUTES),
    },
    attribute_filter=image_attribute,
    # Body images are below the fold more often than not.
    set_tag_attribute_values={"img": {"loading": "lazy"}},
    url_schemes=set(RICH_TEXT_URL_SCHEMES),
    link_rel="noopener noreferrer",
)


def rich_text_clean(html: str | None) -> str:
    """Sanitise staff HTML; an editor's lone empty paragraph becomes an empty string."""
    if not html:
        return ""
    cleaned = images_without_source_removed(_cleaner.clean(html)).strip()
    return "" if cleaned in {"<p></p>", "<p><br></p>"} else cleaned


def reading_minutes(html: str) -> int:
    """Minutes to read at 200 words per minute, rounded up; at least one for any text."""
    words = len(strip_tags(html).split())
    return max(1, math.ceil(words / WORDS_PER_MINUTE)) if words else 0
