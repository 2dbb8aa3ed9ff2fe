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
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from js_asset.media import Media
from modeltranslation.admin import TranslationAdmin

from contacts.models import Topic
from content.clusters import articles_missing_backlinks, pillars_missing, topics_pillars
from content.images import ContentImageAdmin
from content.models import FAQ, Article, ContentImage, Page, Publishable, Revision, Status, Video
from content.revisions import revision_diff, revision_snapshot, revisions_for
from content.seo import article_checklists, article_checklists_from_form
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


class ProseEditorNonceMixin:
    """For admins with a prose editor: its inline import map runs by the CSP nonce."""

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        nonce = getattr(request, "csp_nonce", None)
        if nonce is not None:
            context["media"] = Media.from_media(context["media"], nonce=nonce)
        return super().render_change_form(  # type: ignore[misc]
            request, context, add, change, form_url, obj
        )


class ContentAdmin(ProseEditorNonceMixin, TranslationAdmin):
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


class MissingPillarLinkFilter(admin.SimpleListFilter):
    """Articles whose Spanish body does not link to the pillar page of one of their topics."""

    title = _("pillar link")
    parameter_name = "pillar_link"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("missing", _("Missing"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value() != "missing":
            return queryset
        return queryset.filter(pk__in=list(articles_missing_backlinks(queryset)))


@admin.register(Article)
class ArticleAdmin(ContentAdmin):
    change_form_template = "admin/content/article/change_form.html"
    list_display = (
        "title",
        "status",
        "featured",
        "publish_at",
        "published_at",
        "updated_at",
        "links_to_pillar",
    )
    list_filter = ("status", "featured", "topics", MissingPillarLinkFilter)
    search_fields = ("title", "summary", "byline")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "body", "byline", "topics", "featured")}),
        (_("Hero image"), {"fields": ("hero_image", "hero_image_alt")}),
        (_("Search engines"), {"fields": ("meta_title", "meta_description", "focus_keyword")}),
        (_("Publication"), {"fields": ("publish_at", *ContentAdmin.readonly_fields)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The pillar column reads each row's topics and their pillar pages from one prefetch.
        topics = Topic.objects.select_related("pillar_page__parent")
        return super().get_queryset(request).prefetch_related(Prefetch("topics", topics))

    @admin.display(description=_("Links to pillar"))
    def links_to_pillar(self, obj: Article) -> str:
        topics = obj.topics.all()
        if not topics_pillars(topics):
            return "—"
        if pillars_missing(topics=topics, body_html=obj.body_es or ""):  # type: ignore[attr-defined]
            return format_html(
                '<img src="{}" alt="" width="13" height="13"> {}',
                static("admin/img/icon-no.svg"),
                _("No"),
            )
        return format_html(
            '<img src="{}" alt="" width="13" height="13"> {}',
            static("admin/img/icon-yes.svg"),
            _("Yes"),
        )

    # --- SEO checklist: rendered with the form, and again as the editor types ----------------

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.seo_checklist_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_seo_checklist"
        return [
            path("seo-checklist/", view, name=name),
            path("<int:object_id>/seo-checklist/", view, name=f"{name}_change"),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        form = context["adminform"].form
        if form.is_bound:
            context["seo_checklists"] = article_checklists_from_form(form.data, form.files, obj)
        else:
            context["seo_checklists"] = article_checklists(obj or Article())
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_seo_checklist"
        if obj is None and self.has_add_permission(request):
            context["seo_checklist_url"] = reverse(name)
        elif obj is not None and self.has_change_permission(request, obj):
            context["seo_checklist_url"] = reverse(f"{name}_change", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    @method_decorator(require_POST)
    def seo_checklist_view(
        self, request: HttpRequest, object_id: int | None = None
    ) -> HttpResponse:
        """The checklist of the form as typed so far (unsaved): an HTML fragment for the panel."""
        article = None
        if object_id is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
        else:
            article = self.get_object(request, str(object_id))
            if article is None:
                raise Http404
            if not self.has_change_permission(request, article):
                raise PermissionDenied
        checklists = article_checklists_from_form(request.POST, request.FILES, article)
        return TemplateResponse(
            request, "admin/content/_seo_checklist.html", {"seo_checklists": checklists}
        )


@admin.register(Page)
class PageAdmin(ContentAdmin):
    list_display = ("title", "parent", "order", "status", "pillar_of", "updated_at")
    list_select_related = ("parent", "pillar_topic")
    list_filter = ("status",)
    search_fields = ("title",)
    fieldsets = (
        (None, {"fields": ("title", "slug", "parent", "order", "body", "pillar_topic")}),
        (_("Search engines"), {"fields": ("meta_title", "meta_description")}),
        (_("Publication"), {"fields": ("publish_at", *ContentAdmin.readonly_fields)}),
    )

    @admin.display(description=_("Pillar of"), ordering="pillar_topic__name")
    def pillar_of(self, obj: Page) -> str:
        return str(obj.pillar_topic) if obj.pillar_topic else "—"


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


admin.site.register(ContentImage, ContentImageAdmin)
