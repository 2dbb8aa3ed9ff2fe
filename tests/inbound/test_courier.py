"""The courier hands many messages over one pipelined SMTP connection and says what became of
each: accepted, refused, or lost with the connection (and then only the one whose data left)."""

from __future__ import annotations

import smtplib

from django.core import mail

from inbound.lib.courier import Courier, Outcome
from inbound.lib.mailing import MessageTemplate, Outgoing
from tests.smtp import SmtpSink

SENDER = "Ayuntamiento <atencion@villaclara.example>"


def copy(number: int, body: str = "Hola") -> Outgoing:
    data = (
        f"From: {SENDER}\r\nTo: vecina{number}@correo.example\r\n"
        f"Subject: Aviso {number}\r\nMessage-ID: <m{number}@villaclara.example>\r\n\r\n{body}\r\n"
    ).encode()
    return Outgoing(
        envelope_from=SENDER,
        recipients=(f"vecina{number}@correo.example",),
        data=data,
        message_id=f"<m{number}@villaclara.example>",
    )


def send_all(courier: Courier, copies: list[Outgoing]) -> dict[int, Outcome]:
    outcomes = []
    for number, message in enumerate(copies):
        outcomes += courier.hand(number, message)
    outcomes += courier.collect()
    assert sorted(o.key for o in outcomes) == list(range(len(copies)))  # each reported once
    return {o.key: o for o in outcomes}


def test_many_messages_go_over_one_pipelined_connection_exactly_as_written(
    smtp_sink: SmtpSink,
) -> None:
    copies = [copy(n, body=".a line that begins with a period\r\n..and two") for n in range(5)]

    outcomes = send_all(Courier(mail.get_connection()), copies)

    assert all(o.error is None for o in outcomes.values())
    assert smtp_sink.recipients == [f"vecina{n}@correo.example" for n in range(5)]
    assert smtp_sink.senders == ["atencion@villaclara.example"] * 5
    assert [m.replace(b"\r\n", b"\n") for m in smtp_sink.messages] == [
        c.data.replace(b"\r\n", b"\n") for c in copies
    ]
    assert smtp_sink.connections == 1


def test_a_refused_recipient_fails_alone_and_the_next_message_still_goes(
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.answers = {"vecina1@correo.example": "550 5.1.1 No such user"}

    outcomes = send_all(Courier(mail.get_connection()), [copy(n) for n in range(3)])

    error = outcomes[1].error
    assert isinstance(error, smtplib.SMTPRecipientsRefused)
    assert error.recipients == {"vecina1@correo.example": (550, b"5.1.1 No such user")}
    assert outcomes[0].error is None and outcomes[2].error is None
    assert smtp_sink.recipients == ["vecina0@correo.example", "vecina2@correo.example"]


def test_a_server_that_does_not_pipeline_gets_one_message_at_a_time(smtp_sink: SmtpSink) -> None:
    smtp_sink.pipelining = False
    smtp_sink.answers = {"vecina1@correo.example": "451 4.3.0 Try again later"}

    outcomes = send_all(Courier(mail.get_connection()), [copy(n) for n in range(3)])

    assert isinstance(outcomes[1].error, smtplib.SMTPRecipientsRefused)
    assert smtp_sink.recipients == ["vecina0@correo.example", "vecina2@correo.example"]


def test_a_hang_up_fails_the_message_whose_data_left_and_hands_the_rest_again(
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.hang_up_at = {2}  # the server drops the connection on the second message's data

    outcomes = send_all(Courier(mail.get_connection()), [copy(n) for n in range(4)])

    # The second may have arrived (only the answer was lost): its sender decides. The third's
    # commands had left with it, its data had not: sent again over a new connection.
    assert isinstance(outcomes[1].error, smtplib.SMTPServerDisconnected)
    assert [n for n, o in sorted(outcomes.items()) if o.error is None] == [0, 2, 3]
    assert smtp_sink.recipients == [f"vecina{n}@correo.example" for n in (0, 2, 3)]
    assert smtp_sink.connections == 2


def test_other_backends_are_handed_the_prepared_message() -> None:
    template = MessageTemplate()
    template.build(subject="Aviso", text="Hola\n", html=None, from_email=SENDER)
    courier = Courier(mail.get_connection())  # the test run's memory backend

    outcomes = courier.hand(7, template.message(to="vecina@correo.example", values={}))

    assert [(o.key, o.error) for o in outcomes] == [(7, None)]
    assert outcomes[0].message_id and courier.collect() == []
    assert [m.to for m in mail.outbox] == [["vecina@correo.example"]]
