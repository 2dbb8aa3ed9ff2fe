"""Demo form of Villaclara del Río: the mobility newsletter sign-up, published.

Runs after the contacts seeder (it reuses its topics and its "vehiculo" property when they exist)
but does not depend on it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from contacts.demo import TOPICS
from contacts.models import ConsentRecord, Topic
from conversion.models import Form, FormField

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


@transaction.atomic
def conversion_demo_seed() -> int:
    """Create the published demo form; returns 1, or 0 when it already exists (idempotent)."""
    if Form.objects.filter(slug=SLUG).exists():
        return 0
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
    )
    for order, spec in enumerate(FIELDS):
        FormField.objects.create(form=form, order=order * 10, **spec)
    return 1
