"""The content API: live content for anyone, in any content language; drafts for editors.

The public endpoints need no account and are rate-limited per client; they answer with what
the public pages show (live items written in the language asked for) and may be cached by
anyone for a minute. The staff endpoints let editors write drafts from other tools; the
editorial workflow beyond review (publishing, changing what is live) stays in the admin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.cache import patch_cache_control
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import conditional_page
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

from contacts.models import Topic
from content.models import FAQ, LANGUAGES, Article, Page, Status, Video
from content.selectors import (
    articles_all,
    articles_live,
    faqs_live,
    in_language,
    pages_live,
    videos_live,
)
from content.serializers import (
    ArticleDraftSerializer,
    ArticlePublicSerializer,
    ArticleStaffSerializer,
    FAQPublicSerializer,
    PagePublicSerializer,
    ProblemSerializer,
    VideoPublicSerializer,
    page_paths,
)
from content.services import article_draft_create, article_draft_update
from inbound.lib.privacy import client_ip, ip_hash
from inbound.roles import HasRole, Role

PUBLIC_TAG = "content (public)"
STAFF_TAG = "content (staff)"
PUBLIC_MAX_AGE = 60

LANG_PARAMETER = OpenApiParameter(
    "lang",
    str,
    enum=list(LANGUAGES),
    default=settings.MODELTRANSLATION_DEFAULT_LANGUAGE,
    description="The language to read; only items written in it are listed.",
)
TOPIC_PARAMETER = OpenApiParameter(
    "topic", str, description="Only items about the public topic with this slug."
)


class PublicContentThrottle(AnonRateThrottle):
    """Requests per client on the public endpoints (`content_public` rate).

    Clients are told apart by a keyed hash of their address, found behind NUM_PROXIES trusted
    proxies only, so a forged X-Forwarded-For neither escapes the limit nor lands a raw IP in
    the cache.
    """

    scope = "content_public"

    def get_rate(self) -> str | None:
        # Read at request time: DRF binds the rates when the module is imported.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[no-any-return]

    def get_ident(self, request: Request) -> str:
        return ip_hash(client_ip(request)) or "unknown"


class PublicContentViewSet(viewsets.GenericViewSet):
    """Live content in one language (`?lang=`, Spanish by default), found by its slug there."""

    # The same JSON for everyone, so any cache may keep it (the browsable HTML would carry
    # a session's CSRF token).
    authentication_classes: list[Any] = []
    renderer_classes = [JSONRenderer]
    permission_classes = [AllowAny]
    throttle_classes = [PublicContentThrottle]
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    language: str

    @classmethod
    def as_view(cls, actions: Any = None, **initkwargs: Any) -> Any:
        # An ETag from the body: a client holding the current answer gets a bodiless 304.
        return conditional_page(super().as_view(actions, **initkwargs))

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.language = _requested_language(request)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "language": self.language}

    def get_object(self) -> Any:
        lookup = {f"slug_{self.language}": self.kwargs["slug"]}
        obj = self.get_queryset().filter(**lookup).first()
        if obj is None:
            raise Http404
        return obj

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == status.HTTP_200_OK:
            patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
        return response

    def _public_topic(self) -> Topic | None:
        slug = self.request.query_params.get("topic")
        if slug is None:
            return None
        topic = Topic.objects.filter(slug=slug, is_public=True).first()
        if topic is None:
            raise serializers.ValidationError(
                {"topic": [_("There is no public topic “%(slug)s”.") % {"slug": slug[:64]}]}
            )
        return topic


def _requested_language(request: Request) -> str:
    language = request.query_params.get("lang", settings.MODELTRANSLATION_DEFAULT_LANGUAGE)
    if language not in LANGUAGES:
        raise serializers.ValidationError(
            {
                "lang": [
                    _("Unknown language: use one of %(languages)s.")
                    % {"languages": ", ".join(LANGUAGES)}
                ]
            }
        )
    return language


@extend_schema(tags=[PUBLIC_TAG], parameters=[LANG_PARAMETER])
@extend_schema_view(list=extend_schema(parameters=[TOPIC_PARAMETER]))
class ArticlePublicViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PublicContentViewSet):
    """Live news articles written in the language asked for, newest first."""

    serializer_class = ArticlePublicSerializer

    def get_queryset(self) -> QuerySet[Article]:
        articles = in_language(articles_live(), self.language)
        topic = self._public_topic()
        return articles.filter(topics=topic) if topic else articles


@extend_schema(tags=[PUBLIC_TAG], parameters=[LANG_PARAMETER])
class PagePublicViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PublicContentViewSet):
    """Live institutional pages with a public address in the language asked for: the page
    and every page above it are live and written in that language."""

    serializer_class = PagePublicSerializer

    @cached_property
    def paths(self) -> dict[int, dict[str, str]]:
        """Every live page's address path per language, from one query on a few columns."""
        columns = [f"{name}_{code}" for name in ("title", "slug") for code in LANGUAGES]
        return page_paths(list(pages_live().only("id", "parent_id", *columns)))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "page_paths": self.paths}

    def get_queryset(self) -> QuerySet[Page]:
        reachable = [pk for pk, paths in self.paths.items() if self.language in paths]
        return pages_live().filter(pk__in=reachable).select_related("pillar_topic")


