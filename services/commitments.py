"""Commit a group to a published action, withdraw it, and the fundable transition."""

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import (
    ActionGroup,
    AuditEntry,
    BudgetRound,
    Commitment,
    CommitmentStatus,
    Person,
    Proposal,
    ProposalStatus,
    db,
    utcnow,
)

from .access import require_certified, require_group_manager, require_staff
from .errors import Conflict, Invalid, NotFound
from .tx import for_update, write_transaction

NOTE_MAX_LENGTH = 2000
THRESHOLD_STATUSES = (ProposalStatus.submitted, ProposalStatus.in_review, ProposalStatus.published)


class AlreadyCommitted(Conflict):
    pass


def effective_threshold(proposal: Proposal, budget_round: BudgetRound) -> int:
    """The threshold in force: the proposal's override, else the round's base threshold."""
    if proposal.threshold_override is not None:
        return proposal.threshold_override
    return budget_round.base_threshold


def _lock_published_proposal(proposal_id: int) -> Proposal:
    proposal = db.session.scalar(for_update(select(Proposal).where(Proposal.id == proposal_id)))
    if proposal is None or proposal.status != ProposalStatus.published:
        raise NotFound(_("Cette proposition n'existe pas ou n'est pas publiée."))
    return proposal


def lock_group_for_share(group_id: int) -> ActionGroup:
    # FOR SHARE: certification cannot change under us, other commitments of the group may.
    group = db.session.scalar(
        select(ActionGroup)
        .where(ActionGroup.id == group_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if group is None:
        raise NotFound(_("Ce groupe n'existe pas."))
    return group


def record_fundable_if_reached(proposal: Proposal) -> bool:
    """Record the fundable transition once, in the caller's locked transaction."""
    if proposal.fundable_at is not None:
        return False
    budget_round = db.session.get(BudgetRound, proposal.round_id)
    threshold = effective_threshold(proposal, budget_round)
    if proposal.commitment_count < threshold:
        return False
    proposal.fundable_at = utcnow()
    proposal.fundable_threshold = threshold
    proposal.fundable_count = proposal.commitment_count
    return True


def commit_group(actor: Person, group_id: int, proposal_id: int, note: str = "") -> int:
    """Commit the group to the action; returns the commitment's id."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise Invalid(_("La note ne peut dépasser %(max)d caractères.", max=NOTE_MAX_LENGTH))
    try:
        with write_transaction():
            proposal = _lock_published_proposal(proposal_id)
            group = lock_group_for_share(group_id)
            require_group_manager(actor, group)
            require_certified(group)
            commitment = db.session.scalar(
                for_update(
                    select(Commitment).where(
                        Commitment.group_id == group_id, Commitment.proposal_id == proposal_id
                    )
                )
            )
            if commitment is not None and commitment.is_active:
                raise AlreadyCommitted(_("Ce groupe est déjà engagé sur cette action."))
            now = utcnow()
            if commitment is None:
                commitment = Commitment(group_id=group_id, proposal_id=proposal_id)
                db.session.add(commitment)
            commitment.status = CommitmentStatus.active
            commitment.person_id = actor.id
            commitment.note = note
            commitment.committed_at = now
            commitment.withdrawn_at = None
            proposal.commitment_count += 1
            proposal.live_version += 1
            record_fundable_if_reached(proposal)
            db.session.flush()
            return commitment.id
    except IntegrityError as error:
        # The unique constraint is the last guard against a double commitment.
        raise AlreadyCommitted(_("Ce groupe est déjà engagé sur cette action.")) from error


def withdraw_commitment(actor: Person, group_id: int, proposal_id: int) -> None:
    """Withdraw the group's commitment.

    Rule 4: allowed while the proposal is not fundable; afterwards only if nothing was spent
    on it. Nothing can be spent on a commitment yet (spending requests do not exist), so
    withdrawal stays allowed after the transition, and the proposal stays fundable.
    """
    with write_transaction():
        proposal = _lock_published_proposal(proposal_id)
        group = lock_group_for_share(group_id)
        require_group_manager(actor, group)
        commitment = db.session.scalar(
            for_update(
                select(Commitment).where(
                    Commitment.group_id == group_id,
                    Commitment.proposal_id == proposal_id,
                    Commitment.status == CommitmentStatus.active,
                )
            )
        )
        if commitment is None:
            raise Conflict(_("Ce groupe n'est pas engagé sur cette action."))
        commitment.status = CommitmentStatus.withdrawn
        commitment.withdrawn_at = utcnow()
        proposal.commitment_count -= 1
        proposal.live_version += 1


def set_threshold_override(
    actor: Person, proposal_id: int, threshold: int | None, reason: str
) -> None:
    """Set or clear a proposal's own threshold (animation team); audited with a reason.

    The team may set it while reviewing (submitted, in review) or once published. Lowering it
    to the current count or below makes a published proposal fundable at once; raising it
    never un-funds.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Indiquez la raison de ce changement de seuil."))
    if threshold is not None and threshold < 1:
        raise Invalid(_("Le seuil doit être d'au moins un groupe."))
    with write_transaction():
        require_staff(actor, "animation", "admin")
        proposal = db.session.scalar(for_update(select(Proposal).where(Proposal.id == proposal_id)))
        if proposal is None:
            raise NotFound(_("Cette proposition n'existe pas."))
        if proposal.status not in THRESHOLD_STATUSES:
            raise Conflict(
                _(
                    "Le seuil se règle sur une proposition soumise, en revue ou publiée, "
                    "pas sur un brouillon ni sur une proposition close."
                )
            )
        old = proposal.threshold_override
        proposal.threshold_override = threshold
        proposal.live_version += 1
        db.session.add(
            AuditEntry(
                actor_id=actor.id,
                action="proposal.threshold_override",
                proposal_id=proposal.id,
                old_value="" if old is None else str(old),
                new_value="" if threshold is None else str(threshold),
                reason=reason,
            )
        )
        if proposal.is_public:
            record_fundable_if_reached(proposal)
