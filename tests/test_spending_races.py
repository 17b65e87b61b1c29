"""Spending requests under concurrency and random sequences: one approval per request, never an
envelope below zero, never more charged to a round than its reservations (SQLite and
PostgreSQL, real threads)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import LedgerOperation, Reservation, SpendingRequest, SpendingStatus, db
from services import ledger, spending
from services.errors import Conflict, Invalid, NotAllowed
from tests.test_concurrency import as_person, run_together
from tests.test_ledger import balances_are_sums
from tests.test_spending import Team


def charges_within_reservations() -> None:
    """What is charged to each reservation (reversals deducted) stays within its amount."""
    db.session.expire_all()
    for reservation in db.session.scalars(select(Reservation)):
        charged = ledger.charged_on_reservation(reservation.id)
        assert 0 <= charged <= reservation.amount_cents, reservation.id


def operations_of(request_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(LedgerOperation.amount_cents).where(
                LedgerOperation.spending_request_id == request_id
            )
        )
    )


@pytest.mark.concurrency
def test_the_same_request_approved_twice_at_once_gives_one_set_of_operations(app):
    team = Team()
    team.fund(100_000)
    commitment = team.funded_commitment(budget_cents=30_000)
    request_id = team.to_finance(amount_cents=45_000, commitment_id=commitment.id)
    finance_id = team.finance.id

    results = run_together(
        6,
        lambda i: as_person(
            app, finance_id, lambda who: spending.approve_spending(who, request_id)
        ),
    )
    db.session.commit()

    approved = [r for r in results if isinstance(r, spending.Split)]
    assert len(approved) == 1, results
    assert all(isinstance(r, Conflict) for r in results if r not in approved), results
    assert sorted(operations_of(request_id)) == [15_000, 30_000]
    assert ledger.envelope_balance(team.group.id) == 85_000
    balances_are_sums()
    charges_within_reservations()


@pytest.mark.concurrency
def test_requests_that_together_exceed_the_envelope_approved_at_once_only_what_fits(app):
    team = Team()
    team.fund(10_000)
    request_ids = [team.to_finance(amount_cents=3_000) for _ in range(5)]
    finance_id = team.finance.id

    results = run_together(
        5,
        lambda i: as_person(
            app, finance_id, lambda who: spending.approve_spending(who, request_ids[i])
        ),
    )
    db.session.commit()

    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(refused) == 2, results
    # Refused with the figures: what the envelope holds and what was asked of it.
    assert all("30\xa0€" in r.message and "contient 10\xa0€" in r.message for r in refused), refused
    statuses = sorted(db.session.get(SpendingRequest, i).status for i in request_ids)
    assert statuses.count(SpendingStatus.approved) == 3
    assert statuses.count(SpendingStatus.awaiting_finance) == 2
    assert ledger.envelope_balance(team.group.id) == 1_000
    balances_are_sums()


@pytest.mark.concurrency
def test_requests_on_one_reservation_approved_at_once_never_charge_more_than_it(app):
    team = Team()
    team.fund(100_000)
    commitment = team.funded_commitment(budget_cents=20_000)
    request_ids = [
        team.to_finance(amount_cents=8_000, commitment_id=commitment.id) for _ in range(4)
    ]
    finance_id = team.finance.id

    results = run_together(
        4,
        lambda i: as_person(
            app, finance_id, lambda who: spending.approve_spending(who, request_ids[i])
        ),
    )
    db.session.commit()

    assert all(isinstance(r, spending.Split) for r in results), results
    assert sum(r.round_cents for r in results) == 20_000
    assert sum(r.envelope_cents for r in results) == 12_000
    assert ledger.envelope_balance(team.group.id) == 88_000
    charges_within_reservations()
    balances_are_sums()


@pytest.mark.concurrency
def test_a_withdrawal_and_an_approval_at_once_leave_no_charge_on_a_released_reservation(app):
    from services.commitments import withdraw_commitment

    team = Team()
    team.fund(100_000)
    commitment = team.funded_commitment(budget_cents=20_000)
    request_id = team.to_finance(amount_cents=8_000, commitment_id=commitment.id)
    finance_id, author_id = team.finance.id, team.author.id
    group_id, proposal_id = team.group.id, commitment.proposal_id

    def work(i):
        if i == 0:
            return as_person(
                app, finance_id, lambda who: spending.approve_spending(who, request_id)
            )
        return as_person(
            app, author_id, lambda who: withdraw_commitment(who, group_id, proposal_id)
        )

    results = run_together(2, work)
    db.session.commit()

    charged_released = db.session.scalar(
        select(func.count(LedgerOperation.id))
        .join(Reservation, Reservation.id == LedgerOperation.reservation_id)
        .where(Reservation.released_at.is_not(None))
    )
    assert charged_released == 0, results
    charges_within_reservations()
    balances_are_sums()


# --- properties ----------------------------------------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("allocate"), st.integers(0, 1), st.integers(1, 40_000)),
        st.tuples(st.just("request"), st.integers(0, 1), st.integers(1, 30_000)),
        st.tuples(st.just("approve"), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("refuse"), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("reverse"), st.integers(0, 40), st.just(0)),
    ),
    max_size=20,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_random_allocations_requests_approvals_refusals_and_reversals_keep_the_books(app, steps):
    # Fresh teams for each example; earlier examples' operations stay and are checked too.
    teams = [Team(), Team()]
    commitments = [team.funded_commitment(budget_cents=15_000) for team in teams]
    requests: list[int] = []
    for kind, which, amount in steps:
        try:
            if kind == "allocate":
                teams[which].fund(amount)
            elif kind == "request":
                team = teams[which]
                # Every other request belongs to the group's funded action.
                linked = commitments[which].id if len(requests) % 2 == 0 else None
                requests.append(team.to_finance(amount_cents=amount, commitment_id=linked))
            elif kind in ("approve", "refuse") and requests:
                request_id = requests[which % len(requests)]
                finance = teams[0].finance
                if kind == "approve":
                    spending.approve_spending(finance, request_id)
                else:
                    spending.refuse_spending(finance, request_id, "Hors périmètre")
            elif kind == "reverse":
                ids = list(
                    db.session.scalars(
                        select(LedgerOperation.id).where(
                            LedgerOperation.spending_request_id.in_(requests or [0])
                        )
                    )
                )
                if ids:
                    ledger.reverse(teams[0].finance, ids[which % len(ids)], "Correction")
        except (Invalid, Conflict, NotAllowed):
            db.session.rollback()
        balances_are_sums()
        charges_within_reservations()
    for request_id in requests:
        row = db.session.get(SpendingRequest, request_id)
        if row.status == SpendingStatus.approved:
            assert row.round_cents + row.envelope_cents == row.amount_cents
        else:
            assert row.round_cents is None
