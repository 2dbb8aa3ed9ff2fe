"""A campaign's e-mail compiled once per language, and each recipient's message made from it.

Compiling renders the institutional layout around the body, inlines its CSS (css-inline: mail
programs ignore `<style>`), derives the plain-text part (inscriptis) and assembles the MIME
message once, with a slot wherever a recipient's value goes: each merge tag (escaped for the
HTML part, raw in the text part), the signed link to their preference centre and, when the
campaign tracks clicks or opens, their tracking token (`campaigns.tracking`: the body's links
numbered and pointed at the tracked redirect, the open pixel). A recipient's message is then the
compiled bytes joined with their values (`inbound.lib.mailing`). From, List-Id and the mailto:
unsubscribe come from `campaigns.headers`; the return path and DKIM from settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

import css_inline
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from inscriptis import get_text
from inscriptis.model.config import ParserConfig

from campaigns.headers import campaign_from, list_id, unsubscribe_mailto
from campaigns.merge import MergeTag, Piece, merge_parse, merge_render, merge_value
from campaigns.models import Campaign, Email
from campaigns.tracking import links_track, pixel_add, tracking_token
from campaigns.unsubscribe import unsubscribe_token
from contacts import links
from contacts.models import Contact, ContactProperty
from inbound.lib.dkim_signing import dkim_signer
from inbound.lib.mailing import MessageTemplate, Outgoing, PreparedEmail, outgoing_of

PREFERENCES = "preferences"
UNSUBSCRIBE = "unsubscribe"
UNSUBSCRIBE_HEADER = "unsubscribe_header"
UNSUBSCRIBE_TOKEN = "unsubscribe_token"  # noqa: S105 (a slot name, not a secret)
TRACKING = "tracking"
_TOKEN = "inbound-token-slot"  # noqa: S105 (a placeholder, not a secret)
# The token of every link in a sample (preview, test send): no signature, so it opens the
# "link not valid" page.
SAMPLE_TOKEN = "sample-link"  # noqa: S105 (not a secret)
# Compiled e-mails kept by the process across ticks (a tick is 20 s of sending; compiling is
# tens of milliseconds of layout, CSS inlining and text): the few campaigns being sent, in
# each of their languages and versions.
COMPILED_KEPT = 32
_COMPILED: dict[tuple[Any, ...], Compiled] = {}
_COMPILED_SETTINGS = (
    "SITE_URL",
    "INSTITUTION",
    "DEFAULT_FROM_EMAIL",
    "CAMPAIGNS_RETURN_PATH",
    "CAMPAIGNS_UNSUBSCRIBE_MAILTO",
    "CAMPAIGNS_DKIM_PRIVATE_KEY",
    "CAMPAIGNS_DKIM_SELECTOR",
    "CAMPAIGNS_DKIM_DOMAIN",
)
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def email_language(email: Email, contact: Contact) -> str:
    """The recipient's language when the e-mail is written in it, else Spanish."""
    language = (contact.language or "")[:2]
    if language and language != "es" and getattr(email, f"subject_{language}", ""):
        return language
    return "es"


def html_to_text(html: str) -> str:
    """The plain-text part: paragraphs, lists and tables kept, links written out."""
    return get_text(html, ParserConfig(display_links=True)).strip()


@dataclass
class Compiled:
    template: MessageTemplate
    subject: list[Piece]
    # slot name -> (tag, True for the HTML part)
    tags: dict[str, tuple[MergeTag, bool]] = field(default_factory=dict)
    preferences_prefix: str = ""
    unsubscribe_prefix: str = ""
    tracked: bool = False  # the recipient's tracking token goes in

    @property
    def personal_subject(self) -> bool:
        return any(isinstance(piece, MergeTag) for piece in self.subject)


