"""ATRAER: the content citizens find — articles, pages, FAQs, videos."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_prose_editor.fields import ProseEditorField

from content.richtext import (
    ANSWER_EXTENSIONS,
    BODY_EXTENSIONS,
    images_without_alt,
    reading_minutes,
    rich_text_clean,
)
from content.validators import (
    validate_image,
    validate_video_file,
    validate_webvtt,
    video_embed_error,
)

LANGUAGES = tuple(settings.MODELTRANSLATION_LANGUAGES)


def slug_constraints(prefix: str, message: Any) -> list[models.BaseConstraint]:
    """One unique slug per language column (`slug_es`, `slug_ca`…); empty means untranslated."""
    return [
        models.UniqueConstraint(
            fields=[f"slug_{language}"],
            condition=~Q(**{f"slug_{language}": ""}),
            name=f"{prefix}_slug_{language}_uniq",
            violation_error_message=message,
        )
        for language in LANGUAGES
    ]


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")


class PublishableQuerySet(models.QuerySet):
    def live(self, now: Any = None) -> PublishableQuerySet:
        """What citizens may see: published, and its scheduled time has come."""
        return self.filter(
            status=Status.PUBLISHED,
            published_at__isnull=False,
            published_at__lte=now or timezone.now(),
        )


class Publishable(models.Model):
    """The editorial state shared by every content type.

    `status` is only changed by the services in `content.services` (publishing needs the
    `publish_<model>` permission). A published item whose `publish_at` lies ahead is
    scheduled: `published_at` stays empty until `content_publish_due` makes it live.
    """

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    publish_at = models.DateTimeField(
        _("publish at"),
        null=True,
        blank=True,
        help_text=_("Leave empty to publish immediately; a future time schedules it."),
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PublishableQuerySet.as_manager()

    rich_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Sanitised on every write path, in every language column, not only in the admin.
        for name in self.rich_fields:
            for field in (name, *(f"{name}_{language}" for language in LANGUAGES)):
                if hasattr(self, field):
                    value = getattr(self, field)
                    if value is not None:
                        setattr(self, field, rich_text_clean(value))
        super().save(*args, **kwargs)

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        """Field checks, and alternative text for every image in each language's rich text.

        A field check rather than `clean()`: a form without that language's column excludes
        it, and the error shows on the column it is about (WCAG 1.1.1).
        """
        errors: dict[str, Any] = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for name in self.rich_fields:
            for language in LANGUAGES:
                field = f"{name}_{language}"
                if field in errors or field in (exclude or ()) or not hasattr(self, field):
                    continue
                if images_without_alt(getattr(self, field) or ""):
                    errors[field] = [
                        ValidationError(
                            _(
                                "Every image needs alternative text (%(language)s): open each "
                                "image and describe what it shows."
                            ),
                            code="image_alt",
                            params={
                                "language": translation.get_language_info(language)[
                                    "name_translated"
                                ]
                            },
                        )
                    ]
        if errors:
            raise ValidationError(errors)

    @property
    def is_live(self) -> bool:
        return (
            self.status == Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self) -> bool:
        return self.status == Status.PUBLISHED and self.published_at is None

    def publish_problems(self) -> list[str]:
        """Why this item cannot be published yet (empty when it can)."""
        return []


class Article(Publishable):
    """A blog article: the informative content that brings citizens to the site."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, allow_unicode=False)
    summary = models.TextField(_("summary"), max_length=500, blank=True)
    body = ProseEditorField(
        _("body"),
        config={"extensions": BODY_EXTENSIONS},
        sanitize=rich_text_clean,
        blank=True,
    )
    hero_image = models.ImageField(
        _("hero image"),
        upload_to="content/articles/%Y/%m/",
        blank=True,
        validators=[validate_image],
        help_text=_("JPEG, PNG or WebP, at most 5 MB."),
    )
    hero_image_alt = models.CharField(
        _("hero image alternative text"),
        max_length=250,
        blank=True,
        help_text=_("Describe the image for people who cannot see it. Required with an image."),
    )
    topics = models.ManyToManyField(
        "contacts.Topic", verbose_name=_("topics"), blank=True, related_name="articles"
    )
    byline = models.CharField(_("byline"), max_length=120, blank=True)
    featured = models.BooleanField(
        _("featured"),
        default=False,
        help_text=_("Shown first on the home page (the newest three featured articles)."),
    )
    meta_title = models.CharField(_("meta title"), max_length=70, blank=True)
    meta_description = models.CharField(_("meta description"), max_length=160, blank=True)
    focus_keyword = models.CharField(_("focus keyword"), max_length=80, blank=True)

    rich_fields = ("body",)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-published_at", "-id"]
        permissions = [("publish_article", _("Can publish articles"))]
        constraints = slug_constraints(
            "article", _("An article with this slug already exists in this language.")
        )

    def __str__(self) -> str:
        return self.title

    @property
    def reading_minutes(self) -> int:
        return reading_minutes(self.body or "")

    def clean(self) -> None:
        super().clean()
        if self.hero_image and not (self.hero_image_alt_es or "").strip():  # type: ignore[attr-defined]
            raise ValidationError(
                {
                    "hero_image_alt_es": _(
                        "Describe the image: alternative text is required when there is an image."
                    )
                }
            )


