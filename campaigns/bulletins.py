"""Bulletins (GovDelivery's "Page Watch"): what is published about a topic, sent to the people
who follow it — at once, or in a daily or weekly digest, as each chose per topic in the
preference centre (`Subscription.frequency`).

Content is noticed by a scan, not by a hook in the publish path. Content becomes public in
several ways — the publish action, a scheduled time reached by `content_publish_due`, rows
written by the demo seed or a data migration — and only looking at what *is* live sees them
all: a scheduled item whose time came at night, or one published just before a crash (an
after-commit hook would have lost it; the next scan finds it). So `content` still imports
nothing from `campaigns`, and beat runs the scan every minute (`campaigns.tasks.bulletins_scan`).

1. `bulletin_items_record`: one `BulletinItem` per (public topic, item) for live articles and
   videos published within `LOOKBACK`, unless already recorded (unique constraint): saving,
   re-publishing or unpublishing and publishing again announces nothing new. An item given a
   publication date further back (an old article brought in) is not news and is not announced.
2. `bulletins_send_immediate`: per topic, one campaign with its items not yet sent to immediate
   subscribers (several published together share one e-mail), started by the sending engine.
3. `bulletin_digests_send(frequency=DAILY|WEEKLY)` (beat, 07:00 Europe/Madrid, every day and on
   Mondays): per topic, one digest of every item not yet in a digest of that frequency.

Every campaign is a normal `Campaign` (purpose TOPIC, its topic, `bulletin_frequency`) started
with `campaign_start`, so the audience (`campaign_audience`: the topic's active, consenting
subscribers who chose that frequency), consent checks at send time, throttling and tracking
are the engine's. Items are claimed under a row lock and marked in the same transaction as the
campaign they go into: a task run twice (late acks) sends nothing twice. Only items whose
content is still live go out, with its current texts. When nobody chose a frequency for a
topic, no campaign is made and the items are marked done anyway, so whoever subscribes later
does not receive a backlog.

The e-mail is written in Spanish and in every language of the site that one of its items is
written in; in such a language, an item without a translation is listed in Spanish and says so.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from campaigns.audience import campaign_audience
from campaigns.gate import campaign_gate
from campaigns.models import BulletinItem, Campaign, Email
from campaigns.sending import CampaignNotSendable, campaign_start
from contacts.models import Subscription, Topic
from content.models import Article, Publishable, Video
from content.richtext import rich_text_clean
from inbound.audit import audit_record

logger = logging.getLogger(__name__)

Frequency = Subscription.Frequency

# How far back a publication still counts as news. Longer than any pause of beat we expect;
# short enough that an item published with an old date is not announced.
LOOKBACK = dt.timedelta(hours=24)
SUMMARY_CHARS = 300
PREHEADER_CHARS = 150
TEXT_FIELDS = ("title", "summary", "url")


@dataclass(frozen=True)
class Watched:
    """A content type whose publications are announced: its detail page and its summary."""

    model: type[Publishable]
    url_name: str
    summary_field: str
    body_field: str = ""


# Articles and videos have a page of their own and carry topics. FAQs and institutional pages
# are reference material (and have no page of their own, or no topics): not news.
WATCHED = (
    Watched(Article, "content:article-detail", "summary", "body"),
    Watched(Video, "content:video-detail", "description"),
)


def _site_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _inert(text: str) -> str:
    """Text from content as it stands in an e-mail: `{{` and `{%` would read as merge tags."""
    return text.replace("{{", "{\u200b{").replace("{%", "{\u200b%")


def _texts(obj: Any, watched: Watched) -> dict[str, str]:
    """Title, summary and address of `obj` in each site language it is written in
    (`title_es`, `summary_es`, `url_es`, …)."""
    texts: dict[str, str] = {}
    for language in _site_languages():
        title = getattr(obj, f"title_{language}", "") or ""
        slug = getattr(obj, f"slug_{language}", "") or ""
        if not (title.strip() and slug):
            continue
        summary = getattr(obj, f"{watched.summary_field}_{language}", "") or ""
        if not summary.strip() and watched.body_field:
            body = getattr(obj, f"{watched.body_field}_{language}", "") or ""
            summary = html.unescape(strip_tags(body))
        with translation.override(language):
            path = reverse(watched.url_name, kwargs={"slug": slug})
        texts[f"title_{language}"] = title.strip()
        texts[f"summary_{language}"] = Truncator(" ".join(summary.split())).chars(SUMMARY_CHARS)
        texts[f"url_{language}"] = f"{settings.SITE_URL}{path}"
    return texts


# --- 1. Recording what became public ----------------------------------------------------------


def bulletin_items_record(*, now: dt.datetime | None = None) -> int:
    """Record every publication to announce that is not recorded yet; how many were added."""
    now = now or timezone.now()
    rows: list[BulletinItem] = []
    for watched in WATCHED:
        content_type = ContentType.objects.get_for_model(watched.model)
        public_topics = Topic.objects.filter(is_public=True)
        live = list(
            watched.model.objects.live(now)
            .filter(published_at__gte=now - LOOKBACK, topics__in=public_topics)
            .distinct()
            .prefetch_related(Prefetch("topics", queryset=public_topics))
        )
        if not live:
            continue
        known = set(
            BulletinItem.objects.filter(
                content_type=content_type, object_id__in=[obj.pk for obj in live]
            ).values_list("object_id", "topic_id")
        )
        for obj in live:
            topics = [topic for topic in obj.topics.all() if (obj.pk, topic.pk) not in known]
            texts = _texts(obj, watched) if topics else {}
            if "title_es" not in texts:
                continue  # nothing new, or not servable in Spanish: nothing to link to
            for topic in topics:
                rows.append(
                    BulletinItem(
                        topic=topic,
                        content_type=content_type,
                        object_id=obj.pk,
                        published_at=obj.published_at,
                        detected_at=now,
                        **texts,
                    )
                )
    # A scan running at the same moment may have written some: the constraint keeps one.
    BulletinItem.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- 2 and 3. Sending them ------------------------------------------------------------------


def bulletins_send_immediate(*, now: dt.datetime | None = None) -> list[Campaign]:
    """Start one bulletin per topic with its items not yet sent to immediate subscribers."""
    return _bulletins_send(frequency=Frequency.IMMEDIATE, now=now or timezone.now())


def bulletin_digests_send(*, frequency: str, now: dt.datetime | None = None) -> list[Campaign]:
    """Start one digest per topic with its items not yet in a digest of this frequency."""
    if frequency not in {Frequency.DAILY, Frequency.WEEKLY}:
        raise ValueError(f"not a digest frequency: {frequency}")
    return _bulletins_send(frequency=frequency, now=now or timezone.now())


def bulletins_scan(*, now: dt.datetime | None = None) -> list[Campaign]:
    """Beat's minute: record what became public and send it to immediate subscribers."""
    now = now or timezone.now()
    bulletin_items_record(now=now)
    return bulletins_send_immediate(now=now)


