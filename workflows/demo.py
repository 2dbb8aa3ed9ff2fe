"""Demo workflows of the Spanish demo institution, active after `make run`: the newsletter's
welcome series, the reactivation of contacts quiet for 90 days and a notice to staff of each
proposal sent from a landing page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from campaigns.models import Email
from contacts.models import Segment
from contacts.segment_rules import rules_validate
from content.models import Article, Page
from conversion.demo import SLUG as NEWSLETTER_FORM_SLUG
from conversion.models import Form, landing_pages
from workflows.models import Workflow, WorkflowStep
from workflows.services import workflow_activate

WELCOME = "Bienvenida a la newsletter"
REACTIVATION = "Reactivación: 90 días sin actividad"
STAFF_NOTICE = "Aviso al equipo: solicitudes desde la landing del Plan de barrio de San Blas"
INACTIVE_SEGMENT = "Sin actividad en 90 días"
# The landing page whose form's submissions the team is told about, and who is told: the demo
# marketer (inbound.demo), an active staff account.
NOTICE_LANDING_SLUG = "plan-de-barrio-san-blas"
NOTICE_STAFF_USERNAME = "marketing"
Kind = WorkflowStep.Kind

GREETING = '<h2>Hola, {{ contact.first_name|default:"vecino/a" }}:</h2>'

WELCOME_BODY = (
    GREETING
    + """
<p>Gracias por confirmar tu suscripción. Ya recibes el boletín del Ayuntamiento.</p>
<p>Te escribiremos una vez a la semana, solo con lo útil: cortes de tráfico, obras, ayudas y
planes de tu barrio.</p>
<p>{link}</p>
<p>Un saludo.</p>"""
)

TIPS_BODY = (
    GREETING
    + """
<p>Llevas unos días con nosotros. Tres ideas para que el boletín te sirva más:</p>
<ul><li>Elige tus temas. Puedes cambiarlos cuando quieras con el enlace del final.</li>
<li>Guarda nuestra dirección en tus contactos. Así no iremos al correo no deseado.</li>
<li>Mira la guía de movilidad. Tiene las líneas de autobús y el carril bici.</li></ul>
<p>{link}</p>
<p>Un saludo.</p>"""
)

SURVEY_BODY = (
    GREETING
    + """
<p>Hace dos semanas que lees el boletín. Queremos saber qué te parece.</p>
<p>¿Te es útil? ¿Qué echas de menos? Cuéntanoslo en un correo a
<a href="mailto:atencion@villaclara.example">atencion@villaclara.example</a>. Leemos todas
las respuestas.</p>
<p>{link}</p>
<p>Gracias por tu ayuda.</p>"""
)

REACTIVATION_BODY = (
    GREETING
    + """
