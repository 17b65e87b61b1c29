"""Property-based tests of the budget round (hypothesis), on SQLite and PostgreSQL.

- The effective threshold the lists and polls compute in SQL is the one the rules compute in
  Python, for any round and any proposal.
- Random sequences of commitments, withdrawals, threshold, policy and total changes keep the
  invariants of DESIGN.md §3 « Reservations » and « Threshold policy » after every step.

Each test builds a small world once and resets its mutable rows before each example (the
fixtures are function-scoped: hypothesis runs every example inside the same test call).
"""

from dataclasses import dataclass, field
from datetime import datetime

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from models import (
    AuditEntry,
    BudgetRound,
    Commitment,
    CommitmentStatus,
    Person,
    Proposal,
    ProposalStatus,
    Reservation,
    ThresholdPolicy,
    db,
    utcnow,
)
from services import catalog
from services.budget import can_become_fundable, effective_threshold
from services.commitments import AlreadyCommitted, set_threshold_override
from services.errors import Conflict, Invalid
from services.money import format_cents
from tests import factories as f
from tests.test_budget import Manager, change_round, managers, staff

PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- the effective threshold: SQL and Python agree ----------------------------------------------

rounds = st.fixed_dictionaries(
    {
        "total": st.one_of(st.integers(0, 1_000), st.integers(0, 10**12)),
        # The share of the total already reserved, in millionths (the CHECK keeps it ≤ total).
        "reserved_share": st.one_of(st.sampled_from([0, 1_000_000]), st.integers(0, 1_000_000)),
        "base": st.integers(1, 10_000),
        "policy": st.sampled_from(list(ThresholdPolicy)),
    }
)
proposal_states = st.fixed_dictionaries(
    {
        "override": st.none() | st.integers(1, 10_000),
        # The threshold it crossed, if fundable.
        "crossed": st.none() | st.integers(1, 10_000),
        "count": st.integers(0, 20_000),
    }
)


def test_sql_and_python_agree_on_the_effective_threshold(app):
    r = f.budget_round()
    proposals = [f.proposal(r) for _ in range(4)]
    round_id, ids = r.id, [p.id for p in proposals]

    @PROPERTY_SETTINGS
    @given(figures=rounds, states=st.lists(proposal_states, min_size=4, max_size=4))
    def check(figures, states):
        budget_round = db.session.get(BudgetRound, round_id)
        budget_round.total_cents = figures["total"]
        budget_round.reserved_cents = figures["total"] * figures["reserved_share"] // 1_000_000
        budget_round.base_threshold = figures["base"]
        budget_round.policy = figures["policy"]
        for proposal_id, state in zip(ids, states, strict=True):
            proposal = db.session.get(Proposal, proposal_id)
            proposal.threshold_override = state["override"]
            proposal.commitment_count = state["count"]
            proposal.fundable_at = utcnow() if state["crossed"] else None
            proposal.fundable_threshold = state["crossed"]
            proposal.fundable_count = state["count"] if state["crossed"] else None
        db.session.commit()

        db.session.expire_all()
        budget_round = db.session.get(BudgetRound, round_id)
        expected = {
            pid: effective_threshold(db.session.get(Proposal, pid), budget_round) for pid in ids
        }
        exhausted = not can_become_fundable(budget_round.total_cents, budget_round.reserved_cents)
        polled = catalog.live_states(ids)
        snapshot = catalog.all_live_states()
        for pid in ids:
            card = catalog.card_by_id(pid)
            assert card.state.threshold == expected[pid]
            assert polled[pid].threshold == snapshot[pid].threshold == expected[pid]
            assert card.state.exhausted == polled[pid].exhausted == exhausted

    check()


# --- random sequences of operations keep the invariants -----------------------------------------

BUDGETS = (30_000, 50_000, 70_000, 110_000)
GROUPS = 6
INITIAL_TOTAL = 200_000
INITIAL_BASE = 2

group_index = st.integers(0, GROUPS - 1)
proposal_index = st.integers(0, len(BUDGETS) - 1)
OPERATIONS = {
    "commit": st.tuples(group_index, proposal_index),
    "withdraw": st.tuples(group_index, proposal_index),
    "base": st.tuples(st.integers(1, 4)),
    "override": st.tuples(proposal_index, st.none() | st.integers(1, 4)),
    "policy": st.tuples(st.sampled_from(list(ThresholdPolicy))),
    "total": st.tuples(
        st.one_of(st.integers(5, 40).map(lambda k: k * 10_000), st.integers(0, 400_000))
    ),
    # An attempt below what is reserved (refused), or exactly at it (leaves nothing).
    "total_below_reserved": st.tuples(st.integers(0, 50_000)),
}
# Commitments most often, so that proposals cross their thresholds and the budget runs out.
KINDS = (
    ["commit"] * 8 + ["withdraw"] * 3 + [k for k in OPERATIONS if k not in ("commit", "withdraw")]
)
operations = st.sampled_from(KINDS).flatmap(
    lambda kind: OPERATIONS[kind].map(lambda args: (kind, *args))
)


