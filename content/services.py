"""Content writes: saving with a revision, the editorial workflow, scheduling and previews.

Every change to something citizens can see drops the public page cache after commit, and
every workflow step is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.apps import apps
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from content.models import FAQ, Article, Page, Publishable, Revision, Status, Video
from content.revisions import revision_record, revision_restore_fields, revisions_for
from content.selectors import articles_all
from inbound.audit import audit_record
from inbound.lib.errors import DomainError
from inbound.lib.pagecache import public_pages_invalidate

P = TypeVar("P", bound=Publishable)

CONTENT_MODELS: tuple[type[Publishable], ...] = (Article, Page, FAQ, Video)
PREVIEW_SALT = "content.preview"
PREVIEW_MAX_AGE = dt.timedelta(days=7)


class PreviewLinkInvalid(DomainError):
    status = 404


def can_publish(user: Any, obj_or_model: Publishable | type[Publishable]) -> bool:
    # By the model's own app: other apps' publishable models (conversion.LandingPage) share
    # this workflow with their own permission.
    meta = obj_or_model._meta
    return bool(user.has_perm(f"{meta.app_label}.publish_{meta.model_name}"))


def _invalidate_on_commit() -> None:
    transaction.on_commit(public_pages_invalidate)


@transaction.atomic
def content_save(*, obj: P, actor: Any, request: Any = None) -> P:
    """Save staff edits and keep a revision; a change to live content drops the page cache."""
    created = obj.pk is None
    if obj.status == Status.PUBLISHED and not can_publish(actor, obj):
        # Changing published text is publishing it: the same permission is needed.
        raise DomainError(
            _("This item is published: only someone who may publish can change it."),
            code="forbidden",
            status=403,
        )
    obj.save()
    revision_record(obj=obj, author=actor)
    if not created and obj.status == Status.PUBLISHED:
        audit_record(action="content_update", actor=actor, obj=obj, request=request)
        _invalidate_on_commit()
    return obj


@transaction.atomic
def content_submit_for_review(*, obj: P, actor: Any, request: Any = None) -> P:
    """Draft → in review. Anyone who may edit content may ask for a review."""
    if obj.status == Status.PUBLISHED:
        raise DomainError(_("This item is already published."), code="already_published")
    obj.status = Status.IN_REVIEW
    obj.save(update_fields=["status", "updated_at"])
    audit_record(action="content_submit_for_review", actor=actor, obj=obj, request=request)
    return obj


@transaction.atomic
def content_publish(*, obj: P, actor: Any, at: dt.datetime | None = None, request: Any = None) -> P:
    """Publish now, or schedule for `at` (or the item's `publish_at`) when that is ahead.

    Needs the `content.publish_<model>` permission. A scheduled item goes live when
    `content_publish_due` runs after its time.
    """
    if not can_publish(actor, obj):
        raise DomainError(
            _("You do not have permission to publish. Submit it for review instead."),
            code="forbidden",
            status=403,
        )
    problems = obj.publish_problems()
    if problems:
        raise DomainError(" ".join(problems), code="not_publishable")
    now = timezone.now()
    # A past publish time is not backdated: feeds and sitemaps would misdate the item.
    when = at or (obj.publish_at if obj.publish_at and obj.publish_at > now else now)
    obj.status = Status.PUBLISHED
    obj.publish_at = when
    obj.published_at = when if when <= now else None
    obj.save(update_fields=["status", "publish_at", "published_at", "updated_at"])
    action = "content_publish" if obj.published_at else "content_schedule"
    audit_record(
        action=action, actor=actor, obj=obj, request=request, detail={"at": when.isoformat()}
    )
    if obj.published_at:
        _invalidate_on_commit()
    return obj


@transaction.atomic
def content_unpublish(*, obj: P, actor: Any, request: Any = None) -> P:
    """Take an item (or its schedule) off the site; it goes back to draft."""
    if not can_publish(actor, obj):
        raise DomainError(
            _("You do not have permission to unpublish."), code="forbidden", status=403
        )
    was_live = obj.is_live
    obj.status = Status.DRAFT
    obj.published_at = None
    obj.publish_at = None
    obj.save(update_fields=["status", "publish_at", "published_at", "updated_at"])
    audit_record(action="content_unpublish", actor=actor, obj=obj, request=request)
    if was_live:
        _invalidate_on_commit()
    return obj


@transaction.atomic
def content_delete(*, obj: Publishable, actor: Any, request: Any = None) -> None:
    """Delete an item with its revision history; removing live content drops the page cache."""
    if obj.status == Status.PUBLISHED and not can_publish(actor, obj):
        raise DomainError(
            _("This item is published: only someone who may publish can delete it."),
            code="forbidden",
            status=403,
        )
    was_live = obj.is_live
    audit_record(action="content_delete", actor=actor, obj=obj, request=request)
    revisions_for(obj).delete()
    obj.delete()
    if was_live:
        _invalidate_on_commit()


def content_publish_due(now: dt.datetime | None = None) -> int:
    """Make scheduled items whose time has come live; returns how many went live."""
    now = now or timezone.now()
    published = 0
    # Every publishable model, including other apps' (conversion's landing pages).
    models = [model for model in apps.get_models() if issubclass(model, Publishable)]
    for model in models:
        with transaction.atomic():
            due = model.objects.select_for_update(skip_locked=True).filter(
                status=Status.PUBLISHED, published_at__isnull=True, publish_at__lte=now
            )
            for obj in due:
                obj.published_at = obj.publish_at
                obj.save(update_fields=["published_at", "updated_at"])
                audit_record(action="content_publish_scheduled", obj=obj)
                published += 1
    if published:
        public_pages_invalidate()
    return published


@transaction.atomic
def content_revision_restore(*, obj: P, revision: Revision, actor: Any, request: Any = None) -> P:
    """Bring back a revision's text; the restore is itself a new revision."""
    if revision.object_id != obj.pk or revision.content_type.model_class() is not type(obj):
        raise DomainError(_("That revision belongs to another item."))
    revision_restore_fields(obj=obj, revision=revision)
    content_save(obj=obj, actor=actor, request=request)
    audit_record(
        action="content_revision_restore",
        actor=actor,
        obj=obj,
        request=request,
        detail={"revision": revision.pk},
    )
    return obj


# Named entry points for the article workflow (the other types share the generic ones).
article_submit_for_review = content_submit_for_review
article_publish = content_publish
article_unpublish = content_unpublish


# --- Preview links ---------------------------------------------------------------------------


def content_preview_token(obj: Publishable) -> str:
    """A signed link token showing this item as it is now, published or not, for 7 days."""
    return signing.dumps({"m": obj._meta.label_lower, "pk": obj.pk}, salt=PREVIEW_SALT)


def content_preview_read(token: str) -> Publishable:
    """The item a preview token names; tampered, expired or dangling tokens are refused."""
    try:
        data = signing.loads(token, salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.SignatureExpired as error:
        raise PreviewLinkInvalid(_("This preview link has expired."), code="expired") from error
    except signing.BadSignature as error:
        raise PreviewLinkInvalid(_("This preview link is not valid.")) from error
    try:
        model = apps.get_model(data["m"])
    except (LookupError, KeyError, ValueError, TypeError) as error:
        raise PreviewLinkInvalid(_("This preview link is not valid.")) from error
    if model not in CONTENT_MODELS:
        raise PreviewLinkInvalid(_("This preview link is not valid."))
    obj = model.objects.filter(pk=data.get("pk")).first()
    if obj is None:
        raise PreviewLinkInvalid(_("This preview link is not valid."))
    return obj


# --- Drafts written through the staff API ---------------------------------------------------


def _validated(article: Article) -> None:
    """The model's checks, with a duplicate slug named on its language's field."""
    errors: dict[str, list[str]] = {}
    try:
        article.full_clean(validate_constraints=False)
    except DjangoValidationError as error:
        errors.update(error.message_dict)
    errors.update(_slug_conflicts(article))
    if errors:
        raise DjangoValidationError(errors)


def _slug_conflicts(article: Article) -> dict[str, list[str]]:
    conflicts: dict[str, list[str]] = {}
    for constraint in Article._meta.constraints:
        try:
            constraint.validate(Article, article)
        except DjangoValidationError as error:
            field = getattr(constraint, "fields", ())
            conflicts[field[0] if field else NON_FIELD_ERRORS] = error.messages
    return conflicts


def _saved(article: Article, *, actor: Any, request: Any) -> None:
    try:
        content_save(obj=article, actor=actor, request=request)
    except IntegrityError:
        # Another request took the slug between the check and the save.
        errors = _slug_conflicts(article) or {
            NON_FIELD_ERRORS: [str(_("The article could not be saved: try again."))]
        }
        raise DjangoValidationError(errors) from None


@transaction.atomic
def article_draft_create(*, data: dict[str, Any], actor: Any, request: Any = None) -> Article:
    """Create a draft (or ask for its review straight away) with a first revision; audited."""
    topics = data.pop("topics", None)
    wanted = data.pop("status", Status.DRAFT)
    article = Article(**data, status=Status.DRAFT)
    _validated(article)
    _saved(article, actor=actor, request=request)
    if topics is not None:
        article.topics.set(topics)
    audit_record(
        action="content_create",
        actor=actor,
        obj=article,
        request=request,
        detail={"via": "api", "fields": sorted(data)},
    )
    if wanted == Status.IN_REVIEW:
        content_submit_for_review(obj=article, actor=actor, request=request)
    return article


@transaction.atomic
def article_draft_update(
    *, article: Article, data: dict[str, Any], actor: Any, request: Any = None
) -> Article:
    """Change a draft or an article in review, with a revision; audited. Published (or
    scheduled) articles are refused: changing them is publishing, done in the admin."""
    article = articles_all().select_for_update().get(pk=article.pk)
    if article.status == Status.PUBLISHED:
        raise DomainError(
            _("Published articles are changed in the admin."), code="published", status=409
        )
    topics = data.pop("topics", None)
    wanted = data.pop("status", None)
    for name, value in data.items():
        setattr(article, name, value)
    if wanted == Status.DRAFT:
        article.status = Status.DRAFT
    _validated(article)
    _saved(article, actor=actor, request=request)
    if topics is not None:
        article.topics.set(topics)
    changed = sorted([*data, *(["topics"] if topics is not None else [])])
    audit_record(
        action="content_update",
        actor=actor,
        obj=article,
        request=request,
        detail={"via": "api", "fields": changed, "status": article.status},
    )
    if wanted == Status.IN_REVIEW and article.status == Status.DRAFT:
        content_submit_for_review(obj=article, actor=actor, request=request)
    return article
