"""The budget round: thresholds, reservations and the fundable transition.

Lock order, everywhere: the proposal's row, then the group's (shared), then the commitment's,
then the round's. The round's row is the lock of the budget: every change to its reservations,
its total, its base threshold or its policy is made while holding it, so that
`Σ reservations ≤ total` and the thresholds computed from the remaining budget are checked on
what is current. A change that lowers thresholds or frees budget commits first, then
`settle_round` serves the commitments waiting for budget and the proposals that now reach their
threshold, each in a transaction of its own (proposal, then round), in the same order.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, case, literal, select

from models import (
    BudgetRound,
    Commitment,
    CommitmentStatus,
    Proposal,
    ProposalStatus,
    Reservation,
    ThresholdPolicy,
    db,
    utcnow,
)

from .errors import NotFound
from .tx import for_update, write_transaction


def threshold_for(
    override: int | None, base: int, policy: ThresholdPolicy | str, total: int, reserved: int
) -> int:
    """The effective threshold: the proposal's own, else the base (manual), else
    ceil(base × total / remaining) (scaled). When nothing remains the scaled formula has no
    value; the base is shown, and `can_become_fundable` says no proposal can cross it."""
    if override is not None:
        return override
    remaining = total - reserved
    if policy == ThresholdPolicy.manual or remaining <= 0:
        return base
    return -(-(base * total) // remaining)


def can_become_fundable(total: int, reserved: int) -> bool:
    """No new fundable proposal once nothing remains."""
    return total - reserved > 0


def effective_threshold(proposal: Proposal, budget_round: BudgetRound) -> int:
    """What every page shows: the threshold crossed, once fundable; else the one in force."""
    if proposal.fundable_at is not None and proposal.fundable_threshold is not None:
        return proposal.fundable_threshold
    return threshold_for(
        proposal.threshold_override,
        budget_round.base_threshold,
        budget_round.policy,
        budget_round.total_cents,
        budget_round.reserved_cents,
    )


# The same rules in SQL, for the lists and the polls (one query whatever the number of cards).
remaining_sql = BudgetRound.total_cents - BudgetRound.reserved_cents
_scaled_sql = (BudgetRound.base_threshold * BudgetRound.total_cents + remaining_sql - 1) // (
    remaining_sql
)
threshold_in_force_sql = case(
    (Proposal.threshold_override.is_not(None), Proposal.threshold_override),
    (BudgetRound.policy == ThresholdPolicy.manual.value, BudgetRound.base_threshold),
    (remaining_sql <= 0, BudgetRound.base_threshold),
    else_=_scaled_sql,
)
effective_threshold_sql = case(
    (
        and_(Proposal.fundable_at.is_not(None), Proposal.fundable_threshold.is_not(None)),
        Proposal.fundable_threshold,
    ),
    else_=threshold_in_force_sql,
)
exhausted_sql = case((remaining_sql <= 0, literal(True)), else_=literal(False))


def lock_round(round_id: int) -> BudgetRound:
    budget_round = db.session.scalar(
        for_update(select(BudgetRound).where(BudgetRound.id == round_id))
    )
    if budget_round is None:
        raise NotFound(_("Ce budget participatif n'existe pas."))
    return budget_round


def _reserve(budget_round: BudgetRound, proposal: Proposal, commitment: Commitment) -> bool:
    """Reserve the proposal's per-group budget for this commitment if the round allows it.

    The caller holds the proposal's and the round's locks."""
    amount = proposal.per_group_budget_cents
    if amount > budget_round.remaining_cents:
        return False
    db.session.add(
        Reservation(
            round_id=budget_round.id,
            proposal_id=proposal.id,
            commitment_id=commitment.id,
            group_id=commitment.group_id,
            amount_cents=amount,
            reserved_at=utcnow(),
        )
    )
    budget_round.reserved_cents += amount
    budget_round.version += 1
    proposal.reserved_count += 1
    proposal.reserved_cents += amount
    proposal.live_version += 1
    return True


def active_reservation(commitment_id: int) -> Reservation | None:
    return db.session.scalar(
        for_update(
            select(Reservation).where(
                Reservation.commitment_id == commitment_id, Reservation.released_at.is_(None)
            )
        )
    )


# Rounds whose waiting commitments must be served once the current transaction commits.
_SETTLE_AFTER = "commun.settle_after_commit"


def _older_waiting_fits(budget_round: BudgetRound, proposal: Proposal, transition: bool) -> bool:
    """Whether a commitment waiting for budget (« hors budget » on a fundable proposal of the
    round) fits what remains. Budget given back by a withdrawal or a larger total is theirs
    first, the oldest first: it is committed before `settle_round` hands it over, and a
    commitment or a transition made in between must not take it. On `proposal` itself the
    commitment just added does not count (nor, at its transition, any of its commitments).
    One query over the round's proposals (their counters), not over its commitments; the
    round's lock is held."""
    remaining = budget_round.remaining_cents
    if remaining <= 0:
        return False
    rows = db.session.execute(
        select(Proposal.id, Proposal.commitment_count, Proposal.reserved_count).where(
            Proposal.round_id == budget_round.id,
            Proposal.fundable_at.is_not(None),
            Proposal.commitment_count > Proposal.reserved_count,
            Proposal.per_group_budget_cents <= remaining,
        )
    ).all()
    for proposal_id, count, reserved in rows:
        if proposal_id == proposal.id:
            if transition:
                continue
            count -= 1
        if count - reserved > 0:
            return True
    return False


