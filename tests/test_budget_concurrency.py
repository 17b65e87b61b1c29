"""Reservations of the budget round under real concurrency, on SQLite and PostgreSQL.

DESIGN.md §3 « Reservations », « Threshold policy », « Fundable »: `remaining = total −
Σ reservations` never goes below zero under any concurrency; a commitment holds one active
reservation at most; the fundable transition is recorded once, by the change that crossed the
line, and its reservations go to the commitments in commitment order; a proposal once fundable
stays fundable; the counters equal their rows.

The threads are released together (`run_together`); each works in an app context and a session
of its own (`as_person`). A refusal of one operation (a `DomainError`: already committed, not
committed, total below what is reserved…) is an acceptable result; anything else (an
IntegrityError, a deadlock or a lock timeout leaking out) is a failure.
"""

import random
import time
import traceback

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from models import (
    BudgetRound,
    Commitment,
    CommitmentStatus,
    Proposal,
    ProposalStatus,
    Reservation,
    ThresholdPolicy,
    db,
)
from services import commitments as commitment_service
from services.budget import effective_threshold, settle_round
from services.commitments import commit_group, set_threshold_override, withdraw_commitment
from services.errors import DomainError
from tests import factories as f
from tests.test_budget import (
    Manager,
    active_reservations,
    assert_budget_consistent,
    change_round,
    fresh,
    fresh_round,
    hors_budget_groups,
    managers,
    staff,
)
from tests.test_concurrency import as_person, reload, run_together

pytestmark = pytest.mark.concurrency

SHARE = 10_000  # a per-group budget, in cents


# --- helpers ------------------------------------------------------------------------------------


def in_own_context(app, action):
    """Run a call that needs no person in a thread's own app context and session."""
    with app.app_context():
        return action()


def end_read_transaction() -> None:
    """End the test's own transaction: on SQLite an open read transaction keeps its snapshot,
    and the test would not see what the threads wrote."""
    db.session.commit()


def together(n: int, work) -> list:
    """`run_together`, with the test's own transaction ended before and after."""
    end_read_transaction()
    results = run_together(n, work)
    end_read_transaction()
    return results


def together_in_thread(action) -> list:
    """One call in a thread of its own (its own session and transaction), waited for."""
    return run_together(1, lambda i: action())


def commit_at_once(app, pairs: list[tuple[Manager, int]]) -> list:
    """Each (manager, proposal) commits in a thread of its own, all released together."""

    def work(i: int):
        manager, proposal_id = pairs[i]
        return as_person(
            app, manager.person_id, lambda who: commit_group(who, manager.group_id, proposal_id)
        )

    return together(len(pairs), work)


def failures(results: list) -> list:
    """What must never come out of a service call: every exception but a domain refusal.

    A refusal the database made (commit_group turns any IntegrityError into « déjà engagé »)
    counts as a failure too: with the locks taken, no constraint is ever the one to refuse."""
    return [
        "".join(traceback.format_exception(r))
        for r in results
        if isinstance(r, BaseException)
        and (not isinstance(r, DomainError) or isinstance(r.__cause__, SQLAlchemyError))
    ]


