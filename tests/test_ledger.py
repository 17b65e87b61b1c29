"""DESIGN.md §3 « Ledger » (issue 5): append-only operations in integer cents between two
accounts, balances that are sums, group envelopes that never go negative, corrections by
reversing operations; on SQLite and PostgreSQL, under concurrency too."""

import pytest
from flask_migrate import upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app import create_app
from models import AccountKind, AppendOnly, LedgerAccount, LedgerOperation, db
from services import ledger
from services.errors import Conflict, Invalid, NotAllowed
from tests import factories as f
from tests.dbstate import snapshot
from tests.test_concurrency import as_person, run_together
from tests.test_migrations import empty_database_url  # noqa: F401 (a fixture)

ENVELOPE = AccountKind.envelope
PAYEES = (AccountKind.payees, None)


@pytest.fixture
def finance():
    return f.person(finance=True)


def balances_are_sums() -> None:
    """Every account's balance equals what came in less what went out; no envelope below 0."""
    db.session.commit()  # a fresh read: what other sessions wrote since
    db.session.expire_all()
    incoming = dict(
        db.session.execute(
            select(LedgerOperation.destination_id, func.sum(LedgerOperation.amount_cents)).group_by(
                LedgerOperation.destination_id
            )
        ).all()
    )
    outgoing = dict(
        db.session.execute(
            select(LedgerOperation.source_id, func.sum(LedgerOperation.amount_cents)).group_by(
                LedgerOperation.source_id
            )
        ).all()
    )
    for acc in db.session.scalars(select(LedgerAccount)):
        assert acc.balance_cents == incoming.get(acc.id, 0) - outgoing.get(acc.id, 0), acc.id
        if acc.kind == AccountKind.envelope:
            assert acc.balance_cents >= 0


def test_an_allocation_moves_money_from_donations_into_the_groups_envelope(app, finance):
    g = f.group()

    op_id = ledger.allocate(finance, g.id, 12_50, "Don fléché de mars", reference="DON-1")

    op = db.session.get(LedgerOperation, op_id)
    envelope = db.session.get(LedgerAccount, op.destination_id)
    donations = db.session.get(LedgerAccount, op.source_id)
    assert (envelope.kind, envelope.group_id, donations.kind) == (
        AccountKind.envelope,
        g.id,
        AccountKind.donations,
    )
    assert (op.amount_cents, op.reason, op.actor_id, op.reference) == (
        1250,
        "Don fléché de mars",
        finance.id,
        "DON-1",
    )
    assert ledger.envelope_balance(g.id) == 1250 and donations.balance_cents == -1250
    balances_are_sums()


def test_a_donation_reference_already_recorded_adds_nothing(app, finance):
    g = f.group()
    assert ledger.allocate(finance, g.id, 5_000, "Don", reference="DON-7") is not None
    before = snapshot()

    assert ledger.allocate(finance, g.id, 5_000, "Don", reference="DON-7") is None

    assert snapshot() == before
    assert ledger.envelope_balance(g.id) == 5_000


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        (0, "Don", "positif"),
        (-100, "Don", "positif"),
        (100, "   ", "raison"),
    ],
)
def test_an_operation_has_a_positive_amount_and_a_reason(app, finance, amount, reason, message):
    g = f.group()
    before = snapshot()
    with pytest.raises(Invalid, match=message):
        ledger.allocate(finance, g.id, amount, reason)
    assert snapshot() == before


def test_the_database_refuses_an_operation_of_zero_or_between_one_account(app, finance):
    g = f.group()
    ledger.allocate(finance, g.id, 100, "Don")
    envelope = ledger.account(AccountKind.envelope, group_id=g.id)
    db.session.commit()
    for amount, source in ((0, None), (100, envelope.id)):
        with pytest.raises(IntegrityError):
            db.session.add(
                LedgerOperation(
                    amount_cents=amount,
                    source_id=source or ledger.account(AccountKind.donations).id,
                    destination_id=envelope.id,
                    reason="Essai",
                )
            )
            db.session.commit()
        db.session.rollback()


def test_a_group_envelope_never_goes_negative(app, finance):
    g = f.group()
    ledger.allocate(finance, g.id, 10_000, "Don")
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        ledger.transfer(finance.id, (ENVELOPE, g.id), PAYEES, 10_001, "Imprimerie")

    assert "100\xa0€ disponibles, 100,01\xa0€ demandés" in refused.value.message
    assert snapshot() == before
    ledger.transfer(finance.id, (ENVELOPE, g.id), PAYEES, 10_000, "Imprimerie")
    assert ledger.envelope_balance(g.id) == 0
    balances_are_sums()


def test_the_database_refuses_a_negative_envelope(app, finance):
    g = f.group()
    ledger.allocate(finance, g.id, 100, "Don")
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE ledger_account SET balance_cents = -1 WHERE group_id = :g"), {"g": g.id}
        )
        db.session.commit()
    db.session.rollback()


def test_operations_are_never_updated_nor_deleted_through_the_models(app, finance):
    g = f.group()
    op = db.session.get(LedgerOperation, ledger.allocate(finance, g.id, 100, "Don"))
    op.amount_cents = 1
    with pytest.raises(AppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(LedgerOperation, op.id))
    with pytest.raises(AppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(LedgerOperation, op.id).amount_cents == 100


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_operation SET amount_cents = 1",
        "UPDATE ledger_operation SET reason = 'autre'",
        "DELETE FROM ledger_operation",
    ],
)
def test_the_database_refuses_updating_or_deleting_an_operation(app, finance, statement):
    g = f.group()
    ledger.allocate(finance, g.id, 100, "Don")
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(LedgerOperation.amount_cents)) == 100