def _pending(frequency: str, now: dt.datetime) -> Any:
    return BulletinItem.objects.filter(**{f"{frequency}_at__isnull": True}, published_at__lte=now)


def _bulletins_send(*, frequency: str, now: dt.datetime) -> list[Campaign]:
    campaigns = []
    topic_ids = set(_pending(frequency, now).values_list("topic_id", flat=True))
    for topic in Topic.objects.filter(pk__in=topic_ids).order_by("order", "slug"):
        campaign = topic_bulletin_send(topic=topic, frequency=frequency, now=now)
        if campaign is not None:
            campaigns.append(campaign)
    return campaigns


@transaction.atomic
def topic_bulletin_send(*, topic: Topic, frequency: str, now: dt.datetime) -> Campaign | None:
    """Claim the topic's items pending for `frequency`, start their campaign and mark them
    done; None when there was nothing to send or nobody chose this frequency."""
    # Waits for a run that holds these rows (not SKIP LOCKED: Monday's daily and weekly runs
    # lock the same items for different columns). PostgreSQL then checks the condition again on
    # the rows as that run left them, so a second run of the same frequency finds none.
    items = list(
        _pending(frequency, now)
        .filter(topic=topic)
        .select_for_update()
        .order_by("published_at", "pk")
    )
    if not items:
        return None
    current = _still_live(items, now)
    campaign = _campaign_start(topic=topic, frequency=frequency, items=current, now=now)
    BulletinItem.objects.filter(pk__in=[item.pk for item in items]).update(
        **{f"{frequency}_at": now}
    )
    if campaign is not None:
        BulletinItem.objects.filter(pk__in=[item.pk for item in current]).update(
            **{f"{frequency}_campaign": campaign}
        )
    return campaign


