"""A group's public page: who it is, its commitments; its members for its members."""

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import and_, select

from models import (
    ActionGroup,
    Commitment,
    CommitmentStatus,
    Membership,
    Person,
    Proposal,
    ProposalStatus,
    Reservation,
    db,
)
from services.access import role_in_group
from services.proposals import group_proposals
from services.workspace_access import is_team

from .spending import envelope_context

bp = Blueprint("groups", __name__, url_prefix="/groupes")


@bp.get("/<int:group_id>")
def detail(group_id: int):
    group = db.session.get(ActionGroup, group_id)
    if group is None:
        abort(404)
    my_role = role_in_group(current_user, group.id)
    can_see_members = my_role is not None or (
        current_user.is_authenticated and current_user.is_admin
    )
    members = []
    if can_see_members:
        members = db.session.execute(
            select(Person.display_name, Membership.role)
            .join(Membership, Membership.person_id == Person.id)
            .where(Membership.group_id == group.id)
            .order_by(Membership.role, Person.display_name)
        ).all()
    commitments = db.session.execute(
        select(
            Proposal.title,
            Proposal.slug,
            Proposal.fundable_at,
            Commitment.committed_at,
            Reservation.amount_cents.label("reserved_cents"),
        )
        .join(Commitment, Commitment.proposal_id == Proposal.id)
        .outerjoin(
            Reservation,
            and_(Reservation.commitment_id == Commitment.id, Reservation.released_at.is_(None)),
        )
        .where(
            Commitment.group_id == group.id,
            Commitment.status == CommitmentStatus.active,
            Proposal.status == ProposalStatus.published,
        )
        .order_by(Commitment.committed_at.desc())
    ).all()
    # The group's own proposals, drafts included: for those who share their workspace.
    acts_for_group = my_role is not None and my_role.acts_for_group
    own_proposals = group_proposals(group.id) if acts_for_group or is_team(current_user) else None
    return render_template(
        "groups/detail.html",
        own_proposals=own_proposals,
        may_propose=acts_for_group and group.is_certified,
        group=group,
        my_role=my_role,
        members=members,
        can_see_members=can_see_members,
        commitments=commitments,
        **envelope_context(group, acts_for_group),
    )