class Page(Publishable):
    """An institutional page; pages nest under a parent (e.g. Servicios › Empadronamiento)."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent page"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200)
    body = ProseEditorField(
        _("body"),
        config={"extensions": BODY_EXTENSIONS},
        sanitize=rich_text_clean,
        blank=True,
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    meta_title = models.CharField(_("meta title"), max_length=70, blank=True)
    meta_description = models.CharField(_("meta description"), max_length=160, blank=True)
    pillar_topic = models.OneToOneField(
        "contacts.Topic",
        verbose_name=_("pillar page of topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pillar_page",
        help_text=_(
            "Makes this page the topic's pillar: it lists the topic's articles, and articles "
            "of the topic are expected to link back to it."
        ),
    )

    rich_fields = ("body",)

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering = ["order", "id"]
        permissions = [("publish_page", _("Can publish pages"))]
        constraints = slug_constraints(
            "page", _("A page with this slug already exists in this language.")
        )

    def __str__(self) -> str:
        return self.title

    def ancestors(self) -> list[Page]:
        """From the root down to the parent (for breadcrumbs)."""
        chain: list[Page] = []
        node = self.parent
        while node is not None and node not in chain:
            chain.insert(0, node)
            node = node.parent
        return chain

    def clean(self) -> None:
        super().clean()
        node, seen = self.parent, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            if self.pk is not None and node.pk == self.pk:
                raise ValidationError(
                    {"parent": _("A page cannot be placed under itself or its own subpages.")}
                )
            node = node.parent


class FAQ(Publishable):
    """A citizen question with its answer, grouped by topic."""

    question = models.CharField(_("question"), max_length=300)
    answer = ProseEditorField(
        _("answer"), config={"extensions": ANSWER_EXTENSIONS}, sanitize=rich_text_clean
    )
    topic = models.ForeignKey(
        "contacts.Topic", verbose_name=_("topic"), on_delete=models.PROTECT, related_name="faqs"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    rich_fields = ("answer",)

    class Meta:
        verbose_name = _("FAQ")
        verbose_name_plural = _("FAQs")
        ordering = ["topic", "order", "id"]
        permissions = [("publish_faq", _("Can publish FAQs"))]

    def __str__(self) -> str:
        return self.question


class Video(Publishable):
    """A video shown through a privacy-enhanced player or uploaded, always with a transcript."""

    class Provider(models.TextChoices):
        YOUTUBE_NOCOOKIE = "youtube-nocookie", _("YouTube (privacy-enhanced mode)")
        VIMEO = "vimeo", _("Vimeo")
        PEERTUBE = "peertube", _("PeerTube")
        FILE = "file", _("Uploaded file")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    embed_url = models.URLField(
        _("embed address"),
        blank=True,
        help_text=_("For example https://www.youtube-nocookie.com/embed/…"),
    )
    video_file = models.FileField(
        _("video file"),
        upload_to="content/videos/%Y/%m/",
        blank=True,
        validators=[validate_video_file],
    )
    transcript = models.TextField(
        _("transcript"), blank=True, help_text=_("Required to publish the video.")
    )
    captions = models.FileField(
        _("captions (WebVTT)"),
        upload_to="content/captions/%Y/%m/",
        blank=True,
        validators=[validate_webvtt],
    )
    topics = models.ManyToManyField(
        "contacts.Topic", verbose_name=_("topics"), blank=True, related_name="videos"
    )

    class Meta:
        verbose_name = _("video")
        verbose_name_plural = _("videos")
        ordering = ["-published_at", "-id"]
        permissions = [("publish_video", _("Can publish videos"))]
        constraints = slug_constraints(
            "video", _("A video with this slug already exists in this language.")
        )

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if self.provider == self.Provider.FILE:
            if not self.video_file:
                raise ValidationError({"video_file": _("Upload the video file.")})
        elif self.provider:
            if not self.embed_url:
                raise ValidationError({"embed_url": _("Enter the embed address.")})
            error = video_embed_error(self.provider, self.embed_url)
            if error:
                raise ValidationError({"embed_url": error})
        if self.status == Status.PUBLISHED:
            problems = self.publish_problems()
            if problems:
                raise ValidationError({"transcript_es": problems})

    def publish_problems(self) -> list[str]:
        if not (self.transcript_es or "").strip():  # type: ignore[attr-defined]
            return [str(_("A video cannot be published without a transcript."))]
        return []


class ContentImage(models.Model):
    """An image uploaded for use inside rich text; its alternative text travels with it."""

    image = models.ImageField(
        _("image"),
        upload_to="content/images/%Y/%m/",
        validators=[validate_image],
        help_text=_("JPEG, PNG or WebP, at most 5 MB."),
    )
    alt_text = models.CharField(
        _("alternative text"),
        max_length=250,
        help_text=_("Describe the image for people who cannot see it."),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("images")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.alt_text


class Revision(models.Model):
    """A snapshot of one content item's translatable fields, written on every staff save."""

    content_type = models.ForeignKey(
        ContentType, verbose_name=_("content type"), on_delete=models.CASCADE
    )
    object_id = models.PositiveBigIntegerField(_("object id"))
    snapshot = models.JSONField(_("snapshot"), default=dict)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("saved at"), default=timezone.now, db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "-created_at"], name="content_rev_obj_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.content_type.model} #{self.object_id} @ {self.created_at:%Y-%m-%d %H:%M}"