@dataclass
class World:
    round_id: int
    proposal_ids: list[int]
    managers: list[Manager]
    staff_id: int
    # The rows the test expects active: (group index, proposal index).
    active: set[tuple[int, int]] = field(default_factory=set)
    # What each fundable proposal recorded at its transition; never changes afterwards.
    recorded: dict[int, tuple[datetime, int, int]] = field(default_factory=dict)


def build_world() -> World:
    r = f.budget_round(base_threshold=INITIAL_BASE, total_cents=INITIAL_TOTAL)
    proposals = [f.proposal(r, budget_cents=budget) for budget in BUDGETS]
    return World(
        round_id=r.id,
        proposal_ids=[p.id for p in proposals],
        managers=managers(GROUPS),
        staff_id=staff(finance=True, animation=True).id,
    )


def reset(world: World) -> None:
    db.session.rollback()
    db.session.execute(delete(Reservation))
    db.session.execute(delete(Commitment))
    db.session.execute(delete(AuditEntry))
    db.session.execute(
        update(Proposal).values(
            commitment_count=0,
            reserved_count=0,
            reserved_cents=0,
            threshold_override=None,
            fundable_at=None,
            fundable_threshold=None,
            fundable_count=None,
        )
    )
    db.session.execute(
        update(BudgetRound)
        .where(BudgetRound.id == world.round_id)
        .values(
            total_cents=INITIAL_TOTAL,
            base_threshold=INITIAL_BASE,
            policy=ThresholdPolicy.manual,
            reserved_cents=0,
        )
    )
    db.session.commit()
    db.session.expire_all()
    world.active.clear()
    world.recorded.clear()


def apply(world: World, op: tuple) -> None:
    """Run one operation through the services; a refusal must be the expected one."""
    kind = op[0]
    actor = world_staff(world)
    if kind in ("commit", "withdraw"):
        g, p = op[1], op[2]
        manager, proposal_id = world.managers[g], world.proposal_ids[p]
        if kind == "commit":
            if (g, p) in world.active:
                try:
                    manager.commit(proposal_id)
                except AlreadyCommitted:
                    return
                raise AssertionError("a second active commitment was accepted")
            manager.commit(proposal_id)
            world.active.add((g, p))
        else:
            if (g, p) not in world.active:
                try:
                    manager.withdraw(proposal_id)
                except Conflict:
                    return
                raise AssertionError("withdrew a commitment that is not active")
            manager.withdraw(proposal_id)
            world.active.discard((g, p))
    elif kind == "base":
        change_round(actor, world.round_id, "Essai", base_threshold=op[1])
    elif kind == "policy":
        change_round(actor, world.round_id, "Essai", policy=op[1])
    elif kind == "override":
        set_threshold_override(actor, world.proposal_ids[op[1]], op[2], "Essai")
    elif kind in ("total", "total_below_reserved"):
        budget_round = db.session.get(BudgetRound, world.round_id, populate_existing=True)
        reserved, old_total = budget_round.reserved_cents, budget_round.total_cents
        db.session.commit()
        if kind == "total_below_reserved" and reserved == 0:
            return  # nothing reserved yet: nothing to go below
        total = op[1] if kind == "total" else max(0, reserved - op[1])
        if total < reserved:
            try:
                change_round(actor, world.round_id, "Essai", total_cents=total)
            except Invalid as refused:
                assert format_cents(reserved) in refused.message
                assert format_cents(total) in refused.message
                budget_round = db.session.get(BudgetRound, world.round_id, populate_existing=True)
                assert budget_round.total_cents == old_total
                db.session.commit()
                return
            raise AssertionError("the total went below what is reserved")
        change_round(actor, world.round_id, "Essai", total_cents=total)
    else:  # pragma: no cover
        raise AssertionError(op)


def world_staff(world: World) -> Person:
    return db.session.get(Person, world.staff_id)


