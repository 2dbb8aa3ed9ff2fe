"""The image library: staff upload an image once, with its alternative text, and insert it in
article and page bodies from the editor's figure dialog, whose "Browse…" opens the picker here.

An image in use is not deleted (its texts would show a broken picture) and its file is never
replaced (the address in those texts would then show a different picture): to change it,
upload a new one. What may appear in a body is decided by `content.richtext`.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from content.models import FAQ, LANGUAGES, Article, ContentImage, Page, Publishable

PICKER_PER_PAGE = 24
# The editor's dialog names its callback like CKEditor's file browser (a small integer).
PICKER_CALLBACK = re.compile(r"-?[0-9]{1,9}")


def content_image_usages(image: ContentImage) -> list[Publishable]:
    """The articles, pages and FAQs whose text shows `image`, in any language."""
    # As the sanitiser writes it, so `…/a.png` does not also find `…/a.png.webp`.
    address = f'src="{image.image.url}"'
    found: list[Publishable] = []
    for model in (Article, Page, FAQ):
        columns = Q()
        for name in model.rich_fields:
            for language in LANGUAGES:
                columns |= Q(**{f"{name}_{language}__contains": address})
        found.extend(model.objects.filter(columns))
    return found


class ContentImageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("thumbnail", "alt_text", "uploaded_by", "uploaded_at")
    list_display_links = ("alt_text",)
    list_select_related = ("uploaded_by",)
    search_fields = ("alt_text",)
    list_per_page = 50

    # --- Forms -------------------------------------------------------------------------------

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("image", "alt_text")
        return ("preview", "address", "alt_text", "usages", "uploaded_by", "uploaded_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("preview", "address", "usages", "uploaded_by", "uploaded_at")

    @admin.display(description=_("image"))
    def thumbnail(self, obj: ContentImage) -> str:
        # Decorative here: the alternative text is the next column.
        return format_html('<img src="{}" alt="" width="80">', obj.image.url)

    @admin.display(description=_("image"))
    def preview(self, obj: ContentImage) -> str:
        return format_html('<img src="{}" alt="{}" width="320">', obj.image.url, obj.alt_text)

    @admin.display(description=_("address"))
    def address(self, obj: ContentImage) -> str:
        return format_html(
            '<input type="text" class="vTextField" readonly value="{}" aria-label="{}">'
            '<p class="help">{}</p>',
            obj.image.url,
            _("Image address"),
            _(
                "Paste it as the image URL in the editor's figure dialog, or pick the image "
                "there with “Browse…”."
            ),
        )

    @admin.display(description=_("used in"))
    def usages(self, obj: ContentImage) -> str:
        found = content_image_usages(obj)
        if not found:
            return str(_("Not used in any text yet."))
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a> ({})</li>',
                (
                    (
                        reverse(f"admin:content_{item._meta.model_name}_change", args=[item.pk]),
                        str(item),
                        item._meta.verbose_name,
                    )
                    for item in found
                ),
            ),
        )

    # --- Saving and deleting -----------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: ContentImage, form: Any, change: bool) -> None:
        if not change:
            obj.uploaded_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and content_image_usages(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Bulk deletion would skip the "is it still used?" check made per image.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def response_add(
        self, request: HttpRequest, obj: ContentImage, post_url_continue: str | None = None
    ) -> HttpResponse:
        """Uploaded from the picker: back to it, with the new image first."""
        if "_picker" in request.GET:
            self.message_user(
                request, _("The image was uploaded: insert it below."), messages.SUCCESS
            )
            return HttpResponseRedirect(self._picker_url(request.GET["_picker"]))
        return super().response_add(request, obj, post_url_continue)

    # --- The editor's picker -----------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "picker/",
                self.admin_site.admin_view(self.picker_view),
                name="content_contentimage_picker",
            ),
            *super().get_urls(),
        ]

    def _picker_url(self, callback: str) -> str:
        url = reverse("admin:content_contentimage_picker")
        if PICKER_CALLBACK.fullmatch(callback):
            url += "?" + urlencode({"CKEditorFuncNum": callback})
        return url

    def picker_view(self, request: HttpRequest) -> HttpResponse:
        """The library in the editor's pop-up window: search by alternative text, insert."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        callback = request.GET.get("CKEditorFuncNum", "")
        if not PICKER_CALLBACK.fullmatch(callback):
            callback = ""
        query = request.GET.get("q", "").strip()
        images = ContentImage.objects.all()
        if query:
            images = images.filter(alt_text__icontains=query)
        page = Paginator(images, PICKER_PER_PAGE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Choose an image"),
            "is_popup": True,
            "images": page,
            "query": query,
            "callback": callback,
            "can_add": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/content/contentimage/picker.html", context)
