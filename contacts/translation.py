"""Translated fields (django-modeltranslation: one column per language, no joins)."""

from __future__ import annotations

from modeltranslation.translator import TranslationOptions, register

from contacts.models import Topic


@register(Topic)
class TopicTranslation(TranslationOptions):
    fields = ("name", "description")
