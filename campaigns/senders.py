"""Verified senders: an address becomes the From of campaigns only after its owner confirmed it.

Adding a sender (or changing its address) e-mails a link to that address (`campaigns.sender_links`:
the signed token, its address and its e-mail). Opening it only asks (mail scanners open links);
the button on that page verifies.
Only verified senders are offered for an e-mail (`Email.sender`) and used as its From
(`campaigns.headers.campaign_from`).
"""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from campaigns.models import Sender
from campaigns.tasks import email_sender_verification


class SenderForm(forms.ModelForm):
    """The admin's form: a display name that fits on one header line."""

    class Meta:
        model = Sender
        fields = ("name", "email")

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"])
        if any(ord(character) < 32 or ord(character) == 127 for character in name):
            raise forms.ValidationError(
                gettext_lazy("The name can not contain line breaks or control characters.")
            )
        return " ".join(name.split())


@transaction.atomic
def sender_save(*, sender: Sender, address_changed: bool) -> Sender:
    """Save a sender. A new or changed address is unverified until its owner follows the link
    e-mailed to it once this commits."""
    if address_changed:
        sender.verified_at = None
    sender.save()
    if address_changed:
        sender_verification_request(sender=sender)
    return sender


def sender_verification_request(*, sender: Sender) -> None:
    """E-mail the verification link from a worker, once the transaction commits."""
    email_sender_verification.delay_on_commit(sender_id=sender.pk)


@transaction.atomic
def sender_verify(*, sender: Sender) -> bool:
    """Mark the sender verified; False when it already was (following the link twice)."""
    return bool(
        Sender.objects.filter(pk=sender.pk, verified_at__isnull=True).update(
            verified_at=timezone.now()
        )
    )
