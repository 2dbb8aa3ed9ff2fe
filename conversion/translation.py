"""Translated form texts (django-modeltranslation: one column per language, fallback to Spanish)."""

from __future__ import annotations

from modeltranslation.translator import TranslationOptions, register

from conversion.models import CallToAction, Form, FormField, LandingPage, LandingVariant


@register(Form)
class FormTranslation(TranslationOptions):
    fields = ("title", "intro", "submit_label", "success_message", "purpose_notice")
    required_languages = {"es": ("title", "success_message", "purpose_notice")}


@register(FormField)
class FormFieldTranslation(TranslationOptions):
    fields = ("label", "help_text", "choices", "consent_text")
    required_languages = {"es": ("label",)}


@register(LandingPage)
class LandingPageTranslation(TranslationOptions):
    fields = (
        "title",
        "slug",
        "summary",
        "body",
        "submit_label",
        "hero_image_alt",
        "gated_asset_title",
        "thanks_message",
        "meta_title",
        "meta_description",
    )
    required_languages = {"es": ("title", "slug")}


@register(CallToAction)
class CallToActionTranslation(TranslationOptions):
    fields = ("text", "description")
    required_languages = {"es": ("text",)}


@register(LandingVariant)
class LandingVariantTranslation(TranslationOptions):
    fields = ("title", "summary", "body", "submit_label")
