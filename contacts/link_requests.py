"""A citizen asks on the site for a link (preference centre, data download, erasure): it is
e-mailed from a worker (`contacts.tasks_rights.email_rights_link`). The links themselves are
`contacts.links`; this module sits above the tasks that send them."""

from __future__ import annotations

from django.conf import settings

from contacts.selectors import contacts_with_email
from contacts.tasks_rights import email_rights_link
from contacts.validation import email_fingerprint
from inbound.lib import ratelimit


def rights_link_request(*, email: str, purpose: str, language: str) -> None:
    """A citizen typed an address to get a link: send one after commit if it is ours.

    Says nothing about whether the address is known (no account enumeration): the answer is
    the same, and the e-mail goes out from a worker, so it takes the same time either way. An
    address is sent at most RIGHTS_EMAILS_PER_ADDRESS_PER_DAY links a day, counted for known
    and unknown addresses alike; past that, requests are answered the same and send nothing.
    """
    if ratelimit.quota_hit(
        scope="contacts.rights.emails",
        subject=email_fingerprint(email),
        limit=settings.RIGHTS_EMAILS_PER_ADDRESS_PER_DAY,
        period=24 * 3600,
    ):
        return
    contact = contacts_with_email(email).filter(anonymised_at__isnull=True).first()
    if contact is not None:
        email_rights_link.delay_on_commit(contact_id=contact.pk, purpose=purpose, language=language)
