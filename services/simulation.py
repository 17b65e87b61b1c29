"""The threshold simulator: what a base threshold and policy would make fundable, right now.

`simulate` is the rule of `settle_round` replayed on plain values: the round's open published
proposals, in publication order, each becoming fundable if its count reaches the threshold
computed on what remains at its turn, its commitments reserving the per-group budget while
the remaining budget allows. `simulate_round` reads what it needs in one query. Nothing is
written.

It assumes the round is settled, as every service leaves it: no commitment of a fundable
proposal waits for budget that is available.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from models import BudgetRound, Proposal, ProposalStatus, ThresholdPolicy, db

from .budget import can_become_fundable, threshold_for

# How many of the proposals that would stay open are listed (the closest to their threshold).
CLOSEST = 20


@dataclass(frozen=True)
class OpenProposal:
    """A published proposal of the round, not fundable yet."""

    id: int
    title: str
    commitment_count: int
    threshold_override: int | None
    per_group_budget_cents: int
    published_at: datetime | None = None
    slug: str = ""


@dataclass(frozen=True)
class Transition:
    """A proposal that would become fundable, and what its commitments would reserve."""

    proposal: OpenProposal
    threshold: int
    reserved_count: int
    reserved_cents: int

    @property
    def outside_budget(self) -> int:
        """Its commitments that would be « hors budget participatif »."""
        return self.proposal.commitment_count - self.reserved_count


@dataclass(frozen=True)
class StillOpen:
    """A proposal that would stay open, with the threshold it would then have."""

    proposal: OpenProposal
    threshold: int

    @property
    def missing(self) -> int:
        return max(self.threshold - self.proposal.commitment_count, 0)


@dataclass(frozen=True)
class Simulation:
    base_threshold: int
    policy: ThresholdPolicy
    total_cents: int
    reserved_before_cents: int
    transitions: list[Transition] = field(default_factory=list)
    # The closest to their threshold first, at most CLOSEST of them.
    still_open: list[StillOpen] = field(default_factory=list)
    still_open_count: int = 0

    @property
    def reserved_cents(self) -> int:
        """What the new fundable proposals would reserve."""
        return sum(t.reserved_cents for t in self.transitions)

    @property
    def reserved_count(self) -> int:
        return sum(t.reserved_count for t in self.transitions)

    @property
    def remaining_after_cents(self) -> int:
        return self.total_cents - self.reserved_before_cents - self.reserved_cents

    @property
    def exhausted_after(self) -> bool:
        return not can_become_fundable(
            self.total_cents, self.reserved_before_cents + self.reserved_cents
        )

    @property
    def threshold_after(self) -> int:
        """The threshold a proposal without its own would have afterwards."""
        return threshold_for(
            None,
            self.base_threshold,
            self.policy,
            self.total_cents,
            self.reserved_before_cents + self.reserved_cents,
        )


def _publication_order(proposal: OpenProposal):
    # settle_round's order: published_at, then id.
    return (proposal.published_at is None, proposal.published_at, proposal.id)


def simulate(
    proposals: list[OpenProposal],
    base_threshold: int,
    policy: ThresholdPolicy,
    total_cents: int,
    reserved_cents: int,
    closest: int = CLOSEST,
) -> Simulation:
    """Which of these open proposals a round with this base and policy would make fundable,
    in order, and what each would reserve (see services.budget.record_fundable_if_reached)."""
    policy = ThresholdPolicy(policy)
    reserved = reserved_cents
    transitions: list[Transition] = []
    waiting: list[OpenProposal] = []
    for proposal in sorted(proposals, key=_publication_order):
        threshold = threshold_for(
            proposal.threshold_override, base_threshold, policy, total_cents, reserved
        )
        if not can_become_fundable(total_cents, reserved) or (
            proposal.commitment_count < threshold
        ):
            waiting.append(proposal)
            continue
        # Every commitment asks the same amount: they reserve in order until one does not fit.
        amount = proposal.per_group_budget_cents
        remaining = total_cents - reserved
        count = proposal.commitment_count
        fitting = count if amount == 0 else min(count, remaining // amount)
        transitions.append(Transition(proposal, threshold, fitting, fitting * amount))
        reserved += fitting * amount
    still_open = [
        StillOpen(
            p,
            threshold_for(p.threshold_override, base_threshold, policy, total_cents, reserved),
        )
        for p in waiting
    ]
    still_open.sort(key=lambda s: (s.missing, _publication_order(s.proposal)))
    return Simulation(
        base_threshold=base_threshold,
        policy=policy,
        total_cents=total_cents,
        reserved_before_cents=reserved_cents,
        transitions=transitions,
        still_open=still_open[:closest],
        still_open_count=len(still_open),
    )


def open_proposals(round_id: int) -> list[OpenProposal]:
    """The round's published proposals that are not fundable, in publication order."""
    rows = db.session.execute(
        select(
            Proposal.id,
            Proposal.title,
            Proposal.commitment_count,
            Proposal.threshold_override,
            Proposal.per_group_budget_cents,
            Proposal.published_at,
            Proposal.slug,
        )
        .where(
            Proposal.round_id == round_id,
            Proposal.status == ProposalStatus.published,
            Proposal.fundable_at.is_(None),
        )
        .order_by(Proposal.published_at, Proposal.id)
    )
    return [OpenProposal(*row) for row in rows]


def simulate_round(
    budget_round: BudgetRound, base_threshold: int, policy: ThresholdPolicy
) -> Simulation:
    """The simulation on the round's current figures and proposals (one query)."""
    return simulate(
        open_proposals(budget_round.id),
        base_threshold,
        policy,
        budget_round.total_cents,
        budget_round.reserved_cents,
    )
