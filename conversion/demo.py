"""Demo form of Villaclara del Río: the mobility newsletter sign-up, published.

Runs after the contacts seeder (it reuses its topics and its "vehiculo" property when they exist)
but does not depend on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation

from contacts.demo import TOPICS
from contacts.models import ConsentRecord, Topic
from contacts.services import TouchpointIn, touchpoints_record_bulk
from content.models import Status
from content.selectors import articles_all
from conversion.abtests import variant_for, view_properties
from conversion.models import (
    ABTest,
    CallToAction,
    Form,
    FormField,
    LandingPage,
    LandingVariant,
    Submission,
    landing_pages,
)
from inbound.lib.pagecache import public_pages_invalidate

SLUG = "boletin-movilidad"
CONSENT_VERSION = "2025-01"

FIELDS: list[dict[str, Any]] = [
    {
        "key": "email",
        "kind": FormField.Kind.EMAIL,
        "required": True,
        "target": FormField.Target.CONTACT,
        "target_key": "email",
        "label_es": "Correo electrónico",
        "label_en": "Email address",
    },
    {
        "key": "nombre",
        "kind": FormField.Kind.TEXT,
        "target": FormField.Target.CONTACT,
        "target_key": "first_name",
        "label_es": "Nombre",
        "label_en": "First name",
    },
    {
        "key": "codigo_postal",
        "kind": FormField.Kind.POSTAL_CODE,
        "target": FormField.Target.CONTACT,
        "target_key": "postal_code",
        "label_es": "Código postal",
        "label_en": "Postal code",
        "help_text_es": "Para enviarte solo los cortes de tráfico y obras de tu barrio.",
        "help_text_en": "So we only send you the traffic and road works news of your area.",
    },
    {
        "key": "temas",
        "kind": FormField.Kind.TOPICS,
        "label_es": "Temas que te interesan",
        "label_en": "Topics you are interested in",
    },
    {
        "key": "vehiculo",
        "kind": FormField.Kind.SELECT,
        "progressive": True,
        "target": FormField.Target.SUBMISSION,
        "label_es": "¿Cómo te mueves sobre todo?",
        "label_en": "How do you mostly get around?",
        "choices_es": "coche|Coche\nmoto|Moto\nbicicleta|Bicicleta\n"
        "ninguno|A pie o en transporte público",
        "choices_en": "coche|Car\nmoto|Motorbike\nbicicleta|Bicycle\n"
        "ninguno|On foot or by public transport",
    },
    {
        "key": "acepto_boletin",
        "kind": FormField.Kind.CONSENT,
        "required": True,
        "consent_purpose": ConsentRecord.Purpose.NEWSLETTER,
        "consent_version": CONSENT_VERSION,
        "label_es": "Boletín",
        "label_en": "Newsletter",
        "consent_text_es": "Quiero recibir el boletín de movilidad del Ayuntamiento por correo "
        "electrónico. Puedo darme de baja en cualquier momento.",
        "consent_text_en": "I want to receive the council's mobility newsletter by email. "
        "I can unsubscribe at any time.",
    },
    {
        "key": "acepto_seguimiento",
        "kind": FormField.Kind.CONSENT,
        "consent_purpose": ConsentRecord.Purpose.TRACKING,
        "consent_version": CONSENT_VERSION,
        "label_es": "Personalización",
        "label_en": "Personalisation",
        "consent_text_es": "Recordadme en este dispositivo para no volver a preguntarme lo que "
        "ya sabéis (cookie propia, 180 días).",
        "consent_text_en": "Remember me on this device so you don't ask again what you already "
        "know (first-party cookie, 180 days).",
    },
    {"key": "utm", "kind": FormField.Kind.UTM, "label_es": "Campaña", "label_en": "Campaign"},
]


# The council's electronic office, a separate site that shows two of the forms in a frame.
DEMO_EMBED_ORIGIN = "https://sede.villaclara.es"


@transaction.atomic
def conversion_demo_seed() -> int:
    """The published demo form, then the landing pages and CTAs; returns 1 when it created
    anything, 0 on a second run (idempotent)."""
    if Form.objects.filter(slug=SLUG).exists():
        return min(1, landing_pages_demo_seed())
    for order, (slug, name_es, name_en) in enumerate(TOPICS):
        Topic.objects.get_or_create(
            slug=slug,
            defaults={"name": name_es, "name_es": name_es, "name_en": name_en, "order": order},
        )
    form = Form.objects.create(
        name="Boletín de movilidad",
        slug=SLUG,
        status=Form.Status.PUBLISHED,
        title_es="Suscríbete al boletín de movilidad",
        title_en="Subscribe to the mobility newsletter",
        intro_es="Cortes de tráfico, obras, nuevas líneas de autobús y carriles bici: te lo "
        "contamos una vez a la semana.",
        intro_en="Road closures, works, new bus lines and cycle lanes: once a week in your inbox.",
        submit_label_es="Suscribirme",
        submit_label_en="Subscribe",
        success_message_es="¡Gracias! Te hemos enviado un correo: abre el enlace para confirmar "
        "tu suscripción.",
        success_message_en="Thank you! We have sent you an email: open its link to confirm your "
        "subscription.",
        purpose_notice_es="Enviarte el boletín de movilidad y los temas que elijas.",
        purpose_notice_en="Sending you the mobility newsletter and the topics you choose.",
        legal_basis=ConsentRecord.LegalBasis.CONSENT,
        double_opt_in=True,
        progressive_max_fields=4,
        embed_origins=DEMO_EMBED_ORIGIN,  # so the admin shows the embed code
    )
    for order, spec in enumerate(FIELDS):
        FormField.objects.create(form=form, order=order * 10, **spec)
    landing_pages_demo_seed()
    return 1


# --- Landing pages and calls to action -----------------------------------------------------------

GUIDE_SLUG = "guia-ayudas-alquiler-joven"
PLAN_FORM_SLUG = "plan-barrio-san-blas"

PLAN_FIELDS: list[dict[str, Any]] = [
    {
        "key": "nombre",
        "kind": FormField.Kind.TEXT,
        "required": True,
        "target": FormField.Target.CONTACT,
        "target_key": "first_name",
        "label_es": "Nombre",
        "label_en": "Name",
    },
    {
        "key": "email",
        "kind": FormField.Kind.EMAIL,
        "required": True,
        "target": FormField.Target.CONTACT,
        "target_key": "email",
        "label_es": "Correo electrónico",
        "label_en": "Email address",
    },
    {
        "key": "codigo_postal",
        "kind": FormField.Kind.POSTAL_CODE,
        "target": FormField.Target.CONTACT,
        "target_key": "postal_code",
        "label_es": "Código postal",
        "label_en": "Postal code",
    },
    {
        "key": "propuesta",
        "kind": FormField.Kind.TEXTAREA,
        "required": True,
        "label_es": "¿Qué mejorarías?",
        "label_en": "What would you improve?",
        "help_text_es": "Calles, plazas, parques, servicios: cuéntanos qué cambiarías en San Blas.",
        "help_text_en": "Streets, squares, parks, services: tell us what you would change.",
    },
    {
        "key": "acepto_participacion",
        "kind": FormField.Kind.CONSENT,
        "required": True,
        "consent_purpose": ConsentRecord.Purpose.SERVICE,
        "consent_version": CONSENT_VERSION,
        "label_es": "Participación",
        "label_en": "Taking part",
        "consent_text_es": "Acepto que el Ayuntamiento use mi propuesta en el Plan de barrio de "
        "San Blas y me escriba sobre ella.",
        "consent_text_en": "I agree that the council uses my proposal in the San Blas "
        "neighbourhood plan and writes to me about it.",
    },
]

GUIDE_FIELDS: list[dict[str, Any]] = [
    {
        "key": "email",
        "kind": FormField.Kind.EMAIL,
        "required": True,
        "target": FormField.Target.CONTACT,
        "target_key": "email",
        "label_es": "Correo electrónico",
        "label_en": "Email address",
    },
    {
        "key": "nombre",
        "kind": FormField.Kind.TEXT,
        "target": FormField.Target.CONTACT,
        "target_key": "first_name",
        "label_es": "Nombre",
        "label_en": "First name",
    },
    {
        "key": "acepto_vivienda",
        "kind": FormField.Kind.CONSENT,
        "consent_purpose": ConsentRecord.Purpose.NEWSLETTER,
        "consent_version": CONSENT_VERSION,
        "label_es": "Novedades de vivienda",
        "label_en": "Housing news",
        "consent_text_es": "Quiero recibir por correo las nuevas convocatorias de ayudas a la "
        "vivienda. Puedo darme de baja en cualquier momento.",
        "consent_text_en": "I want to receive new housing aid calls by email. I can "
        "unsubscribe at any time.",
    },
]

# (CTA name, landing page slug, article slug, style, text es, text en, description es, en)
CTAS = [
    (
        "guia-alquiler-joven",
        GUIDE_SLUG,
        "ayudas-alquiler-jovenes-familias",
        "banner",
        "Descarga la guía",
        "Download the guide",
        "Requisitos, plazos y documentos, paso a paso, en una guía gratuita.",
        "Requirements, deadlines and documents, step by step, in a free guide.",
    ),
    (
        "boletin-movilidad",
        "boletin-movilidad",
        "nuevo-carril-bici-avenida-del-rio",
        "button",
        "Recibe el boletín de movilidad",
        "Get the mobility newsletter",
        "",
        "",
    ),
    (
        "plan-barrio-san-blas",
        "plan-de-barrio-san-blas",
        "plan-general-urbanismo-participacion",
        "banner",
        "Participa en el Plan de barrio",
        "Take part in the neighbourhood plan",
        "¿Qué mejorarías en San Blas? Tu propuesta cuenta.",
        "What would you improve in San Blas? Your proposal counts.",
    ),
]


def demo_pdf(title: str, lines: list[str]) -> bytes:
    """A small valid one-page PDF (Helvetica, WinAnsi text) written with plain bytes."""

    def text(value: str) -> bytes:
        raw = value.encode("cp1252", errors="replace")
        return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")

    stream = b"BT /F1 18 Tf 72 760 Td (" + text(title) + b") Tj /F1 11 Tf"
    for line in lines:
        stream += b" 0 -22 Td (" + text(line) + b") Tj"
    stream += b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def _form(slug: str, fields: list[dict[str, Any]], **values: Any) -> Form:
    form, created = Form.objects.get_or_create(slug=slug, defaults=values)
    if created:
        for order, spec in enumerate(fields):
            FormField.objects.create(form=form, order=order * 10, **spec)
    return form


def _landing(slug: str, **values: Any) -> LandingPage:
    page = landing_pages().filter(slug_es=slug).first()
    if page is not None:
        return page
    now = timezone.now()
    return landing_pages().create(
        slug_es=slug, status=Status.PUBLISHED, publish_at=now, published_at=now, **values
    )


@transaction.atomic
def landing_pages_demo_seed() -> int:
    """Three published landing pages with their forms, and CTAs in related articles.

    Idempotent: returns how many landing pages it created (0 on a second run).
    """
    newsletter = Form.objects.filter(slug=SLUG).first()
    guide_form = _form(
        "guia-alquiler-joven",
        GUIDE_FIELDS,
        name="Guía de ayudas al alquiler joven",
        status=Form.Status.PUBLISHED,
        title_es="Recibe la guía",
        title_en="Get the guide",
        submit_label_es="Descargar la guía",
        submit_label_en="Download the guide",
        success_message_es="¡Gracias! Aquí tienes la guía.",
        success_message_en="Thank you! Here is the guide.",
        purpose_notice_es="Enviarte la guía y, si lo pides, las convocatorias de vivienda.",
        purpose_notice_en="Sending you the guide and, if you ask, housing aid calls.",
        double_opt_in=False,
    )
    plan_form = _form(
        PLAN_FORM_SLUG,
        PLAN_FIELDS,
        name="Plan de barrio de San Blas",
        status=Form.Status.PUBLISHED,
        title_es="Tu propuesta para San Blas",
        title_en="Your proposal for San Blas",
        submit_label_es="Enviar mi propuesta",
        submit_label_en="Send my proposal",
        success_message_es="¡Gracias por participar! Leeremos todas las propuestas.",
        success_message_en="Thank you for taking part! We will read every proposal.",
        purpose_notice_es="Recoger propuestas para el Plan de barrio de San Blas.",
        purpose_notice_en="Collecting proposals for the San Blas neighbourhood plan.",
        legal_basis=ConsentRecord.LegalBasis.PUBLIC_TASK,
        double_opt_in=False,
        embed_origins=DEMO_EMBED_ORIGIN,
    )
    created = 0
    if not landing_pages().filter(slug_es=GUIDE_SLUG).exists():
        guide = _landing(
            GUIDE_SLUG,
            title_es="Guía de ayudas al alquiler joven",
            title_en="Guide to youth rental aid",
            slug_en="youth-rental-aid-guide",
            summary_es="Todo lo que necesitas para pedir la ayuda al alquiler si tienes entre "
            "18 y 35 años, en una guía en PDF.",
            summary_en="Everything you need to apply for rental aid if you are 18 to 35, in a "
            "PDF guide.",
            body_es="<p>Requisitos, cuantías, plazos y documentos, explicados paso a paso.</p>",
            body_en="<p>Requirements, amounts, deadlines and documents, step by step.</p>",
            form=guide_form,
            gated_asset_title_es="Guía de ayudas al alquiler joven",
            gated_asset_title_en="Guide to youth rental aid",
            thanks_message_es="¡Gracias! Tu guía está lista para descargar.",
            thanks_message_en="Thank you! Your guide is ready to download.",
            meta_description_es="Descarga gratis la guía de ayudas al alquiler joven de "
            "Villaclara del Río.",
        )
        pdf = demo_pdf(
            "Guia de ayudas al alquiler joven",
            [
                "Ayuntamiento de Villaclara del Rio",
                "Quien puede pedirla: personas de 18 a 35 anos empadronadas en el municipio.",
                "Cuantia: hasta el 40 % del alquiler mensual, con un maximo de 250 euros.",
                "Documentos: contrato de alquiler, DNI y ultima declaracion de la renta.",
            ],
        )
        guide.gated_asset.save("guia-ayudas-alquiler-joven.pdf", ContentFile(pdf), save=True)
        created += 1
    if newsletter is not None and not landing_pages().filter(slug_es="boletin-movilidad").exists():
        _landing(
            "boletin-movilidad",
            title_es="Muévete informado por Villaclara",
            title_en="Get around Villaclara, well informed",
            slug_en="mobility-newsletter",
            summary_es="Cortes de tráfico, obras y novedades del autobús, una vez a la semana.",
            summary_en="Road closures, works and bus news, once a week.",
            body_es="<p>Suscríbete y elige los temas que te interesan.</p>",
            body_en="<p>Subscribe and choose the topics you care about.</p>",
            form=newsletter,
        )
        created += 1
    if not landing_pages().filter(slug_es="plan-de-barrio-san-blas").exists():
        _landing(
            "plan-de-barrio-san-blas",
            title_es="Plan de barrio de San Blas",
            title_en="San Blas neighbourhood plan",
            slug_en="san-blas-neighbourhood-plan",
            summary_es="El Ayuntamiento prepara el Plan de barrio de San Blas: cuéntanos qué "
            "mejorarías.",
            summary_en="The council is preparing the San Blas neighbourhood plan: tell us what "
            "you would improve.",
            body_es="<p>Recogemos propuestas hasta el 30 de junio. Las presentaremos en una "
            "asamblea abierta en el centro cívico.</p>",
            body_en="<p>We collect proposals until 30 June and will present them at an open "
            "meeting in the community centre.</p>",
            form=plan_form,
        )
        created += 1
    _ctas_place()
    _abtest_seed()
    if created:
        transaction.on_commit(public_pages_invalidate)
    return created


# The A/B test on the mobility newsletter page: a shorter headline and a plainer button, with
# two weeks of synthetic visitors so its results page shows figures.
ABTEST_NAME = "Titular corto del boletín de movilidad"
ABTEST_DAYS = 14
ABTEST_VISITORS = 800


def _abtest_seed() -> None:
    """Start the demo test with its page views and submissions, once (nothing if it exists)."""
    page = landing_pages().filter(slug_es="boletin-movilidad").select_related("form").first()
    if page is None or page.form is None or ABTest.objects.filter(landing_page=page).exists():
        return
    started = timezone.now() - dt.timedelta(days=ABTEST_DAYS)
    test = ABTest.objects.create(
        landing_page=page, name=ABTEST_NAME, control_weight=50, started_at=started
    )
    LandingVariant.objects.create(
        test=test,
        name="Titular corto",
        weight=50,
        title_es="Tu barrio, sin sorpresas de tráfico",
        title_en="Your area, no traffic surprises",
        submit_label_es="Quiero el boletín",
        submit_label_en="Send me the newsletter",
    )
    test = ABTest.objects.prefetch_related("variants").get(pk=test.pk)
    with translation.override("es"):
        path = page.get_absolute_url()
    views: list[TouchpointIn] = []  # and conversions
    submissions: list[Submission] = []
    for number in range(ABTEST_VISITORS):
        # Shaped like real keys, and each on the arm its key maps to.
        key = hashlib.sha256(f"demo-ab-visitor-{number}".encode()).hexdigest()[:32]
        variant = variant_for(test=test, visitor_key=key)
        seen_at = started + dt.timedelta(minutes=number * ABTEST_DAYS * 24 * 60 // ABTEST_VISITORS)
        views.append(
            TouchpointIn(
                kind="page_view",
                visitor_key=key,
                subject=page,
                properties={
                    "language": "es",
                    **view_properties(test=test, variant=variant, visitor_key=key),
                },
                occurred_at=seen_at,
            )
        )
        # About 9% of the control's visitors sign up and 14% of the variant's: each a
        # submission (keeping no visitor key) and the anonymous conversion the test counts.
        if int(key[:4], 16) % 100 < (14 if variant is not None else 9):
            sent_at = seen_at + dt.timedelta(minutes=3)
            submissions.append(
                Submission(
                    form=page.form,
                    form_version=page.form.version,
                    language="es",
                    page=path,
                    landing_page=page,
                    variant=variant,
                    idempotency_key=hashlib.sha256(f"demo-ab:{key}".encode()).hexdigest(),
                    created_at=sent_at,
                )
            )
            views.append(
                TouchpointIn(
                    kind="ab_conversion",
                    visitor_key=key,
                    subject=page,
                    properties=view_properties(test=test, variant=variant, visitor_key=key),
                    occurred_at=sent_at,
                )
            )
    touchpoints_record_bulk(rows=views)
    Submission.objects.bulk_create(submissions)


def _ctas_place() -> None:
    """The demo CTAs, each placed at the end of a related article (in every language it has)."""
    for name, page_slug, article_slug, style, text_es, text_en, desc_es, desc_en in CTAS:
        page = landing_pages().filter(slug_es=page_slug).first()
        if page is None:
            continue
        CallToAction.objects.get_or_create(
            name=name,
            defaults={
                "landing_page": page,
                "style": style,
                "text": text_es,
                "text_es": text_es,
                "text_en": text_en,
                "description_es": desc_es,
                "description_en": desc_en,
            },
        )
        article = articles_all().filter(slug_es=article_slug).first()
        if article is None:
            continue
        marker = f"<p>[[cta:{name}]]</p>"
        changed = []
        for language in ("es", "ca", "eu", "gl", "en"):
            body = getattr(article, f"body_{language}", "") or ""
            if body and marker not in body:
                setattr(article, f"body_{language}", body + marker)
                changed.append(f"body_{language}")
        if changed:
            article.save(update_fields=changed)
