"""DESIGN.md §3 « Reservations » and « Threshold policy », and the closed round (issue #4).

Every test is named after the rule it checks. The helpers at the top (quick managers and
staff, the budget's consistency checks) are shared with tests/test_budget_properties.py and
tests/test_budget_concurrency.py.
"""

import functools
import html
import itertools
import math
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from models import (
    ActionGroup,
    AuditEntry,
    BudgetRound,
    Commitment,
    CommitmentStatus,
    MemberRole,
    Membership,
    Person,
    Proposal,
    ProposalStatus,
    Reservation,
    ThresholdPolicy,
    db,
    utcnow,
)
from services import catalog
from services.budget import (
    effective_threshold,
    settle_round,
    threshold_for,
)
from services.commitments import commit_group, set_threshold_override, withdraw_commitment
from services.errors import Conflict, Invalid, NotAllowed
from services.money import format_cents, format_paris
from services.rounds import RoundSettings, update_round
from tests import factories as f
from tests.dbstate import snapshot

# --- shared helpers -----------------------------------------------------------------------------

_seq = itertools.count(1)


@functools.cache
def password_hash() -> str:
    """One hash for every test person (hashing costs ~0.2 s): they all sign in with f.PASSWORD."""
    return generate_password_hash(f.PASSWORD)


@dataclass
class Manager:
    person_id: int
    group_id: int

    @property
    def person(self) -> Person:
        return db.session.get(Person, self.person_id)

    def commit(self, proposal_id: int) -> int:
        return commit_group(self.person, self.group_id, proposal_id)

    def withdraw(self, proposal_id: int) -> None:
        withdraw_commitment(self.person, self.group_id, proposal_id)


def managers(n: int) -> list[Manager]:
    """n certified groups, each with one manager, written in one transaction."""
    pairs = []
    for _ in range(n):
        k = next(_seq)
        group = ActionGroup(
            name=f"Groupe budget {k}", commune="Lyon", departement="69", certified_at=utcnow()
        )
        person = Person(
            email=f"gestion-budget-{k}@example.org",
            display_name=f"Gestion {k}",
            password_hash=password_hash(),
        )
        db.session.add_all([group, person])
        pairs.append((person, group))
    db.session.flush()
    for person, group in pairs:
        db.session.add(Membership(person_id=person.id, group_id=group.id, role=MemberRole.manager))
    db.session.commit()
    return [Manager(person.id, group.id) for person, group in pairs]


def staff(**roles) -> Person:
    k = next(_seq)
    person = Person(
        email=f"equipe-budget-{k}@example.org",
        display_name=f"Équipe {k}",
        password_hash=password_hash(),
        **{f"is_{role}": value for role, value in roles.items()},
    )
    db.session.add(person)
    db.session.commit()
    return person


def fresh_round(round_id: int) -> BudgetRound:
    db.session.expire_all()
    return db.session.get(BudgetRound, round_id)


def fresh(proposal_id: int) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, proposal_id)


def settings_of(budget_round: BudgetRound, **changes) -> RoundSettings:
    values = {
        "name": budget_round.name,
        "total_cents": budget_round.total_cents,
        "base_threshold": budget_round.base_threshold,
        "policy": budget_round.policy,
        "opens_at": budget_round.opens_at,
        "closes_at": budget_round.closes_at,
    }
    values.update(changes)
    return RoundSettings(**values)


def change_round(actor: Person, round_id: int, reason: str = "Ajustement", **changes) -> bool:
    return update_round(actor, round_id, settings_of(fresh_round(round_id), **changes), reason)


def active_reservations(round_id: int) -> list[Reservation]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Reservation)
            .where(Reservation.round_id == round_id, Reservation.released_at.is_(None))
            .order_by(Reservation.reserved_at, Reservation.id)
        )
    )


