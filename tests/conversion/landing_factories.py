"""Landing pages, gated documents and calls to action for the conversion tests."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import factory
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone, translation

from content.models import Status
from conversion.demo import demo_pdf
from conversion.forms import started_token
from conversion.models import CallToAction, Form, LandingPage
from tests.conversion.factories import FormFactory, FormFieldFactory


@pytest.fixture
def private_in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Gated documents written under tmp_path, not the real private storage.

    The field's storage is built once at import, so its cached location is swapped in place.
    """
    storage = LandingPage._meta.get_field("gated_asset").storage
    monkeypatch.setitem(storage.__dict__, "base_location", str(tmp_path))
    monkeypatch.setitem(storage.__dict__, "location", str(tmp_path))
    return tmp_path


PDF = demo_pdf("Guía de ayudas al alquiler joven", ["Requisitos y plazos."])


def live(**values: Any) -> dict[str, Any]:
    now = timezone.now()
    return {"status": Status.PUBLISHED, "publish_at": now, "published_at": now, **values}


class LandingPageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LandingPage

    title_es = factory.Sequence(lambda n: f"Guía de ayudas {n}")
    title_en = factory.Sequence(lambda n: f"Aid guide {n}")
    slug_es = factory.Sequence(lambda n: f"guia-ayudas-{n}")
    slug_en = factory.Sequence(lambda n: f"aid-guide-{n}")
    summary_es = "Todo sobre las ayudas."
    summary_en = "All about the aid."
    body_es = "<p>Requisitos, plazos y documentos.</p>"
    body_en = "<p>Requirements, deadlines and documents.</p>"
    thanks_message_es = "¡Gracias! Tu guía está lista."
    thanks_message_en = "Thank you! Your guide is ready."


def simple_form(*, double_opt_in: bool = False, **values: Any) -> Form:
    """E-mail (required), first name and a newsletter consent."""
    form = FormFactory(double_opt_in=double_opt_in, **values)
    FormFieldFactory(
        form=form,
        key="email",
        kind="email",
        required=True,
        target="contact",
        target_key="email",
        label_en="Email address",
    )
    FormFieldFactory(
        form=form,
        key="nombre",
        kind="text",
        target="contact",
        target_key="first_name",
        label_en="First name",
    )
    FormFieldFactory(
        form=form, key="boletin", kind="consent", consent_purpose="newsletter",
        consent_version="v1", consent_text_es="Quiero el boletín.",
        consent_text_en="I want the newsletter.", label_en="Newsletter",
    )  # fmt: skip
    return form


def gated_page(*, double_opt_in: bool = False, **values: Any) -> LandingPage:
    page = LandingPageFactory(
        form=simple_form(double_opt_in=double_opt_in),
        gated_asset_title_es="Guía del alquiler",
        gated_asset_title_en="Rental guide",
        **live(**values),
    )
    page.gated_asset.save("guia.pdf", ContentFile(PDF), save=True)
    return page


def landing_url(page: LandingPage, name: str = "landing", language: str = "en") -> str:
    with translation.override(language):
        return reverse(f"conversion:{name}", kwargs={"slug": getattr(page, f"slug_{language}")})


def answers(**values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "email": "lucia.vecina@correo.example",
        "nombre": "Lucía",
        "started": started_token(at=time.time() - 60),
    }
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


class CallToActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallToAction

    name = factory.Sequence(lambda n: f"cta-{n}")
    text_es = "Descarga la guía"
    text_en = "Download the guide"
    description_es = "Una guía gratuita."
    description_en = "A free guide."