def commitment_order(proposal_id: int) -> list[int]:
    """The proposal's active commitments in commitment order (committed_at, id)."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Commitment.id)
            .where(
                Commitment.proposal_id == proposal_id,
                Commitment.status == CommitmentStatus.active,
            )
            .order_by(Commitment.committed_at, Commitment.id)
        )
    )


def reserved_commitments(proposal_id: int) -> set[int]:
    db.session.expire_all()
    return set(
        db.session.scalars(
            select(Reservation.commitment_id).where(
                Reservation.proposal_id == proposal_id, Reservation.released_at.is_(None)
            )
        )
    )


def waiting_commitments(proposal_ids: list[int]) -> list[int]:
    """Active commitments of these proposals without an active reservation, oldest first."""
    db.session.expire_all()
    active = (Reservation.commitment_id == Commitment.id) & Reservation.released_at.is_(None)
    return list(
        db.session.scalars(
            select(Commitment.id)
            .outerjoin(Reservation, active)
            .where(
                Commitment.proposal_id.in_(proposal_ids),
                Commitment.status == CommitmentStatus.active,
                Reservation.id.is_(None),
            )
            .order_by(Commitment.committed_at, Commitment.id)
        )
    )


def committed_up_to_the_transition(proposal: Proposal) -> int:
    """Commitments made no later than fundable_at: those counted by the crossing change."""
    return db.session.scalar(
        select(func.count()).where(
            Commitment.proposal_id == proposal.id,
            Commitment.committed_at <= proposal.fundable_at,
        )
    )


def assert_fundable_records_complete(round_id: int) -> None:
    """Every fundable proposal carries the threshold it crossed and the count at the crossing."""
    db.session.expire_all()
    for proposal in db.session.scalars(select(Proposal).where(Proposal.round_id == round_id)):
        if proposal.fundable_at is None:
            assert proposal.fundable_threshold is None and proposal.fundable_count is None
            continue
        assert proposal.fundable_threshold is not None and proposal.fundable_count is not None
        assert proposal.fundable_count >= proposal.fundable_threshold, (
            f"proposal {proposal.id} recorded fundable with {proposal.fundable_count} "
            f"commitments under a threshold of {proposal.fundable_threshold}"
        )


def assert_nothing_left_to_settle(round_id: int) -> None:
    """Once every thread is done, nothing is owed: no active commitment of a fundable proposal
    waits while its per-group budget fits what remains, and no published proposal reaches its
    threshold in force without being fundable while something remains."""
    budget_round = fresh_round(round_id)
    remaining = budget_round.remaining_cents
    for proposal in db.session.scalars(select(Proposal).where(Proposal.round_id == round_id)):
        if proposal.fundable_at is not None:
            waiting = len(hors_budget_groups(proposal.id))
            assert waiting == 0 or proposal.per_group_budget_cents > remaining, (
                f"{waiting} commitment(s) of fundable proposal {proposal.id} wait for budget "
                f"although {remaining} cents remain and its per-group budget is "
                f"{proposal.per_group_budget_cents}"
            )
        elif proposal.status == ProposalStatus.published and remaining > 0:
            threshold = effective_threshold(proposal, budget_round)
            assert proposal.commitment_count < threshold, (
                f"proposal {proposal.id} has {proposal.commitment_count} commitments, reaches "
                f"its threshold of {threshold} with {remaining} cents remaining, and is not "
                "fundable"
            )


# --- the last reservations ----------------------------------------------------------------------


def test_race_for_the_last_reservations_exactly_three_reserve(app):
    """Room for exactly 3 reservations, 30 groups committing at once to fundable proposals."""
    r = f.budget_round(base_threshold=1000, total_cents=9 * SHARE)
    pids = [f.proposal(r, budget_cents=SHARE, threshold_override=2).id for _ in range(3)]
    for i, m in enumerate(managers(6)):
        m.commit(pids[i % 3])  # each proposal crosses its threshold of 2 and reserves twice
    assert all(fresh(pid).fundable_at is not None for pid in pids)
    assert fresh_round(r.id).remaining_cents == 3 * SHARE
    before = {reservation.id for reservation in active_reservations(r.id)}
    late = managers(30)

    results = commit_at_once(app, [(m, pids[i % 3]) for i, m in enumerate(late)])

    assert failures(results) == []
    assert all(isinstance(result, int) for result in results), results
    active = active_reservations(r.id)
    new = [reservation for reservation in active if reservation.id not in before]
    assert len(new) == 3, f"{len(new)} new reservations for room for 3"
    holders = [reservation.commitment_id for reservation in active]
    assert len(holders) == len(set(holders)), "a commitment holds two active reservations"
    assert {reservation.commitment_id for reservation in new} <= set(results)
    budget_round = fresh_round(r.id)
    assert sum(reservation.amount_cents for reservation in active) == budget_round.reserved_cents
    assert budget_round.reserved_cents == budget_round.total_cents == 9 * SHARE
    for pid in pids:
        p = reload(pid)
        assert p.commitment_count == len(commitment_order(pid)) == 12
        mine = [reservation for reservation in active if reservation.proposal_id == pid]
        assert (p.reserved_count, p.reserved_cents) == (len(mine), SHARE * len(mine))
        assert len(hors_budget_groups(pid)) == 12 - len(mine)
    assert_budget_consistent(r.id)


# --- the fundable transition --------------------------------------------------------------------


def test_crossing_at_once_records_one_transition_reserving_for_the_earliest_commitments(app):
    """30 groups commit at once to a proposal whose threshold is 10, with room for 5 shares
    (and a remainder smaller than a share)."""
    total = 5 * SHARE + SHARE // 2
    r = f.budget_round(base_threshold=1000, total_cents=total)
    pid = f.proposal(r, budget_cents=SHARE, threshold_override=10).id
    groups = managers(30)

    results = commit_at_once(app, [(m, pid) for m in groups])

    assert failures(results) == []
    assert all(isinstance(result, int) for result in results), results
    p = reload(pid)
    assert p.commitment_count == 30 and p.fundable_at is not None
    # Recorded once, by the change that crossed the line: the count it recorded is the
    # threshold, and exactly that many commitments precede the transition.
    assert (p.fundable_threshold, p.fundable_count) == (10, 10)
    assert committed_up_to_the_transition(p) == 10
    order = commitment_order(pid)
    assert reserved_commitments(pid) == set(order[:5]), (
        "the reservations do not go to the 5 earliest commitments in commitment order"
    )
    budget_round = fresh_round(r.id)
    assert budget_round.reserved_cents == 5 * SHARE <= budget_round.total_cents
    assert (p.reserved_count, p.reserved_cents) == (5, 5 * SHARE)
    assert len(hors_budget_groups(pid)) == 25
    assert_budget_consistent(r.id)
    assert_fundable_records_complete(r.id)


def test_two_proposals_crossing_at_once_share_the_room_without_overdrawing(app):
    """15 groups on each of two proposals (threshold 8), at once, with room for 10 shares.
    Whatever the interleaving, the room is used up exactly, and each proposal's reservations
    are its earliest commitments; a proposal that could not cross found nothing remaining."""
    r = f.budget_round(base_threshold=1000, total_cents=10 * SHARE)
    pids = [f.proposal(r, budget_cents=SHARE, threshold_override=8).id for _ in range(2)]
    groups = managers(30)

    results = commit_at_once(app, [(m, pids[i % 2]) for i, m in enumerate(groups)])

    assert failures(results) == []
    assert all(isinstance(result, int) for result in results), results
    budget_round = fresh_round(r.id)
    assert budget_round.reserved_cents == budget_round.total_cents == 10 * SHARE
    fundable = 0
    for pid in pids:
        p = reload(pid)
        assert p.commitment_count == 15
        order = commitment_order(pid)
        reserved = reserved_commitments(pid)
        assert reserved == set(order[: len(reserved)]), (
            f"proposal {pid}: the reservations are not its earliest commitments"
        )
        if p.fundable_at is None:
            assert reserved == set()
            continue
        fundable += 1
        assert (p.fundable_threshold, p.fundable_count) == (8, 8)
        assert committed_up_to_the_transition(p) == 8
    assert fundable >= 1
    assert_budget_consistent(r.id)
    assert_fundable_records_complete(r.id)


# --- mixed churn --------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", list(ThresholdPolicy))
def test_commits_withdrawals_and_threshold_changes_at_once_keep_the_budget_invariants(app, policy):
    """16 groups committing and withdrawing on 3 proposals while the finance team lowers the
    base threshold (and moves the total) and the animation team sets overrides, at once; a
    watcher reads the proposals meanwhile to check that a fundable proposal stays fundable."""
    r = f.budget_round(base_threshold=7, total_cents=12 * SHARE, policy=policy)
    rid = r.id
    shares = (SHARE, 3 * SHARE // 2, 5 * SHARE // 2)
    pids = [f.proposal(r, budget_cents=share).id for share in shares]
    churners = managers(16)
    for i, m in enumerate(churners):
        m.commit(pids[i % 3])  # 5 or 6 each, below the base threshold of 7
    assert all(fresh(pid).fundable_at is None for pid in pids)
    finance_id = staff(finance=True).id
    animation_id = staff(animation=True).id

    workers = len(churners) + 2
    finished = []
    refused = []
    seen_fundable: dict[int, object] = {}
    seed = 2027

    def churn(i: int):
        m, rng = churners[i], random.Random(seed + i)
        mine = {pids[i % 3]}  # the proposals this group is committed to
        try:
            for _ in range(10):
                pid = rng.choice(pids)
                # Mostly what the group's page offers; sometimes a stale form (refused).
                committing = (pid not in mine) if rng.random() < 0.8 else (rng.random() < 0.5)
                action = commit_group if committing else withdraw_commitment
                try:
                    as_person(app, m.person_id, lambda who, a=action, p=pid: a(who, m.group_id, p))
                except DomainError as error:
                    refused.append(error)
                else:
                    (mine.add if committing else mine.discard)(pid)
            return True
        finally:
            finished.append(True)

    def finance():
        steps = [
            {"base_threshold": 6},
            {"base_threshold": 5},
            {"total_cents": 13 * SHARE},
            {"base_threshold": 4},
            "total to what is reserved",
            {"base_threshold": 3},
            {"total_cents": 16 * SHARE},
            {"base_threshold": 2},
        ]
        try:
            for step in steps:
                time.sleep(0.005)

                def change(who, step=step):
                    if step == "total to what is reserved":
                        # Read before the lock: refused if more was reserved meanwhile.
                        reserved = fresh_round(rid).reserved_cents
                        return change_round(who, rid, "Budget ajusté", total_cents=reserved)
                    return change_round(who, rid, "Seuil ajusté", **step)

                try:
                    as_person(app, finance_id, change)
                except DomainError as error:
                    refused.append(error)
            return True
        finally:
            finished.append(True)

    def animation():
        rng = random.Random(seed)
        try:
            for _ in range(10):
                time.sleep(0.003)
                pid, threshold = rng.choice(pids), rng.choice([None, 1, 2, 3, 5, 8, 12])
                try:
                    as_person(
                        app,
                        animation_id,
                        lambda who, pid=pid, t=threshold: set_threshold_override(
                            who, pid, t, "Réglage du seuil"
                        ),
                    )
                except DomainError as error:
                    refused.append(error)
            return True
        finally:
            finished.append(True)

    def watch():
        """Reads the proposals until the others are done; remembers when each became
        fundable, and fails if a fundable proposal is ever seen otherwise."""
        with app.app_context():
            while len(finished) < workers:
                db.session.expire_all()
                for p in db.session.scalars(select(Proposal).where(Proposal.id.in_(pids))):
                    if p.fundable_at is not None:
                        first = seen_fundable.setdefault(p.id, p.fundable_at)
                        assert first == p.fundable_at, f"proposal {p.id} fundable_at moved"
                    else:
                        assert p.id not in seen_fundable, f"proposal {p.id} went back"
                db.session.rollback()
                time.sleep(0.002)
        return True

    def work(i: int):
        if i < len(churners):
            return churn(i)
        if i == len(churners):
            return finance()
        if i == len(churners) + 1:
            return animation()
        return watch()

    results = together(workers + 1, work)

    assert failures(results) == []
    assert all(result is True for result in results), results
    assert failures(refused) == []
    assert_budget_consistent(rid)
    assert_fundable_records_complete(rid)
    for pid, first in seen_fundable.items():
        assert reload(pid).fundable_at == first, f"proposal {pid} did not stay fundable"
    assert_nothing_left_to_settle(rid)
    assert fresh_round(rid).reserved_cents <= fresh_round(rid).total_cents


# --- withdrawals ---------------------------------------------------------------------------------


def test_withdrawals_at_once_hand_the_freed_budget_to_the_oldest_waiting_commitments(app):
    """Room for 10 shares, held by the first 10 of 20 commitments on two proposals; 6 of the
    holders withdraw at once: each release settles, and the 6 oldest waiting reserve."""
    r = f.budget_round(base_threshold=1000, total_cents=10 * SHARE)
    pids = [f.proposal(r, budget_cents=SHARE, threshold_override=1).id for _ in range(2)]
    groups = managers(20)
    for i, m in enumerate(groups):
        m.commit(pids[i % 2])  # the first 10 reserve, the next 10 wait
    waiting = waiting_commitments(pids)
    assert len(waiting) == 10 and fresh_round(r.id).remaining_cents == 0
    leaving = groups[:6]

    results = together(
        len(leaving),
        lambda i: as_person(
            app,
            leaving[i].person_id,
            lambda who: withdraw_commitment(who, leaving[i].group_id, pids[i % 2]),
        ),
    )

    assert failures(results) == []
    assert results == [None] * len(leaving)
    budget_round = fresh_round(r.id)
    assert budget_round.reserved_cents == budget_round.total_cents == 10 * SHARE
    served = set(waiting) - set(waiting_commitments(pids))
    assert served == set(waiting[:6]), "the freed budget did not go to the oldest waiting"
    released = db.session.scalar(
        select(func.count()).where(
            Reservation.round_id == r.id, Reservation.released_at.is_not(None)
        )
    )
    assert released == 6
    assert_budget_consistent(r.id)
    assert_nothing_left_to_settle(r.id)


def test_budget_freed_by_a_withdrawal_goes_to_the_oldest_waiting_not_to_a_newcomer(
    app, monkeypatch
):
    """A withdrawal releases its reservation in one transaction and `settle_round` hands the
    freed budget to the waiting commitments in later ones. A group committing in between to
    the same fundable proposal must not take that budget: it waits behind the older ones
    (found by this test, which failed before `reserve_for_commitment` yielded to them). The
    interleaving is pinned: the newcomer commits in a thread of its own right after the
    withdrawal's transaction, before its settlement."""
    r = f.budget_round(base_threshold=1000, total_cents=3 * SHARE)
    pid = f.proposal(r, budget_cents=SHARE, threshold_override=1).id
    leaving, *others = managers(5)
    for m in [leaving, *others]:
        m.commit(pid)  # 3 reserve, the last 2 wait
    waiting = waiting_commitments([pid])
    assert len(waiting) == 2
    (newcomer,) = managers(1)
    settle = commitment_service.settle_round
    newcomer_ids = []

    def newcomer_then_settle(round_id: int):
        newcomer_ids.extend(
            together_in_thread(
                lambda: as_person(
                    app, newcomer.person_id, lambda who: commit_group(who, newcomer.group_id, pid)
                )
            )
        )
        return settle(round_id)

    monkeypatch.setattr(commitment_service, "settle_round", newcomer_then_settle)
    leaving.withdraw(pid)
    end_read_transaction()

    assert failures(newcomer_ids) == [] and isinstance(newcomer_ids[0], int)
    assert_budget_consistent(r.id)
    assert waiting_commitments([pid]) == [waiting[1], newcomer_ids[0]], (
        "the budget freed by a withdrawal went to a commitment made after it, while an older "
        "commitment of the same proposal still waits for budget"
    )


