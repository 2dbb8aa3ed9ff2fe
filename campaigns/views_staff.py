"""A campaign's staff page, under /<lang>/staff/campaigns/<id>/: the checklist, a preview as any
contact at desktop and mobile width, a test send, sending now or at a time, and the live
progress of the send with pause, resume and cancel.

Seeing it needs `campaigns.view_campaign`; previewing as a real contact also needs
`contacts.view_contact` and is audited (it shows their personal data); a test send needs
`campaigns.change_campaign`; sending, scheduling, pausing, resuming and cancelling need
`campaigns.send_campaign`. Every action is a POST with CSRF and answers with a redirect back to
the page and a message (post/redirect/get), so it works without JavaScript; htmx only refreshes
the progress box every two seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.mail import get_connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from campaigns.abtests import ab_results
from campaigns.audience import campaign_audience
from campaigns.control import (
    GateNotPassed,
    campaign_cancel,
    campaign_pause,
    campaign_progress,
    campaign_resume,
    campaign_schedule,
    campaign_send_now,
)
from campaigns.gate import audience_languages, campaign_gate
from campaigns.models import Campaign
from campaigns.rendering import CampaignRenderer
from campaigns.sending import CampaignNotSendable
from contacts.models import Contact
from inbound.audit import audit_record
from inbound.lib.errors import DomainError
from inbound.lib.mailing import send_prepared
from inbound.lib.ratelimit import rate_limit_hit

VIEW = "campaigns.view_campaign"
CHANGE = "campaigns.change_campaign"
SEND = "campaigns.send_campaign"
PREVIEW_CONTACT = "contacts.view_contact"
MADRID = ZoneInfo("Europe/Madrid")
TEST_RECIPIENTS_MAX = 10
WIDTHS = {"desktop": 640, "mobile": 375}


def _campaign(request: HttpRequest, pk: int, permission: str) -> Campaign:
    if not request.user.has_perm(permission):
        raise PermissionDenied
    campaign: Campaign = get_object_or_404(Campaign.objects.select_related("email"), pk=pk)
    return campaign


def _page(campaign: Campaign) -> str:
    return reverse("campaigns_staff:campaign", kwargs={"pk": campaign.pk})


class PreviewForm(forms.Form):
    contact = forms.CharField(
        label=gettext_lazy("Preview as"),
        required=False,
        help_text=gettext_lazy("The e-mail address of a contact in the audience."),
    )
    width = forms.ChoiceField(
        label=gettext_lazy("Width"),
        choices=[("desktop", gettext_lazy("desktop")), ("mobile", gettext_lazy("mobile"))],
        required=False,
        widget=forms.RadioSelect,
    )


class TestSendForm(forms.Form):
    recipients = forms.CharField(
        label=gettext_lazy("Send a test to"),
        help_text=gettext_lazy(
            "Staff addresses only, separated by commas (up to %(max)d). The subject starts "
            "with [TEST]."
        )
        % {"max": TEST_RECIPIENTS_MAX},
    )
    contact = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_recipients(self) -> list[str]:
        addresses = [a.strip().lower() for a in self.cleaned_data["recipients"].split(",")]
        addresses = list(dict.fromkeys(a for a in addresses if a))
        if not addresses:
            raise forms.ValidationError(_("Write at least one address."))
        if len(addresses) > TEST_RECIPIENTS_MAX:
            raise forms.ValidationError(
                _("At most %(max)d addresses.") % {"max": TEST_RECIPIENTS_MAX}
            )
        staff = {
            email.lower()
            for email in get_user_model()
            .objects.filter(is_active=True, is_staff=True)
            .values_list("email", flat=True)
            if email
        }
        foreign = [a for a in addresses if a not in staff]
        if foreign:
            raise forms.ValidationError(
                _("Tests only go to staff accounts; not one: %(addresses)s")
                % {"addresses": ", ".join(foreign)}
            )
        return addresses


class SendForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("I have read the warnings and want to send anyway."), required=False
    )


class ScheduleForm(forms.Form):
    at = forms.DateTimeField(
        label=gettext_lazy("Send at (Madrid time)"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    local_time = forms.BooleanField(
        label=gettext_lazy("Canary Islands contacts at the same time in their time zone"),
        required=False,
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I have read the warnings and want to send anyway."), required=False
    )

    def clean_at(self) -> dt.datetime:
        at: dt.datetime = self.cleaned_data["at"]
        # The field reads the time in the active time zone; staff think in Madrid's.
        at = timezone.make_naive(at) if timezone.is_aware(at) else at
        return at.replace(tzinfo=MADRID)


def _valid_or_refuse(form: forms.Form) -> None:
    """A form that does not validate refuses the action with its messages, in staff's language."""
    if not form.is_valid():
        raise CampaignNotSendable(
            " ".join(str(message) for errors in form.errors.values() for message in errors),
            code="invalid",
        )


