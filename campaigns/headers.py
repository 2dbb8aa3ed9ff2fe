"""The headers that tell mail programs and mailbox providers who sends a campaign and to which
list it belongs: From (a verified sender), List-Id (RFC 2919) and the mailto: address of
List-Unsubscribe (RFC 2369). Values are made once per compiled language, never per recipient.
"""

from __future__ import annotations

import re
from email.header import Header
from email.utils import formataddr, quote
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from campaigns.models import Campaign, Email

# RFC 5322 atoms and spaces: a phrase written as it stands, unquoted.
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")
# A topic's slug as a dot-atom label of the list identifier.
_LABEL = re.compile(r"[^A-Za-z0-9-]+")


def campaign_from(email: Email) -> str:
    """The From header: the e-mail's sender while verified ("Name <address>", the name quoted
    or RFC 2047-encoded as it needs), else DEFAULT_FROM_EMAIL."""
    sender = email.sender
    if sender is None or not sender.is_verified:
        return str(settings.DEFAULT_FROM_EMAIL)
    return formataddr((" ".join(sender.name.split()), sender.email), charset="utf-8")


def list_domain() -> str:
    """The domain list identifiers live under: the site's own host name (ours to name)."""
    return (urlsplit(settings.SITE_URL).hostname or "localhost").lower()


def list_id(campaign: Campaign) -> str:
    """`List-Id` (RFC 2919): one identifier per list, the same for every campaign sent to it, so
    people and mail programs can filter it: `newsletter.list.<domain>`, or
    `<topic>.topic.list.<domain>` for a topic's bulletin. The description is in the active
    language."""
    topic = campaign.topic if campaign.purpose == Campaign.Purpose.TOPIC else None
    if topic is not None:
        label = _LABEL.sub("-", topic.slug).strip("-") or str(topic.pk)
        identifier = f"{label}.topic.list.{list_domain()}"
        description = str(topic.name)
    else:
        identifier = f"newsletter.list.{list_domain()}"
        description = _("Newsletter · %(institution)s") % {
            "institution": settings.INSTITUTION["name"]
        }
    return f"{_phrase(description)} <{identifier}>"


def _phrase(text: str) -> str:
    """An RFC 5322 phrase: as it stands, quoted, or RFC 2047 encoded words when not ASCII."""
    text = " ".join(text.split())
    if not text.isascii():
        # Encoded words of at most 75 characters (RFC 2047), the first short enough to share a
        # line with the header's name, separated by spaces where the header may fold.
        encoded = Header(text, "utf-8", header_name="List-Id").encode(linesep="\n")
        return "".join(encoded.splitlines())
    if _ATOMS.fullmatch(text):
        return text
    return f'"{quote(text)}"'


def unsubscribe_mailto(token: str) -> str:
    """The mailto: form of the unsubscribe link, `token` in its subject; "" when no address is
    configured (CAMPAIGNS_UNSUBSCRIBE_MAILTO). `campaigns.webhooks` reads such messages."""
    address = settings.CAMPAIGNS_UNSUBSCRIBE_MAILTO
    if not address:
        return ""
    return f"mailto:{address}?subject=unsubscribe%20{token}"


def mailto_token(subject: str) -> str:
    """The token a mailto: unsubscribe message carries in its subject, or ""."""
    match = re.search(r"unsubscribe\s+(\S+)", subject, flags=re.IGNORECASE)
    return match.group(1) if match else ""
