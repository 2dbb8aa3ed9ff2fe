"""Data of automated workflows (run by `workflows.engine`): a trigger, a graph of
steps, and one enrollment row per contact going through it, with every step it ran.

The database holds every schedule: an enrollment waiting three days is a row whose `next_run_at`
is three days away, claimed by beat's tick when it comes (`SELECT … FOR UPDATE SKIP LOCKED`).
Each step run is a row (`unique(enrollment, seq)`), written in the same transaction as what the
step did, so a retried or duplicated tick never acts twice. The tables were `campaigns_*` until
workflows became an app of their own (migrations `workflows.0001`, `0002`).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from campaigns.models import Campaign, Email
from contacts.models import ConsentRecord, Contact, Segment, Topic


class Workflow(models.Model):
    """What enrols a contact, who may be enrolled, and the steps they go through."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("workflow status", "draft")
        ACTIVE = "active", pgettext_lazy("workflow status", "active")
        PAUSED = "paused", pgettext_lazy("workflow status", "paused")

    class Trigger(models.TextChoices):
        TOUCHPOINT = "touchpoint", _("an interaction (form sent, opt-in, e-mail click, survey…)")
        SEGMENT = "segment", _("entering a segment")
        DATE = "date", _("a date of the contact (anniversary, custom date)")
        MANUAL = "manual", _("only when staff enrol contacts")

    class DateMode(models.TextChoices):
        ANNIVERSARY = "anniversary", _("every year on that day")
        ONCE = "once", _("on that date")

    class Reenrol(models.TextChoices):
        NEVER = "never", _("never: once per contact")
        AFTER = "after", _("again after some days")
        ALWAYS = "always", _("every time the trigger happens")

    name = models.CharField(_("name"), max_length=160)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    trigger = models.CharField(
        _("enrols contacts on"), max_length=12, choices=Trigger.choices, default=Trigger.MANUAL
    )
    # Touchpoint trigger: its kind, optionally about one subject (this form, this e-mail's
    # campaign, this survey), optionally with conditions on its properties.
    trigger_kind = models.CharField(_("interaction"), max_length=40, blank=True)
    trigger_subject_type = models.ForeignKey(
        ContentType,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("about a kind of thing"),
    )
    trigger_subject_id = models.CharField(_("about this one (id)"), max_length=64, blank=True)
    trigger_conditions = models.JSONField(
        _("conditions on the interaction's properties"),
        default=list,
        blank=True,
        help_text=_(
            'A list of conditions, e.g. [{"key": "nps", "op": "lte", "value": 6}]. Operators: '
            "eq, ne, gt, gte, lt, lte, in, contains."
        ),
    )
    trigger_segment = models.ForeignKey(
        Segment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("segment entered"),
    )
    trigger_date_field = models.CharField(
        _("date of the contact"),
        max_length=80,
        blank=True,
        help_text=_('"created_at" (registration) or the key of a date custom property.'),
    )
    trigger_date_mode = models.CharField(
        _("when"), max_length=12, choices=DateMode.choices, default=DateMode.ANNIVERSARY
    )
    trigger_date_offset_days = models.SmallIntegerField(
        _("days from the date"),
        default=0,
        help_text=_("Negative: before the date (-7 is a week before)."),
    )
    trigger_time = models.TimeField(_("at (Madrid time)"), default=dt.time(9, 0))
    conditions = models.JSONField(
        _("enrolment conditions"),
        default=dict,
        blank=True,
        help_text=_("A segment rule the contact must match to be enrolled. Empty: anyone."),
    )
    goal = models.JSONField(
        _("goal"),
        default=dict,
        blank=True,
        help_text=_(
            "A segment rule: a contact who matches it leaves the workflow before their next "
            "step, as having reached the goal. Empty: no goal."
        ),
    )
    reenrol = models.CharField(
        _("re-enrolment"), max_length=8, choices=Reenrol.choices, default=Reenrol.NEVER
    )
    reenrol_days = models.PositiveSmallIntegerField(
        _("days before enrolling again"), null=True, blank=True
    )
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("workflow")
        verbose_name_plural = _("workflows")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkflowStep(models.Model):
    """One step. Steps run in `order`; `next_key` jumps elsewhere, and a branch goes to
    `no_key` when its condition is false. Keys rather than foreign keys, so staff can write a
    whole workflow, branches included, in one form."""

    class Kind(models.TextChoices):
        SEND_EMAIL = "send_email", _("send an e-mail")
        WAIT = "wait", _("wait")
        BRANCH = "branch", _("if / else")
        UPDATE_CONTACT = "update_contact", _("update the contact")
        SUBSCRIPTION = "subscription", _("subscribe to / unsubscribe from a topic")
        LIST = "list", _("add to / remove from a static list")
        NOTIFY_STAFF = "notify_staff", _("notify staff by e-mail")
        WEBHOOK = "webhook", _("call a webhook")
        GOAL = "goal", _("goal: leave if a condition is met")
        END = "end", _("end")

    class WaitMode(models.TextChoices):
        DURATION = "duration", _("for a time")
        WEEKDAY = "weekday", _("until a day of the week and time")
        DATE = "date", _("until a date of the contact")

    class BranchOn(models.TextChoices):
        RULE = "rule", _("the contact matches a segment rule")
        TOUCHPOINT = "touchpoint", _("an interaction happened since enrolment")

    class Action(models.TextChoices):
        ADD = "add", _("add / subscribe")
        REMOVE = "remove", _("remove / unsubscribe")

    class Purpose(models.TextChoices):
        NEWSLETTER = ConsentRecord.Purpose.NEWSLETTER, _("newsletter")
        TOPIC = ConsentRecord.Purpose.TOPIC, _("topic bulletin")

    WEEKDAYS = [
        (0, _("Monday")),
        (1, _("Tuesday")),
        (2, _("Wednesday")),
        (3, _("Thursday")),
        (4, _("Friday")),
        (5, _("Saturday")),
        (6, _("Sunday")),
    ]

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(
        _("key"), max_length=40, help_text=_("A short name other steps use to go to this one.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("step"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("label"), max_length=120, blank=True)
    next_key = models.SlugField(
        _("then go to"),
        max_length=40,
        blank=True,
        help_text=_("The key of the next step; empty: the next one in order. On a branch: yes."),
    )
    no_key = models.SlugField(
        _("otherwise go to"),
        max_length=40,
        blank=True,
        help_text=_("On a branch: the step when the condition is false; empty: the end."),
    )
    # Send an e-mail: which one, under which consent.
    email = models.ForeignKey(
        Email,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="workflow_steps",
        verbose_name=_("e-mail"),
    )
    purpose = models.CharField(
        _("sent as"), max_length=16, choices=Purpose.choices, default=Purpose.NEWSLETTER
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("topic"),
    )
    campaign = models.OneToOneField(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="workflow_step",
        editable=False,
    )
    # Wait.
    wait_mode = models.CharField(
        _("wait"), max_length=10, choices=WaitMode.choices, default=WaitMode.DURATION
    )
    wait_days = models.IntegerField(_("days"), default=0)
    wait_hours = models.PositiveIntegerField(_("hours"), default=0)
    wait_minutes = models.PositiveIntegerField(_("minutes"), default=0)
    wait_weekday = models.PositiveSmallIntegerField(
        _("day of the week"), choices=WEEKDAYS, null=True, blank=True
    )
    wait_time = models.TimeField(_("time of day (Madrid)"), null=True, blank=True)
    date_field = models.CharField(
        _("date of the contact"),
        max_length=80,
        blank=True,
        help_text=_('"created_at" or the key of a date custom property.'),
    )
    # If/else and goal.
    branch_on = models.CharField(
        _("condition"), max_length=12, choices=BranchOn.choices, default=BranchOn.RULE
    )
    rule = models.JSONField(_("segment rule"), default=dict, blank=True)
    touchpoint_kind = models.CharField(_("interaction"), max_length=40, blank=True)
    touchpoint_step_key = models.SlugField(
        _("about the e-mail of step"),
        max_length=40,
        blank=True,
        help_text=_("Optional: only interactions with the e-mail this step sent (e.g. a click)."),
    )
    # Update the contact; subscription; static list.
    action = models.CharField(_("action"), max_length=8, choices=Action.choices, default=Action.ADD)
    tag = models.CharField(_("tag"), max_length=64, blank=True)
    property_key = models.CharField(_("custom property"), max_length=64, blank=True)
    property_value = models.CharField(_("value"), max_length=200, blank=True)
    lifecycle = models.CharField(
        _("lifecycle stage"), max_length=16, choices=Contact.Lifecycle.choices, blank=True
    )
    segment = models.ForeignKey(
        Segment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("static list"),
    )
    # Notify staff; webhook.
    notify_emails = models.CharField(
        _("staff addresses"),
        max_length=500,
        blank=True,
        help_text=_("Comma-separated addresses of active staff accounts."),
    )
    notify_subject = models.CharField(_("subject"), max_length=200, blank=True)
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    webhook_secret = models.CharField(
        _("webhook secret"),
        max_length=128,
        blank=True,
        help_text=_(
            "Shared with the receiving system, which checks X-Inbound-Signature: the time and "
            "an HMAC-SHA256 of the time and the body (docs/webhooks.md)."
        ),
    )

    class Meta:
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        ordering = ["workflow", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "key"], name="workflowstep_key_uniq"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.key}: {self.get_kind_display()}"

    def clean(self) -> None:
        """What a single step can be refused for as it is typed (the graph is checked at
        activation): a webhook must be signed and may not point into our own network."""
        if self.kind != self.Kind.WEBHOOK:
            return
        from inbound.lib.webhooks import webhook_fields_errors

        if errors := webhook_fields_errors(self.webhook_url, self.webhook_secret):
            raise ValidationError(errors)

    @property
    def wait_duration(self) -> dt.timedelta:
        return dt.timedelta(days=self.wait_days, hours=self.wait_hours, minutes=self.wait_minutes)


class Enrollment(models.Model):
    """One contact going through one workflow: the step it runs next and when."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("enrollment status", "in progress")
        COMPLETED = "completed", pgettext_lazy("enrollment status", "completed")
        GOAL = "goal", pgettext_lazy("enrollment status", "reached the goal")
        EXITED = "exited", pgettext_lazy("enrollment status", "removed")
        FAILED = "failed", pgettext_lazy("enrollment status", "failed")

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="enrollments")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="enrollments")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    # PROTECT: a step someone is on cannot be deleted (docs: editing an active workflow).
    step = models.ForeignKey(
        WorkflowStep, on_delete=models.PROTECT, null=True, blank=True, related_name="enrollments"
    )
    next_run_at = models.DateTimeField(_("next step at"), default=timezone.now)
    seq = models.PositiveIntegerField(_("steps run"), default=0)
    # What enrolled them, once: "tp:<touchpoint>", "date:<day>", "seg:<pass>", "manual:<…>".
    trigger_key = models.CharField(max_length=80, blank=True)
    context = models.JSONField(default=dict, blank=True)
    enrolled_at = models.DateTimeField(_("enrolled"), default=timezone.now)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # On a wait step: True until it wakes at `next_run_at` (then the wait's run is written).
    waiting = models.BooleanField(default=False)
    # A test run's enrollment (`workflow_test_run`): only ever inside a rolled-back transaction.
    test = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["-enrolled_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "contact"],
                condition=models.Q(status="active", test=False),
                name="enrollment_one_active",
            ),
            models.UniqueConstraint(
                fields=["workflow", "contact", "trigger_key"],
                condition=~models.Q(trigger_key=""),
                name="enrollment_trigger_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_run_at"],
                condition=models.Q(status="active"),
                name="enrollment_due_idx",
            ),
            models.Index(fields=["workflow", "status", "step"], name="enrollment_step_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} ← {self.contact_id} ({self.status})"


class StepRun(models.Model):
    """One step one enrollment ran: written with what the step did, in the same transaction.
    `seq` counts the enrollment's steps, so a step a loop visits again (after a wait) has a
    row per visit, and a tick run twice collides on `unique(enrollment, seq)` instead of
    acting twice."""

    class Status(models.TextChoices):
        PASSED = "passed", pgettext_lazy("step run status", "passed")
        SKIPPED = "skipped", pgettext_lazy("step run status", "skipped")
        FAILED = "failed", pgettext_lazy("step run status", "failed")
        PENDING = "pending", pgettext_lazy("step run status", "waiting for an answer")

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="runs")
    step = models.ForeignKey(
        WorkflowStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    seq = models.PositiveIntegerField()
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    detail = models.CharField(_("what happened"), max_length=300, blank=True)
    due_at = models.DateTimeField(_("due"))
    ran_at = models.DateTimeField(_("ran"), default=timezone.now)

    class Meta:
        verbose_name = _("step run")
        verbose_name_plural = _("step runs")
        ordering = ["enrollment", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "seq"], name="steprun_uniq"),
        ]
        indexes = [models.Index(fields=["step", "status"], name="steprun_step_idx")]

    def __str__(self) -> str:
        return f"{self.enrollment_id}#{self.seq} {self.status}"


class WorkflowAction(models.Model):
    """What a step does outside the database (a webhook call, an e-mail to staff): written with
    the step's run, then sent by a relay that leases it, retries with backoff and finally marks
    it failed, without holding up any enrollment."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", _("webhook")
        STAFF_EMAIL = "staff_email", _("e-mail to staff")

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("action status", "pending")
        DONE = "done", pgettext_lazy("action status", "done")
        FAILED = "failed", pgettext_lazy("action status", "failed")
        # The contact was erased before it ran: it never will.
        CANCELLED = "cancelled", pgettext_lazy("action status", "cancelled")

    run = models.OneToOneField(StepRun, on_delete=models.CASCADE, related_name="action")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("workflow action")
        verbose_name_plural = _("workflow actions")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="workflowaction_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.status})"


class WorkflowSegmentMember(models.Model):
    """Who was in a segment-triggered workflow's segment at its last pass: whoever is in the
    segment now and not here has just entered it."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workflow", "contact"], name="workflowsegmember_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} ∋ {self.contact_id}"
