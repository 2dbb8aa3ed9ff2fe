"""Bar charts drawn on the server as SVG (`templates/inbound/_bar_chart.html`).

No JavaScript and no inline style (the Content-Security-Policy allows neither): the geometry is
SVG attributes computed here, the colours come from the stylesheet. Each bar carries its label
and its value as text, so the chart reads without colour; the SVG is one image whose accessible
name is the title and whose description lists every value, and pages show the same figures in a
table next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 420  # small enough that the text stays legible when a phone scales it down
VALUE_ROOM = 110  # to the right of the longest bar, for its value
ROW = 44
LABEL_BASELINE = 16
BAR_TOP, BAR_HEIGHT = 22, 14
VALUE_BASELINE = 34
LABEL_MAX = 55


@dataclass(frozen=True)
class Bar:
    label: str  # as shown (shortened when long)
    full_label: str
    text: str  # the value, formatted for the reader
    y: int
    width: int
    label_y: int
    bar_y: int
    value_x: int
    value_y: int


@dataclass(frozen=True)
class BarChart:
    id: str  # unique on the page: the SVG's title and description are referred to by it
    title: str
    description: str
    bars: list[Bar]
    width: int
    height: int
    bar_height: int = BAR_HEIGHT


def _short(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def bar_chart(
    *, id: str, title: str, bars: Sequence[tuple[str, float, str]], maximum: float | None = None
) -> BarChart:
    """A horizontal bar chart of (label, value, value as text) rows, bars scaled to `maximum`
    (the largest value when not given)."""
    top = maximum if maximum is not None else max((value for _l, value, _t in bars), default=0)
    room = WIDTH - VALUE_ROOM
    drawn = []
    for index, (label, value, text) in enumerate(bars):
        y = index * ROW
        width = round(room * min(value, top) / top) if top > 0 and value > 0 else 0
        drawn.append(
            Bar(
                label=_short(label),
                full_label=label,
                text=text,
                y=y,
                width=max(width, 1) if value > 0 else 0,
                label_y=y + LABEL_BASELINE,
                bar_y=y + BAR_TOP,
                value_x=max(width, 1) + 6 if value > 0 else 0,
                value_y=y + VALUE_BASELINE,
            )
        )
    description = "; ".join(f"{label}: {text}" for label, _v, text in bars)
    return BarChart(
        id=id,
        title=title,
        description=description,
        bars=drawn,
        width=WIDTH,
        height=max(len(bars), 1) * ROW,
    )
