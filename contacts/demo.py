"""Demo citizens of Villaclara del Río: topics, contacts, consents, touchpoints, personas, segments.

Everything is fictional: names are drawn from lists of common Spanish names, addresses are at
`.example` domains (RFC 2606), districts and postal codes belong to the fictional town. The data
is deterministic for a given seed and day, and bulk-inserted so `make run` stays quick.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from contacts.lifecycle import contacts_lifecycle_refresh
from contacts.models import (
    ConsentRecord,
    Contact,
    ContactProperty,
    Persona,
    Segment,
    SegmentMember,
    Subscription,
    Tag,
    Topic,
    Touchpoint,
)
from contacts.personas import personas_assign
from contacts.services import KIND_STAGES

BATCH = 1000
DEMO_DOMAINS = ("villamail.example", "correo-web.example", "buzon.example", "netmail.example")

TOPICS = [
    ("movilidad", "Movilidad", "Mobility"),
    ("medio-ambiente", "Medio ambiente", "Environment"),
    ("cultura", "Cultura", "Culture"),
    ("empleo", "Empleo", "Employment"),
    ("servicios-sociales", "Servicios sociales", "Social services"),
    ("urbanismo", "Urbanismo", "Urban planning"),
    ("deportes", "Deportes", "Sports"),
    ("educacion", "Educación", "Education"),
]

JOB_SITUATIONS = ["empleado", "autonomo", "desempleado", "estudiante", "jubilado"]
VEHICLES = ["coche", "moto", "bicicleta", "ninguno"]
PROPERTIES = [
    ("tiene_hijos", "Tiene hijos o hijas", ContactProperty.Type.BOOLEAN, []),
    ("situacion_laboral", "Situación laboral", ContactProperty.Type.CHOICE, JOB_SITUATIONS),
    ("vehiculo", "Vehículo principal", ContactProperty.Type.CHOICE, VEHICLES),
]

# District → postal code of the fictional town (28990–28999).
DISTRICTS = [
    ("Centro", "28999"),
    ("Ensanche", "28990"),
    ("Ribera", "28991"),
    ("Los Olivos", "28992"),
    ("San Roque", "28993"),
    ("El Prado", "28994"),
    ("La Estación", "28995"),
    ("Las Eras", "28996"),
    ("Valdelobos", "28997"),
    ("Fuente Vieja", "28998"),
]
DISTRICT_WEIGHTS = [14, 16, 10, 12, 9, 11, 8, 7, 6, 7]

# fmt: off
FEMALE_NAMES = [
    "María", "Carmen", "Ana", "Isabel", "Laura", "Lucía", "Marta", "Cristina", "Paula", "Elena",
    "Sara", "Raquel", "Pilar", "Rosa", "Dolores", "Teresa", "Beatriz", "Silvia", "Patricia",
    "Nuria", "Irene", "Andrea", "Julia", "Alba", "Claudia", "Sofía", "Noelia", "Mercedes",
    "Rocío", "Eva", "Inés", "Alicia", "Lorena", "Sonia", "Montserrat", "Concepción", "Josefa",
    "Manuela", "Esther", "Natalia", "Carla", "Daniela", "Victoria", "Marina", "Aitana", "Nerea",
    "Ainhoa", "Miriam", "Yolanda", "Virginia", "Amparo",
]
MALE_NAMES = [
    "Antonio", "José", "Manuel", "Francisco", "David", "Juan", "Javier", "Daniel", "Carlos",
    "Jesús", "Alejandro", "Miguel", "Rafael", "Pablo", "Pedro", "Sergio", "Fernando", "Jorge",
    "Luis", "Alberto", "Álvaro", "Adrián", "Diego", "Raúl", "Enrique", "Ramón", "Vicente",
    "Andrés", "Iván", "Rubén", "Óscar", "Hugo", "Mario", "Marcos", "Víctor", "Tomás", "Ignacio",
    "Alfonso", "Gonzalo", "Lucas", "Martín", "Mateo", "Nicolás", "Samuel", "Joaquín", "Emilio",
    "Julián", "Santiago", "Agustín", "Eduardo",
]
SURNAMES = [
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
    "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez",
    "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil",
    "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega", "Delgado", "Castro",
    "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina", "Garrido", "Cortés",
    "Castillo", "Santos", "Lozano", "Guerrero", "Cano", "Prieto", "Méndez", "Cruz", "Calvo",
    "Gallego", "Vidal", "León", "Márquez", "Herrera", "Peña", "Flores", "Cabrera", "Campos",
    "Vega", "Fuentes", "Carrasco", "Diez", "Caballero", "Reyes", "Nieto", "Aguilar", "Pascual",
    "Santana", "Herrero", "Lorenzo", "Montero", "Hidalgo", "Giménez", "Ibáñez", "Ferrer", "Durán",
    "Santiago", "Benítez", "Mora", "Vicente", "Arias",
]
# fmt: on

# Age bands (inclusive) and how common each is among people who sign up with a city hall.
AGE_BANDS = [
    ((16, 24), 11),
    ((25, 34), 16),
    ((35, 44), 20),
    ((45, 54), 19),
    ((55, 64), 15),
    ((65, 74), 12),
    ((75, 90), 7),
]
LANGUAGES = [("es", 86), ("en", 6), ("ca", 4), ("gl", 2), ("eu", 2)]
EMAIL_STATUSES = [
    (Contact.EmailStatus.ACTIVE, 88),
    (Contact.EmailStatus.UNCONFIRMED, 4),
    (Contact.EmailStatus.UNSUBSCRIBED, 5),
    (Contact.EmailStatus.BOUNCED, 2),
    (Contact.EmailStatus.COMPLAINED, 1),
]
SOURCES = [
    (Contact.Source.FORM, 55),
    (Contact.Source.IMPORT, 25),
    (Contact.Source.MANUAL, 12),
    (Contact.Source.API, 8),
]
TOUCHPOINT_KINDS = [
    ("page_view", 44),
    ("search", 10),
    ("email_open", 22),
    ("email_click", 9),
    ("cta_click", 5),
    ("form_submit", 6),
    ("survey_response", 4),
]
PAGES = [
    "/es/",
    "/es/agenda/",
    "/es/noticias/obras-calle-mayor/",
    "/es/tramites/padron/",
    "/es/movilidad/bicicleta-publica/",
    "/es/empleo/ofertas/",
    "/es/cultura/programacion/",
    "/es/deportes/piscinas/",
    "/es/medio-ambiente/recogida-residuos/",
    "/es/educacion/becas/",
]
SEARCHES = [
    "empadronamiento",
    "horario piscina",
    "cita previa",
    "bono bus",
    "becas comedor",
    "recogida muebles",
    "licencia obras",
    "bolsa de empleo",
    "huertos urbanos",
    "fiestas",
]
CAMPAIGNS = [
    "boletin-2026-06",
    "boletin-2026-07",
    "boletin-2026-09",
    "movilidad-semana-europea",
    "cultura-otono",
    "empleo-feria",
]

TOPIC_CONSENT_TEXT = (
    "Acepto que el Ayuntamiento de Villaclara del Río me envíe información sobre {topic}. "
    "Puedo darme de baja en cualquier momento desde el enlace de cada correo."
)
NEWSLETTER_TEXT = (
    "Acepto recibir el boletín municipal del Ayuntamiento de Villaclara del Río. Puedo darme de "
    "baja en cualquier momento desde el enlace de cada correo."
)
CONSENT_VERSION = "2026-01"

PERSONAS: list[dict[str, Any]] = [
    {
        "name": "Laura, madre trabajadora",
        "priority": 10,
        "summary": "41 años, dos hijos en primaria, trabaja a jornada completa en Ensanche.",
        "background": (
            "Laura trabaja como administrativa en una empresa de logística y vive en Ensanche "
            "con su pareja y sus dos hijos de 7 y 10 años. Organiza la semana entre el trabajo, "
            "el colegio y las actividades extraescolares."
        ),
        "goals": (
            "Hacer trámites municipales sin pedir permiso en el trabajo.\n"
            "Enterarse a tiempo de plazos de becas, campamentos y actividades para sus hijos."
        ),
        "frustrations": (
            "Horarios de atención presencial solo por la mañana.\n"
            "Información dispersa entre la web, redes sociales y carteles."
        ),
        "motivations": "Que sus hijos crezcan en un barrio seguro, verde y con buenos servicios.",
        "preferred_channels": "Correo electrónico, web desde el móvil, grupos de familias.",
        "expectations": (
            "Recordatorios claros de plazos, trámites 100 % en línea y respuestas en pocos días."
        ),
        "rules": {
            "all": [
                {"field": "age", "op": "between", "value": [28, 54]},
                {"property": "tiene_hijos", "op": "eq", "value": True},
            ]
        },
    },
    {
        "name": "Antonio, jubilado",
        "priority": 20,
        "summary": "71 años, jubilado, vive en el Centro y participa en el centro de mayores.",
        "background": (
            "Antonio fue conductor de autobús durante 35 años. Vive solo en el Centro desde que "
            "enviudó y pasa las mañanas en el centro de mayores y paseando por la Ribera."
        ),
        "goals": (
            "Conocer las actividades del centro de mayores y las excursiones.\n"
            "Resolver dudas sobre ayudas, el bono del transporte y la atención domiciliaria."
        ),
        "frustrations": (
            "Webs con letra pequeña y formularios largos.\n"
            "Tener que pedir ayuda a sus nietos para la cita previa en línea."
        ),
        "motivations": (
            "Sentirse útil, estar acompañado y seguir participando en la vida del barrio."
        ),
        "preferred_channels": "Atención presencial, teléfono, boletín impreso y correo sencillo.",
        "expectations": (
            "Un trato cercano, textos claros y la posibilidad de hablar con una persona."
        ),
        "rules": {
            "any": [
                {"field": "age", "op": "gte", "value": 65},
                {"property": "situacion_laboral", "op": "eq", "value": "jubilado"},
            ]
        },
    },
    {
        "name": "Lucía, estudiante",
        "priority": 30,
        "summary": "20 años, estudia en la universidad y se mueve en bicicleta.",
        "background": (
            "Lucía estudia Biología en la universidad de la capital y vive con sus padres en "
            "Los Olivos. Va a la estación en bicicleta y colabora con una asociación ecologista."
        ),
        "goals": (
            "Encontrar becas, ofertas de empleo joven y actividades culturales gratuitas.\n"
            "Participar en decisiones sobre medio ambiente y movilidad."
        ),
        "frustrations": (
            "Procesos de participación lentos en los que no ve resultados.\n"
            "Carriles bici interrumpidos y pocas conexiones por la noche."
        ),
        "motivations": "Cambiar su ciudad y hacer cosas con gente de su edad.",
        "preferred_channels": "Redes sociales, mensajería, web desde el móvil.",
        "expectations": (
            "Información breve y visual, respuestas rápidas y ver el impacto de lo que propone."
        ),
        "rules": {
            "all": [
                {"field": "age", "op": "lte", "value": 27},
                {"property": "situacion_laboral", "op": "eq", "value": "estudiante"},
            ]
        },
    },
    {
        "name": "Javier, autónomo",
        "priority": 40,
        "summary": "46 años, tiene un taller de reparación de bicicletas en San Roque.",
        "background": (
            "Javier abrió su taller hace ocho años. Trabaja solo, con un aprendiz en verano, y "
            "se ocupa él mismo de la contabilidad y de los trámites con el Ayuntamiento."
        ),
        "goals": (
            "Tramitar licencias y ayudas al comercio local sin perder días de trabajo.\n"
            "Enterarse de obras y cortes de calle que afectan a su negocio."
        ),
        "frustrations": (
            "Plazos que se enteran tarde y documentación repetida en cada trámite.\n"
            "No saber en qué punto está su expediente."
        ),
        "motivations": "Que su negocio funcione y el barrio tenga vida comercial.",
        "preferred_channels": "Correo electrónico, teléfono, sede electrónica.",
        "expectations": (
            "Avisos con antelación, un interlocutor único y trámites en línea que funcionen."
        ),
        "rules": {"all": [{"property": "situacion_laboral", "op": "eq", "value": "autonomo"}]},
    },
]


def _segments() -> list[dict[str, Any]]:
    return [
        {
            "name": "Interesados en movilidad activos",
            "description": "Suscritos a movilidad que han hecho clic en un correo en 90 días.",
            "rules": {
                "all": [
                    {"topic": "movilidad"},
                    {"behaviour": {"kind": "email_click", "days": 90, "min": 1}},
                ]
            },
        },
        {
            "name": "Detractores recientes (NPS ≤ 6)",
            "description": "Han puntuado 6 o menos en una encuesta en los últimos 90 días.",
            "rules": {
                "all": [
                    {
                        "touchpoint_property": {
                            "kind": "survey_response",
                            "key": "nps",
                            "op": "lte",
                            "value": 6,
                            "days": 90,
                        }
                    }
                ]
            },
        },
        {
            "name": "Jóvenes sin suscripción",
            "description": "Menores de 30 años sin ninguna suscripción a temas.",
            "rules": {
                "all": [
                    {"field": "age", "op": "lt", "value": 30},
                    {"not": {"any": [{"topic": slug} for slug, _es, _en in TOPICS]}},
                ]
            },
        },
    ]


STATIC_LIST = ("Asistentes al foro de participación 2026", 40)


@dataclass
class _Person:
    contact: Contact
    situation: str
    age: int
    topics: list[str]


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _w in weighted], weights=[w for _v, w in weighted])[0]


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "")


def _situation(rng: random.Random, age: int) -> str:
    if age < 23:
        return _pick(rng, [("estudiante", 75), ("empleado", 15), ("desempleado", 10)])
    if age < 30:
        return _pick(
            rng, [("estudiante", 20), ("empleado", 55), ("autonomo", 10), ("desempleado", 15)]
        )
    if age < 63:
        return _pick(
            rng, [("empleado", 66), ("autonomo", 17), ("desempleado", 12), ("jubilado", 5)]
        )
    if age < 68:
        return _pick(rng, [("jubilado", 70), ("empleado", 22), ("autonomo", 8)])
    return "jubilado"


def _topics_for(rng: random.Random, age: int, situation: str, has_children: bool) -> list[str]:
    weights = {slug: 10 for slug, _es, _en in TOPICS}
    weights["movilidad"] += 8
    weights["cultura"] += 6
    if situation in {"desempleado", "estudiante"}:
        weights["empleo"] += 25
    if situation == "autonomo":
        weights["urbanismo"] += 15
        weights["empleo"] += 10
    if has_children:
        weights["educacion"] += 25
        weights["deportes"] += 10
    if age >= 65:
        weights["servicios-sociales"] += 25
    if age < 30:
        weights["medio-ambiente"] += 15
        weights["deportes"] += 8
    how_many = _pick(rng, [(0, 25), (1, 35), (2, 25), (3, 15)])
    chosen: list[str] = []
    while len(chosen) < how_many:
        slug = rng.choices(list(weights), weights=list(weights.values()))[0]
        if slug not in chosen:
            chosen.append(slug)
    return chosen


def _demo_exists() -> bool:
    query = Q()
    for domain in DEMO_DOMAINS:
        query |= Q(email__endswith=f"@{domain}")
    return Contact.objects.filter(query).exists()


def _reference_data() -> tuple[dict[str, Topic], list[Tag]]:
    topics: dict[str, Topic] = {}
    for order, (slug, name_es, name_en) in enumerate(TOPICS):
        topic, _created = Topic.objects.get_or_create(
            slug=slug,
            defaults={"name": name_es, "name_es": name_es, "name_en": name_en, "order": order},
        )
        topics[slug] = topic
    for key, label, type_, choices in PROPERTIES:
        ContactProperty.objects.get_or_create(
            key=key, defaults={"label": label, "type": type_, "choices": choices}
        )
    tags = [
        Tag.objects.get_or_create(name=name)[0]
        for name in ("voluntariado", "asociacion-vecinal", "comercio-local")
    ]
    return topics, tags


def _people(
    rng: random.Random, count: int, today: dt.date, start: dt.datetime, end: dt.datetime
) -> list[_Person]:
    people: list[_Person] = []
    seen: set[str] = set()
    span = (end - start).total_seconds()
    for _n in range(count):
        female = rng.random() < 0.52
        first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        surname1, surname2 = rng.choice(SURNAMES), rng.choice(SURNAMES)
        band = _pick(rng, AGE_BANDS)
        age = rng.randint(*band)
        district, postal_code = rng.choices(DISTRICTS, weights=DISTRICT_WEIGHTS)[0]
        situation = _situation(rng, age)
        has_children = 28 <= age <= 58 and rng.random() < 0.55
        local = f"{_ascii(first)}.{_ascii(surname1)}"
        if rng.random() < 0.4:
            local += f".{_ascii(surname2)}"
        candidate, suffix = local, 1
        domain = rng.choice(DEMO_DOMAINS)
        while f"{candidate}@{domain}" in seen:
            suffix += 1
            candidate = f"{local}{suffix}"
        email = f"{candidate}@{domain}"
        seen.add(email)
        properties: dict[str, Any] = {"situacion_laboral": situation}
        if rng.random() < 0.85:
            properties["tiene_hijos"] = has_children
        if rng.random() < 0.8:
            properties["vehiculo"] = _pick(
                rng, [("coche", 55), ("ninguno", 20), ("bicicleta", 15), ("moto", 10)]
            )
        contact = Contact(
            email=email,
            first_name=first,
            last_name=f"{surname1} {surname2}",
            language=_pick(rng, LANGUAGES),
            postal_code=postal_code,
            district=district,
            birth_year=today.year - age,
            source=_pick(rng, SOURCES),
            email_status=_pick(rng, EMAIL_STATUSES),
            properties=properties,
            created_at=start + dt.timedelta(seconds=rng.uniform(0, span) * 0.5),
        )
        if contact.email_status == Contact.EmailStatus.ACTIVE:
            contact.email_verified_at = contact.created_at + dt.timedelta(
                minutes=rng.randint(1, 90)
            )
        people.append(
            _Person(contact, situation, age, _topics_for(rng, age, situation, has_children))
        )
    return people


def _consent(
    contact: Contact,
    purpose: str,
    action: str,
    when: dt.datetime,
    topic: Topic | None = None,
) -> ConsentRecord:
    text = (
        TOPIC_CONSENT_TEXT.format(topic=(getattr(topic, "name_es", "") or topic.name).lower())
        if topic
        else NEWSLETTER_TEXT
    )
    return ConsentRecord(
        contact=contact,
        purpose=purpose,
        topic=topic,
        legal_basis=ConsentRecord.LegalBasis.CONSENT,
        action=action,
        text=text,
        text_version=CONSENT_VERSION,
        source=ConsentRecord.Source.FORM,
        occurred_at=when,
    )


def _touchpoint_properties(rng: random.Random, kind: str) -> dict[str, Any]:
    if kind == "page_view":
        return {"path": rng.choice(PAGES)}
    if kind == "search":
        return {"q": rng.choice(SEARCHES)}
    if kind in {"email_open", "email_click"}:
        return {"campaign": rng.choice(CAMPAIGNS)}
    if kind == "survey_response":
        # Most citizens are satisfied; the tail of detractors is what services act on.
        nps = min(10, max(0, round(rng.gauss(7.4, 2.2))))
        return {"nps": nps, "score": min(10, max(0, nps + rng.randint(-1, 1)))}
    if kind == "form_submit":
        return {"form": rng.choice(["cita-previa", "sugerencias", "inscripcion-taller"])}
    return {}


@transaction.atomic
def contacts_demo_seed(*, contacts: int = 2000, seed: int = 42) -> int:
    """Create the demo citizens and everything about them; returns how many were created.

    Idempotent: does nothing (returns 0) when demo contacts already exist. Deterministic for a
    given `seed` on a given day (dates are relative to today's midnight).
    """
    if _demo_exists():
        return 0
    rng = random.Random(seed)  # noqa: S311 -- reproducible demo data, not secrets
    # Its own stream, so the rest of the demo stays what it was without it.
    rhythm = random.Random(seed + 1)  # noqa: S311
    today = timezone.localdate()
    midnight = timezone.make_aware(dt.datetime.combine(today, dt.time()))
    start = midnight - dt.timedelta(days=182)
    topics, tags = _reference_data()

    people = _people(rng, contacts, today, start, midnight)

    subscriptions: list[Subscription] = []
    consents: list[ConsentRecord] = []
    touchpoints: list[Touchpoint] = []
    tagged: list[tuple[Contact, Tag]] = []
    for person in people:
        contact = person.contact
        joined = contact.created_at
        unsubscribed = contact.email_status == Contact.EmailStatus.UNSUBSCRIBED
        for slug in person.topics:
            topic = topics[slug]
            status = (
                Subscription.Status.UNSUBSCRIBED
                if unsubscribed
                else _pick(
                    rng,
                    [
                        (Subscription.Status.ACTIVE, 85),
                        (Subscription.Status.UNSUBSCRIBED, 10),
                        (Subscription.Status.PENDING, 5),
                    ],
                )
            )
            # Most want news at once; some a daily or weekly digest (bulletins).
            frequency = _pick(
                rhythm,
                [
                    (Subscription.Frequency.IMMEDIATE, 70),
                    (Subscription.Frequency.DAILY, 20),
                    (Subscription.Frequency.WEEKLY, 10),
                ],
            )
            subscriptions.append(
                Subscription(
                    contact=contact,
                    topic=topic,
                    status=status,
                    frequency=frequency,
                    created_at=joined,
                )
            )
            if status != Subscription.Status.PENDING:
                consents.append(_consent(contact, "topic", "granted", joined, topic))
            if status == Subscription.Status.UNSUBSCRIBED:
                left = joined + dt.timedelta(days=rng.randint(5, 60))
                consents.append(_consent(contact, "topic", "withdrawn", left, topic))
        if rng.random() < 0.45:
            consents.append(_consent(contact, "newsletter", "granted", joined))
            if unsubscribed or rng.random() < 0.08:
                left = joined + dt.timedelta(days=rng.randint(5, 90))
                consents.append(_consent(contact, "newsletter", "withdrawn", left))
        if rng.random() < 0.06:
            tagged.append((contact, rng.choice(tags)))

        # Active citizens do more of everything; some barely come back after signing up.
        activity = rng.choice([0.3, 0.7, 1.0, 1.0, 1.4, 2.0])
        span = (midnight - joined).total_seconds()
        last = None
        for _n in range(max(1, round(rng.randint(5, 15) * activity))):
            kind = _pick(rng, TOUCHPOINT_KINDS)
            if kind.startswith("email_") and not person.topics:
                kind = "page_view"
            when = joined + dt.timedelta(seconds=rng.uniform(0, span))
            touchpoints.append(
                Touchpoint(
                    contact=contact,
                    kind=kind,
                    stage=KIND_STAGES[kind],
                    properties=_touchpoint_properties(rng, kind),
                    occurred_at=when,
                )
            )
            last = max(last, when) if last else when
        contact.last_activity_at = last

    # Related rows were built against unsaved contacts; bulk_create fills in their ids.
    Contact.objects.bulk_create([p.contact for p in people], batch_size=BATCH)
    Subscription.objects.bulk_create(subscriptions, batch_size=BATCH)
    ConsentRecord.objects.bulk_create(consents, batch_size=BATCH)
    Touchpoint.objects.bulk_create(touchpoints, batch_size=BATCH)
    tag_through = Contact.tags.through
    tag_through.objects.bulk_create(
        [tag_through(contact_id=contact.pk, tag_id=tag.pk) for contact, tag in tagged],
        batch_size=BATCH,
    )

    for spec in PERSONAS:
        Persona.objects.get_or_create(name=spec["name"], defaults=spec)
    for spec in _segments():
        Segment.objects.get_or_create(
            name=spec["name"],
            defaults={**spec, "kind": Segment.Kind.DYNAMIC},
        )
    name, size = STATIC_LIST
    static, created = Segment.objects.get_or_create(
        name=name,
        defaults={
            "kind": Segment.Kind.STATIC,
            "description": "Personas inscritas en el foro de participación ciudadana de 2026.",
        },
    )
    if created:
        attendees = rng.sample(people, min(size, len(people)))
        SegmentMember.objects.bulk_create(
            [SegmentMember(segment=static, contact=p.contact) for p in attendees]
        )

    personas_assign()
    contacts_lifecycle_refresh()
    return len(people)