@extend_schema(tags=[PUBLIC_TAG], parameters=[LANG_PARAMETER, TOPIC_PARAMETER])
class FAQPublicViewSet(mixins.ListModelMixin, PublicContentViewSet):
    """Live questions and answers written in the language asked for, by topic."""

    serializer_class = FAQPublicSerializer

    def get_queryset(self) -> QuerySet[FAQ]:
        faqs = in_language(faqs_live(), self.language).filter(topic__is_public=True)
        topic = self._public_topic()
        return faqs.filter(topic=topic) if topic else faqs


@extend_schema(tags=[PUBLIC_TAG], parameters=[LANG_PARAMETER])
@extend_schema_view(list=extend_schema(parameters=[TOPIC_PARAMETER]))
class VideoPublicViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PublicContentViewSet):
    """Live videos written in the language asked for, newest first."""

    serializer_class = VideoPublicSerializer

    def get_queryset(self) -> QuerySet[Video]:
        videos = in_language(videos_live(), self.language).prefetch_related("topics")
        topic = self._public_topic()
        return videos.filter(topics=topic) if topic else videos


# --- Staff: drafts ---------------------------------------------------------------------------


STATUS_PARAMETER = OpenApiParameter("status", str, enum=[s.value for s in Status])


@extend_schema(tags=[STAFF_TAG])
@extend_schema_view(list=extend_schema(parameters=[STATUS_PARAMETER]))
class ArticleStaffViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Articles in every status, for editors; drafts are written here, published in the admin."""

    permission_classes = [HasRole.of(Role.EDITOR, Role.ADMINISTRATOR)]
    serializer_class = ArticleStaffSerializer

    def get_queryset(self) -> QuerySet[Article]:
        articles = articles_all().prefetch_related("topics").order_by("-updated_at", "-id")
        wanted = self.request.query_params.get("status") if self.action == "list" else None
        if wanted is None:
            return articles
        if wanted not in Status.values:
            raise serializers.ValidationError(
                {
                    "status": [
                        _("Unknown status: use one of %(statuses)s.")
                        % {"statuses": ", ".join(Status.values)}
                    ]
                }
            )
        return articles.filter(status=wanted)

    @extend_schema(
        request=ArticleDraftSerializer,
        responses={201: ArticleStaffSerializer, 400: OpenApiTypes.OBJECT},
    )
    def create(self, request: Request) -> Response:
        payload = ArticleDraftSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        article = _answering_model_errors(
            article_draft_create,
            data=dict(payload.validated_data),
            actor=request.user,
            request=request._request,
        )
        return Response(
            ArticleStaffSerializer(
                self._reloaded(article), context=self.get_serializer_context()
            ).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=ArticleDraftSerializer,
        responses={
            200: ArticleStaffSerializer,
            400: OpenApiTypes.OBJECT,
            409: OpenApiResponse(ProblemSerializer, description="The article is published."),
        },
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        article = self.get_object()
        payload = ArticleDraftSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        article = _answering_model_errors(
            article_draft_update,
            article=article,
            data=dict(payload.validated_data),
            actor=request.user,
            request=request._request,
        )
        return Response(
            ArticleStaffSerializer(
                self._reloaded(article), context=self.get_serializer_context()
            ).data
        )

    def _reloaded(self, article: Article) -> Article:
        return self.get_queryset().get(pk=article.pk)


def _answering_model_errors(service: Callable[..., Article], **kwargs: Any) -> Article:
    """Run a write and turn the model's refusals into a 400 naming the fields."""
    try:
        return service(**kwargs)
    except DjangoValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {}
        if not errors:
            errors = {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
        if NON_FIELD_ERRORS in errors:
            errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
        raise serializers.ValidationError(errors) from None
