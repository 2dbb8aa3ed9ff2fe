"""Staff editing: translated forms, the workflow as admin actions, and revision history.

Status is never a form field: it changes only through the workflow actions, so the publish
permission is checked in one place (`content.services`). No autocomplete widgets or
list_editable: both fail the axe checks the staff pages must pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from js_asset.media import Media
from modeltranslation.admin import TranslationAdmin

from content.models import FAQ, Article, Page, Publishable, Revision, Status, Video
from content.revisions import revision_diff, revision_snapshot, revisions_for
from content.services import (
    can_publish,
    content_delete,
    content_publish,
    content_revision_restore,
    content_save,
    content_submit_for_review,
    content_unpublish,
)
from inbound.lib.errors import DomainError

REVISIONS_SHOWN = 20


class LabelledSplitDateTime(AdminSplitDateTime):
    """The admin's date + time pair, each input with its own accessible name (axe `label`)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.widgets[0].attrs["aria-label"] = _("Date (YYYY-MM-DD)")
        self.widgets[1].attrs["aria-label"] = _("Time (HH:MM)")


class ContentAdmin(TranslationAdmin):
    """Shared by every content type: workflow actions, audited saves, revisions."""

    change_form_template = "admin/content/change_form.html"
    readonly_fields = ("status", "published_at", "created_at", "updated_at")
    actions = ["submit_for_review", "publish", "unpublish"]
    list_per_page = 50
    formfield_overrides = {
        models.URLField: {"assume_scheme": "https"},
        models.DateTimeField: {"widget": LabelledSplitDateTime},
    }

    # --- Permissions -------------------------------------------------------------------------

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return can_publish(request.user, self.model)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Changing published text is publishing it; without that right the page is read-only.
        if obj is not None and obj.status == Status.PUBLISHED:
            return super().has_change_permission(request, obj) and can_publish(request.user, obj)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status == Status.PUBLISHED:
            return super().has_delete_permission(request, obj) and can_publish(request.user, obj)
        return super().has_delete_permission(request, obj)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        # The prose editor needs an inline import map; the CSP lets it run by its nonce.
        nonce = getattr(request, "csp_nonce", None)
        if nonce is not None:
            context["media"] = Media.from_media(context["media"], nonce=nonce)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- Saving ------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        content_save(obj=obj, actor=request.user, request=request)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        content_delete(obj=obj, actor=request.user, request=request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            content_delete(obj=obj, actor=request.user, request=request)

    # --- Workflow actions --------------------------------------------------------------------

    def _run(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        step: Callable[..., Any],
        done: Callable[[int], str],
    ) -> None:
        count = 0
        for obj in queryset:
            try:
                step(obj=obj, actor=request.user, request=request)
            except DomainError as error:
                self.message_user(request, f"{obj}: {error.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done(count), messages.SUCCESS)

    @admin.action(description=_("Submit for review"), permissions=["change"])
    def submit_for_review(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._run(
            request,
            queryset,
            content_submit_for_review,
            lambda n: (
                ngettext(
                    "%(count)d item submitted for review.",
                    "%(count)d items submitted for review.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(
        description=_("Publish (or schedule at its publish time)"), permissions=["publish"]
    )
    def publish(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._run(
            request,
            queryset,
            content_publish,
            lambda n: (
                ngettext(
                    "%(count)d item published or scheduled.",
                    "%(count)d items published or scheduled.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=_("Unpublish"), permissions=["publish"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._run(
            request,
            queryset,
            content_unpublish,
            lambda n: (
                ngettext("%(count)d item unpublished.", "%(count)d items unpublished.", n)
                % {"count": n}
            ),
        )

    # --- Revisions ---------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:object_id>/revisions/<int:revision_id>/compare/",
                self.admin_site.admin_view(self.revision_compare_view),
                name="{}_{}_revision_compare".format(*info),
            ),
            path(
                "<int:object_id>/revisions/<int:revision_id>/restore/",
                self.admin_site.admin_view(self.revision_restore_view),
                name="{}_{}_revision_restore".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            extra["revisions"] = list(revisions_for(obj)[:REVISIONS_SHOWN])
            extra["can_restore"] = self.has_change_permission(request, obj)
        return super().change_view(request, object_id, form_url, extra)

    def _revision(
        self, request: HttpRequest, object_id: int, revision_id: int
    ) -> tuple[Publishable, Revision]:
        obj = self.get_object(request, str(object_id))
        if obj is None:
            raise Http404
        revision = get_object_or_404(revisions_for(obj), pk=revision_id)
        return obj, revision

    def revision_compare_view(
        self, request: HttpRequest, object_id: int, revision_id: int
    ) -> HttpResponse:
        """This revision against the one before it (or against the current text with ?current)."""
        obj, revision = self._revision(request, object_id, revision_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        against = request.GET.get("against")
        if against:
            older = get_object_or_404(revisions_for(obj), pk=against)
            newer = revision
        else:
            older = (
                revisions_for(obj)
                .filter(created_at__lte=revision.created_at, pk__lt=revision.pk)
                .order_by("-created_at", "-pk")
                .first()
            ) or Revision(content_type=revision.content_type, snapshot={})
            newer = revision
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": _("Compare revisions of “%(object)s”") % {"object": obj},
            "older": older,
            "newer": newer,
            "diffs": revision_diff(older, newer),
            "can_restore": self.has_change_permission(request, obj),
        }
        return TemplateResponse(request, "admin/content/revision_compare.html", context)

    def revision_restore_view(
        self, request: HttpRequest, object_id: int, revision_id: int
    ) -> HttpResponse:
        """GET asks for confirmation showing what changes back; POST restores."""
        obj, revision = self._revision(request, object_id, revision_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        if request.method == "POST":
            content_revision_restore(
                obj=obj, revision=revision, actor=request.user, request=request
            )
            self.message_user(
                request,
                _("The text from %(when)s was restored.")
                % {"when": revision.created_at.strftime("%Y-%m-%d %H:%M")},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                    args=[obj.pk],
                )
            )
        current = Revision(content_type=revision.content_type, snapshot=revision_snapshot(obj))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": _("Restore a revision of “%(object)s”") % {"object": obj},
            "revision": revision,
            "diffs": revision_diff(current, revision),
        }
        return TemplateResponse(request, "admin/content/revision_restore.html", context)


@admin.register(Article)
class ArticleAdmin(ContentAdmin):
    list_display = ("title", "status", "featured", "publish_at", "published_at", "updated_at")
    list_filter = ("status", "featured", "topics")
    search_fields = ("title", "summary", "byline")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "body", "byline", "topics", "featured")}),
        (_("Hero image"), {"fields": ("hero_image", "hero_image_alt")}),
        (_("Search engines"), {"fields": ("meta_title", "meta_description", "focus_keyword")}),
        (_("Publication"), {"fields": ("publish_at", *ContentAdmin.readonly_fields)}),
    )


@admin.register(Page)
class PageAdmin(ContentAdmin):
    list_display = ("title", "parent", "order", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("title",)
    fieldsets = (
        (None, {"fields": ("title", "slug", "parent", "order", "body")}),
        (_("Search engines"), {"fields": ("meta_title", "meta_description")}),
        (_("Publication"), {"fields": ("publish_at", *ContentAdmin.readonly_fields)}),
    )


@admin.register(FAQ)
class FAQAdmin(ContentAdmin):
    list_display = ("question", "topic", "order", "status")
    list_filter = ("status", "topic")
    search_fields = ("question",)
    fieldsets = (
        (None, {"fields": ("question", "answer", "topic", "order")}),
        (_("Publication"), {"fields": ("publish_at", *ContentAdmin.readonly_fields)}),
    )


@admin.register(Video)
class VideoAdmin(ContentAdmin):
    list_display = ("title", "provider", "status", "published_at")
    list_filter = ("status", "provider", "topics")
    search_fields = ("title", "description")
    fieldsets = (
        (None, {"fields": ("title", "slug", "description", "topics")}),
        (_("Video"), {"fields": ("provider", "embed_url", "video_file", "captions")}),
        (_("Transcript"), {"fields": ("transcript",)}),
        (_("Publication"), {"fields": ("publish_at", *ContentAdmin.readonly_fields)}),
    )
