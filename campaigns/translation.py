"""Translated fields of `campaigns` (django-modeltranslation: one column per language; each
recipient gets their language, falling back to Spanish)."""

from __future__ import annotations

from modeltranslation.translator import TranslationOptions, register

from campaigns.models import BulletinItem, Email


@register(Email)
class EmailTranslation(TranslationOptions):
    fields = ("subject", "preheader", "body")
    required_languages = {"es": ("subject", "body")}


@register(BulletinItem)
class BulletinItemTranslation(TranslationOptions):
    # The languages the item is written in (and served in); Spanish always.
    fields = ("title", "summary", "url")
    required_languages = {"es": ("title", "url")}