def _still_live(items: list[BulletinItem], now: dt.datetime) -> list[BulletinItem]:
    """The items whose content is still public, with its texts as they are now (an editor may
    have corrected a title or added a translation since)."""
    by_type: dict[int, list[BulletinItem]] = defaultdict(list)
    for item in items:
        by_type[item.content_type_id].append(item)
    current: list[BulletinItem] = []
    for watched in WATCHED:
        content_type = ContentType.objects.get_for_model(watched.model)
        group = by_type.get(content_type.pk, [])
        if not group:
            continue
        live = watched.model.objects.live(now).in_bulk([item.object_id for item in group])
        for item in group:
            obj = live.get(item.object_id)
            texts = _texts(obj, watched) if obj is not None else {}
            if "title_es" not in texts:
                continue
            for language in _site_languages():
                for name in TEXT_FIELDS:
                    setattr(item, f"{name}_{language}", texts.get(f"{name}_{language}", ""))
            current.append(item)
    if current:
        fields = [f"{name}_{language}" for name in TEXT_FIELDS for language in _site_languages()]
        BulletinItem.objects.bulk_update(current, fields)
    current.sort(key=lambda item: (item.published_at, item.pk))
    return current


def _campaign_start(
    *, topic: Topic, frequency: str, items: list[BulletinItem], now: dt.datetime
) -> Campaign | None:
    """Make the bulletin's campaign and start it through the quality gate.

    Nobody to send it to: nothing is kept (a savepoint rolls the e-mail and campaign back).
    Gate errors (a broken link, a missing unsubscribe link): the campaign stays a draft with
    the reason, for staff to fix and send from its page; nobody confirms warnings for an
    automatic send, so they are accepted and audited, as GovDelivery sends Page Watch bulletins
    unreviewed.
    """
    if not items:
        return None
    with transaction.atomic():
        email = bulletin_email_create(topic=topic, frequency=frequency, items=items, now=now)
        campaign = Campaign.objects.create(
            name=email.name,
            email=email,
            purpose=Campaign.Purpose.TOPIC,
            topic=topic,
            bulletin_frequency=frequency,
        )
        if not campaign_audience(campaign=campaign).exists():
            transaction.set_rollback(True)
            return None
        # In the staff's language, which the reason is read in; and the checks' in-process
        # requests activate their page's language: it must not stay on for this worker.
        with translation.override(settings.LANGUAGE_CODE):
            gate = campaign_gate(campaign=campaign)
            reason = _("Not sent automatically: the checklist found errors: %(errors)s") % {
                "errors": " ".join(check.message for check in gate.errors)
            }
        if gate.errors:
            Campaign.objects.filter(pk=campaign.pk).update(pause_reason=reason[:300])
            audit_record(
                action="campaigns.bulletin_held",
                obj=campaign,
                detail={"errors": [check.code for check in gate.errors]},
            )
            logger.warning("bulletin %s held: %s", campaign.pk, reason)
            return campaign
        try:
            recipients = campaign_start(campaign=campaign)
        except CampaignNotSendable as error:
            if error.code != "empty":  # nobody left since the check above
                raise
            transaction.set_rollback(True)
            return None
        audit_record(
            action="campaigns.bulletin_sent",
            obj=campaign,
            detail={
                "frequency": frequency,
                "items": [item.pk for item in items],
                "recipients": recipients,
                "warnings": [check.code for check in gate.warnings],
            },
        )
    return campaign


# --- The e-mail -------------------------------------------------------------------------------


def _languages(items: list[BulletinItem]) -> list[str]:
    """Spanish, and each site language some item is written in."""
    return [
        language
        for language in _site_languages()
        if language == "es" or any(getattr(item, f"title_{language}", "") for item in items)
    ]