def _preview_contact(request: HttpRequest, campaign: Campaign, value: str) -> Contact | None:
    """The contact named in the preview form, if the user may see contacts and it is one of
    the audience; else None (a stand-in with no personal data is used)."""
    value = value.strip()
    if not value or not request.user.has_perm(PREVIEW_CONTACT):
        return None
    audience = campaign_audience(campaign=campaign)
    if value.isdigit():
        return audience.filter(pk=int(value)).first()
    return audience.filter(email__iexact=value).first()


def _stand_in(language: str = "es") -> Contact:
    return Contact(email="vecino@example.org", language=language)


@never_cache
@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk, VIEW)
    preview_form = PreviewForm(request.GET or None)
    preview_form.is_valid()
    chosen = (preview_form.cleaned_data.get("contact") or "") if preview_form.is_bound else ""
    contact = _preview_contact(request, campaign, chosen)
    width = (preview_form.cleaned_data.get("width") if preview_form.is_bound else "") or "desktop"
    editable = campaign.status in {Campaign.Status.DRAFT, Campaign.Status.SCHEDULED}
    audience = audience_languages(campaign) if editable else None
    gate = campaign_gate(campaign=campaign, audience=audience) if editable else None
    preview_url = reverse("campaigns_staff:preview", kwargs={"pk": campaign.pk})
    if contact is not None:
        preview_url += f"?contact={contact.pk}"
    context = {
        **admin.site.each_context(request),
        "title": _("Campaign: %(name)s") % {"name": campaign.name},
        "campaign": campaign,
        "audience": sorted(audience.items()) if audience else [],
        "audience_total": sum(audience.values()) if audience else None,
        "gate": gate,
        "progress": campaign_progress(campaign=campaign),
        "preview_form": preview_form,
        "preview_contact": contact,
        "preview_missing": bool(chosen.strip()) and contact is None,
        "preview_url": preview_url,
        "preview_width": WIDTHS.get(width, WIDTHS["desktop"]),
        "test_form": TestSendForm(
            initial={
                "recipients": getattr(request.user, "email", ""),
                "contact": contact.pk if contact else "",
            }
        ),
        "send_form": SendForm(),
        "schedule_form": ScheduleForm(
            initial={
                "at": timezone.localtime(campaign.scheduled_at, MADRID).replace(tzinfo=None)
                if campaign.scheduled_at
                else None,
                "local_time": campaign.local_time,
            }
        ),
        "editable": editable,
        "ab": _ab_context(campaign),
        "may_send": request.user.has_perm(SEND),
        "may_test": request.user.has_perm(CHANGE),
    }
    return render(request, "campaigns/staff/campaign.html", context)


def _ab_context(campaign: Campaign) -> dict[str, Any] | None:
    """The A/B test's settings, and each version's results once the send started."""
    if not campaign.variants.exists():
        return None
    decides_at = None
    if campaign.started_at and campaign.ab_decided_at is None:
        decides_at = campaign.started_at + dt.timedelta(hours=campaign.ab_wait_hours)
    return {
        "results": ab_results(campaign),
        "decides_at": decides_at,
        "winner_id": campaign.ab_winner_id,
        "metric": campaign.get_ab_metric_display(),
    }


@never_cache
@login_required
@require_GET
@xframe_options_sameorigin
def campaign_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The e-mail's HTML as the chosen contact would get it, for the page's frame."""
    campaign = _campaign(request, pk, VIEW)
    contact = _preview_contact(request, campaign, request.GET.get("contact", ""))
    if contact is not None:
        audit_record(
            action="campaigns.previewed_as_contact",
            obj=contact,
            request=request,
            detail={"campaign": campaign.pk},
        )
    renderer = CampaignRenderer(campaign, tracking=False, sample=True)
    message = renderer.message(contact or _stand_in())
    html = next((content for content, mime in message.alternatives if mime == "text/html"), "")
    response = HttpResponse(str(html), content_type="text/html; charset=utf-8")
    # The e-mail's own inline styles, images from anywhere, no script, and only our page may
    # frame it; `sandbox` keeps its links from navigating the staff page.
    response._csp_replace = {  # type: ignore[attr-defined]
        "default-src": ["'none'"],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["https:", "data:"],
        "script-src": ["'none'"],
        "frame-ancestors": ["'self'"],
        "sandbox": ["allow-popups", "allow-popups-to-escape-sandbox"],
    }
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@login_required
@require_GET
def campaign_progress_box(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress box alone: what htmx swaps in every two seconds while a send runs."""
    campaign = _campaign(request, pk, VIEW)
    context = {"campaign": campaign, "progress": campaign_progress(campaign=campaign)}
    return render(request, "campaigns/staff/_progress.html", context)


