"""DESIGN.md §3 "Everywhere" rules on stored values: money in cents, times in UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Integer

from models import ActionGroup, BudgetRound, Proposal, db
from tests import factories as f
from views.filters import money, paris_datetime


def test_money_is_always_an_integer_number_of_cents(app):
    for column in (Proposal.per_group_budget_cents, BudgetRound.total_cents):
        assert isinstance(column.type, Integer)
    assert money(123_456) == "1\u202f234,56\xa0€"
    assert money(50_000) == "500\xa0€"


def test_times_are_aware_utc_in_the_database(app):
    paris_summer = timezone(timedelta(hours=2))
    g = f.group()
    g.certified_at = datetime(2027, 6, 1, 14, 30, tzinfo=paris_summer)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(ActionGroup, g.id).certified_at
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == datetime(2027, 6, 1, 12, 30, tzinfo=UTC)


def test_naive_times_are_refused(app):
    g = f.group()
    g.certified_at = datetime(2027, 1, 1, 12, 0)
    with pytest.raises(Exception, match="naive"):
        db.session.commit()
    db.session.rollback()


def test_times_are_shown_in_europe_paris(app):
    with app.test_request_context():
        assert paris_datetime(datetime(2027, 1, 15, 11, 5, tzinfo=UTC)) == "15 janvier 2027 à 12:05"
        assert paris_datetime(datetime(2027, 7, 15, 11, 5, tzinfo=UTC)) == "15 juillet 2027 à 13:05"
