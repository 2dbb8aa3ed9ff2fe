"""API shapes of the content: what citizens' apps read, and the drafts staff write.

Public shapes show one item in one language, exactly as its public page shows it (the same
text, with the same fallback to Spanish for a field left untranslated). Staff shapes carry
every language column, as the admin does.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.models import Topic
from content.models import FAQ, LANGUAGES, Article, Page, Status, Video
from content.richtext import reading_minutes
from content.sitemaps import absolute, site_languages

# --- Public addresses ------------------------------------------------------------------------


def public_url(language: str, url_name: str, **kwargs: str) -> str | None:
    """The absolute address of a public page in `language`; None where the site is not
    served in that language (content may be written in Catalan before the site is)."""
    if language not in site_languages():
        return None
    with translation.override(language):
        return absolute(reverse(url_name, kwargs=kwargs or None))


def media_url(file: Any) -> str | None:
    if not file:
        return None
    url = str(file.url)
    return absolute(url) if url.startswith("/") else url


def page_paths(pages: list[Page]) -> dict[int, dict[str, str]]:
    """Each live page's slug path per language, where it and all its ancestors are written in
    that language (`pages` must be every live page: a page under an unpublished parent has no
    public address, as on the site)."""
    by_pk = {page.pk: page for page in pages}
    paths: dict[int, dict[str, str]] = {}
    for page in pages:
        for language in LANGUAGES:
            path = _page_path(page, language, by_pk)
            if path:
                paths.setdefault(page.pk, {})[language] = path
    return paths


def _page_path(page: Page, language: str, by_pk: dict[int, Page]) -> str | None:
    slugs: list[str] = []
    node: Page | None = page
    while node is not None:
        slug = getattr(node, f"slug_{language}", "")
        if not slug or not getattr(node, f"title_{language}", "") or slug in slugs:
            return None
        slugs.insert(0, slug)
        if node.parent_id is None:
            return "/".join(slugs)
        node = by_pk.get(node.parent_id)
    return None


# --- Public shapes ---------------------------------------------------------------------------


class TopicRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class HeroImageSerializer(serializers.Serializer):
    url = serializers.URLField()
    alt = serializers.CharField(help_text=_("The image's alternative text."))


class TranslationSerializer(serializers.Serializer):
    language = serializers.CharField()
    url = serializers.URLField(
        allow_null=True, help_text=_("Empty where the site is not served in that language.")
    )


class ProblemSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class InLanguageSerializer(serializers.Serializer):
    """Shows an item in the language the caller asked for (`context["language"]`)."""

    language = serializers.SerializerMethodField()

    def to_representation(self, instance: Any) -> Any:
        with translation.override(self.context["language"]):
            return super().to_representation(instance)

    def get_language(self, obj: Any) -> str:
        return str(self.context["language"])


def _public_topics(obj: Article | Video) -> list[dict[str, Any]]:
    # Filtered here, not in the query: the selectors prefetch every topic already.
    return [
        {"slug": topic.slug, "name": topic.name} for topic in obj.topics.all() if topic.is_public
    ]


def _slugged_translations(obj: Article | Video, url_name: str) -> list[dict[str, Any]]:
    return [
        {"language": code, "url": public_url(code, url_name, slug=getattr(obj, f"slug_{code}"))}
        for code in LANGUAGES
        if getattr(obj, f"slug_{code}", "") and getattr(obj, f"title_{code}", "")
    ]


class ArticlePublicSerializer(InLanguageSerializer):
    """A live news article in one language."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    summary = serializers.CharField()
    body = serializers.CharField(help_text=_("Sanitised HTML."))
    url = serializers.SerializerMethodField()
    topics = serializers.SerializerMethodField()
    byline = serializers.CharField()
    published_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    reading_minutes = serializers.IntegerField()
    hero_image = serializers.SerializerMethodField()
    translations = serializers.SerializerMethodField()

    @extend_schema_field(TopicRefSerializer(many=True))
    def get_topics(self, obj: Article) -> list[dict[str, Any]]:
        return _public_topics(obj)

    def get_url(self, obj: Article) -> str | None:
        return public_url(self.context["language"], "content:article-detail", slug=obj.slug)

    @extend_schema_field(HeroImageSerializer(allow_null=True))
    def get_hero_image(self, obj: Article) -> dict[str, Any] | None:
        url = media_url(obj.hero_image)
        return {"url": url, "alt": obj.hero_image_alt} if url else None

    @extend_schema_field(TranslationSerializer(many=True))
    def get_translations(self, obj: Article) -> list[dict[str, Any]]:
        return _slugged_translations(obj, "content:article-detail")


