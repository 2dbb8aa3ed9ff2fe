from __future__ import annotations

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from inbound import api, views
from inbound.twofactor import StaffLoginForm

admin.site.site_header = settings.INSTITUTION["name"]
admin.site.site_title = settings.INSTITUTION["name"]
admin.site.index_title = _("Citizen engagement")
# Password and, for accounts with an authenticator app, its code, in one form (inbound.twofactor).
admin.site.login_form = StaffLoginForm

api_v1 = [
    path("me/", api.MeView.as_view(), name="me"),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/v1/", include("contacts.urls_api")),
    path("api/v1/", include("content.urls_api")),
    path("api/v1/", include("conversion.urls_api")),
    path("", include("content.urls_root")),  # sitemap.xml, robots.txt
    path("e/", include("campaigns.urls_tracking")),  # tracked links of e-mail: no language
    # ESP bounce, complaint and inbound webhooks (campaigns.webhooks): basic auth, no language.
    path("anymail/", include("campaigns.urls_webhooks")),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path(_("accessibility/"), views.accessibility_statement, name="accessibility"),
    path(_("privacy/"), views.privacy_policy, name="privacy"),
    path(_("legal-notice/"), views.legal_notice, name="legal-notice"),
    path("admin/", admin.site.urls),
    path("staff/account/", include("inbound.urls_account")),
    path("staff/contacts/imports/", include("contacts.urls_imports")),
    path("staff/personas/", include("contacts.urls_personas")),
    path("staff/contacts/", include("contacts.urls_segments")),
    path("staff/content/", include("content.urls_staff")),
    path("staff/conversion/", include("conversion.urls_staff")),
    path("staff/campaigns/", include("campaigns.urls_staff")),
    path("staff/workflows/", include("workflows.urls_staff")),
    path("", include("contacts.urls_public")),
    path("", include("campaigns.urls")),
    path("", include("content.urls")),
    path("", include("conversion.urls")),
)

if getattr(settings, "BENCH_ENDPOINTS", False):  # `python -m bench submissions` only
    from conversion import views_bench
    from inbound import bench_views

    urlpatterns += [
        path("bench/insert/", bench_views.bench_insert, name="bench-insert"),
        path("bench/form/<slug:slug>/", views_bench.bench_form_floor, name="bench-form-floor"),
    ]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
