"""Staff accounts as recipients: notifications about citizens go to active staff only.

A form's or a workflow's notification list is typed by staff; a typo or an outside address
would send news of citizens' submissions out of the institution. Both lists are checked
against the active staff accounts when they are saved (`staff_addresses_problem`) and again
when a message leaves (`active_staff_addresses`), since an account can be closed in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils.translation import gettext as _


def email_is_valid(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def active_staff_addresses(addresses: Iterable[str]) -> set[str]:
    """The lower-cased `addresses` that belong to active staff accounts."""
    wanted = {address.strip().lower() for address in addresses if address.strip()}
    if not wanted:
        return set()
    return set(
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .annotate(address=Lower("email"))
        .filter(address__in=wanted)
        .values_list("address", flat=True)
    )


def staff_addresses_problem(addresses: Sequence[str]) -> str | None:
    """Why these addresses may not be notified, in words for staff; None when every one is
    the address of an active staff account (or there is none)."""
    listed = [address.strip() for address in addresses if address.strip()]
    for address in listed:
        if not email_is_valid(address):
            return _("«%(address)s» is not an e-mail address.") % {"address": address}
    staff = active_staff_addresses(listed)
    unknown = [address for address in listed if address.lower() not in staff]
    if unknown:
        return _("%(addresses)s: not the address of an active staff account.") % {
            "addresses": ", ".join(unknown)
        }
    return None
