"""Chart geometry for inline SVG: Python places every mark, the templates only draw them.

Coordinates are pre-formatted strings with one decimal, so the templates stay free of
arithmetic and the output is byte-stable from build to build.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from tracker.formatting import DASH, month, plural
from tracker.scorecards.figures import pct
from tracker.scoring import BRIER_CHANCE, BrierPoint, CalibrationBin

# The plotting area inside each chart's viewBox.
WIDTH, HEIGHT = 460, 380
# The right margin leaves room for half of the last x label ("Jan 2026"), centred on the edge.
LEFT, TOP, PLOT_W, PLOT_H = 64, 24, 356, 300


def _f(x: float) -> str:
    return f"{x:.1f}"


def month_label(d: dt.date) -> str:
    """ "Nov 2017" (`tracker.formatting.month`)."""
    return month(d)


@dataclass(frozen=True, slots=True)
class Axes:
    """Where the plotting area and the axis labels sit inside a chart's viewBox."""

    width: int = WIDTH
    height: int = HEIGHT
    left: str = _f(LEFT)
    right: str = _f(LEFT + PLOT_W)
    top: str = _f(TOP)
    bottom: str = _f(TOP + PLOT_H)
    x_tick_y: str = _f(TOP + PLOT_H + 20)  # baseline of the x tick labels
    y_tick_x: str = _f(LEFT - 8)  # right edge of the y tick labels
    x_title_x: str = _f(LEFT + PLOT_W / 2)
    x_title_y: str = _f(TOP + PLOT_H + 46)
    y_title_x: str = _f(16)
    y_title_y: str = _f(TOP + PLOT_H / 2)


AXES = Axes()


@dataclass(frozen=True, slots=True)
class Tick:
    """A gridline with its label; `pos` is x for vertical lines and y for horizontal ones."""

    pos: str
    label: str


@dataclass(frozen=True, slots=True)
class CalibrationMark:
    """One bin: a dot at (mean forecast, observed), its 95% interval as a bar, and its n."""

    cx: str
    cy: str
    r: str
    y_low: str
    y_high: str
    cap_left: str
    cap_right: str
    label_y: str
    label: str
    title: str


@dataclass(frozen=True, slots=True)
class CalibrationChart:
    """The calibration chart: gridlines, the diagonal of perfect calibration, one mark per bin."""

    axes: Axes
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    marks: tuple[CalibrationMark, ...]
    description: str


def _x(p: float) -> float:
    return LEFT + p * PLOT_W


def _y(share: float, top: float = 1.0) -> float:
    return TOP + (1.0 - share / top) * PLOT_H


def calibration_chart(bins: Sequence[CalibrationBin]) -> CalibrationChart | None:
    """The chart for a calibration table; None when nothing is scored."""
    if not bins:
        return None
    marks = []
    for b in bins:
        x = _x(b.mean_forecast)
        y_high = _y(b.ci_high)
        said = pct(b.mean_forecast) if b.lower == b.upper else f"{pct(b.lower)}{DASH}{pct(b.upper)}"
        marks.append(
            CalibrationMark(
                cx=_f(x),
                cy=_f(_y(b.observed)),
                r=_f(min(3.5 + 1.6 * math.sqrt(b.n), 11.0)),
                y_low=_f(_y(b.ci_low)),
                y_high=_f(y_high),
                cap_left=_f(x - 5),
                cap_right=_f(x + 5),
                label_y=_f(max(y_high - 7, TOP - 6)),
                label=f"n={b.n}",
                title=(
                    f"Said {said}: {b.hits} of {b.n} came true ({pct(b.observed)}; "
                    f"95% interval {pct(b.ci_low)}{DASH}{pct(b.ci_high)})"
                ),
            )
        )
    ticks = (0.0, 0.25, 0.5, 0.75, 1.0)
    n = sum(b.n for b in bins)
    description = (
        f"{plural(len(bins), 'group')} of predictions, {n:,} in all. "
        + " ".join(m.title + "." for m in marks)
        + " A well-calibrated source's dots sit on the diagonal."
    )
    return CalibrationChart(
        axes=AXES,
        x_ticks=tuple(Tick(_f(_x(t)), pct(t)) for t in ticks),
        y_ticks=tuple(Tick(_f(_y(t)), pct(t)) for t in ticks),
        marks=tuple(marks),
        description=description,
    )


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """One month of the Brier-over-time line."""

    cx: str
    cy: str
    title: str


@dataclass(frozen=True, slots=True)
class TimelineChart:
    """Cumulative Brier score by month of resolution, with the coin-flip reference line."""

    axes: Axes
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    chance_y: str
    path: str
    points: tuple[TimelinePoint, ...]
    description: str


def _month_index(month: dt.date) -> int:
    return month.year * 12 + month.month - 1


def timeline_chart(points: Sequence[BrierPoint]) -> TimelineChart | None:
    """The Brier-over-time chart; None when no scored prediction has a resolution date."""
    if not points:
        return None
    top = 0.5 if max(p.brier for p in points) <= 0.5 else 1.0
    first, last = _month_index(points[0].month), _month_index(points[-1].month)
    months = max(last - first, 1)

    def x_of(month: dt.date) -> float:
        if first == last:
            return LEFT + PLOT_W / 2
        return LEFT + (_month_index(month) - first) / months * PLOT_W

    marks = tuple(
        TimelinePoint(
            cx=_f(x_of(p.month)),
            cy=_f(_y(p.brier, top)),
            title=f"{month_label(p.month)}: {p.brier:.3f} over {plural(p.n, 'prediction')}",
        )
        for p in points
    )
    path = "M" + " L".join(f"{m.cx} {m.cy}" for m in marks)
    wanted = [points[0].month, points[-1].month] if first != last else [points[0].month]
    x_ticks = tuple(Tick(_f(x_of(m)), month_label(m)) for m in dict.fromkeys(wanted))
    y_values = (0.0, 0.25, 0.5) if top == 0.5 else (0.0, 0.25, 0.5, 0.75, 1.0)
    latest = points[-1]
    return TimelineChart(
        axes=AXES,
        y_ticks=tuple(Tick(_f(_y(v, top)), f"{v:.2f}") for v in y_values),
        x_ticks=x_ticks,
        chance_y=_f(_y(BRIER_CHANCE, top)),
        path=path,
        points=marks,
        description=(
            f"Cumulative Brier score by month of resolution, {len(points)} month"
            f"{'s' if len(points) != 1 else ''} from {month_label(points[0].month)} to "
            f"{month_label(latest.month)}; latest {latest.brier:.3f} over {latest.n} predictions. "
            "The dashed line at 0.25 is always saying 50%; lower is better."
        ),
    )


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of a verdict distribution: its label, count, share and bar width."""

    key: str
    label: str
    count: int
    share: str
    width: str  # CSS percentage of the widest bar


def bars(rows: Sequence[tuple[str, str, int]]) -> tuple[Bar, ...]:
    """Bars for (key, label, count) rows, shares of their total, widths relative to the largest."""
    total = sum(count for _, _, count in rows)
    widest = max((count for _, _, count in rows), default=0)
    return tuple(
        Bar(
            key=key,
            label=label,
            count=count,
            share=pct(count / total) if total else "\u2014",
            width=f"{100 * count / widest:.1f}%" if widest else "0%",
        )
        for key, label, count in rows
    )
