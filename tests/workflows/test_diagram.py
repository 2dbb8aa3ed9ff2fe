"""A workflow's diagram: one box per step in order with its counts, arrows for every edge
(branches labelled, jumps back on the left), valid SVG with a title, and the same graph told
step by step in words."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string

from contacts.models import Segment
from tests.workflows.test_workflows import workflow_with
from workflows.diagram import WorkflowDiagram, workflow_diagram, workflow_trigger_text
from workflows.graph import workflow_successors
from workflows.models import Workflow, WorkflowStep
from workflows.services import StepCounts

pytestmark = pytest.mark.django_db
Kind = WorkflowStep.Kind
SVG = "{http://www.w3.org/2000/svg}"


def diagram_of(workflow: Workflow, counts: dict[int, StepCounts] | None = None) -> WorkflowDiagram:
    steps = list(workflow.steps.order_by("order", "pk"))
    return workflow_diagram(
        workflow=workflow,
        steps=steps,
        successors=workflow_successors(workflow),
        counts=counts,
    )


def reminder_loop() -> Workflow:
    """Tag, wait, ask whether they opened it: yes goes on, no waits again (a jump back);
    the thank-you jumps forward over the reminder to the end."""
    return workflow_with(
        {"key": "tag", "kind": Kind.UPDATE_CONTACT, "tag": "nuevo", "name": "Marcar como nuevo"},
        {"key": "wait", "kind": Kind.WAIT, "wait_days": 3},
        {
            "key": "opened",
            "kind": Kind.BRANCH,
            "branch_on": WorkflowStep.BranchOn.TOUCHPOINT,
            "touchpoint_kind": "email_open",
            "name": "¿Abrió el correo?",
            "no_key": "wait",
        },
        {"key": "thanks", "kind": Kind.UPDATE_CONTACT, "tag": "lector", "next_key": "done"},
        {"key": "reminder", "kind": Kind.UPDATE_CONTACT, "tag": "recordado"},
        {"key": "done", "kind": Kind.END},
    )


def test_the_text_alternative_says_where_each_step_goes() -> None:
    diagram = diagram_of(reminder_loop())

    texts = [item.text for item in diagram.steps]

    assert [item.number for item in diagram.steps] == [1, 2, 3, 4, 5, 6]
    assert texts[0].endswith(": Marcar como nuevo → paso 2")
    assert "3 días → paso 3" in texts[1]
    assert texts[2].endswith(": ¿Abrió el correo? Sí → paso 4; No → paso 2")
    assert texts[3].endswith("«lector» → paso 6")  # the jump over the reminder
    assert "→" not in texts[5]  # the end step goes nowhere
    assert diagram.description.startswith("1. ") and "6. " in diagram.description


def test_a_branch_to_nowhere_ends_and_says_so() -> None:
    workflow = workflow_with(
        {
            "key": "opened",
            "kind": Kind.BRANCH,
            "rule": {"field": "district", "op": "eq", "value": "Centro"},
            "name": "¿Vive en el Centro?",
        },
        {"key": "tag", "kind": Kind.UPDATE_CONTACT, "tag": "centro"},
    )

    texts = [item.text for item in diagram_of(workflow).steps]

    assert texts[0].endswith("¿Vive en el Centro? Sí → paso 2; No → fin")
    assert texts[1].endswith("→ fin")


def test_each_step_is_a_box_in_order_with_its_counts() -> None:
    workflow = reminder_loop()
    steps = list(workflow.steps.order_by("order", "pk"))
    counts = {steps[1].pk: StepCounts(waiting=7, passed=12, skipped=1, failed=2)}

    diagram = diagram_of(workflow, counts)

    step_boxes = [box for box in diagram.boxes if box.step is not None]
    assert [box.step for box in step_boxes] == steps
    assert [box.kind for box in diagram.boxes[:: len(diagram.boxes) - 1]] == ["start", "end"]
    tops = [box.y for box in diagram.boxes]
    assert tops == sorted(tops)  # a vertical flow, in the order the steps run
    assert step_boxes[1].counts == "en espera 7 · pasaron 12 · omitidos 1 · fallaron 2"
    assert step_boxes[0].counts == "en espera 0 · pasaron 0 · omitidos 0 · fallaron 0"
    assert diagram_of(workflow).boxes[1].counts == ""  # no counts given, none drawn
    assert step_boxes[0].title.startswith("1. ") and step_boxes[2].title.startswith("3. ")


def test_jumps_back_run_on_the_left_forward_jumps_on_the_right_and_branches_are_labelled() -> None:
    diagram = diagram_of(reminder_loop())
    box_x = diagram.boxes[1].x
    box_right = diagram.boxes[1].right

    def xs(path: str) -> list[int]:
        return [int(n) for n in re.findall(r"[MH](-?\d+)", path)]

    back = [edge for edge in diagram.edges if edge.kind == "back"]
    forward = [edge for edge in diagram.edges if edge.kind == "forward"]
    assert len(back) == 1 and back[0].label == "no"
    assert min(xs(back[0].path)) < box_x
    assert len(forward) == 1 and forward[0].label == ""
    assert max(xs(forward[0].path)) > box_right
    assert any(edge.kind == "down" and edge.label == "sí" for edge in diagram.edges)
    assert diagram.width > box_right  # the lanes fit in the drawing
    end_step, terminal = diagram.boxes[-2], diagram.boxes[-1]
    assert end_step.kind == "end" and terminal.step is None  # the end step leads into the end
    into_end = f"M{end_step.centre_x},{end_step.bottom} V{terminal.y}"
    assert any(edge.path == into_end for edge in diagram.edges)


def test_the_svg_is_valid_and_named_by_its_title_with_the_steps_in_a_list() -> None:
    workflow = reminder_loop()

    html = render_to_string(
        "workflows/_diagram.html", {"diagram": diagram_of(workflow)}
    )

    svg_text = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    svg = ET.fromstring(svg_text)  # noqa: S314 -- our own markup; well-formed, or this raises
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "workflow-diagram-title workflow-diagram-desc"
    title = svg.find(f"{SVG}title")
    assert title is not None and title.text == "Diagrama del flujo Bienvenida"
    assert len(svg.findall(f"{SVG}g")) == 8  # start, six steps, end
    assert "<script" not in html and "style=" not in html
    items = re.findall(r"<li id=\"workflow-diagram-step-\d\">(.*?)</li>", html)
    assert len(items) == 6 and "¿Abrió el correo? Sí → paso 4; No → paso 2" in items[2]


def test_a_workflow_without_steps_goes_from_enrolment_to_the_end() -> None:
    workflow = workflow_with()

    diagram = diagram_of(workflow)
    html = render_to_string("workflows/_diagram.html", {"diagram": diagram})

    assert [box.kind for box in diagram.boxes] == ["start", "end"]
    assert len(diagram.edges) == 1
    assert "Aún no hay pasos: añádelos en el editor." in html


def test_the_trigger_is_told_in_words() -> None:
    segment = Segment.objects.create(name="Vecinos del Centro")

    assert workflow_trigger_text(Workflow(trigger="manual")) == (
        "Solo cuando el personal inscribe contactos, desde esta página."
    )
    assert workflow_trigger_text(Workflow(trigger="segment", trigger_segment=segment)) == (
        "Cuando un contacto entra en el segmento «Vecinos del Centro»."
    )
    touchpoint = Workflow(
        trigger="touchpoint",
        trigger_kind="survey_response",
        trigger_conditions=[{"key": "nps", "op": "lte", "value": 6}],
    )
    assert workflow_trigger_text(touchpoint) == (
        "Cuando un contacto tiene la interacción survey_response con nps lte 6."
    )
    birthday = Workflow(
        trigger="date", trigger_date_field="created_at", trigger_date_offset_days=-7
    )
    assert workflow_trigger_text(birthday) == (
        "Cada año, 7 días antes de la fecha created_at, a las 09:00 (hora de Madrid)."
    )


def test_the_trigger_names_its_subject() -> None:
    from django.contrib.contenttypes.models import ContentType

    segment = Segment.objects.create(name="Boletín de movilidad")  # any model with a name
    about = Workflow(
        trigger="touchpoint",
        trigger_kind="form_submit",
        trigger_subject_type=ContentType.objects.get_for_model(Segment),
        trigger_subject_id=str(segment.pk),
    )
    assert "«Boletín de movilidad»" in workflow_trigger_text(about)
    about.trigger_subject_id = "999999"  # gone since: its id
    assert "#999999" in workflow_trigger_text(about)