class PagePublicSerializer(InLanguageSerializer):
    """A live institutional page in one language; `path` and `url` follow its parents."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    path = serializers.SerializerMethodField(
        help_text=_("The slugs from the top page down to this one.")
    )
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    body = serializers.CharField(help_text=_("Sanitised HTML."))
    url = serializers.SerializerMethodField()
    pillar_topic = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    reading_minutes = serializers.SerializerMethodField()
    translations = serializers.SerializerMethodField()

    def _paths(self, obj: Page) -> dict[str, str]:
        return dict(self.context["page_paths"].get(obj.pk, {}))

    def get_path(self, obj: Page) -> str:
        return self._paths(obj).get(self.context["language"], "")

    def get_url(self, obj: Page) -> str | None:
        path = self.get_path(obj)
        return public_url(self.context["language"], "content:page-detail", path=path)

    @extend_schema_field(TopicRefSerializer(allow_null=True))
    def get_pillar_topic(self, obj: Page) -> dict[str, Any] | None:
        topic = obj.pillar_topic
        if topic is None or not topic.is_public:
            return None
        return {"slug": topic.slug, "name": topic.name}

    def get_reading_minutes(self, obj: Page) -> int:
        return reading_minutes(obj.body or "")

    @extend_schema_field(TranslationSerializer(many=True))
    def get_translations(self, obj: Page) -> list[dict[str, Any]]:
        return [
            {"language": code, "url": public_url(code, "content:page-detail", path=path)}
            for code, path in self._paths(obj).items()
        ]


class FAQPublicSerializer(InLanguageSerializer):
    """A live question and its answer in one language."""

    id = serializers.IntegerField()
    question = serializers.CharField()
    answer = serializers.CharField(help_text=_("Sanitised HTML."))
    topic = TopicRefSerializer()
    order = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text=_("The public list of questions."))
    published_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    translations = serializers.SerializerMethodField()

    def get_url(self, obj: FAQ) -> str | None:
        return public_url(self.context["language"], "content:faq-list")

    @extend_schema_field(TranslationSerializer(many=True))
    def get_translations(self, obj: FAQ) -> list[dict[str, Any]]:
        return [
            {"language": code, "url": public_url(code, "content:faq-list")}
            for code in LANGUAGES
            if getattr(obj, f"question_{code}", "")
        ]


class VideoPublicSerializer(InLanguageSerializer):
    """A live video in one language: a privacy-enhanced embed or a file, with transcript."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    provider = serializers.ChoiceField(choices=Video.Provider.choices)
    embed_url = serializers.SerializerMethodField()
    video_file = serializers.SerializerMethodField()
    captions = serializers.SerializerMethodField(help_text=_("WebVTT captions."))
    transcript = serializers.CharField()
    topics = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    translations = serializers.SerializerMethodField()

    def get_embed_url(self, obj: Video) -> str | None:
        return obj.embed_url if obj.provider != Video.Provider.FILE and obj.embed_url else None

    def get_video_file(self, obj: Video) -> str | None:
        return media_url(obj.video_file) if obj.provider == Video.Provider.FILE else None

    def get_captions(self, obj: Video) -> str | None:
        return media_url(obj.captions)

    @extend_schema_field(TopicRefSerializer(many=True))
    def get_topics(self, obj: Video) -> list[dict[str, Any]]:
        return _public_topics(obj)

    def get_url(self, obj: Video) -> str | None:
        return public_url(self.context["language"], "content:video-detail", slug=obj.slug)

    @extend_schema_field(TranslationSerializer(many=True))
    def get_translations(self, obj: Video) -> list[dict[str, Any]]:
        return _slugged_translations(obj, "content:video-detail")


# --- Staff shapes ----------------------------------------------------------------------------

ARTICLE_TRANSLATED_FIELDS = (
    "title",
    "slug",
    "summary",
    "body",
    "hero_image_alt",
    "meta_title",
    "meta_description",
    "focus_keyword",
)
ARTICLE_COLUMNS = tuple(
    f"{name}_{language}" for name in ARTICLE_TRANSLATED_FIELDS for language in LANGUAGES
)


class ArticleStaffSerializer(serializers.ModelSerializer):
    """An article as staff see it, whatever its status, with every language column."""

    topics = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")

    class Meta:
        model = Article
        fields = (
            "id",
            "status",
            "publish_at",
            "published_at",
            "created_at",
            "updated_at",
            "byline",
            "topics",
            "hero_image",
            *ARTICLE_COLUMNS,
        )
        read_only_fields = fields


class ArticleDraftSerializer(serializers.ModelSerializer):
    """What the API may write on a draft. Body HTML is sanitised when saved; publishing and
    the hero image stay in the admin."""

    topics = serializers.SlugRelatedField(
        many=True,
        slug_field="slug",
        queryset=Topic.objects.all(),
        required=False,
        help_text=_("Topic slugs; they replace the article's topics."),
    )
    status = serializers.ChoiceField(
        choices=[Status.DRAFT, Status.IN_REVIEW],
        required=False,
        help_text=_("draft or in_review; articles are published in the admin."),
        error_messages={
            "invalid_choice": _(
                "The status can only be draft or in_review: articles are published in the "
                "admin, by someone who may publish."
            )
        },
    )

    class Meta:
        model = Article
        fields = (
            "byline",
            "topics",
            "status",
            *(column for column in ARTICLE_COLUMNS if not column.startswith("hero_image_alt")),
        )
        # Duplicate slugs are answered with the model's own message (content.api), and
        # empty translations are stored as "" rather than NULL, as the admin does.
        extra_kwargs: dict[str, dict[str, Any]] = {
            **{column: {"allow_null": False} for column in ARTICLE_COLUMNS},
            **{
                f"slug_{language}": {"allow_null": False, "validators": []}
                for language in LANGUAGES
            },
            "title_es": {"required": True, "allow_null": False},
            "slug_es": {"required": True, "allow_null": False, "validators": []},
        }