def _settle_after_commit(round_id: int) -> None:
    db.session.info.setdefault(_SETTLE_AFTER, set()).add(round_id)


def settle_deferred() -> None:
    """After a service's transaction: serve the rounds it left to `settle_round`."""
    for round_id in sorted(db.session.info.pop(_SETTLE_AFTER, set())):
        settle_round(round_id)


def reserve_for_commitment(
    proposal: Proposal, commitment: Commitment, yield_to_waiting: bool = True
) -> bool:
    """A commitment to a fundable proposal reserves at once if it can (proposal locked),
    unless older commitments wait for that budget: then `settle_round` serves them first,
    and this one in its turn (the caller runs `settle_deferred` after committing)."""
    if proposal.fundable_at is None:
        return False
    budget_round = lock_round(proposal.round_id)
    if active_reservation(commitment.id) is not None:
        return False
    if proposal.per_group_budget_cents > budget_round.remaining_cents:
        return False
    if yield_to_waiting and _older_waiting_fits(budget_round, proposal, transition=False):
        _settle_after_commit(budget_round.id)
        return False
    return _reserve(budget_round, proposal, commitment)


def release_for_commitment(proposal: Proposal, commitment: Commitment) -> int:
    """Give the commitment's reservation back to the round (proposal locked); the amount."""
    reservation = active_reservation(commitment.id)
    if reservation is None:
        return 0
    budget_round = lock_round(reservation.round_id)
    reservation.released_at = utcnow()
    budget_round.reserved_cents -= reservation.amount_cents
    budget_round.version += 1
    proposal.reserved_count -= 1
    proposal.reserved_cents -= reservation.amount_cents
    proposal.live_version += 1
    return reservation.amount_cents


def record_fundable_if_reached(proposal: Proposal, yield_to_waiting: bool = True) -> bool:
    """Record the fundable transition once, and its reservations, in the caller's transaction
    (which holds the proposal's lock): each active commitment, in commitment order, reserves
    the per-group budget while the remaining budget allows. If older commitments of other
    proposals wait for budget that fits, the transition is recorded and its reservations are
    left to `settle_round`, which serves every waiting commitment in commitment order."""
    if proposal.fundable_at is not None or proposal.status != ProposalStatus.published:
        return False
    budget_round = lock_round(proposal.round_id)
    if not can_become_fundable(budget_round.total_cents, budget_round.reserved_cents):
        return False
    threshold = effective_threshold(proposal, budget_round)
    if proposal.commitment_count < threshold:
        return False
    proposal.fundable_at = utcnow()
    proposal.fundable_threshold = threshold
    proposal.fundable_count = proposal.commitment_count
    proposal.live_version += 1
    budget_round.version += 1
    if yield_to_waiting and _older_waiting_fits(budget_round, proposal, transition=True):
        _settle_after_commit(budget_round.id)
        return True
    commitments = db.session.scalars(
        for_update(
            select(Commitment)
            .where(
                Commitment.proposal_id == proposal.id,
                Commitment.status == CommitmentStatus.active,
            )
            .order_by(Commitment.committed_at, Commitment.id)
        )
    ).all()
    for commitment in commitments:
        if not _reserve(budget_round, proposal, commitment):
            break
    return True