class CampaignRenderer:
    """Makes each recipient's message of one campaign; compiles each language once.

    `sample=True` makes messages for staff to look at (previews, test sends): their
    preference-centre and unsubscribe links carry `SAMPLE_TOKEN`, which opens nothing, so a
    preview "as Lucía" never hands staff (or a forwarded test) a working link of Lucía's.
    """

    def __init__(self, campaign: Campaign, *, tracking: bool = True, sample: bool = False) -> None:
        # Previews and test sends are not tracked: a click there is staff's, not the contact's.
        self.tracking = tracking
        self.sample = sample
        self.campaign = campaign
        self.email = campaign.email
        self._versions: dict[int, Email] = {campaign.email_id: campaign.email}
        self.properties = list(ContactProperty.objects.values_list("key", flat=True))
        self._compiled: dict[tuple[int, str], Compiled] = {}

    def version(self, email_id: int | None) -> Email:
        """The campaign's e-mail, or one of its A/B test versions."""
        if email_id is None:
            return self.email
        if email_id not in self._versions:
            self._versions[email_id] = Email.objects.get(pk=email_id)
        return self._versions[email_id]

    def message(self, contact: Contact, email_id: int | None = None) -> PreparedEmail:
        compiled = self._compiled_for(contact, email_id)
        return self._message(compiled, contact, self._values(compiled, contact))

    def outgoing(self, contact: Contact, email_id: int | None = None) -> Outgoing:
        """The recipient's message as SMTP sends it: joined straight into bytes when the fast
        path allows (no message object is built), else Django's assembly of `message()`."""
        compiled = self._compiled_for(contact, email_id)
        values = self._values(compiled, contact)
        if not compiled.personal_subject:
            copy = compiled.template.outgoing(to=str(contact.email), values=values)
            if copy is not None:
                return copy
        return outgoing_of(self._message(compiled, contact, values))

    def _compiled_for(self, contact: Contact, email_id: int | None) -> Compiled:
        email = self.version(email_id)
        language = email_language(email, contact)
        compiled = self._compiled.get((email.pk, language))
        if compiled is None:
            key = self._compile_key(email, language)
            compiled = _COMPILED.get(key)
            if compiled is None:
                compiled = self._compile(email, language)
                while len(_COMPILED) >= COMPILED_KEPT:
                    del _COMPILED[next(iter(_COMPILED))]
                _COMPILED[key] = compiled
            self._compiled[email.pk, language] = compiled
        return compiled

    def _compile_key(self, email: Email, language: str) -> tuple[Any, ...]:
        """Everything a compiled e-mail is made of but the templates (a deployment starts new
        processes): an edit of the e-mail moves `updated_at`, and the sender, the campaign's
        tracking and list, the custom properties and the settings are compared as they are."""
        campaign = self.campaign
        with translation.override(language):
            list_header = list_id(campaign)
        return (
            email.pk,
            email.updated_at,
            language,
            campaign_from(email),
            campaign.pk,
            campaign.track_clicks,
            campaign.track_opens,
            list_header,
            self.tracking,
            tuple(self.properties),
            *(repr(getattr(settings, name, None)) for name in _COMPILED_SETTINGS),
        )

    def _values(self, compiled: Compiled, contact: Contact) -> dict[str, str]:
        values: dict[str, str] = {}
        for slot, (tag, html) in compiled.tags.items():
            value = merge_value(tag, contact)
            values[slot] = (escape(value) if html else value) if value else tag.fallback
        if self.sample:
            token = SAMPLE_TOKEN
        else:
            token = links.rights_token_make(contact=contact, purpose=links.PREFERENCES)
        values[PREFERENCES] = compiled.preferences_prefix.replace(_TOKEN, token)
        if not self.sample:
            token = unsubscribe_token(contact=contact, campaign=self.campaign)
        values[UNSUBSCRIBE] = values[UNSUBSCRIBE_HEADER] = compiled.unsubscribe_prefix.replace(
            _TOKEN, token
        )
        values[UNSUBSCRIBE_TOKEN] = token
        if compiled.tracked:
            values[TRACKING] = tracking_token(campaign=self.campaign, contact=contact)
        return values

    def _message(
        self, compiled: Compiled, contact: Contact, values: dict[str, str]
    ) -> PreparedEmail:
        message = compiled.template.message(to=str(contact.email), values=values)
        if compiled.personal_subject:
            # A personal subject needs its own header encoding: Django assembles this one.
            message.subject = merge_render(compiled.subject, contact, html=False)
            message.raw = None
        return message

    def _compile(self, email: Email, language: str) -> Compiled:
        with translation.override(language):
            subject, preheader, body = email.subject, email.preheader, email.body
            path = reverse("contacts_public:preferences", kwargs={"token": _TOKEN})
            unsubscribe_path = reverse("campaigns:unsubscribe", kwargs={"token": _TOKEN})
            list_header = list_id(self.campaign)
        subject_pieces, _errors = merge_parse(subject, properties=self.properties)
        tags: dict[str, tuple[MergeTag, bool]] = {}
        template = MessageTemplate(header_slots=(UNSUBSCRIBE_HEADER, UNSUBSCRIBE_TOKEN))
        tracking = template.slot(TRACKING)
        if self.campaign.track_clicks and self.tracking:
            body = links_track(campaign=self.campaign, body=body, slot=tracking)
        tracked = tracking in body or (self.campaign.track_opens and self.tracking)

        def with_slots(pieces: list[Piece], *, html: bool, escape_text: bool) -> str:
            out = []
            for piece in pieces:
                if isinstance(piece, MergeTag):
                    name = f"m{len(tags)}"
                    tags[name] = (piece, html)
                    out.append(template.slot(name))
                else:
                    out.append(escape(piece) if escape_text else piece)
            return "".join(out)

        body_pieces, _errors = merge_parse(body, properties=self.properties)
        html_body = with_slots(body_pieces, html=True, escape_text=False)
        preheader_pieces, _errors = merge_parse(preheader, properties=self.properties)
        html_preheader = with_slots(preheader_pieces, html=True, escape_text=True)
        text_pieces, _errors = merge_parse(html_to_text(body), properties=self.properties)
        text_body = with_slots(text_pieces, html=False, escape_text=False)
        plain_subject = merge_render(subject_pieces, _Nobody(), html=False)
        context: dict[str, Any] = {
            "language": language,
            "subject": plain_subject,
            "preheader": mark_safe(html_preheader),  # noqa: S308 (escaped above, slots are ours)
            "institution": settings.INSTITUTION,
            "preferences_url": template.slot(PREFERENCES),
            "unsubscribe_url": template.slot(UNSUBSCRIBE),
        }
        with translation.override(language):
            html: str = render_to_string(
                "campaigns/email/layout.html",
                {**context, "body": mark_safe(html_body)},  # noqa: S308 (sanitised at save)
            )
            text = render_to_string("campaigns/email/layout.txt", {**context, "body": text_body})
        if self.campaign.track_opens and self.tracking:
            html = pixel_add(html_document=html, slot=tracking)
        # RFC 8058: the mail program's own unsubscribe button POSTs to the https link.
        unsubscribe = f"<{template.slot(UNSUBSCRIBE_HEADER)}>"
        if mailto := unsubscribe_mailto(template.slot(UNSUBSCRIBE_TOKEN)):
            unsubscribe += f", <{mailto}>"
        headers = {
            "List-Id": list_header,
            "List-Unsubscribe": unsubscribe,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        if email.reply_to:
            headers["Reply-To"] = email.reply_to
        signer = dkim_signer()
        template.build(
            subject=plain_subject,
            text=text,
            html=_INLINER.inline(html),
            headers=headers,
            from_email=campaign_from(email),
            envelope_from=settings.CAMPAIGNS_RETURN_PATH or None,  # where bounces go
            signer=signer.sign if signer is not None else None,
        )
        return Compiled(
            template=template,
            subject=subject_pieces,
            tags=tags,
            preferences_prefix=f"{settings.SITE_URL}{path}",
            unsubscribe_prefix=f"{settings.SITE_URL}{unsubscribe_path}",
            tracked=tracked,
        )


class _Nobody:
    """A recipient with no values: every tag shows its fallback (the subject of the template)."""

    properties: dict[str, Any] = {}

    def __getattr__(self, name: str) -> str:
        return ""