def reserved_groups(proposal_id: int) -> list[int]:
    """The groups holding an active reservation on the proposal, in reservation order."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Reservation.group_id)
            .where(Reservation.proposal_id == proposal_id, Reservation.released_at.is_(None))
            .order_by(Reservation.reserved_at, Reservation.id)
        )
    )


def hors_budget_groups(proposal_id: int) -> list[int]:
    """Active commitments of a fundable proposal without an active reservation."""
    db.session.expire_all()
    active = (Reservation.commitment_id == Commitment.id) & Reservation.released_at.is_(None)
    return list(
        db.session.scalars(
            select(Commitment.group_id)
            .join(Proposal, Proposal.id == Commitment.proposal_id)
            .outerjoin(Reservation, active)
            .where(
                Commitment.proposal_id == proposal_id,
                Commitment.status == CommitmentStatus.active,
                Proposal.fundable_at.is_not(None),
                Reservation.id.is_(None),
            )
            .order_by(Commitment.committed_at, Commitment.id)
        )
    )


def assert_budget_consistent(round_id: int) -> None:
    """Σ active reservations == round.reserved_cents ≤ total; one active reservation per
    commitment at most, of an active commitment; the proposals' counters agree."""
    budget_round = fresh_round(round_id)
    active = active_reservations(round_id)
    assert sum(r.amount_cents for r in active) == budget_round.reserved_cents
    assert 0 <= budget_round.reserved_cents <= budget_round.total_cents
    per_commitment = [r.commitment_id for r in active]
    assert len(per_commitment) == len(set(per_commitment)), "two active reservations"
    for reservation in active:
        commitment = db.session.get(Commitment, reservation.commitment_id)
        assert commitment.is_active
        assert commitment.proposal_id == reservation.proposal_id
        assert commitment.group_id == reservation.group_id
    for proposal in db.session.scalars(select(Proposal).where(Proposal.round_id == round_id)):
        mine = [r for r in active if r.proposal_id == proposal.id]
        assert proposal.reserved_count == len(mine)
        assert proposal.reserved_cents == sum(r.amount_cents for r in mine)
        if mine:
            assert proposal.fundable_at is not None
        count = db.session.scalar(
            select(func.count()).where(
                Commitment.proposal_id == proposal.id,
                Commitment.status == CommitmentStatus.active,
            )
        )
        assert proposal.commitment_count == count


# --- reservations -------------------------------------------------------------------------------


def test_reservations_at_the_fundable_transition_follow_commitment_order_while_budget_allows(app):
    r = f.budget_round(base_threshold=3, total_cents=100_000)  # room for 2 of 3
    p = f.proposal(r, budget_cents=40_000)
    first, second, third = managers(3)
    first.commit(p.id)
    second.commit(p.id)
    assert fresh(p.id).fundable_at is None and active_reservations(r.id) == []
    third.commit(p.id)

    p = fresh(p.id)
    assert p.fundable_at is not None and p.fundable_threshold == 3 and p.fundable_count == 3
    assert reserved_groups(p.id) == [first.group_id, second.group_id]
    assert hors_budget_groups(p.id) == [third.group_id]
    assert p.reserved_count == 2 and p.reserved_cents == 80_000
    assert fresh_round(r.id).reserved_cents == 80_000
    state = catalog.card_by_id(p.id).state
    assert (state.count, state.reserved_count, state.outside_budget) == (3, 2, 1)
    assert_budget_consistent(r.id)


def test_reservation_order_is_the_commitment_time_not_the_row_order(app):
    """Rows written in one order with commitment times in the other: the earliest commit wins."""
    r = f.budget_round(base_threshold=10, total_cents=50_000)  # room for 2 of 3
    p = f.proposal(r, budget_cents=20_000)
    groups = managers(3)
    now = utcnow()
    for i, m in enumerate(groups):
        db.session.add(
            Commitment(
                group_id=m.group_id, proposal_id=p.id, committed_at=now - timedelta(minutes=i)
            )
        )
    db.session.get(Proposal, p.id).commitment_count = 3
    db.session.commit()

    set_threshold_override(staff(animation=True), p.id, 3, "Seuil abaissé")

    assert reserved_groups(p.id) == [groups[2].group_id, groups[1].group_id]
    assert hors_budget_groups(p.id) == [groups[0].group_id]
    assert_budget_consistent(r.id)


def test_a_later_commitment_to_a_fundable_proposal_reserves_at_once_if_it_can(app):
    r = f.budget_round(base_threshold=2, total_cents=100_000)
    p = f.proposal(r, budget_cents=30_000)
    groups = managers(3)
    for m in groups[:2]:
        m.commit(p.id)
    assert fresh_round(r.id).reserved_cents == 60_000

    groups[2].commit(p.id)

    assert reserved_groups(p.id) == [m.group_id for m in groups]
    assert fresh_round(r.id).reserved_cents == 90_000
    assert hors_budget_groups(p.id) == []
    assert_budget_consistent(r.id)


def test_a_later_commitment_that_cannot_reserve_is_hors_budget_but_still_counted(app):
    r = f.budget_round(base_threshold=2, total_cents=70_000)
    p = f.proposal(r, budget_cents=30_000)
    groups = managers(3)
    for m in groups:
        m.commit(p.id)

    p = fresh(p.id)
    assert p.commitment_count == 3 and p.reserved_count == 2
    assert hors_budget_groups(p.id) == [groups[2].group_id]
    assert fresh_round(r.id).remaining_cents == 10_000
    state = catalog.card_by_id(p.id).state
    assert state.count == 3 and state.outside_budget == 1
    assert_budget_consistent(r.id)


