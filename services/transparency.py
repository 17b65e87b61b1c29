"""The round's public figures: what is reserved, how it grew over time, and by which actions.

Read by the home page on every visit. The figures are exact: the round's row, and the number
of fundable actions cached per `BudgetRound.version` (which grows with every reservation,
release, fundable transition and change of settings). The charts' data, heavier, follow the
version too, but are rebuilt at most every ROUND_CHART_SECONDS per process.
"""

import functools
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from models import BudgetRound, Proposal, ProposalStatus, Reservation, db, utcnow

PARIS = ZoneInfo("Europe/Paris")
# Bars for the largest actions; the others are summed in one line.
TOP_ACTIONS = 8
# A title edited by the team shows in the chart within this many seconds at most (plus the
# refresh interval).
TITLE_REFRESH_SECONDS = 300


@dataclass(frozen=True)
class DayPoint:
    day: date
    reserved_cents: int  # what the day added (reservations) less what it gave back (releases)
    cumulative_cents: int  # reserved at the end of the day


@dataclass(frozen=True)
class ActionShare:
    title: str
    slug: str | None
    reserved_cents: int
    reserved_count: int


@dataclass(frozen=True)
class RoundOverview:
    round_id: int
    name: str
    total_cents: int
    reserved_cents: int
    fundable_count: int
    phase: str  # "upcoming", "open" or "closed"
    days_left: int  # days of commitments left, today included (0 once closed)
    opens_on: date
    last_day: date
    closed_on: date  # the day commitments closed (the day after the last, at midnight)
    today: date
    timeline: tuple[DayPoint, ...]
    actions: tuple[ActionShare, ...]
    others_count: int  # actions beyond the top ones that hold reservations
    others_cents: int

    @property
    def remaining_cents(self) -> int:
        return self.total_cents - self.reserved_cents

    @property
    def reserved_percent(self) -> int:
        if self.total_cents <= 0:
            return 100 if self.reserved_cents else 0
        return min(100, self.reserved_cents * 100 // self.total_cents)


def paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def last_day_of(closes_at: datetime) -> date:
    """The last day commitments are taken (they close at the instant closes_at)."""
    return paris_day(closes_at - timedelta(microseconds=1))


def phase_of(budget_round: BudgetRound, now: datetime) -> str:
    if now < budget_round.opens_at:
        return "upcoming"
    return "open" if now < budget_round.closes_at else "closed"


def days_left(budget_round: BudgetRound, now: datetime) -> int:
    """Days on which commitments can still be made, today included."""
    if now >= budget_round.closes_at:
        return 0
    start = max(paris_day(now), paris_day(budget_round.opens_at))
    return (last_day_of(budget_round.closes_at) - start).days + 1


def _hour_bucket(column):
    """The UTC hour of a timestamp as text « YYYY-MM-DD HH », on either backend (SQLite keeps
    UTC timestamps as text; PostgreSQL as timestamptz). Hours, not days, so that the Paris day
    is found in Python whatever the offset of the date."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.substr(column, 1, 13)


def _by_paris_day(rows) -> dict[date, int]:
    days: dict[date, int] = {}
    for hour, cents in rows:
        moment = datetime.strptime(hour, "%Y-%m-%d %H").replace(tzinfo=UTC)
        day = paris_day(moment)
        days[day] = days.get(day, 0) + int(cents)
    return days


def _timeline(round_id: int) -> tuple[DayPoint, ...]:
    """Reserved at the end of each day that changed it: two grouped queries."""
    reserved_hour = _hour_bucket(Reservation.reserved_at)
    added = _by_paris_day(
        db.session.execute(
            select(reserved_hour, func.sum(Reservation.amount_cents))
            .where(Reservation.round_id == round_id)
            .group_by(reserved_hour)
        ).all()
    )
    released_hour = _hour_bucket(Reservation.released_at)
    released = _by_paris_day(
        db.session.execute(
            select(released_hour, func.sum(Reservation.amount_cents))
            .where(Reservation.round_id == round_id, Reservation.released_at.is_not(None))
            .group_by(released_hour)
        ).all()
    )
    points, cumulative = [], 0
    for day in sorted(set(added) | set(released)):
        change = added.get(day, 0) - released.get(day, 0)
        cumulative += change
        points.append(DayPoint(day, change, cumulative))
    return tuple(points)


def _actions(round_id: int) -> tuple[tuple[ActionShare, ...], int, int]:
    holding = (
        Proposal.round_id == round_id,
        Proposal.status == ProposalStatus.published,
        Proposal.reserved_count > 0,
    )
    top = db.session.execute(
        select(Proposal.title, Proposal.slug, Proposal.reserved_cents, Proposal.reserved_count)
        .where(*holding)
        .order_by(Proposal.reserved_cents.desc(), Proposal.id)
        .limit(TOP_ACTIONS)
    ).all()
    count, cents = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Proposal.reserved_cents), 0)).where(*holding)
    ).one()
    shown = sum(row.reserved_cents for row in top)
    return (
        tuple(ActionShare(*row) for row in top),
        count - len(top),
        int(cents) - shown,
    )


@dataclass(frozen=True)
class _Series:
    timeline: tuple[DayPoint, ...]
    actions: tuple[ActionShare, ...]
    others_count: int
    others_cents: int


# (round id, creation instant, Paris day, title bucket) → (built at, round version, series)
_series_cache: dict[tuple, tuple[float, int, _Series]] = {}
_series_lock = threading.Lock()


def _series(key: tuple, round_id: int, version: int, refresh_seconds: float) -> _Series:
    """The charts' data: rebuilt when the round's version changed, but at most once every
    `refresh_seconds` per process (two grouped queries over the round's reservations, tens
    of milliseconds at national scale, must not run for every visit while groups commit)."""
    now = time.monotonic()
    with _series_lock:
        cached = _series_cache.get(key)
    if cached is not None and (cached[1] == version or now - cached[0] < refresh_seconds):
        return cached[2]
    actions, others_count, others_cents = _actions(round_id)
    series = _Series(_timeline(round_id), actions, others_count, others_cents)
    with _series_lock:
        if len(_series_cache) > 64:
            _series_cache.clear()
        _series_cache[key] = (now, version, series)
    return series


@functools.lru_cache(maxsize=64)
def _fundable_count(round_id: int, created_at: datetime, version: int) -> int:
    """Keyed by the round's version, which every transition bumps; another database's round
    with the same id has another creation instant, so another key."""
    return db.session.scalar(
        select(func.count()).where(
            Proposal.round_id == round_id,
            Proposal.status == ProposalStatus.published,
            Proposal.fundable_at.is_not(None),
        )
    )


def round_overview(budget_round: BudgetRound, refresh_seconds: float = 10) -> RoundOverview:
    """The round's public figures (exact: its row, and a count cached per version) and the
    data of its two charts (at most `refresh_seconds` behind)."""
    now = utcnow()
    today = paris_day(now)
    key = (budget_round.id, budget_round.created_at)
    series = _series(
        (*key, today, int(time.monotonic() // TITLE_REFRESH_SECONDS)),
        budget_round.id,
        budget_round.version,
        refresh_seconds,
    )
    return RoundOverview(
        round_id=budget_round.id,
        name=budget_round.name,
        total_cents=budget_round.total_cents,
        reserved_cents=budget_round.reserved_cents,
        fundable_count=_fundable_count(*key, budget_round.version),
        phase=phase_of(budget_round, now),
        days_left=days_left(budget_round, now),
        opens_on=paris_day(budget_round.opens_at),
        last_day=last_day_of(budget_round.closes_at),
        closed_on=paris_day(budget_round.closes_at),
        today=today,
        timeline=series.timeline,
        actions=series.actions,
        others_count=series.others_count,
        others_cents=series.others_cents,
    )


def clear_cache() -> None:
    _fundable_count.cache_clear()
    with _series_lock:
        _series_cache.clear()
