"""Who may see and change a proposal before and after publication (the workspace rules).

The workspace of a proposal is shared by the managers and referents of its group and the
animation team. A draft is the group's to write; once submitted, the animation team edits it
(before and after publication) and the group follows through the private exchange.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from models import Person, Proposal, ProposalStatus, db

from .access import role_in_group
from .errors import NotAllowed, NotFound
from .tx import for_update

# Admins may act as the animation team, as for thresholds.
TEAM_ROLES = ("animation", "admin")
TEAM_EDITABLE = (ProposalStatus.submitted, ProposalStatus.in_review, ProposalStatus.published)


def is_team(person: Person | None) -> bool:
    return bool(
        person is not None
        and person.is_authenticated
        and any(getattr(person, f"is_{r}") for r in TEAM_ROLES)
    )


def acts_for_origin(person: Person | None, proposal: Proposal) -> bool:
    """A manager or referent of the group that proposed it."""
    if proposal.origin_group_id is None:
        return False
    role = role_in_group(person, proposal.origin_group_id)
    return role is not None and role.acts_for_group


def can_view_workspace(person: Person | None, proposal: Proposal) -> bool:
    return is_team(person) or acts_for_origin(person, proposal)


def require_workspace(person: Person | None, proposal: Proposal | None) -> Proposal:
    """The proposal, if this person shares its workspace; else 404 for a proposal that is not
    public (its existence stays private) and 403 for a published one."""
    if proposal is None:
        raise NotFound(_("Cette proposition n'existe pas."))
    if can_view_workspace(person, proposal):
        return proposal
    if proposal.is_public:
        raise NotAllowed(
            _(
                "L'espace de travail de cette proposition est réservé au groupe qui l'a "
                "proposée et à l'équipe d'animation."
            )
        )
    raise NotFound(_("Cette proposition n'existe pas."))


def can_edit(person: Person | None, proposal: Proposal) -> bool:
    """Text, budget and illustrations: the group while it is a draft, the animation team
    once submitted, before and after publication."""
    if proposal.status == ProposalStatus.draft:
        return acts_for_origin(person, proposal)
    return proposal.status in TEAM_EDITABLE and is_team(person)


def require_edit(person: Person | None, proposal: Proposal) -> None:
    require_workspace(person, proposal)
    if can_edit(person, proposal):
        return
    if proposal.is_closed:
        raise NotAllowed(_("Cette proposition est close : elle ne peut plus être modifiée."))
    if proposal.status == ProposalStatus.draft:
        raise NotAllowed(
            _("Tant qu'elle est en brouillon, seul son groupe modifie la proposition.")
        )
    raise NotAllowed(
        _(
            "Une fois soumise, la proposition est retravaillée par l'équipe d'animation : "
            "écrivez-lui dans l'échange."
        )
    )


def require_team(person: Person | None) -> None:
    if not is_team(person):
        raise NotAllowed(_("Cette action est réservée à l'équipe d'animation."))


def lock_proposal(proposal_id: int) -> Proposal:
    """The proposal row, locked for the rest of the write transaction (404 if missing)."""
    proposal = db.session.scalar(for_update(select(Proposal).where(Proposal.id == proposal_id)))
    if proposal is None:
        raise NotFound(_("Cette proposition n'existe pas."))
    return proposal
