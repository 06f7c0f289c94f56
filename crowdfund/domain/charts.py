"""Geometry for the small charts drawn on the server as SVG (no JavaScript, no library).

`funding_chart` turns a cumulative series into a step line in a fixed viewBox; the
template draws it and formats the labels for the viewer's locale.
"""

from dataclasses import dataclass, field
from datetime import timedelta

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 16, 34


@dataclass(frozen=True)
class Tick:
    value: object  # an amount in minor units (y) or a datetime (x)
    pos: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int  # x of the right edge of the plot
    top: int
    bottom: int  # y of the x axis
    line: str  # SVG polyline points "x,y x,y ..."
    area: str  # the same, closed along the axis, for the fill
    goal_y: float | None
    y_ticks: list = field(default_factory=list)
    x_ticks: list = field(default_factory=list)
    last: tuple | None = None  # (x, y) of the latest point
    # What the x labels name: "day" ("Dec 7"), or "time" ("Dec 7, 15:00") for a campaign
    # shorter than SHORT_SPAN, whose ticks would otherwise all read the same day.
    x_unit: str = "day"


SHORT_SPAN = timedelta(days=2)


def nice_step(span, parts=4):
    """A round step (1, 2, 2.5 or 5 x 10^k) that splits `span` into about `parts` pieces."""
    if span <= 0:
        return 1
    raw = span / parts
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw:
            return int(step) if step == int(step) else step
    return 10 * magnitude


def funding_chart(points, *, start, end, goal, now, unit=1, width=WIDTH, height=HEIGHT):
    """A step chart of `points` [(datetime, cumulative minor units)] from `start` to `end`.

    The line runs on to `now` (or `end`, if that is earlier). `unit` is the size of one
    major unit in minor units (100 for cents), so the y ticks fall on round major amounts.
    """
    if end <= start:
        end = start + timedelta(hours=1)
    top_value = max([goal or 0] + [value for _, value in points]) or 1
    step = nice_step(top_value / unit) * unit
    y_max = step * (-(-top_value // step))
    if y_max <= top_value * 1.02:
        y_max += step
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    seconds = max((end - start).total_seconds(), 1)

    def x_of(moment):
        frac = min(max((moment - start).total_seconds() / seconds, 0), 1)
        return round(LEFT + frac * plot_w, 1)

    def y_of(value):
        return round(TOP + plot_h - (value / y_max) * plot_h, 1)

    coords = [(x_of(start), y_of(0))]
    level = 0
    for moment, value in points:
        x = x_of(moment)
        coords.append((x, y_of(level)))
        coords.append((x, y_of(value)))
        level = value
    now_x = coords[-1][0]
    coords.append((max(now_x, x_of(min(max(now, start), end))), y_of(level)))
    line = " ".join(f"{x},{y}" for x, y in coords)
    area = line + f" {coords[-1][0]},{y_of(0)} {coords[0][0]},{y_of(0)}"
    y_ticks, value = [], 0
    while value <= y_max:
        y_ticks.append(Tick(value, y_of(value)))
        value += step
    x_ticks = [Tick(start, LEFT), Tick(end, LEFT + plot_w)]
    if width >= 480:
        x_ticks.insert(1, Tick(start + (end - start) / 2, LEFT + plot_w / 2))
    return Chart(
        width,
        height,
        LEFT,
        width - RIGHT,
        TOP,
        TOP + plot_h,
        line,
        area,
        y_of(goal) if goal else None,
        y_ticks,
        x_ticks,
        coords[-1],
        "time" if end - start < SHORT_SPAN else "day",
    )
