"""The content API, included under `api/v1/`: public reads and the editors' drafts."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from content import api

app_name = "content_api"

router = SimpleRouter()
router.register("content/articles", api.ArticlePublicViewSet, basename="article")
router.register("content/pages", api.PagePublicViewSet, basename="page")
router.register("content/faqs", api.FAQPublicViewSet, basename="faq")
router.register("content/videos", api.VideoPublicViewSet, basename="video")
router.register("content/staff/articles", api.ArticleStaffViewSet, basename="staff-article")

urlpatterns = router.urls