def _action(
    permission: str,
) -> Callable[[Callable[[HttpRequest, Campaign], str]], Callable[..., HttpResponse]]:
    """A POST that acts on the campaign, then goes back to its page with a message."""

    def decorate(act: Callable[[HttpRequest, Campaign], str]) -> Callable[..., HttpResponse]:
        @login_required
        @require_POST
        def view(request: HttpRequest, pk: int) -> HttpResponse:
            campaign = _campaign(request, pk, permission)
            try:
                done = act(request, campaign)
            except GateNotPassed as error:
                messages.error(request, str(error))
            except DomainError as error:
                messages.error(request, str(error))
            else:
                if done:
                    messages.success(request, done)
            return HttpResponseRedirect(_page(campaign))

        view.__name__ = act.__name__
        view.__doc__ = act.__doc__
        return view

    return decorate


@_action(SEND)
def campaign_send(request: HttpRequest, campaign: Campaign) -> str:
    form = SendForm(request.POST)
    form.is_valid()
    recipients = campaign_send_now(
        campaign=campaign,
        by=request.user,
        confirmed=bool(form.cleaned_data.get("confirm")),
        request=request,
    )
    return _("Sending to %(count)d recipients.") % {"count": recipients}


@_action(SEND)
def campaign_schedule_view(request: HttpRequest, campaign: Campaign) -> str:
    form = ScheduleForm(request.POST)
    _valid_or_refuse(form)
    at = form.cleaned_data["at"]
    campaign_schedule(
        campaign=campaign,
        at=at,
        local_time=form.cleaned_data["local_time"],
        by=request.user,
        confirmed=form.cleaned_data["confirm"],
        request=request,
    )
    return _("Scheduled for %(at)s (Madrid time).") % {"at": at.strftime("%d/%m/%Y %H:%M")}


@_action(SEND)
def campaign_pause_view(request: HttpRequest, campaign: Campaign) -> str:
    campaign_pause(campaign=campaign, by=request.user, request=request)
    return _("Paused. Nothing more is sent until you resume.")


@_action(SEND)
def campaign_resume_view(request: HttpRequest, campaign: Campaign) -> str:
    campaign_resume(campaign=campaign, by=request.user, request=request)
    return _("Sending again.")


@_action(SEND)
def campaign_cancel_view(request: HttpRequest, campaign: Campaign) -> str:
    skipped = campaign_cancel(campaign=campaign, by=request.user, request=request)
    return _("Cancelled: %(count)d messages will not be sent.") % {"count": skipped}


@_action(CHANGE)
def campaign_test_send(request: HttpRequest, campaign: Campaign) -> str:
    if rate_limit_hit(request=request, scope="campaigns.test_send", limit=20, period=3600):
        raise CampaignNotSendable(_("Too many test sends: try again later."), code="rate")
    form = TestSendForm(request.POST)
    _valid_or_refuse(form)
    contact = _preview_contact(request, campaign, str(form.cleaned_data.get("contact") or ""))
    renderer = CampaignRenderer(campaign, tracking=False, sample=True)
    connection = get_connection()
    try:
        for address in form.cleaned_data["recipients"]:
            message = renderer.message(contact or _stand_in())
            message.to = [address]
            message.subject = f"{_('[TEST]')} {message.subject}"
            message.raw = None  # assembled again for its own address and subject
            send_prepared(message, connection)
    except OSError as error:  # smtplib's errors included: tell staff what the server said
        raise CampaignNotSendable(
            _("The test could not be sent: %(error)s") % {"error": error}, code="smtp"
        ) from error
    finally:
        connection.close()
    audit_record(
        action="campaigns.test_sent",
        obj=campaign,
        request=request,
        detail={"to": form.cleaned_data["recipients"], "as_contact": getattr(contact, "pk", None)},
    )
    return _("Test sent to %(addresses)s.") % {
        "addresses": ", ".join(form.cleaned_data["recipients"])
    }