def check_invariants(world: World) -> None:
    db.session.expire_all()
    budget_round = db.session.get(BudgetRound, world.round_id)
    proposals = {
        p.id: p
        for p in db.session.scalars(select(Proposal).where(Proposal.round_id == world.round_id))
    }
    commitments = {c.id: c for c in db.session.scalars(select(Commitment))}
    active_reservations = db.session.scalars(
        select(Reservation).where(Reservation.released_at.is_(None))
    ).all()
    remaining = budget_round.total_cents - budget_round.reserved_cents

    # Σ active reservations == reserved ≤ total.
    assert sum(r.amount_cents for r in active_reservations) == budget_round.reserved_cents
    assert 0 <= budget_round.reserved_cents <= budget_round.total_cents

    # One active reservation per commitment at most, of an active commitment of a fundable
    # proposal, for the proposal's per-group budget.
    by_commitment = {}
    for reservation in active_reservations:
        assert reservation.commitment_id not in by_commitment, "two active reservations"
        by_commitment[reservation.commitment_id] = reservation
        commitment = commitments[reservation.commitment_id]
        proposal = proposals[reservation.proposal_id]
        assert commitment.status == CommitmentStatus.active
        assert commitment.proposal_id == proposal.id
        assert commitment.group_id == reservation.group_id
        assert reservation.round_id == world.round_id
        assert proposal.fundable_at is not None
        assert reservation.amount_cents == proposal.per_group_budget_cents

    # The commitments the test made are the active rows.
    group_index = {m.group_id: i for i, m in enumerate(world.managers)}
    proposal_index = {pid: i for i, pid in enumerate(world.proposal_ids)}
    active_rows = {
        (group_index[c.group_id], proposal_index[c.proposal_id])
        for c in commitments.values()
        if c.status == CommitmentStatus.active
    }
    assert active_rows == world.active

    for proposal in proposals.values():
        mine = [r for r in active_reservations if r.proposal_id == proposal.id]
        # The counters equal the rows they count.
        assert proposal.reserved_count == len(mine)
        assert proposal.reserved_cents == sum(r.amount_cents for r in mine)
        assert proposal.commitment_count == sum(
            1 for g, p in world.active if world.proposal_ids[p] == proposal.id
        )
        # Fundable never reverts; what the transition recorded never changes.
        if proposal.id in world.recorded:
            assert (
                proposal.fundable_at,
                proposal.fundable_threshold,
                proposal.fundable_count,
            ) == world.recorded[proposal.id]
        elif proposal.fundable_at is not None:
            assert proposal.fundable_count >= proposal.fundable_threshold >= 1
            world.recorded[proposal.id] = (
                proposal.fundable_at,
                proposal.fundable_threshold,
                proposal.fundable_count,
            )
        # Sweep complete: nothing reaches its threshold without being fundable while
        # budget remains.
        if proposal.status == ProposalStatus.published and proposal.fundable_at is None:
            threshold = effective_threshold(proposal, budget_round)
            assert remaining <= 0 or proposal.commitment_count < threshold, (
                f"proposal {proposal.id} has {proposal.commitment_count} ≥ {threshold} "
                f"with {remaining} remaining and is not fundable"
            )

    # Fill complete: no commitment waits for budget that would fit what remains.
    for commitment in commitments.values():
        proposal = proposals[commitment.proposal_id]
        if (
            commitment.status == CommitmentStatus.active
            and proposal.fundable_at is not None
            and commitment.id not in by_commitment
        ):
            assert proposal.per_group_budget_cents > remaining, (
                f"commitment {commitment.id} waits for {proposal.per_group_budget_cents} "
                f"while {remaining} remains"
            )
    db.session.commit()


def describe(world: World) -> None:
    """What the example reached (pytest --hypothesis-show-statistics)."""
    budget_round = db.session.get(BudgetRound, world.round_id, populate_existing=True)
    event(f"fundable proposals: {len(world.recorded)}")
    event(f"nothing remains: {budget_round.remaining_cents == 0}")
    waiting = db.session.scalar(
        select(func.count())
        .select_from(Proposal)
        .where(Proposal.fundable_at.is_not(None))
        .where(Proposal.commitment_count > Proposal.reserved_count)
    )
    event(f"proposals with commitments hors budget: {waiting}")
    db.session.commit()


def test_invariants_hold_after_every_step_of_random_operations(app):
    world = build_world()

    @PROPERTY_SETTINGS
    @given(steps=st.lists(operations, min_size=5, max_size=40))
    def run(steps):
        reset(world)
        check_invariants(world)
        for op in steps:
            apply(world, op)
            check_invariants(world)
        describe(world)

    run()
