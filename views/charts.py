"""The round's two charts as SVG geometry (reservations over time, by action), and their HTML.

Drawn on the server: no script, nothing to load, readable by a screen reader through each
chart's title and description and the data tables that follow it.
"""

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from flask import render_template
from flask_babel import format_date, ngettext
from markupsafe import Markup

from services.money import format_cents
from services.transparency import RoundOverview

WIDTH, HEIGHT = 420, 230
LEFT, RIGHT, TOP, BOTTOM = 96, 12, 20, 40
BAR_ROW, BAR_LEFT, BAR_MAX = 48, 4, 290
TITLE_MAX = 44


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Timeline:
    path: str  # the reserved amount as a step line
    area: str  # the same, closed down to zero
    total_y: float
    ticks: tuple[Tick, ...]
    start_label: str
    end_label: str
    plot_left: int
    plot_right: int
    plot_bottom: int


@dataclass(frozen=True)
class Bar:
    y: int
    width: float
    label: str
    full_title: str
    amount: str


def _round_euros(cents: int) -> str:
    """A tick's amount: whole euros."""
    return format_cents(cents // 100 * 100)


def timeline_geometry(overview: RoundOverview) -> Timeline:
    points = overview.timeline
    start = overview.opens_on
    end = min(overview.today, overview.last_day)
    if points:
        start = min(start, points[0].day)
        end = max(end, points[-1].day)
    if end <= start:
        end = start + timedelta(days=1)
    span = (end - start).days
    top_value = max(overview.total_cents, max((p.cumulative_cents for p in points), default=0), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_h

    def x(day: date) -> float:
        return round(LEFT + plot_w * (day - start).days / span, 1)

    def y(cents: int) -> float:
        return round(bottom - plot_h * cents / top_value, 1)

    steps = [f"M{LEFT},{bottom}"]
    for point in points:
        steps.append(f"H{x(point.day)}V{y(point.cumulative_cents)}")
    steps.append(f"H{LEFT + plot_w}")
    path = "".join(steps)
    ticks = tuple(
        Tick(y(value), _round_euros(value))
        for value in sorted({0, overview.total_cents // 2, overview.total_cents})
    )
    return Timeline(
        path=path,
        area=f"{path}V{bottom}Z",
        total_y=y(overview.total_cents),
        ticks=ticks,
        start_label=format_date(start, "d MMM yyyy"),
        end_label=format_date(end, "d MMM yyyy"),
        plot_left=LEFT,
        plot_right=LEFT + plot_w,
        plot_bottom=bottom,
    )


def _short(title: str) -> str:
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1].rstrip() + "…"


def bars_geometry(overview: RoundOverview) -> tuple[tuple[Bar, ...], int]:
    """A bar per action (the largest first), then the others together; the chart's height."""
    rows = [(a.title, a.reserved_cents) for a in overview.actions]
    if overview.others_count:
        rows.append((_others_label(overview.others_count), overview.others_cents))
    largest = max((cents for _, cents in rows), default=0) or 1
    bars = tuple(
        Bar(
            y=index * BAR_ROW,
            width=max(2.0, round(BAR_MAX * cents / largest, 1)),
            label=_short(title),
            full_title=title,
            amount=format_cents(cents),
        )
        for index, (title, cents) in enumerate(rows)
    )
    return bars, max(BAR_ROW, len(bars) * BAR_ROW)


def _others_label(count: int) -> str:
    return ngettext("%(num)d autre action", "%(num)d autres actions", count)


@functools.lru_cache(maxsize=16)
def overview_html(overview: RoundOverview, with_figures: bool = True) -> Markup:
    """The round's figures (unless its own page shows them) and charts, rendered once per
    state of the round."""
    bars, bars_height = bars_geometry(overview)
    return Markup(
        render_template(
            "rounds/_overview.html",
            overview=overview,
            timeline=timeline_geometry(overview),
            bars=bars,
            bars_height=bars_height,
            chart_width=WIDTH,
            chart_height=HEIGHT,
            bar_left=BAR_LEFT,
            with_figures=with_figures,
        )
    )