def _lock_proposal(proposal_id: int) -> Proposal | None:
    return db.session.scalar(for_update(select(Proposal).where(Proposal.id == proposal_id)))


def _waiting_commitments(round_id: int, remaining: int) -> list[int]:
    """Active commitments on the round's fundable proposals without a reservation whose
    amount fits what remains, the oldest first (read without locks; rechecked under them)."""
    active = and_(Reservation.commitment_id == Commitment.id, Reservation.released_at.is_(None))
    return list(
        db.session.scalars(
            select(Commitment.id)
            .join(Proposal, Proposal.id == Commitment.proposal_id)
            .outerjoin(Reservation, active)
            .where(
                Proposal.round_id == round_id,
                Proposal.fundable_at.is_not(None),
                Proposal.per_group_budget_cents <= remaining,
                Commitment.status == CommitmentStatus.active,
                Reservation.id.is_(None),
            )
            .order_by(Commitment.committed_at, Commitment.id)
        )
    )


def _reaching_proposals(round_id: int) -> list[int]:
    """Published proposals of the round that are not fundable and reach their threshold."""
    return list(
        db.session.scalars(
            select(Proposal.id)
            .join(BudgetRound, BudgetRound.id == Proposal.round_id)
            .where(
                Proposal.round_id == round_id,
                Proposal.status == ProposalStatus.published,
                Proposal.fundable_at.is_(None),
                remaining_sql > 0,
                Proposal.commitment_count >= threshold_in_force_sql,
            )
            .order_by(Proposal.published_at, Proposal.id)
        )
    )


@dataclass
class Settled:
    reserved: int = 0
    fundable: int = 0


def settle_round(round_id: int) -> Settled:
    """After budget was freed or thresholds lowered: the commitments waiting for budget
    reserve, the oldest first, then the proposals that now reach their threshold become
    fundable (oldest publication first). Each in its own transaction, rechecked under the
    locks; safe to run at any time, by any number of processes at once."""
    settled = Settled()
    budget_round = db.session.get(BudgetRound, round_id, populate_existing=True)
    if budget_round is None:
        return settled
    for commitment_id in _waiting_commitments(round_id, budget_round.remaining_cents):
        with write_transaction():
            commitment = db.session.get(Commitment, commitment_id, populate_existing=True)
            if commitment is None:
                continue
            proposal = _lock_proposal(commitment.proposal_id)
            commitment = db.session.scalar(
                for_update(select(Commitment).where(Commitment.id == commitment_id))
            )
            if commitment is None or not commitment.is_active or proposal is None:
                continue
            if reserve_for_commitment(proposal, commitment, yield_to_waiting=False):
                settled.reserved += 1
            elif db.session.get(BudgetRound, round_id).remaining_cents <= 0:
                break
    for proposal_id in _reaching_proposals(round_id):
        with write_transaction():
            proposal = _lock_proposal(proposal_id)
            if proposal is not None and record_fundable_if_reached(
                proposal, yield_to_waiting=False
            ):
                settled.fundable += 1
                settled.reserved += proposal.reserved_count
    return settled


def current_round() -> BudgetRound | None:
    return db.session.scalar(select(BudgetRound).where(BudgetRound.is_current).limit(1))


__all__ = [
    "Settled",
    "can_become_fundable",
    "current_round",
    "effective_threshold",
    "effective_threshold_sql",
    "exhausted_sql",
    "lock_round",
    "record_fundable_if_reached",
    "release_for_commitment",
    "reserve_for_commitment",
    "settle_deferred",
    "settle_round",
    "threshold_for",
    "threshold_in_force_sql",
]
