"""Shaping data for the templates: evidence highlights in a message, line charts drawn as
inline SVG (no script, no library), and which way is good for each client meter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml

from app.engine.grader import Criterion
from app.models import CriterionPublic

METERS_FILE = Path(__file__).resolve().parent.parent / "templates" / "meters.yaml"
Better = Literal["high", "low"]

# ---------------------------------------------------------------- evidence highlights


@dataclass
class Segment:
    """A piece of a message: plain text, or a quote some criteria cite as evidence."""

    text: str
    techniques: list[str] = field(default_factory=list)  # empty: not evidence
    kinds: set[str] = field(default_factory=set)  # cue and/or anti_pattern

    @property
    def marked(self) -> bool:
        return bool(self.techniques)

    @property
    def css(self) -> str:
        return "anti" if "anti_pattern" in self.kinds else "cue"


Quote = tuple[str, str, str]  # (quote, kind, technique id)


def evidence_by_message(
    criteria: Sequence[CriterionPublic | Criterion],
) -> dict[int, list[Quote]]:
    """seq → (quote, kind, technique id) for every evidence quote of the grade."""
    found: dict[int, list[Quote]] = {}
    for criterion in criteria:
        for evidence in criterion.evidence:
            found.setdefault(evidence.seq, []).append(
                (evidence.quote, evidence.kind, criterion.technique_id)
            )
    return found


def segments(content: str, quotes: Sequence[Quote]) -> list[Segment]:
    """Cut a message into plain and quoted pieces; overlapping quotes merge into one mark.

    A quote is found at its first exact occurrence; one not in the text is left out."""
    spans: list[tuple[int, int, str, str]] = []
    for quote, kind, technique in quotes:
        start = content.find(quote) if quote else -1
        if start >= 0:
            spans.append((start, start + len(quote), kind, technique))
    spans.sort()
    merged: list[tuple[int, int, set[str], list[str]]] = []
    for start, end, kind, technique in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            techniques = last[3] if technique in last[3] else [*last[3], technique]
            merged[-1] = (last[0], max(last[1], end), last[2] | {kind}, techniques)
        else:
            merged.append((start, end, {kind}, [technique]))
    pieces: list[Segment] = []
    cursor = 0
    for start, end, kinds, techniques in merged:
        if start > cursor:
            pieces.append(Segment(content[cursor:start]))
        pieces.append(Segment(content[start:end], techniques, kinds))
        cursor = end
    if cursor < len(content) or not pieces:
        pieces.append(Segment(content[cursor:]))
    return pieces


# ---------------------------------------------------------------- charts


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: int
    label: str  # a tooltip: date, persona, value
    href: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    points: list[ChartPoint]
    polyline: str  # "x,y x,y …" joining the points
    grid: list[tuple[float, str]]  # (y, label) for 0, 50, 100
    pass_y: float | None  # the pass mark's line, when shown
    left: float
    right: float
    span: tuple[str, str] | None  # under the time axis: when the first and the last point were


def line_chart(
    values: Sequence[tuple[int | None, str, str]],
    *,
    width: int = 640,
    height: int = 200,
    pass_mark: int | None = None,
    span: tuple[str, str] | None = None,
) -> Chart:
    """A 0–100 line chart of (value or None, label, link) in order; None values are skipped
    but keep their place on the time axis, whose two ends `span` names."""
    left, right, top, bottom = 34.0, 10.0, 10.0, 16.0 + (14.0 if span else 0.0)
    span_x = width - left - right
    span_y = height - top - bottom

    def y_of(value: float) -> float:
        return round(top + span_y * (1 - value / 100), 1)

    count = len(values)
    points = [
        ChartPoint(
            x=round(left + (span_x * index / (count - 1) if count > 1 else span_x / 2), 1),
            y=y_of(value),
            value=value,
            label=label,
            href=href,
        )
        for index, (value, label, href) in enumerate(values)
        if value is not None
    ]
    return Chart(
        width=width,
        height=height,
        points=points,
        polyline=" ".join(f"{p.x},{p.y}" for p in points),
        grid=[(y_of(v), str(v)) for v in (0, 50, 100)],
        pass_y=y_of(pass_mark) if pass_mark is not None else None,
        left=left,
        right=width - right,
        span=span if count > 1 else None,
    )


# ---------------------------------------------------------------- client meters


@lru_cache
def meter_directions() -> dict[str, Better]:
    """meter id → 'high' (higher is better for the trainee) or 'low', from meters.yaml."""
    data = yaml.safe_load(METERS_FILE.read_text(encoding="utf-8"))
    directions: dict[str, Better] = {}
    for better in ("high", "low"):
        for meter in data.get(better) or []:
            if meter in directions:
                raise ValueError(f"{METERS_FILE}: '{meter}' is listed as both high and low")
            directions[str(meter)] = better  # type: ignore[assignment]
    return directions


@dataclass(frozen=True)
class MeterGauge:
    """One client meter as the chat page shows it: a <meter> whose optimum says which way
    is good (None: a meter meters.yaml does not know, shown without judging its moves)."""

    id: str
    label: str
    value: int
    better: Better | None

    @property
    def optimum(self) -> int | None:
        return {"high": 100, "low": 0, None: None}[self.better]


def meter_gauge(meter: str, label: str, value: float) -> MeterGauge:
    return MeterGauge(
        id=meter, label=label, value=round(value), better=meter_directions().get(meter)
    )