def test_a_migrated_database_refuses_it_too(empty_database_url):  # noqa: F811
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO ledger_account (id, kind, balance_cents, created_at) VALUES "
                    "(1, 'donations', -100, CURRENT_TIMESTAMP), "
                    "(2, 'payees', 100, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO ledger_operation (amount_cents, source_id, destination_id, "
                    "reason, at) VALUES (100, 1, 2, 'Essai', CURRENT_TIMESTAMP)"
                )
            )
        for statement in (
            "UPDATE ledger_operation SET amount_cents = 1",
            "DELETE FROM ledger_operation",
        ):
            with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
                conn.execute(text(statement))
        db.engine.dispose()


def test_a_reversal_is_the_same_amount_the_other_way_once(app, finance):
    g = f.group()
    op_id = ledger.allocate(finance, g.id, 7_000, "Don mal attribué")

    reversal_id = ledger.reverse(finance, op_id, "Le don était pour un autre groupe")

    reversal = db.session.get(LedgerOperation, reversal_id)
    original = db.session.get(LedgerOperation, op_id)
    assert (reversal.source_id, reversal.destination_id) == (
        original.destination_id,
        original.source_id,
    )
    assert (reversal.amount_cents, reversal.reverses_id) == (7_000, op_id)
    assert ledger.envelope_balance(g.id) == 0
    before = snapshot()
    with pytest.raises(Conflict, match="déjà corrigée"):
        ledger.reverse(finance, op_id, "Encore")
    assert snapshot() == before
    balances_are_sums()


def test_a_reversal_the_envelope_no_longer_covers_is_refused_with_the_figures(app, finance):
    g = f.group()
    op_id = ledger.allocate(finance, g.id, 7_000, "Don")
    ledger.transfer(finance.id, (ENVELOPE, g.id), PAYEES, 5_000, "Location de salle")
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        ledger.reverse(finance, op_id, "Don mal attribué")

    assert "20\xa0€ disponibles, 70\xa0€ demandés" in refused.value.message
    assert snapshot() == before


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [({}, False), ({"animation": True}, False), ({"finance": True}, True), ({"admin": True}, True)],
)
def test_only_the_finance_team_and_admins_allocate_and_reverse(app, finance, roles, allowed):
    g = f.group()
    someone = f.person(**roles)
    op_id = ledger.allocate(finance, g.id, 1_000, "Don")
    before = snapshot()
    if not allowed:
        with pytest.raises(NotAllowed):
            ledger.allocate(someone, g.id, 1_000, "Don")
        with pytest.raises(NotAllowed):
            ledger.reverse(someone, op_id, "Erreur")
        assert snapshot() == before
        return
    assert ledger.allocate(someone, g.id, 1_000, "Don") is not None
    assert ledger.reverse(someone, op_id, "Erreur") is not None


# --- properties ----------------------------------------------------------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("allocate"), st.integers(0, 2), st.integers(-50, 50_000)),
        st.tuples(st.just("pay"), st.integers(0, 2), st.integers(1, 60_000)),
        st.tuples(st.just("reverse"), st.integers(0, 30), st.just(0)),
    ),
    max_size=25,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_random_allocations_payments_and_reversals_keep_balances_equal_to_their_operations(
    app, finance, steps
):
    # Fresh groups for each example; operations are never deleted, so earlier examples'
    # operations stay and every balance is checked against all of them.
    groups = [f.group().id for _ in range(3)]
    done: list[int] = []
    for kind, which, amount in steps:
        try:
            if kind == "allocate":
                done.append(ledger.allocate(finance, groups[which], amount, "Don"))
            elif kind == "pay":
                done.append(
                    ledger.transfer(finance.id, (ENVELOPE, groups[which]), PAYEES, amount, "Achat")
                )
            elif done:
                done.append(ledger.reverse(finance, done[which % len(done)], "Correction"))
        except (Invalid, Conflict):
            db.session.rollback()
        balances_are_sums()


# --- concurrency ---------------------------------------------------------------------------


@pytest.mark.concurrency
def test_two_payments_that_together_exceed_the_envelope_at_once_one_is_refused(app, finance):
    g = f.group()
    ledger.allocate(finance, g.id, 10_000, "Don")
    group_id, finance_id = g.id, finance.id

    results = run_together(
        8,
        lambda i: as_person(
            app,
            finance_id,
            lambda who: ledger.transfer(who.id, (ENVELOPE, group_id), PAYEES, 3_000, "Achat"),
        ),
    )
    db.session.commit()

    paid = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(paid), len(refused)) == (3, 5), results
    assert ledger.envelope_balance(g.id) == 1_000
    balances_are_sums()


@pytest.mark.concurrency
def test_the_same_operation_reversed_twice_at_once_is_reversed_once(app, finance):
    g = f.group()
    op_id = ledger.allocate(finance, g.id, 10_000, "Don")
    finance_id = finance.id

    results = run_together(
        6, lambda i: as_person(app, finance_id, lambda who: ledger.reverse(who, op_id, "Erreur"))
    )
    db.session.commit()

    assert len([r for r in results if isinstance(r, int)]) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, int)), results
    assert ledger.envelope_balance(g.id) == 0
    balances_are_sums()


@pytest.mark.concurrency
def test_the_same_donation_imported_twice_at_once_is_recorded_once(app, finance):
    g = f.group()
    group_id, finance_id = g.id, finance.id

    results = run_together(
        6,
        lambda i: as_person(
            app, finance_id, lambda who: ledger.allocate(who, group_id, 2_500, "Don", "DON-42")
        ),
    )
    db.session.commit()

    assert len([r for r in results if isinstance(r, int)]) == 1, results
    assert [r for r in results if isinstance(r, Exception)] == []
    assert ledger.envelope_balance(g.id) == 2_500
    balances_are_sums()
