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
    SpendingRequest,
    SpendingStatus,
    db,
    utcnow,
)

from .access import require_certified, require_group_manager, require_staff
from .budget import (
    lock_round,
    record_fundable_if_reached,
    release_for_commitment,
    reserve_for_commitment,
    settle_deferred,
    settle_round,
)
from .errors import Conflict, Invalid, NotFound
from .money import format_paris
from .tx import for_update, write_transaction

NOTE_MAX_LENGTH = 2000
THRESHOLD_STATUSES = (ProposalStatus.submitted, ProposalStatus.in_review, ProposalStatus.published)


class AlreadyCommitted(Conflict):
    pass


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


def commit_group(actor: Person, group_id: int, proposal_id: int, note: str = "") -> int:
    """Commit the group to the action; returns the commitment's id. When older commitments
    wait for budget that fits, they are served first, after the commitment is saved."""
    commitment_id = _commit(actor, group_id, proposal_id, note)
    settle_deferred()
    return commitment_id


def _commit(actor: Person, group_id: int, proposal_id: int, note: str) -> int:
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
            _require_open_round(lock_round(proposal.round_id), now)
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
            db.session.flush()
            if proposal.is_fundable:
                # A later commitment reserves at once if the round allows it.
                reserve_for_commitment(proposal, commitment)
            else:
                record_fundable_if_reached(proposal)
            db.session.flush()
            return commitment.id
    except IntegrityError as error:
        # The unique constraint is the last guard against a double commitment; any other
        # constraint that fails here is a broken rule, not a person's mistake: it propagates.
        if not _is_double_commitment(error):
            raise
        raise AlreadyCommitted(_("Ce groupe est déjà engagé sur cette action.")) from error


def _is_double_commitment(error: IntegrityError) -> bool:
    message = str(error.orig)
    # PostgreSQL names the constraint; SQLite names its columns.
    return "uq_commitment_group_id_proposal_id" in message or (
        "commitment.group_id, commitment.proposal_id" in message
    )


def commitments_refused_because(name: str, opens_at, closes_at, now) -> str | None:
    """Why a round takes no commitment at this instant (before or after its dates)."""
    if now < opens_at:
        return _(
            "Les engagements du budget participatif « %(name)s » ouvrent le %(date)s.",
            name=name,
            date=format_paris(opens_at),
        )
    if now >= closes_at:
        return _(
            "Le budget participatif « %(name)s » est clos depuis le %(date)s : il "
            "n'accepte plus d'engagements.",
            name=name,
            date=format_paris(closes_at),
        )
    return None


def _require_open_round(budget_round: BudgetRound, now) -> None:
    message = commitments_refused_because(
        budget_round.name, budget_round.opens_at, budget_round.closes_at, now
    )
    if message is not None:
        raise Conflict(message)


def withdraw_commitment(actor: Person, group_id: int, proposal_id: int) -> None:
    """Withdraw the group's commitment, and give its reservation back to the round.

    Rule 4: allowed while the proposal is not fundable; afterwards only if nothing was spent
    on it: no approved spending request is linked to the commitment (checked under the
    commitment's lock, which an approval takes too). The proposal stays fundable. The freed
    budget then goes to the commitments waiting for it and, under the scaled policy, may make
    other proposals fundable (`settle_round`, after this transaction).
    """
    released = _withdraw(actor, group_id, proposal_id)
    if released:
        settle_round(released)


def _withdraw(actor: Person, group_id: int, proposal_id: int) -> int | None:
    """The withdrawal's transaction; the round's id if budget was released."""
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
        if proposal.is_fundable and _spent_on(commitment.id):
            raise Conflict(
                _(
                    "Le groupe a déjà des dépenses approuvées pour cette action : son "
                    "engagement ne peut plus être retiré."
                )
            )
        commitment.status = CommitmentStatus.withdrawn
        commitment.withdrawn_at = utcnow()
        proposal.commitment_count -= 1
        proposal.live_version += 1
        released = release_for_commitment(proposal, commitment)
        return proposal.round_id if released else None


def _spent_on(commitment_id: int) -> bool:
    return (
        db.session.scalar(
            select(SpendingRequest.id)
            .where(
                SpendingRequest.commitment_id == commitment_id,
                SpendingRequest.status.in_([SpendingStatus.approved, SpendingStatus.paid]),
            )
            .limit(1)
        )
        is not None
    )


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
        lock_round(proposal.round_id)
        old = proposal.threshold_override
        proposal.threshold_override = threshold
        proposal.live_version += 1
        db.session.add(
            AuditEntry(
                actor_id=actor.id,
                action="proposal.threshold_override",
                proposal_id=proposal.id,
                round_id=proposal.round_id,
                old_value="" if old is None else str(old),
                new_value="" if threshold is None else str(threshold),
                reason=reason,
            )
        )
        record_fundable_if_reached(proposal)
    settle_deferred()