def test_withdrawal_releases_the_reservation(app):
    r = f.budget_round(base_threshold=2, total_cents=100_000)
    p = f.proposal(r, budget_cents=30_000)
    first, second = managers(2)
    first.commit(p.id)
    second.commit(p.id)
    version = fresh_round(r.id).version

    first.withdraw(p.id)

    budget_round = fresh_round(r.id)
    assert budget_round.reserved_cents == 30_000 and budget_round.version > version
    p = fresh(p.id)
    assert (p.commitment_count, p.reserved_count, p.reserved_cents) == (1, 1, 30_000)
    assert p.fundable_at is not None
    mine = db.session.scalars(
        select(Reservation).where(Reservation.group_id == first.group_id)
    ).all()
    # Released, never deleted: the history stays readable.
    assert len(mine) == 1 and mine[0].released_at is not None and mine[0].amount_cents == 30_000
    assert_budget_consistent(r.id)


def test_freed_budget_goes_to_the_oldest_waiting_commitment(app):
    r = f.budget_round(base_threshold=1, total_cents=80_000)
    a = f.proposal(r, budget_cents=40_000)
    b = f.proposal(r, budget_cents=40_000)
    g1, g2, g3, g4 = managers(4)
    g1.commit(a.id)  # a becomes fundable, reserves 40 000
    g2.commit(b.id)  # b becomes fundable, reserves 40 000: nothing remains
    g3.commit(b.id)  # waits (older)
    g4.commit(a.id)  # waits (newer), on the proposal whose budget is freed
    assert fresh_round(r.id).remaining_cents == 0
    assert hors_budget_groups(a.id) == [g4.group_id]
    assert hors_budget_groups(b.id) == [g3.group_id]

    g1.withdraw(a.id)

    assert reserved_groups(b.id) == [g2.group_id, g3.group_id]
    assert hors_budget_groups(a.id) == [g4.group_id]
    assert fresh_round(r.id).remaining_cents == 0
    assert_budget_consistent(r.id)


def test_settle_round_serves_waiting_commitments_the_oldest_first_and_is_idempotent(app):
    r = f.budget_round(base_threshold=1, total_cents=30_000)
    p = f.proposal(r, budget_cents=10_000)
    groups = managers(5)
    for m in groups:
        m.commit(p.id)
    assert hors_budget_groups(p.id) == [m.group_id for m in groups[3:]]
    # More budget written behind the services' back; settling serves the oldest first.
    db.session.get(BudgetRound, r.id).total_cents = 40_000
    db.session.commit()

    assert settle_round(r.id).reserved == 1
    assert settle_round(r.id).reserved == 0

    assert reserved_groups(p.id) == [m.group_id for m in groups[:4]]
    assert hors_budget_groups(p.id) == [groups[4].group_id]
    assert_budget_consistent(r.id)


def test_a_renewed_commitment_after_withdrawal_reserves_again_with_one_active_reservation(app):
    r = f.budget_round(base_threshold=1, total_cents=100_000)
    p = f.proposal(r, budget_cents=25_000)
    (m,) = managers(1)
    first_id = m.commit(p.id)
    m.withdraw(p.id)
    assert fresh_round(r.id).reserved_cents == 0

    assert m.commit(p.id) == first_id

    rows = db.session.scalars(
        select(Reservation).where(Reservation.commitment_id == first_id).order_by(Reservation.id)
    ).all()
    assert [row.released_at is None for row in rows] == [False, True]
    assert fresh_round(r.id).reserved_cents == 25_000
    p = fresh(p.id)
    assert (p.commitment_count, p.reserved_count, p.reserved_cents) == (1, 1, 25_000)
    assert_budget_consistent(r.id)


def test_the_database_refuses_a_second_active_reservation_for_a_commitment(app):
    r = f.budget_round(base_threshold=1, total_cents=100_000)
    p = f.proposal(r, budget_cents=10_000)
    (m,) = managers(1)
    commitment_id = m.commit(p.id)
    assert len(active_reservations(r.id)) == 1

    def another(released_at=None) -> Reservation:
        return Reservation(
            round_id=r.id,
            proposal_id=p.id,
            commitment_id=commitment_id,
            group_id=m.group_id,
            amount_cents=10_000,
            released_at=released_at,
        )

    # A released one is history: allowed next to the active one.
    db.session.add(another(released_at=utcnow()))
    db.session.commit()
    db.session.add(another())
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert len(active_reservations(r.id)) == 1


