"""The pre-send quality gate: a checklist run on a campaign before it may be sent.

Errors block the send; warnings ask staff to confirm that they send anyway. Each language the
audience will receive is checked as it will be sent: the e-mail rendered through the same
`CampaignRenderer` the sending engine uses, for a real recipient of that language when there is
one. The checks are what mail programs and the law punish, not style:

- the unsubscribe link is in the e-mail (RGPD, LSSI art. 22, and bulk-sender rules of the large
  mailbox providers) and the `lang` of the document is set (screen readers pick their voice);
- every image has alternative text (many mail programs block images; screen readers need it);
- the subject is there and short enough to be read on a phone;
- every link to this site answers (checked in-process through the full request stack);
- a language variant exists for every language among the recipients, or staff accept that
  those recipients get Spanish;
- the Spanish text is easy to read (Fernández-Huerta ≥ 60, `content.readability`);
- the HTML stays under 100 KB: Gmail clips larger messages, hiding the footer and with it the
  unsubscribe link.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns.abtests import campaign_emails
from campaigns.audience import campaign_audience
from campaigns.models import Campaign, Email
from campaigns.rendering import CampaignRenderer, email_language
from contacts.models import CONTENT_LANGUAGES, Contact
from content.clusters import is_internal
from content.readability import readability_of_html
from content.seo import Check, Level

SUBJECT_MAX = 60  # longer subjects are cut on most phones
HTML_MAX_BYTES = 100 * 1024  # Gmail clips messages past ~102 KB
LINKS_CHECKED_MAX = 40


@dataclass
class Gate:
    checks: list[Check] = field(default_factory=list)

    @property
    def errors(self) -> list[Check]:
        return [check for check in self.checks if check.level == "error"]

    @property
    def warnings(self) -> list[Check]:
        return [check for check in self.checks if check.level == "warning"]

    @property
    def passes(self) -> bool:
        return not self.errors

    version: str = ""  # "Version B: " while an A/B test's version is checked

    def add(self, code: str, level: Level, message: str) -> None:
        message = f"{self.version}{message}"
        self.checks.append(Check(code=code, passed=level == "ok", level=level, message=message))


class _EmailReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.images_without_alt = 0
        self.images_decorative = 0
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.lang = (attributes.get("lang") or "").strip()
        elif tag == "img" and attributes.get("alt") is None:
            self.images_without_alt += 1
        elif tag == "img" and not (attributes.get("alt") or "").strip():
            self.images_decorative += 1
        elif tag == "a" and attributes.get("href"):
            self.hrefs.append((attributes.get("href") or "").strip())


def _language_name(code: str) -> str:
    return str(dict(CONTENT_LANGUAGES).get(code, code))


def audience_languages(campaign: Campaign) -> Counter[str]:
    """How many recipients of each language the campaign has now."""
    rows = campaign_audience(campaign=campaign).order_by().values_list("language")
    return Counter(language or "es" for (language,) in rows)


def campaign_gate(*, campaign: Campaign, audience: Counter[str] | None = None) -> Gate:
    """Run every check; `audience` (recipients per language) is counted when not given."""
    # The in-process link checks go through LocaleMiddleware, which switches the thread's
    # language: whatever was active is restored afterwards.
    with translation.override(translation.get_language()):
        return _campaign_gate(campaign, audience)


def _campaign_gate(campaign: Campaign, audience: Counter[str] | None) -> Gate:
    gate = Gate()
    if audience is None:
        audience = audience_languages(campaign)
    _audience_check(gate, audience)
    renderer = CampaignRenderer(campaign)
    link_status: dict[str, int] = {}
    versions = campaign_emails(campaign)
    for index, email in enumerate(versions):
        if len(versions) > 1:
            gate.version = _("Version %(label)s: ") % {"label": chr(ord("A") + index)}
        _merge_tags_check(gate, email)
        _sender_check(gate, email)
        languages = _languages_check(gate, email, audience)
        for language in languages:
            _rendered_checks(gate, renderer, email, language, link_status)
        _readability_check(gate, email)
    return gate


def _audience_check(gate: Gate, audience: Counter[str]) -> None:
    total = sum(audience.values())
    if not total:
        gate.add(
            "audience",
            "error",
            _("Nobody in this audience may receive this e-mail (consent, bounces, exclusions)."),
        )
        return
    gate.add(
        "audience",
        "ok",
        ngettext(
            "%(count)d recipient may receive it.", "%(count)d recipients may receive it.", total
        )
        % {"count": total},
    )


def _merge_tags_check(gate: Gate, email: Email) -> None:
    try:
        email.clean()
    except ValidationError as error:
        for column, messages in error.message_dict.items():
            for message in messages:
                gate.add("merge_tags", "error", f"{column}: {message}")
        return
    gate.add("merge_tags", "ok", _("Every merge tag is valid."))


def _sender_check(gate: Gate, email: Email) -> None:
    sender = getattr(email, "sender", None)
    if sender is not None and not sender.is_verified:
        gate.add(
            "sender",
            "error",
            _("The sender %(sender)s is not verified yet.") % {"sender": sender.email},
        )


def _languages_check(gate: Gate, email: Email, audience: Counter[str]) -> list[str]:
    """The languages that will be sent; a warning for recipients who will get Spanish instead
    of their own language."""
    sent: Counter[str] = Counter()
    for language, count in audience.items():
        sent[email_language(email, Contact(language=language))] += count
    fallback = {
        language: count
        for language, count in audience.items()
        if language != "es" and email_language(email, Contact(language=language)) == "es"
    }
    if fallback:
        missing = ", ".join(
            f"{_language_name(language).lower()} ({count})"
            for language, count in sorted(fallback.items())
        )
        gate.add(
            "languages",
            "warning",
            _("No version in %(languages)s: those recipients will get the Spanish one.")
            % {"languages": missing},
        )
    elif audience:
        gate.add("languages", "ok", _("Every recipient gets the e-mail in their language."))
    return sorted(sent) or ["es"]


def _sample(campaign: Campaign, email: Email, language: str) -> Contact:
    """A real recipient who will read this language, else a stand-in with no personal data."""
    for contact in campaign_audience(campaign=campaign).filter(language=language)[:1]:
        return contact
    return Contact(email="vecino@example.org", language=language)


def _rendered_checks(
    gate: Gate, renderer: CampaignRenderer, email: Email, language: str, links: dict[str, int]
) -> None:
    name = _language_name(language)
    message = renderer.message(_sample(renderer.campaign, email, language), email_id=email.pk)
    html = next((content for content, mime in message.alternatives if mime == "text/html"), "")
    reader = _EmailReader()
    reader.feed(str(html))
    # Images and links as staff wrote them (tracked links are rewritten in the message).
    with translation.override(language):
        written = _EmailReader()
        written.feed(email.body or "")
    prefix = f"{name}: "

    subject = message.subject.strip()
    if not subject:
        gate.add("subject", "error", prefix + _("The subject is empty."))
    elif len(subject) > SUBJECT_MAX:
        gate.add(
            "subject",
            "warning",
            prefix
            + _("The subject has %(count)d characters; phones show about %(max)d.")
            % {"count": len(subject), "max": SUBJECT_MAX},
        )
    else:
        gate.add("subject", "ok", prefix + _("The subject is short enough."))

    # Links of this language's version resolve under its own language prefix.
    with translation.override(language):
        has_unsubscribe = any(_is_unsubscribe(href) for href in reader.hrefs)
    if has_unsubscribe:
        gate.add("unsubscribe", "ok", prefix + _("The e-mail has an unsubscribe link."))
    else:
        gate.add("unsubscribe", "error", prefix + _("The e-mail has no unsubscribe link."))

    if reader.lang:
        gate.add("lang", "ok", prefix + _("The language of the e-mail is declared."))
    else:
        gate.add("lang", "error", prefix + _("The e-mail does not declare its language."))

    if written.images_without_alt:
        gate.add(
            "alt",
            "error",
            prefix
            + ngettext(
                "%(count)d image has no alternative text.",
                "%(count)d images have no alternative text.",
                written.images_without_alt,
            )
            % {"count": written.images_without_alt},
        )
    elif written.images_decorative:
        gate.add(
            "alt",
            "warning",
            prefix
            + ngettext(
                "%(count)d image has an empty alternative text: check that it is decorative.",
                "%(count)d images have an empty alternative text: check that they are decorative.",
                written.images_decorative,
            )
            % {"count": written.images_decorative},
        )
    else:
        gate.add("alt", "ok", prefix + _("Every image has alternative text."))

    size = len(str(html).encode())
    if size > HTML_MAX_BYTES:
        gate.add(
            "size",
            "error",
            prefix
            + _(
                "The e-mail weighs %(size)d KB; Gmail cuts messages over 100 KB, hiding the "
                "rest and the unsubscribe link."
            )
            % {"size": round(size / 1024)},
        )
    else:
        gate.add(
            "size",
            "ok",
            prefix + _("It weighs %(size)d KB (under 100 KB).") % {"size": size // 1024},
        )

    broken = []
    for href in written.hrefs:
        with translation.override(language):
            own = _is_own_link(href)
        if not is_internal(href) or own:
            continue
        if href not in links and len(links) < LINKS_CHECKED_MAX:
            links[href] = link_status(href)
        if links.get(href, 200) >= 400:
            broken.append(f"{href} ({links[href]})")
    if broken:
        gate.add(
            "links",
            "error",
            prefix
            + _("Links to this site that do not work: %(links)s") % {"links": ", ".join(broken)},
        )
    else:
        gate.add("links", "ok", prefix + _("Every link to this site works."))


def _is_unsubscribe(href: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        return resolve(urlsplit(href).path).view_name == "campaigns:unsubscribe"
    except Resolver404:
        return False


def _is_own_link(href: str) -> bool:
    """Links the e-mail adds itself (unsubscribe, preferences, tracking): signed per recipient,
    not something staff wrote."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlsplit(href).path)
    except Resolver404:
        return False
    return match.view_name.startswith("campaigns:") or match.view_name in {
        "contacts_public:preferences"
    }


