"""Data of `campaigns`: the e-mails staff write, the sends of them (campaigns) and one delivery
row per recipient, which the sending engine (`campaigns.sending`) claims, sends and records."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_prose_editor.fields import ProseEditorField

from contacts.models import ConsentRecord, Contact, Segment, Subscription, Topic
from content.richtext import BODY_EXTENSIONS, rich_text_clean


class Sender(models.Model):
    """An address campaigns may be sent from: usable once its owner followed the verification
    link sent to it (as HubSpot and Mautic ask), so nobody sends in another's name."""

    name = models.CharField(_("display name"), max_length=120)
    email = models.EmailField(_("address"), unique=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("sender")
        verbose_name_plural = _("senders")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class Email(models.Model):
    """What a send says, in each language (modeltranslation: es, en, ca, eu, gl).

    Subject, preheader and body may hold merge tags (`campaigns.merge`), checked at save.
    """

    name = models.CharField(_("internal name"), max_length=120)
    subject = models.CharField(_("subject"), max_length=200)
    preheader = models.CharField(
        _("preheader"),
        max_length=200,
        blank=True,
        help_text=_("The line mail programs show after the subject."),
    )
    body = ProseEditorField(
        _("body"), config={"extensions": BODY_EXTENSIONS}, sanitize=rich_text_clean
    )
    sender = models.ForeignKey(
        Sender,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="emails",
        limit_choices_to={"verified_at__isnull": False},
        verbose_name=_("sender"),
        help_text=_("Only verified senders are offered. None: the institution's address."),
    )
    reply_to = models.EmailField(_("reply-to address"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Merge tags are checked in every language, each error with its line and column."""
        from campaigns.merge import merge_parse
        from contacts.models import ContactProperty

        properties = list(ContactProperty.objects.values_list("key", flat=True))
        errors: dict[str, list[str]] = {}
        for name in ("subject", "preheader", "body"):
            for language in settings.MODELTRANSLATION_LANGUAGES:
                column = f"{name}_{language}"
                _pieces, problems = merge_parse(
                    getattr(self, column, "") or "", properties=properties
                )
                if problems:
                    errors[column] = [str(problem) for problem in problems]
        if errors:
            raise ValidationError(errors)


class Campaign(models.Model):
    """One send of an e-mail to an audience: segments and topic subscribers, minus exclusions,
    limited to the contacts the consent selector allows for its purpose."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("campaign status", "draft")
        SCHEDULED = "scheduled", pgettext_lazy("campaign status", "scheduled")
        SENDING = "sending", pgettext_lazy("campaign status", "sending")
        PAUSED = "paused", pgettext_lazy("campaign status", "paused")
        SENT = "sent", pgettext_lazy("campaign status", "sent")
        CANCELLED = "cancelled", pgettext_lazy("campaign status", "cancelled")

    class Purpose(models.TextChoices):
        NEWSLETTER = ConsentRecord.Purpose.NEWSLETTER, _("newsletter")
        TOPIC = ConsentRecord.Purpose.TOPIC, _("topic bulletin")

    name = models.CharField(_("name"), max_length=160)
    email = models.ForeignKey(
        Email, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("e-mail")
    )
    purpose = models.CharField(
        _("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.NEWSLETTER
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("topic"),
        help_text=_("For a topic bulletin: its active subscribers who consented to it."),
    )
    segments = models.ManyToManyField(
        Segment,
        blank=True,
        related_name="campaigns",
        verbose_name=_("segments"),
        help_text=_("Send to the members of any of these. None: everyone the purpose allows."),
    )
    excluded_segments = models.ManyToManyField(
        Segment,
        blank=True,
        related_name="excluded_from_campaigns",
        verbose_name=_("excluded segments"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    local_time = models.BooleanField(
        _("at each contact's local time"),
        default=False,
        help_text=_(
            "Contacts in the Canary Islands receive it at the same clock time in their own "
            "time zone (one hour later)."
        ),
    )
    track_clicks = models.BooleanField(_("track clicks"), default=True)
    track_opens = models.BooleanField(
        _("track opens"),
        default=False,
        help_text=_(
            "Adds an invisible image to each e-mail. Off by default: opens are unreliable "
            "(mail programs load or block images on their own) and invasive."
        ),
    )
    bulletin_frequency = models.CharField(
        _("bulletin frequency"),
        max_length=16,
        choices=Subscription.Frequency.choices,
        blank=True,
        help_text=_("Set on bulletins made automatically: who receives them, by preference."),
    )
    pause_reason = models.CharField(_("why it is paused"), max_length=300, blank=True)
    # A/B test: the e-mail above is version A; each variant is another version (a different
    # subject, content or both). A share of the audience is split evenly among the versions;
    # after the wait, the version with the best rate of unique clicks (or opens) goes to the rest.
    variants = models.ManyToManyField(
        Email,
        blank=True,
        related_name="variant_in",
        verbose_name=_("A/B test versions"),
        help_text=_("Other e-mails to test against the main one. None: no A/B test."),
    )
    ab_percent = models.PositiveSmallIntegerField(
        _("share of the audience in the test (%)"),
        default=20,
        validators=[MinValueValidator(2), MaxValueValidator(50)],
    )
    ab_wait_hours = models.PositiveSmallIntegerField(
        _("hours before choosing the winner"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
    )
    ab_metric = models.CharField(
        _("the winner is the version with most"),
        max_length=8,
        choices=[("clicks", _("unique clicks")), ("opens", _("unique opens"))],
        default="clicks",
    )
    ab_winner = models.ForeignKey(
        Email,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("A/B test winner"),
    )
    ab_decided_at = models.DateTimeField(_("A/B test decided"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        permissions = [("send_campaign", _("Can send campaigns"))]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(purpose="topic") | models.Q(topic__isnull=False),
                name="campaign_topic_for_topic_purpose",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.ab_metric == "opens" and not self.track_opens:
            raise ValidationError(
                {"ab_metric": _("Opens are only counted when the campaign tracks opens.")}
            )


class Delivery(models.Model):
    """One recipient of a campaign: written once when the send starts (`unique(campaign,
    contact)`), leased by a sender, marked sent with its Message-ID right after it left."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("delivery status", "pending")
        SENT = "sent", pgettext_lazy("delivery status", "sent")
        FAILED = "failed", pgettext_lazy("delivery status", "failed")
        SKIPPED = "skipped", pgettext_lazy("delivery status", "skipped")
        BOUNCED = "bounced", _("bounced")
        COMPLAINED = "complained", _("marked as spam")

    # No index of its own: the due index and the unique (campaign, contact) both start with it,
    # and every delivery written would keep one more index up to date for nothing.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    # The version it gets in an A/B test; empty: the campaign's e-mail (or, once decided, the
    # winner, written here for the rest of the audience).
    email = models.ForeignKey(
        Email, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    in_ab_test = models.BooleanField(_("in the A/B test"), default=False)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    # First open and first click (unique counts in reports); each one is also a touchpoint.
    opened_at = models.DateTimeField(_("first opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("first clicked"), null=True, blank=True)
    # The workflow step run that sent it: a workflow's e-mail step has its own campaign, and a
    # contact enrolled again receives it again, once per run.
    # Named by label, not imported: `workflows` sits above `campaigns` and imports it.
    step_run = models.OneToOneField(
        "workflows.StepRun",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="delivery",
    )

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contact"],
                condition=models.Q(step_run__isnull=True),
                name="delivery_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "next_attempt_at"], name="delivery_due_idx"),
            # Bounce and complaint webhooks find the delivery by the Message-ID they quote.
            models.Index(
                fields=["message_id"], condition=~models.Q(message_id=""), name="delivery_msgid_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.contact_id} ({self.status})"


class CampaignLink(models.Model):
    """A link of a campaign's e-mail, numbered when the e-mail is compiled: a tracked link
    carries this row's id in its signed token, never the address, so the redirect can only go
    where the e-mail itself pointed (no open redirect)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="links")
    url = models.URLField(_("address"), max_length=2000)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("link")
        verbose_name_plural = _("links")
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "url"], name="campaignlink_uniq"),
        ]

    def __str__(self) -> str:
        return self.url


class BulletinItem(models.Model):
    """One publication announced to one topic's subscribers (GovDelivery's "Page Watch").

    Written once per (topic, content item) when `campaigns.bulletins` first sees the item live:
    saving, re-publishing or scheduling it again finds this row and announces nothing new. The
    title, summary and address are kept per language as they were then. For each frequency,
    `<frequency>_at` says when the item was dealt with for those subscribers — sent in
    `<frequency>_campaign`, or nobody to send it to — so it goes into each kind of bulletin once.
    """

    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="bulletin_items", verbose_name=_("topic")
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField(_("content id"))
    content = GenericForeignKey("content_type", "object_id")
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    url = models.URLField(_("address"), max_length=500)
    published_at = models.DateTimeField(_("published"))
    detected_at = models.DateTimeField(_("recorded"), default=timezone.now)
    immediate_campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("immediate bulletin"),
    )
    immediate_at = models.DateTimeField(_("immediate bulletin: done"), null=True, blank=True)
    daily_campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("daily digest"),
    )
    daily_at = models.DateTimeField(_("daily digest: done"), null=True, blank=True)
    weekly_campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("weekly digest"),
    )
    weekly_at = models.DateTimeField(_("weekly digest: done"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulletin item")
        verbose_name_plural = _("bulletin items")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "content_type", "object_id"], name="bulletinitem_uniq"
            ),
        ]
        # What each kind of bulletin still has to send: a few rows among all those ever sent.
        indexes = [
            models.Index(
                fields=["topic"],
                condition=models.Q(**{f"{frequency}_at__isnull": True}),
                name=f"bulletinitem_{frequency}_due_idx",
            )
            for frequency in Subscription.Frequency.values
        ]

    def __str__(self) -> str:
        return self.title