def test_the_database_refuses_more_reserved_than_the_total(app):
    r = f.budget_round(total_cents=100_000)
    db.session.get(BudgetRound, r.id).reserved_cents = 100_001
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert fresh_round(r.id).reserved_cents == 0


# --- the round's total --------------------------------------------------------------------------


def reserve_two_of_four(total_cents: int = 80_000):
    """A round where 2 of 4 commitments hold a reservation of 40 000 and 2 wait."""
    r = f.budget_round(base_threshold=1, total_cents=total_cents)
    p = f.proposal(r, budget_cents=40_000)
    groups = managers(4)
    for m in groups:
        m.commit(p.id)
    return r, p, groups


def test_lowering_the_total_below_what_is_reserved_is_refused_with_the_figures(app):
    r, _p, _groups = reserve_two_of_four(total_cents=100_000)
    finance = staff(finance=True)
    before = snapshot()

    with pytest.raises(Invalid) as refused:
        change_round(finance, r.id, "Coupe budgétaire", total_cents=79_999)

    assert refused.value.status == 422
    message = refused.value.message
    assert format_cents(80_000) in message and format_cents(79_999) in message
    assert "réservé" in message
    assert snapshot() == before


def test_lowering_the_total_to_exactly_what_is_reserved_is_allowed_and_leaves_nothing(app):
    r, _p, _groups = reserve_two_of_four(total_cents=100_000)
    other = f.proposal(r, budget_cents=1, threshold_override=1)
    (late,) = managers(1)

    assert change_round(staff(finance=True), r.id, "Ajustement", total_cents=80_000)

    assert fresh_round(r.id).remaining_cents == 0
    late.commit(other.id)
    # Nothing remains: no new fundable proposal, even at one group for a threshold of one.
    assert fresh(other.id).fundable_at is None
    assert_budget_consistent(r.id)


def test_raising_the_total_lets_waiting_commitments_reserve_the_oldest_first(app):
    r, p, groups = reserve_two_of_four()
    finance = staff(finance=True)

    change_round(finance, r.id, "Dons supplémentaires", total_cents=120_000)
    assert reserved_groups(p.id) == [m.group_id for m in groups[:3]]
    assert hors_budget_groups(p.id) == [groups[3].group_id]

    change_round(finance, r.id, "Dons supplémentaires", total_cents=200_000)
    assert reserved_groups(p.id) == [m.group_id for m in groups]
    assert fresh_round(r.id).reserved_cents == 160_000
    assert_budget_consistent(r.id)


def test_every_change_of_total_base_and_policy_is_audited_with_who_old_new_reason_and_round(app):
    r = f.budget_round(base_threshold=15, total_cents=10_000_000)
    finance = staff(finance=True)

    update_round(
        finance,
        r.id,
        settings_of(
            fresh_round(r.id),
            total_cents=12_000_000,
            base_threshold=10,
            policy=ThresholdPolicy.scaled,
        ),
        "  Vote de l'assemblée du 12 mars  ",
    )

    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.round_id == r.id).order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.old_value, e.new_value) for e in entries] == [
        ("round.total", format_cents(10_000_000), format_cents(12_000_000)),
        ("round.base_threshold", "15", "10"),
        ("round.policy", "fixe", "proportionnelle au budget restant"),
    ]
    assert {(e.actor_id, e.reason) for e in entries} == {
        (finance.id, "Vote de l'assemblée du 12 mars")
    }
    assert all(e.at is not None for e in entries)
    budget_round = fresh_round(r.id)
    assert (budget_round.total_cents, budget_round.base_threshold, budget_round.policy) == (
        12_000_000,
        10,
        ThresholdPolicy.scaled,
    )


def test_a_threshold_override_change_is_audited_with_its_proposal_and_round(app):
    r = f.budget_round()
    p = f.proposal(r)
    animator = staff(animation=True)

    set_threshold_override(animator, p.id, 4, "Action peu coûteuse")
    set_threshold_override(animator, p.id, None, "Retour au seuil du budget")

    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "proposal.threshold_override")
        .order_by(AuditEntry.id)
    ).all()
    assert [
        (e.actor_id, e.proposal_id, e.round_id, e.old_value, e.new_value, e.reason) for e in entries
    ] == [
        (animator.id, p.id, r.id, "", "4", "Action peu coûteuse"),
        (animator.id, p.id, r.id, "4", "", "Retour au seuil du budget"),
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"total_cents": 9_000_000},
        {"base_threshold": 3},
        {"policy": ThresholdPolicy.scaled},
    ],
    ids=["total", "base", "policy"],
)
def test_a_round_change_without_a_reason_is_refused_and_writes_nothing(app, change):
    r = f.budget_round()
    finance = staff(finance=True)
    before = snapshot()

    with pytest.raises(Invalid, match="raison"):
        change_round(finance, r.id, "   ", **change)

    assert snapshot() == before


