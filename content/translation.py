"""Translated fields (django-modeltranslation, as for topics: one column per language, so a
page in any language is one row read with no joins, and fallback to Spanish is built in)."""

from __future__ import annotations

from modeltranslation.translator import TranslationOptions, register

from content.models import FAQ, Article, Page, Video


@register(Article)
class ArticleTranslation(TranslationOptions):
    fields = (
        "title",
        "slug",
        "summary",
        "body",
        "hero_image_alt",
        "meta_title",
        "meta_description",
        "focus_keyword",
    )
    required_languages = {"es": ("title", "slug")}


@register(Page)
class PageTranslation(TranslationOptions):
    fields = ("title", "slug", "body", "meta_title", "meta_description")
    required_languages = {"es": ("title", "slug")}


@register(FAQ)
class FAQTranslation(TranslationOptions):
    fields = ("question", "answer")
    required_languages = {"es": ("question", "answer")}


@register(Video)
class VideoTranslation(TranslationOptions):
    fields = ("title", "slug", "description", "transcript")
    required_languages = {"es": ("title", "slug")}