# --- concurrent settlements ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra_shares", "waiting_served", "reaching_becomes_fundable"),
    [(4, 4, False), (8, 6, True)],
    ids=["room-for-part-of-the-waiting", "room-for-all-waiting-and-a-reaching-proposal"],
)
def test_concurrent_settlements_reserve_each_waiting_commitment_once_within_the_total(
    app, extra_shares, waiting_served, reaching_becomes_fundable
):
    """Two fundable proposals with 6 commitments waiting for budget, and a proposal that
    reached its threshold when nothing remained; the total is raised behind the services'
    back (as a settlement that never ran would leave it); 6 settlements run at once."""
    r = f.budget_round(base_threshold=1000, total_cents=3 * SHARE)
    fundable_pids = [f.proposal(r, budget_cents=SHARE, threshold_override=1).id for _ in range(2)]
    for i, m in enumerate(managers(9)):
        m.commit(fundable_pids[i % 2])  # the first 3 reserve, the next 6 wait
    reaching = f.proposal(r, budget_cents=SHARE, threshold_override=4).id
    for m in managers(4):
        m.commit(reaching)  # reaches 4 with nothing remaining: not fundable
    assert fresh(reaching).fundable_at is None
    assert fresh_round(r.id).remaining_cents == 0
    waiting = waiting_commitments(fundable_pids)
    assert len(waiting) == 6
    before = {reservation.id for reservation in active_reservations(r.id)}
    rid = r.id
    db.session.get(BudgetRound, rid).total_cents += extra_shares * SHARE
    db.session.commit()

    results = together(6, lambda i: in_own_context(app, lambda: settle_round(rid)))

    assert failures(results) == []
    active = active_reservations(r.id)
    new = [reservation for reservation in active if reservation.id not in before]
    per_commitment = [reservation.commitment_id for reservation in new]
    assert len(per_commitment) == len(set(per_commitment)), "a commitment reserved twice"
    assert sum(result.reserved for result in results) == len(new) == extra_shares
    budget_round = fresh_round(r.id)
    assert budget_round.reserved_cents == budget_round.total_cents
    served = {cid for cid in per_commitment if cid in waiting}
    assert served == set(waiting[:waiting_served]), "the oldest waiting were not served first"
    p = reload(reaching)
    if reaching_becomes_fundable:
        assert sum(result.fundable for result in results) == 1
        assert p.fundable_at is not None and (p.fundable_threshold, p.fundable_count) == (4, 4)
        assert reserved_commitments(reaching) == set(commitment_order(reaching)[:2])
    else:
        assert sum(result.fundable for result in results) == 0
        assert p.fundable_at is None and reserved_commitments(reaching) == set()
    assert_budget_consistent(r.id)
    assert_fundable_records_complete(r.id)
    assert_nothing_left_to_settle(r.id)