def test_an_override_change_without_a_reason_is_refused_and_writes_nothing(app):
    p = f.proposal(f.budget_round())
    animator = staff(animation=True)
    before = snapshot()

    with pytest.raises(Invalid, match="raison"):
        set_threshold_override(animator, p.id, 2, "")

    assert snapshot() == before


@pytest.mark.parametrize("role", [None, "animation"])
def test_only_the_finance_team_and_admins_change_a_round(app, role):
    r = f.budget_round()
    person = staff(**({role: True} if role else {}))
    before = snapshot()

    with pytest.raises(NotAllowed):
        change_round(person, r.id, "Essai", total_cents=1)

    assert snapshot() == before
    assert change_round(staff(admin=True), r.id, "Essai", total_cents=1)


# --- the threshold policy -----------------------------------------------------------------------


def test_manual_threshold_is_the_override_else_the_base_whatever_remains(app):
    for reserved in (0, 500, 999):
        assert threshold_for(None, 12, ThresholdPolicy.manual, 1000, reserved) == 12
        assert threshold_for(4, 12, ThresholdPolicy.manual, 1000, reserved) == 4
    r = f.budget_round(base_threshold=12)
    assert effective_threshold(f.proposal(r), r) == 12
    assert effective_threshold(f.proposal(r, threshold_override=4), r) == 4


def test_the_override_wins_under_the_scaled_policy_too(app):
    assert threshold_for(4, 12, ThresholdPolicy.scaled, 1000, 900) == 4


AWKWARD = [
    # base, total, reserved
    (15, 10_000_000, 0),  # nothing reserved: the base
    (4, 300, 150),  # exact division: no rounding up
    (7, 1_000_003, 333_334),
    (3, 10**17 + 1, 1),  # 3 + 3e-17: a float would say 3
    (1, 10**12, 10**12 - 1),  # one cent left: the threshold explodes
    (999, 987_654_321, 123_456_789),
    (2, 1, 0),
]


@pytest.mark.parametrize(("base", "total", "reserved"), AWKWARD)
def test_scaled_threshold_is_the_exact_integer_ceiling_of_base_times_total_over_remaining(
    app, base, total, reserved
):
    expected = math.ceil(Fraction(base * total, total - reserved))
    assert threshold_for(None, base, ThresholdPolicy.scaled, total, reserved) == expected
    # The SQL of the lists and the polls says the same on this backend.
    r = f.budget_round(base_threshold=base, total_cents=total, policy=ThresholdPolicy.scaled)
    p = f.proposal(r)
    db.session.get(BudgetRound, r.id).reserved_cents = reserved
    db.session.commit()
    assert catalog.card_by_id(p.id).state.threshold == expected
    assert catalog.live_states([p.id])[p.id].threshold == expected
    assert effective_threshold(fresh(p.id), fresh_round(r.id)) == expected


def test_scaled_threshold_rises_as_the_remaining_budget_shrinks(app):
    thresholds = [
        threshold_for(None, 10, ThresholdPolicy.scaled, 1000, reserved)
        for reserved in range(0, 1000, 50)
    ]
    assert thresholds == sorted(thresholds) and thresholds[0] == 10 and thresholds[-1] == 200


@pytest.mark.parametrize("policy", list(ThresholdPolicy))
def test_no_new_fundable_proposal_once_nothing_remains(app, policy):
    """Remaining 0: not with a count far above the threshold, not with an override of one."""
    r = f.budget_round(base_threshold=1, total_cents=50_000, policy=policy)
    eater = f.proposal(r, budget_cents=50_000)
    first, *others = managers(12)
    first.commit(eater.id)
    assert fresh_round(r.id).remaining_cents == 0
    starved = f.proposal(r, budget_cents=1)
    f.commitments(starved, [db.session.get(ActionGroup, m.group_id) for m in others[:10]])

    set_threshold_override(staff(animation=True), starved.id, 1, "Seuil minimal")
    others[10].commit(starved.id)
    settle_round(r.id)

    starved = fresh(starved.id)
    assert starved.commitment_count == 11 and starved.fundable_at is None
    card = catalog.card_by_id(starved.id)
    assert card.state.exhausted and not card.state.fundable
    assert_budget_consistent(r.id)