def _local_date(moment: dt.datetime) -> str:
    return str(formats.date_format(timezone.localtime(moment), "DATE_FORMAT"))


def _entry(item: BulletinItem, language: str) -> dict[str, str]:
    """The item in `language`, or in Spanish (marked) when it is not written in it."""
    own = bool(getattr(item, f"title_{language}", ""))
    shown = language if own else "es"
    return {
        "title": _inert(getattr(item, f"title_{shown}") or ""),
        "summary": _inert(getattr(item, f"summary_{shown}") or ""),
        "url": getattr(item, f"url_{shown}") or "",
        "hreflang": "" if own else "es",
        "date": _local_date(item.published_at),
    }


def _subject(topic: str, frequency: str, entries: list[dict[str, str]]) -> str:
    if frequency == Frequency.DAILY:
        return _("%(topic)s: your daily digest") % {"topic": topic}
    if frequency == Frequency.WEEKLY:
        return _("%(topic)s: your weekly digest") % {"topic": topic}
    if len(entries) == 1:
        return entries[0]["title"]
    return _("%(topic)s: %(count)s new items") % {"topic": topic, "count": len(entries)}


def _preheader(frequency: str, entries: list[dict[str, str]]) -> str:
    if frequency == Frequency.IMMEDIATE and len(entries) == 1 and entries[0]["summary"]:
        text = entries[0]["summary"]
    else:
        text = " · ".join(entry["title"] for entry in entries)
    return Truncator(text).chars(PREHEADER_CHARS)


def _intro(topic: str, frequency: str) -> str:
    if frequency == Frequency.DAILY:
        return _("What we published about %(topic)s in the last day:") % {"topic": topic}
    if frequency == Frequency.WEEKLY:
        return _("What we published about %(topic)s in the last week:") % {"topic": topic}
    return _("News about %(topic)s:") % {"topic": topic}


def _why(topic: str, frequency: str) -> str:
    if frequency == Frequency.DAILY:
        text = _(
            "You receive a daily summary of the news about %(topic)s. To receive each piece "
            "of news as soon as it is published, or a weekly summary, change it in your "
            "preferences (link below)."
        )
    elif frequency == Frequency.WEEKLY:
        text = _(
            "You receive a weekly summary of the news about %(topic)s. To receive each piece "
            "of news as soon as it is published, or a daily summary, change it in your "
            "preferences (link below)."
        )
    else:
        text = _(
            "You receive the news about %(topic)s as soon as it is published. If you prefer "
            "a daily or weekly summary, change it in your preferences (link below)."
        )
    return text % {"topic": topic}


def _name(topic: Topic, frequency: str, now: dt.datetime) -> str:
    """The campaign's name for staff, in the staff's language."""
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            "topic": topic.name,
            "date": formats.date_format(timezone.localtime(now), "SHORT_DATETIME_FORMAT"),
        }
        if frequency == Frequency.DAILY:
            return _("Daily digest: %(topic)s, %(date)s") % values
        if frequency == Frequency.WEEKLY:
            return _("Weekly digest: %(topic)s, %(date)s") % values
        return _("Bulletin: %(topic)s, %(date)s") % values


def bulletin_email_create(
    *, topic: Topic, frequency: str, items: list[BulletinItem], now: dt.datetime
) -> Email:
    """The bulletin's e-mail, written in Spanish and each language its items exist in."""
    email = Email(name=_name(topic, frequency, now)[:120])
    for language in _languages(items):
        with translation.override(language):
            topic_name = _inert(topic.name)
            entries = [_entry(item, language) for item in items]
            body = render_to_string(
                "campaigns/bulletin/body.html",
                {
                    "intro": _intro(topic_name, frequency),
                    "entries": entries,
                    "dated": frequency != Frequency.IMMEDIATE,
                    "why": _why(topic_name, frequency),
                },
            )
            subject = _subject(topic_name, frequency, entries)
            preheader = _preheader(frequency, entries)
        setattr(email, f"subject_{language}", Truncator(subject).chars(200))
        setattr(email, f"preheader_{language}", preheader)
        setattr(email, f"body_{language}", rich_text_clean(body))
    email.save()
    return email
