"""A message rendered once and copied per recipient must equal what Django would assemble."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from inbound.lib.mailing import MessageTemplate, send_prepared

SUBJECT = "Confirma tu suscripción · Ayuntamiento de Villaclara del Río"


def confirm_template(*, html_line: str = "") -> MessageTemplate:
    template = MessageTemplate()
    url = template.slot("url")
    return template.build(
        subject=SUBJECT,
        text=f"Hola, ñandú:\n\nConfirma aquí: {url}\n",
        html=f'<p lang="es">Hola, ñandú: <a href="{url}">confirmar</a></p>{html_line}',
        from_email="Ayuntamiento <atencion@villaclara.example>",
    )


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def django_assembled(copy: EmailMultiAlternatives) -> EmailMessage:
    plain = EmailMultiAlternatives(
        subject=copy.subject, body=copy.body, from_email=copy.from_email, to=copy.to
    )
    for content, mimetype in copy.alternatives:
        plain.attach_alternative(content, mimetype)
    return parsed(plain.message().as_bytes(linesep="\r\n"))  # type: ignore[call-arg]  # as sent


def test_a_copy_reads_exactly_as_the_message_django_would_assemble() -> None:
    url = "https://villaclara.example/es/confirmar/eyJzIjo0Mn0:1xYS:abc-_Z/"
    copy = confirm_template().message(to="lucia@correo.example", values={"url": url})

    assert copy.raw is not None  # the fast path was taken
    fast, reference = parsed(copy.raw), django_assembled(copy)
    for header in ("Subject", "From", "To", "MIME-Version", "Content-Type"):
        assert str(fast[header]).split(";")[0] == str(reference[header]).split(";")[0], header
    for kind in ("plain", "html"):
        fast_part, reference_part = fast.get_body((kind,)), reference.get_body((kind,))
        assert fast_part is not None and reference_part is not None
        assert fast_part.get_content() == reference_part.get_content()
    assert url in copy.body and url in copy.alternatives[0][0]
    assert "inbound-slot" not in copy.raw.decode()


def test_every_copy_has_its_own_message_id_and_values() -> None:
    template = confirm_template()
    copies = [
        template.message(to=f"vecina{n}@correo.example", values={"url": f"https://x.example/{n}/"})
        for n in range(3)
    ]

    messages = [parsed(c.raw or b"") for c in copies]
    assert len({m["Message-ID"] for m in messages}) == 3
    for number, message in enumerate(messages):
        assert message["To"] == f"vecina{number}@correo.example"
        body = message.get_body(("plain",))
        assert body is not None and f"https://x.example/{number}/" in body.get_content()


@pytest.mark.parametrize(
    ("to", "url"),
    [
        ("nuria@cañada.example", "https://x.example/1/"),  # IDN: Django encodes the domain
        ("Lucía <lucia@correo.example>", "https://x.example/1/"),  # a display name
        ("lucia@correo.example", "https://x.example/1/\r\nBcc: otra@correo.example"),
        ("lucia@correo.example", "https://x.example/" + "a" * 990),  # past the line limit
    ],
)
def test_what_the_fast_path_cannot_prove_right_is_left_to_django(to: str, url: str) -> None:
    copy = confirm_template().message(to=to, values={"url": url})

    assert copy.raw is None
    message = parsed(copy.message().as_bytes())
    html = message.get_body(("html",))
    assert html is not None and "inbound-slot" not in html.get_content()


def test_a_body_the_encoder_rewrites_falls_back_to_django() -> None:
    # A line over 998 bytes is sent quoted-printable, which may cut a slot in two.
    template = confirm_template(html_line="<p>" + "palabra " * 200 + "</p>")
    copy = template.message(to="lucia@correo.example", values={"url": "https://x.example/1/"})

    assert copy.raw is None
    html = parsed(copy.message().as_bytes()).get_body(("html",))
    assert html is not None and 'href="https://x.example/1/"' in html.get_content()


def test_other_backends_receive_a_normal_message() -> None:
    copy = confirm_template().message(to="lucia@correo.example", values={"url": "https://x/1/"})

    send_prepared(copy)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["lucia@correo.example"]
    assert "https://x/1/" in mail.outbox[0].body


def test_a_value_in_any_script_is_joined_into_a_plain_ascii_body() -> None:
    template = MessageTemplate()
    template.build(
        subject="Hello",
        text=f"Dear {template.slot('name')},\n",
        html=f"<p>Dear {template.slot('name')},</p>",
        from_email="atencion@villaclara.example",
    )

    copy = template.message(to="jose@correo.example", values={"name": "José Ñúñez 李"})

    assert copy.raw is not None
    message = parsed(copy.raw)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and text.get_content() == "Dear José Ñúñez 李,\r\n"
    assert html is not None and "Dear José Ñúñez 李," in html.get_content()
    assert copy.message_id and message["Message-ID"] == copy.message_id


def test_a_header_slot_takes_only_plain_url_characters() -> None:
    template = MessageTemplate(header_slots=("unsubscribe",))
    template.build(
        subject="Hola",
        text="Hola\n",
        html=None,
        headers={"List-Unsubscribe": f"<{template.slot('unsubscribe')}>"},
    )

    fine = template.message(to="a@correo.example", values={"unsubscribe": "https://x.es/b/t0k/"})
    odd = template.message(to="a@correo.example", values={"unsubscribe": "https://x.es/b/ñ/"})

    assert fine.raw is not None and parsed(fine.raw)["List-Unsubscribe"] == "<https://x.es/b/t0k/>"
    assert odd.raw is None
    assert parsed(odd.message().as_bytes())["List-Unsubscribe"] == "<https://x.es/b/ñ/>"


def repeated_link_template(links: int, line: str = "") -> MessageTemplate:
    template = MessageTemplate()
    token = template.slot("token")
    anchors = "".join(f'<a href="https://x.example/e/{token}/{n}/">{n}</a> ' for n in range(links))
    return template.build(
        subject="Hello",
        text=f"Hi {template.slot('name')}\n",
        html=f"<p>{anchors}{line}</p>",
        from_email="atencion@villaclara.example",
    )


def test_a_long_line_with_room_for_its_values_takes_the_fast_path() -> None:
    # A value on another line does not count against the long one.
    template = repeated_link_template(2, line="palabra " * 60)

    copy = template.message(
        to="lucia@correo.example", values={"token": "t" * 100, "name": "n" * 300}
    )

    assert copy.raw is not None
    assert max(len(line) for line in copy.raw.split(b"\r\n")) <= 998


def test_a_slot_repeated_on_one_line_counts_each_time_against_the_line_limit() -> None:
    template = repeated_link_template(10)  # ten tracked links on one line

    copy = template.message(to="lucia@correo.example", values={"token": "t" * 80, "name": "n"})

    assert copy.raw is None  # joined, that line would pass 998 bytes
    html = parsed(copy.message().as_bytes()).get_body(("html",))
    assert html is not None and html.get_content().count("t" * 80) == 10