def test_a_fundable_proposal_shows_the_threshold_it_crossed(app):
    r = f.budget_round(base_threshold=2, total_cents=1_000_000)
    p = f.proposal(r, budget_cents=10_000)
    for m in managers(2):
        m.commit(p.id)
    finance = staff(finance=True)
    change_round(finance, r.id, "Plus exigeant", base_threshold=40)
    change_round(finance, r.id, "Proportionnel", policy=ThresholdPolicy.scaled)
    set_threshold_override(staff(animation=True), p.id, 25, "Relever")

    p = fresh(p.id)
    assert p.fundable_threshold == 2
    assert effective_threshold(p, fresh_round(r.id)) == 2
    assert catalog.card_by_id(p.id).state.threshold == 2
    assert catalog.live_states([p.id])[p.id].threshold == 2


# --- lowering and raising thresholds ------------------------------------------------------------


def test_lowering_the_base_threshold_below_the_count_makes_proposals_fundable_with_reservations(
    app,
):
    r = f.budget_round(base_threshold=5, total_cents=40_000)  # room for 4 of 6
    older = f.proposal(r, budget_cents=10_000)
    newer = f.proposal(r, budget_cents=10_000)
    groups = managers(3)
    for m in groups:
        m.commit(older.id)
        m.commit(newer.id)
    assert fresh(older.id).fundable_at is None and fresh(newer.id).fundable_at is None

    change_round(staff(finance=True), r.id, "Seuil abaissé", base_threshold=3)

    for p in (older, newer):
        p = fresh(p.id)
        assert p.fundable_at is not None and (p.fundable_threshold, p.fundable_count) == (3, 3)
    # The older publication first, each in commitment order, while the budget allows.
    assert reserved_groups(older.id) == [m.group_id for m in groups]
    assert reserved_groups(newer.id) == [groups[0].group_id]
    assert hors_budget_groups(newer.id) == [m.group_id for m in groups[1:]]
    assert fresh_round(r.id).remaining_cents == 0
    assert_budget_consistent(r.id)


def test_lowering_an_override_below_the_count_makes_the_proposal_fundable_with_reservations(app):
    r = f.budget_round(base_threshold=20, total_cents=100_000)
    p = f.proposal(r, budget_cents=20_000, threshold_override=10)
    groups = managers(3)
    for m in groups:
        m.commit(p.id)

    set_threshold_override(staff(animation=True), p.id, 2, "Action simple")

    p = fresh(p.id)
    assert p.fundable_at is not None and (p.fundable_threshold, p.fundable_count) == (2, 3)
    assert reserved_groups(p.id) == [m.group_id for m in groups]
    assert fresh_round(r.id).reserved_cents == 60_000
    assert_budget_consistent(r.id)


def test_raising_the_base_or_an_override_never_unfunds(app):
    r = f.budget_round(base_threshold=2, total_cents=100_000)
    p = f.proposal(r, budget_cents=20_000)
    for m in managers(2):
        m.commit(p.id)
    before = fresh(p.id)
    fundable = (before.fundable_at, before.fundable_threshold, before.fundable_count)

    change_round(staff(finance=True), r.id, "Relever", base_threshold=50)
    set_threshold_override(staff(animation=True), p.id, 80, "Relever encore")
    change_round(staff(finance=True), r.id, "Proportionnel", policy=ThresholdPolicy.scaled)

    p = fresh(p.id)
    assert (p.fundable_at, p.fundable_threshold, p.fundable_count) == fundable
    assert p.reserved_count == 2 and fresh_round(r.id).reserved_cents == 40_000
    assert_budget_consistent(r.id)


def test_under_scaled_a_withdrawal_that_frees_budget_lowers_the_others_threshold_and_settles(app):
    r = f.budget_round(base_threshold=2, total_cents=100_000, policy=ThresholdPolicy.scaled)
    a = f.proposal(r, budget_cents=25_000)
    b = f.proposal(r, budget_cents=10_000)
    a1, a2 = managers(2)
    a1.commit(a.id)
    a2.commit(a.id)  # threshold 2 (nothing reserved yet): a reserves 50 000
    b_groups = managers(3)
    for m in b_groups:
        m.commit(b.id)
    # 50 000 left of 100 000: b needs ceil(2 × 100 000 / 50 000) = 4 groups.
    assert catalog.card_by_id(b.id).state.threshold == 4
    assert fresh(b.id).fundable_at is None

    a1.withdraw(a.id)  # 75 000 left: ceil(200 000 / 75 000) = 3, b has 3

    b = fresh(b.id)
    assert b.fundable_at is not None and (b.fundable_threshold, b.fundable_count) == (3, 3)
    assert reserved_groups(b.id) == [m.group_id for m in b_groups]
    assert fresh_round(r.id).reserved_cents == 25_000 + 30_000
    assert_budget_consistent(r.id)


