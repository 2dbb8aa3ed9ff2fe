"""Calls to action as citizens meet them: a button or banner whose link counts the click
(`conversion:cta-click`) and a 1×1 beacon that counts the showing (`conversion:cta-impression`).

Shown by the `{% call_to_action %}` tag and by `[[cta:name]]` paragraphs in an article's text
(the `cta` block of `content.blocks`, registered in `ConversionConfig.ready()`). A CTA that is
unknown, inactive or whose target is not live in the visitor's language is not shown at all.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from conversion.models import CallToAction


def cta_find(key: str | int) -> CallToAction | None:
    """An active CTA by id or name."""
    text = str(key)
    if text.isascii() and text.isdigit():
        if len(text) > 9:  # beyond any id; PostgreSQL would refuse the integer
            return None
        lookup: dict[str, object] = {"pk": int(text)}
    else:
        lookup = {"name": text[:80]}
    return CallToAction.objects.filter(active=True, **lookup).select_related("landing_page").first()


def cta_render(cta: CallToAction) -> SafeString | None:
    """The CTA's HTML in the active language, or None when it leads nowhere live."""
    if cta.target_url() is None:
        return None
    link = format_html(
        '<a class="button" href="{}">{}</a>',
        reverse("conversion:cta-click", kwargs={"pk": cta.pk}),
        cta.text,
    )
    beacon = format_html(
        '<img class="cta-beacon" src="{}" alt="" width="1" height="1">',
        reverse("conversion:cta-impression", kwargs={"pk": cta.pk}),
    )
    if cta.style == CallToAction.Style.BANNER:
        description = format_html("<p>{}</p>", cta.description) if cta.description else ""
        return format_html(
            '<div class="cta cta-banner">{}<p>{}</p>{}</div>', description, link, beacon
        )
    return format_html('<p class="cta cta-button">{}{}</p>', link, beacon)


def cta_block(key: str) -> SafeString | None:
    """The renderer of `[[cta:<name or id>]]` paragraphs."""
    cta = cta_find(key)
    return cta_render(cta) if cta is not None else None