<p>Hace tiempo que no sabemos de ti. ¿Te siguen interesando las noticias de tu barrio?</p>
<p>Si es así, abre esta noticia del mes y seguimos en contacto:</p>
<p>{link}</p>
<p>Si prefieres no recibir más correos, usa el enlace del final. Lo entenderemos.</p>"""
)


def _link(path: str, label: str) -> str:
    return f'<a href="{path}">{label}</a>'


def _article_link(label: str) -> str:
    """A link to the latest live article; empty when there is none (content not seeded)."""
    article = Article.objects.live().order_by("-published_at").first()
    if article is None:
        return ""
    with translation.override("es"):
        return _link(reverse("content:article-detail", kwargs={"slug": article.slug}), label)


def _page_link(slug: str, label: str) -> str:
    """A link to a live top-level page of the demo; empty when it is not there."""
    if not Page.objects.live().filter(parent=None, slug_es=slug).exists():
        return ""
    with translation.override("es"):
        return _link(reverse("content:page-detail", kwargs={"path": slug}), label)


def _email(name: str, subject: str, preheader: str, body: str, link: str) -> Email:
    """A Spanish e-mail made like the demo newsletter (the institution's address as sender;
    the layout adds the unsubscribe and preferences links)."""
    return Email.objects.create(
        name=name, subject_es=subject, preheader_es=preheader, body_es=body.replace("{link}", link)
    )


def _workflow_seed(name: str, description: str, steps: list[dict[str, Any]], **fields: Any) -> int:
    """Create the workflow with its steps and activate it (which refuses a broken one)."""
    workflow = Workflow.objects.create(name=name, description=description, **fields)
    for order, spec in enumerate(steps):
        WorkflowStep.objects.create(workflow=workflow, order=order * 10, **spec)
    workflow_activate(workflow=workflow, by=None)
    return 1


@transaction.atomic
def _welcome_seed() -> int:
    form = Form.objects.filter(slug=NEWSLETTER_FORM_SLUG).first()
    if form is None or Workflow.objects.filter(name=WELCOME).exists():
        return 0
    welcome = _email(
        f"{WELCOME} · 1 Bienvenida",
        "Te damos la bienvenida al boletín",
        "Qué vas a recibir y cada cuánto",
        WELCOME_BODY,
        _article_link("Lee la noticia más reciente"),
    )
    tips = _email(
        f"{WELCOME} · 2 Consejos",
        "Tres ideas para sacar partido al boletín",
        "Elige tus temas y no te pierdas nada",
        TIPS_BODY,
        _page_link("guia-movilidad", "Abre la guía de movilidad"),
    )
    survey = _email(
        f"{WELCOME} · 3 Encuesta",
        "¿Qué te parece el boletín?",
        "Dos minutos para ayudarnos a mejorarlo",
        SURVEY_BODY,
        _page_link(
            "oficina-atencion-ciudadana", "Cuéntanoslo también en la Oficina de Atención Ciudadana"
        ),
    )
    return _workflow_seed(
        WELCOME,
        "Quien confirma su suscripción al boletín de movilidad recibe una bienvenida, unos "
        "consejos a los 3 días y una encuesta a los 14.",
        [
            {"key": "bienvenida", "kind": Kind.SEND_EMAIL, "email": welcome},
            {"key": "espera-3-dias", "kind": Kind.WAIT, "wait_days": 3},
            {"key": "consejos", "kind": Kind.SEND_EMAIL, "email": tips},
            {"key": "espera-11-dias", "kind": Kind.WAIT, "wait_days": 11},
            {"key": "encuesta", "kind": Kind.SEND_EMAIL, "email": survey},
            {"key": "fin", "kind": Kind.END},
        ],
        trigger=Workflow.Trigger.TOUCHPOINT,
        trigger_kind="optin_confirmed",
        trigger_subject_type=ContentType.objects.get_for_model(Form),
        trigger_subject_id=str(form.pk),
    )


@transaction.atomic
def _reactivation_seed() -> int:
    if Workflow.objects.filter(name=REACTIVATION).exists():
        return 0
    inactive = {
        "all": [
            {"field": "last_activity_at", "op": "is_set"},
            {"not": {"field": "last_activity_at", "op": "within_last_days", "value": 90}},
        ]
    }
    rules_validate(inactive)
    segment, _created = Segment.objects.get_or_create(
        name=INACTIVE_SEGMENT,
        defaults={
            "kind": Segment.Kind.DYNAMIC,
            "rules": inactive,
            "description": "Contactos cuya última actividad fue hace más de 90 días.",
        },
    )
    ask = _email(
        f"{REACTIVATION} · ¿Seguimos en contacto?",
        "¿Seguimos en contacto?",
        "Un clic y seguimos escribiéndote",
        REACTIVATION_BODY,
        _article_link("Lee la noticia del mes"),
    )
    return _workflow_seed(
        REACTIVATION,
        "A quien lleva 90 días sin actividad le preguntamos si seguimos en contacto. Si pulsa "
        "un enlace en 7 días, queda etiquetado como «reactivado»; si no, como «inactivo».",
        [
            {"key": "pregunta", "kind": Kind.SEND_EMAIL, "email": ask},
            {"key": "espera-7-dias", "kind": Kind.WAIT, "wait_days": 7},
            {
                "key": "ha-pulsado",
                "kind": Kind.BRANCH,
                "name": "¿Ha pulsado un enlace del correo?",
                "branch_on": WorkflowStep.BranchOn.TOUCHPOINT,
                "touchpoint_kind": "email_click",
                "touchpoint_step_key": "pregunta",
                "next_key": "reactivado",
                "no_key": "inactivo",
            },
            {"key": "reactivado", "kind": Kind.UPDATE_CONTACT, "tag": "reactivado"},
            {"key": "fin-reactivado", "kind": Kind.END},
            {"key": "inactivo", "kind": Kind.UPDATE_CONTACT, "tag": "inactivo"},
            {"key": "fin", "kind": Kind.END},
        ],
        trigger=Workflow.Trigger.SEGMENT,
        trigger_segment=segment,
        # Whoever comes back and later goes quiet again is asked again.
        reenrol=Workflow.Reenrol.ALWAYS,
    )


@transaction.atomic
def _staff_notice_seed() -> int:
    if Workflow.objects.filter(name=STAFF_NOTICE).exists():
        return 0
    page = landing_pages().filter(slug_es=NOTICE_LANDING_SLUG).select_related("form").first()
    staff = (
        get_user_model()
        .objects.filter(username=NOTICE_STAFF_USERNAME, is_active=True, is_staff=True)
        .exclude(email="")
        .first()
    )
    if page is None or page.form is None or staff is None:
        return 0
    return _workflow_seed(
        STAFF_NOTICE,
        "Cada propuesta enviada desde la landing del Plan de barrio de San Blas avisa por "
        "correo al equipo de participación.",
        [
            {
                "key": "aviso",
                "kind": Kind.NOTIFY_STAFF,
                "notify_emails": staff.email,
                "notify_subject": "Nueva propuesta para el Plan de barrio de San Blas",
            },
            {"key": "fin", "kind": Kind.END},
        ],
        trigger=Workflow.Trigger.TOUCHPOINT,
        trigger_kind="form_submit",
        trigger_subject_type=ContentType.objects.get_for_model(Form),
        trigger_subject_id=str(page.form.pk),
        reenrol=Workflow.Reenrol.ALWAYS,  # every proposal, not only a person's first
    )


def workflows_demo_seed() -> int:
    """The demo workflows, each created and activated once; how many it created. One whose
    form, landing page or staff account is not there yet is left for a later run."""
    return _welcome_seed() + _reactivation_seed() + _staff_notice_seed()