def test_under_scaled_raising_the_total_lowers_the_threshold_and_settles(app):
    r = f.budget_round(base_threshold=2, total_cents=100_000, policy=ThresholdPolicy.scaled)
    a = f.proposal(r, budget_cents=40_000)
    b = f.proposal(r, budget_cents=10_000)
    for m in managers(2):
        m.commit(a.id)  # reserves 80 000: b needs ceil(200 000 / 20 000) = 10
    for m in managers(4):
        m.commit(b.id)
    assert fresh(b.id).fundable_at is None

    # 180 000 of 260 000 left: ceil(2 × 260 000 / 180 000) = 3 ≤ 4.
    change_round(staff(finance=True), r.id, "Nouveaux dons", total_cents=260_000)

    b = fresh(b.id)
    assert b.fundable_at is not None and b.fundable_threshold == 3 and b.reserved_count == 4
    assert_budget_consistent(r.id)


# --- the closed round ---------------------------------------------------------------------------


def closed_round(**kwargs) -> BudgetRound:
    now = utcnow()
    return f.budget_round(
        name="Budget 2026",
        opens_at=now - timedelta(days=200),
        closes_at=now - timedelta(days=2),
        **kwargs,
    )


def test_a_closed_round_refuses_commitments_naming_the_round_and_the_closing_date(app):
    r = closed_round()
    p = f.proposal(r)
    (m,) = managers(1)
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        m.commit(p.id)

    assert refused.value.status == 409
    message = refused.value.message
    assert "« Budget 2026 »" in message and "clos" in message
    assert format_paris(fresh_round(r.id).closes_at) in message
    assert snapshot() == before


def test_a_round_not_yet_open_refuses_commitments_naming_the_opening_date(app):
    now = utcnow()
    r = f.budget_round(
        name="Budget 2028", opens_at=now + timedelta(days=3), closes_at=now + timedelta(days=90)
    )
    p = f.proposal(r)
    (m,) = managers(1)
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        m.commit(p.id)

    message = refused.value.message
    assert "« Budget 2028 »" in message and "ouvrent" in message
    assert format_paris(fresh_round(r.id).opens_at) in message
    assert snapshot() == before


def test_commitments_are_accepted_from_the_opening_instant_until_just_before_the_closing_one(
    app, monkeypatch
):
    r = f.budget_round()
    p = f.proposal(r)
    first, second = managers(2)
    r = fresh_round(r.id)
    opens_at, closes_at = r.opens_at, r.closes_at

    monkeypatch.setattr("services.commitments.utcnow", lambda: opens_at)
    first.commit(p.id)
    monkeypatch.setattr(
        "services.commitments.utcnow", lambda: closes_at - timedelta(microseconds=1)
    )
    second.commit(p.id)
    first.withdraw(p.id)
    monkeypatch.setattr("services.commitments.utcnow", lambda: closes_at)
    with pytest.raises(Conflict, match="clos"):
        first.commit(p.id)
    assert fresh(p.id).commitment_count == 1


def test_a_closed_round_keeps_its_figures_readable(app, client):
    r = f.budget_round(base_threshold=2, total_cents=100_000, name="Budget 2026")
    p = f.proposal(r, budget_cents=30_000, title="Jardin partagé")
    groups = managers(4)
    for m in groups:
        m.commit(p.id)
    now = utcnow()
    change_round(
        staff(finance=True),
        r.id,
        "Fin de la période",
        opens_at=now - timedelta(days=60),
        closes_at=now - timedelta(minutes=1),
    )
    late = managers(1)[0]

    with pytest.raises(Conflict):
        late.commit(p.id)

    budget_round = fresh_round(r.id)
    assert (budget_round.total_cents, budget_round.reserved_cents) == (100_000, 90_000)
    state = catalog.card_by_id(p.id).state
    assert (state.count, state.threshold, state.fundable) == (4, 2, True)
    assert (state.reserved_count, state.reserved_cents, state.outside_budget) == (3, 90_000, 1)
    response = client.get(f"/propositions/{p.slug}")
    assert response.status_code == 200
    assert "Jardin partagé" in response.get_data(as_text=True)
    assert_budget_consistent(r.id)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_over_http_committing_to_a_closed_round_answers_409_with_the_message(
    app, client, auth, hx, htmx
):
    r = closed_round()
    p = f.proposal(r)
    (m,) = managers(1)
    auth.login(m.person.email)
    before = snapshot()

    response = client.post(
        f"/propositions/{p.id}/engagement",
        data={"group_id": m.group_id},
        headers=hx if htmx else {},
    )

    assert response.status_code == 409
    page = html.unescape(response.get_data(as_text=True))
    assert "Le budget participatif « Budget 2026 » est clos depuis le" in page
    assert format_paris(fresh_round(r.id).closes_at) in page
    assert snapshot() == before
    assert fresh(p.id).commitment_count == 0


