"""Geometry of the pass-rate trend chart, drawn as inline SVG by the dashboard template.

Only numbers and dates reach the SVG, and the template escapes those too. Scans with nothing
evaluated have no rate: the line breaks there instead of pretending 0 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from controlmap.site.dashboard import TrendPoint

WIDTH = 640
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 34


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str  # the tooltip: date, rate and open findings


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    lines: list[str]  # SVG polyline "points" strings, one per unbroken run
    dots: list[Dot]
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str, str]]  # x, text, text-anchor


def trend_chart(points: Sequence[TrendPoint]) -> TrendChart:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    count = len(points)

    def x_at(index: int) -> float:
        return LEFT + (plot_w / 2 if count == 1 else plot_w * index / (count - 1))

    def y_at(rate: float) -> float:
        return TOP + plot_h * (1 - rate / 100.0)

    lines: list[str] = []
    run: list[str] = []
    dots: list[Dot] = []
    for index, point in enumerate(points):
        stamp = point.when.strftime("%Y-%m-%d %H:%M")
        if point.rate is None:
            if run:
                lines.append(" ".join(run))
            run = []
            continue
        x, y = round(x_at(index), 1), round(y_at(point.rate), 1)
        run.append(f"{x},{y}")
        dots.append(Dot(x, y, f"{stamp} UTC: {point.rate:.0f}% passing, {point.open} open"))
    if run:
        lines.append(" ".join(run))
    y_ticks = [(round(y_at(v), 1), f"{v}%") for v in (0, 25, 50, 75, 100)]
    x_labels: list[tuple[float, str, str]] = []
    same_day = count > 1 and points[0].when.date() == points[-1].when.date()
    fmt = "%Y-%m-%d %H:%M" if same_day else "%Y-%m-%d"
    if count:
        x_labels.append((round(x_at(0), 1), points[0].when.strftime(fmt), "start" if count > 1 else "middle"))
    if count > 1:
        x_labels.append((round(x_at(count - 1), 1), points[-1].when.strftime(fmt), "end"))
    return TrendChart(WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM, lines, dots, y_ticks, x_labels)
