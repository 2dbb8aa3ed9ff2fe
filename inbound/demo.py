"""The demo institution: a fictional Spanish city hall, its staff and its legal texts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from inbound.lib.pagecache import public_pages_invalidate
from inbound.models import AccessibilityStatement, LegalPage
from inbound.roles import Role, assign_roles


@dataclass(frozen=True)
class DemoStaff:
    username: str
    first_name: str
    last_name: str
    role: Role
    password: str


DEMO_STAFF = [
    DemoStaff("editora", "Lucía", "Navarro", Role.EDITOR, "demo-editora-2026"),
    DemoStaff("marketing", "Javier", "Ortega", Role.MARKETER, "demo-marketing-2026"),
    DemoStaff("analista", "Carmen", "Ibáñez", Role.ANALYST, "demo-analista-2026"),
    DemoStaff("admin", "Andrés", "Molina", Role.ADMINISTRATOR, "demo-admin-2026"),
]

PRIVACY_ES = """
<p>El Ayuntamiento de Villaclara del Río trata los datos personales que usted nos facilita con
pleno respeto al Reglamento (UE) 2016/679 (RGPD) y a la Ley Orgánica 3/2018 (LOPDGDD).</p>
<h2>Responsable del tratamiento</h2>
<p>Ayuntamiento de Villaclara del Río, Plaza Mayor, 1, 28999 Villaclara del Río (Madrid).
Delegado de Protección de Datos: <a href="mailto:dpd@villaclara.example">dpd@villaclara.example</a>.</p>
<h2>Finalidades y base jurídica</h2>
<ul>
<li>Enviarle información sobre los temas a los que se suscriba: su consentimiento (art. 6.1.a RGPD).</li>
<li>Gestionar sus solicitudes y encuestas de satisfacción de servicios: misión de interés público (art. 6.1.e RGPD).</li>
<li>Estadísticas de uso del sitio sin cookies y con identificadores seudónimos que se renuevan a diario.</li>
</ul>
<h2>Conservación</h2>
<p>Conservamos sus datos mientras mantenga su suscripción y, después, el tiempo necesario para
atender posibles responsabilidades. La prueba de su consentimiento se conserva mientras pueda ser exigida.</p>
<h2>Sus derechos</h2>
<p>Puede acceder, rectificar, suprimir, oponerse, limitar el tratamiento y portar sus datos, y retirar
su consentimiento en cualquier momento desde el enlace de cada correo o escribiendo a
<a href="mailto:dpd@villaclara.example">dpd@villaclara.example</a>. Si no está conforme, puede
reclamar ante la Agencia Española de Protección de Datos (<a href="https://www.aepd.es">www.aepd.es</a>).</p>
"""

PRIVACY_EN = """
<p>Villaclara del Río City Hall processes the personal data you give us in full compliance with
Regulation (EU) 2016/679 (GDPR) and Spanish Organic Law 3/2018 (LOPDGDD).</p>
<h2>Controller</h2>
<p>Villaclara del Río City Hall, Plaza Mayor, 1, 28999 Villaclara del Río (Madrid).
Data Protection Officer: <a href="mailto:dpd@villaclara.example">dpd@villaclara.example</a>.</p>
<h2>Purposes and legal basis</h2>
<ul>
<li>Sending you information on the topics you subscribe to: your consent (art. 6.1.a GDPR).</li>
<li>Handling your requests and service satisfaction surveys: a task in the public interest (art. 6.1.e GDPR).</li>
<li>Cookieless usage statistics with pseudonymous identifiers renewed daily.</li>
</ul>
<h2>Retention</h2>
<p>We keep your data while your subscription lasts and afterwards only as long as needed for
possible liabilities. Proof of your consent is kept while it may be required.</p>
<h2>Your rights</h2>
<p>You may access, rectify, erase, object, restrict processing and port your data, and withdraw
consent at any time through the link in every email or by writing to
<a href="mailto:dpd@villaclara.example">dpd@villaclara.example</a>. You may complain to the Spanish
Data Protection Agency (<a href="https://www.aepd.es">www.aepd.es</a>).</p>
"""

LEGAL_NOTICE_ES = """
<p>Titular: Ayuntamiento de Villaclara del Río, NIF P2899900A, Plaza Mayor, 1, 28999 Villaclara
del Río (Madrid). Correo: <a href="mailto:atencion@villaclara.example">atencion@villaclara.example</a>.</p>
<p>Los contenidos de este sitio se publican con licencia Creative Commons Reconocimiento 4.0
salvo que se indique lo contrario.</p>
"""

COMPLAINTS_ES = (
    "Puede presentar una queja o reclamación sobre la accesibilidad de este sitio a través del "
    "registro electrónico del Ayuntamiento o en la Oficina de Atención Ciudadana. La unidad "
    "responsable de accesibilidad responderá en el plazo máximo de veinte días hábiles. Si la "
    "respuesta no le satisface, puede iniciar el procedimiento de reclamación previsto en el "
    "artículo 13 del Real Decreto 1112/2018."
)


@transaction.atomic
def demo_seed(*, with_passwords: bool) -> list[tuple[DemoStaff, bool]]:
    """Create or refresh the demo institution. Idempotent; returns the staff and if created.

    Passwords are set only when `with_passwords` (DEBUG); otherwise accounts get unusable
    passwords and an administrator sets real ones with `manage.py changepassword`.
    """
    user_model = get_user_model()
    staff: list[tuple[DemoStaff, bool]] = []
    for person in DEMO_STAFF:
        user, created = user_model.objects.get_or_create(
            username=person.username,
            defaults={
                "first_name": person.first_name,
                "last_name": person.last_name,
                "email": f"{person.username}@villaclara.example",
                "is_staff": True,
            },
        )
        if with_passwords:
            user.set_password(person.password)
            user.save()
        elif created or user.check_password(person.password):
            # Never leave a published demo password usable outside DEBUG.
            user.set_unusable_password()
            user.save()
        assign_roles(user, [person.role])
        staff.append((person, created))

    for kind, language, title, body in (
        (LegalPage.Kind.PRIVACY, "es", "Política de privacidad", PRIVACY_ES),
        (LegalPage.Kind.PRIVACY, "en", "Privacy policy", PRIVACY_EN),
        (LegalPage.Kind.LEGAL_NOTICE, "es", "Aviso legal", LEGAL_NOTICE_ES),
    ):
        LegalPage.objects.get_or_create(
            kind=kind, language=language, defaults={"title": title, "body": body.strip()}
        )

    if not AccessibilityStatement.objects.exists():
        AccessibilityStatement.objects.create(
            compliance=AccessibilityStatement.Compliance.PARTIAL,
            non_accessible_content=(
                "Algunos documentos PDF anteriores a 2024 no están etiquetados para lectores de "
                "pantalla (falta de conformidad).\n"
                "Los vídeos de plenos municipales anteriores a 2023 no tienen subtítulos (carga "
                "desproporcionada)."
            ),
            accessible_alternatives=(
                "Puede solicitar cualquier documento en formato accesible escribiendo a "
                "accesibilidad@villaclara.example."
            ),
            prepared_on=dt.date(2026, 11, 2),
            method=AccessibilityStatement.Method.SELF,
            reviewed_on=dt.date(2026, 11, 2),
            contact_email="accesibilidad@villaclara.example",
            contact_phone="+34 900 000 010",
            responsible_unit="Unidad de Accesibilidad del Ayuntamiento de Villaclara del Río",
            complaints_procedure=COMPLAINTS_ES,
        )
    transaction.on_commit(public_pages_invalidate)
    return staff