def test_only_published_proposals_of_the_round_count_in_the_sweep(app):
    """A lowered base makes no unpublished proposal fundable, whatever its count."""
    r = f.budget_round(base_threshold=5, total_cents=1_000_000)
    hidden = f.proposal(r, status=ProposalStatus.in_review)
    f.commitments(hidden, [f.group() for _ in range(3)])

    change_round(staff(finance=True), r.id, "Seuil abaissé", base_threshold=1)

    assert fresh(hidden.id).fundable_at is None and active_reservations(r.id) == []


def test_a_closed_round_shows_the_reason_instead_of_the_commit_form(app, client, auth):
    r = closed_round()
    p = f.proposal(r)
    (m,) = managers(1)
    auth.login(m.person.email)

    page = html.unescape(client.get(f"/propositions/{p.slug}").get_data(as_text=True))

    assert "Le budget participatif « Budget 2026 » est clos depuis le" in page
    assert f"/propositions/{p.id}/engagement" not in page
    assert "Engager le groupe" not in page


def test_a_round_not_yet_open_shows_its_opening_date_instead_of_the_commit_form(app, client, auth):
    now = utcnow()
    r = f.budget_round(
        name="Budget 2028", opens_at=now + timedelta(days=3), closes_at=now + timedelta(days=90)
    )
    p = f.proposal(r)
    (m,) = managers(1)
    auth.login(m.person.email)

    page = html.unescape(client.get(f"/propositions/{p.slug}").get_data(as_text=True))

    assert "Les engagements du budget participatif « Budget 2028 » ouvrent le" in page
    assert f"/propositions/{p.id}/engagement" not in page


def fundable_with_unserved_commitments(round_, budget_cents: int, groups) -> Proposal:
    """A fundable proposal whose commitments hold no reservation although budget may fit: the
    state between a withdrawal (or a larger total) and its settlement."""
    p = f.proposal(round_, threshold_override=1, budget_cents=budget_cents)
    p.fundable_at = p.published_at
    p.fundable_threshold = p.fundable_count = 1
    db.session.commit()
    f.commitments(p, list(groups))
    return p


def test_a_transition_yields_the_budget_to_older_commitments_waiting_elsewhere(app):
    # A fundable proposal whose two commitments wait for budget that fits (as between a
    # withdrawal and its settlement); then another proposal crosses its threshold.
    r = f.budget_round(total_cents=100_000, base_threshold=100)
    older = managers(2)
    waiting_on = fundable_with_unserved_commitments(
        r, 30_000, (db.session.get(ActionGroup, m.group_id) for m in older)
    )
    crossing = f.proposal(r, threshold_override=2, budget_cents=30_000)
    first, second = managers(2)
    first.commit(crossing.id)

    second.commit(crossing.id)  # crosses: 2 ≥ 2

    assert fresh(crossing.id).fundable_at is not None
    assert reserved_groups(waiting_on.id) == [m.group_id for m in older]
    # 100 000 − 2 × 30 000 leaves one share, for the older of the crossing's commitments.
    assert reserved_groups(crossing.id) == [first.group_id]
    assert hors_budget_groups(crossing.id) == [second.group_id]
    assert_budget_consistent(r.id)


def test_a_new_commitment_yields_the_budget_to_older_waiting_ones_then_takes_its_turn(app):
    r = f.budget_round(total_cents=100_000, base_threshold=100)
    older = managers(2)
    p = fundable_with_unserved_commitments(
        r, 40_000, (db.session.get(ActionGroup, m.group_id) for m in older)
    )
    (newcomer,) = managers(1)

    newcomer.commit(p.id)

    # The two older commitments take 80 000; the newcomer's share no longer fits.
    assert reserved_groups(p.id) == [m.group_id for m in older]
    assert hors_budget_groups(p.id) == [newcomer.group_id]
    assert_budget_consistent(r.id)
