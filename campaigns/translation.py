"""Translated fields of `campaigns` (django-modeltranslation: one column per language; each
recipient gets their language, falling back to Spanish)."""

from __future__ import annotations

from modeltranslation.translator import TranslationOptions, register

from campaigns.models import Email


@register(Email)
class EmailTranslation(TranslationOptions):
    fields = ("subject", "preheader", "body")
    required_languages = {"es": ("subject", "body")}