def link_status(href: str) -> int:
    """What this site answers for an internal link, asked in-process through the whole request
    stack (middleware, cache, the view) as a visitor who does not want to be tracked: the same
    answer a citizen would get, with no network and no page view recorded."""
    from django.test import Client

    parts = urlsplit(href)
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    client = Client(raise_request_exception=False, HTTP_HOST=host, HTTP_DNT="1")
    path = parts.path or "/"
    # The request's LocaleMiddleware switches the thread's language to the link's: put it back.
    with translation.override(translation.get_language()):
        response = client.get(path, data=None, QUERY_STRING=parts.query, secure=True)
    return int(response.status_code)


def _readability_check(gate: Gate, email: Email) -> None:
    result = readability_of_html(getattr(email, "body_es", "") or email.body or "")
    if result is None:
        gate.add("readability", "warning", _("The Spanish text has no words to read."))
        return
    summary = _("Spanish readability (Fernández-Huerta): %(score)d, %(band)s.") % {
        "score": result.score,
        "band": result.band.label,
    }
    if result.is_clear:
        gate.add("readability", "ok", summary)
        return
    hints = " ".join(result.hints)
    gate.add(
        "readability",
        "warning",
        f"{summary} {_('Plain language reaches more people: aim for 60 or more.')} {hints}".strip(),
    )
