"""DESIGN.md §3 rules on groups, commitments and the fundable transition, at the service layer."""

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Commitment, CommitmentStatus, Proposal, ProposalStatus, db
from services.budget import effective_threshold
from services.commitments import (
    AlreadyCommitted,
    commit_group,
    set_threshold_override,
    withdraw_commitment,
)
from services.errors import Conflict, Invalid, NotAllowed, NotFound
from tests import factories as f


def active_count(proposal_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Commitment.proposal_id == proposal_id, Commitment.status == CommitmentStatus.active
        )
    )


def fresh(proposal: Proposal) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, proposal.id)


def test_only_managers_and_referents_act_for_their_group(app):
    p = f.proposal()
    g = f.group()
    for role in ("manager", "referent"):
        person = f.person()
        f.member(person, g, role)
        commit_group(person, g.id, p.id)
        withdraw_commitment(person, g.id, p.id)
    plain_member = f.person()
    f.member(plain_member, g, "member")
    with pytest.raises(NotAllowed):
        commit_group(plain_member, g.id, p.id)
    outsider, _other = f.manager_of()
    with pytest.raises(NotAllowed):
        commit_group(outsider, g.id, p.id)
    admin = f.person(admin=True, animation=True, finance=True)
    with pytest.raises(NotAllowed):
        commit_group(admin, g.id, p.id)
    assert active_count(p.id) == 0


def test_only_certified_groups_commit(app):
    p = f.proposal()
    person, g = f.manager_of(certified=False)
    with pytest.raises(NotAllowed, match="certifié"):
        commit_group(person, g.id, p.id)
    assert active_count(p.id) == 0


def test_only_published_proposals_accept_commitments(app):
    person, g = f.manager_of()
    for status in ProposalStatus:
        if status == ProposalStatus.published:
            continue
        p = f.proposal(status=status)
        with pytest.raises(NotFound):
            commit_group(person, g.id, p.id)


def test_one_commitment_per_group_and_proposal(app):
    p = f.proposal()
    person, g = f.manager_of()
    commit_group(person, g.id, p.id)
    with pytest.raises(AlreadyCommitted, match="déjà engagé"):
        commit_group(person, g.id, p.id)
    assert active_count(p.id) == 1
    assert fresh(p).commitment_count == 1


def test_one_commitment_per_group_and_proposal_is_a_database_constraint(app):
    p = f.proposal()
    _person, g = f.manager_of()
    db.session.add(Commitment(group_id=g.id, proposal_id=p.id))
    db.session.commit()
    db.session.add(Commitment(group_id=g.id, proposal_id=p.id))
    with pytest.raises(Exception, match="(?i)unique"):
        db.session.commit()
    db.session.rollback()


def test_a_group_may_commit_to_as_many_proposals_as_it_wants(app):
    person, g = f.manager_of()
    proposals = [f.proposal() for _ in range(5)]
    for p in proposals:
        commit_group(person, g.id, p.id)
    assert all(fresh(p).commitment_count == 1 for p in proposals)


def test_every_proposal_reaching_its_threshold_becomes_fundable(app):
    """No ranking: several proposals can all be fundable, none takes anything from another."""
    r = f.budget_round(base_threshold=2)
    proposals = [f.proposal(r) for _ in range(3)]
    for _ in range(2):
        person, g = f.manager_of()
        for p in proposals:
            commit_group(person, g.id, p.id)
    assert all(fresh(p).fundable_at is not None for p in proposals)


def test_count_shown_equals_active_commitments(app):
    p = f.proposal()
    managers = [f.manager_of() for _ in range(4)]
    for person, g in managers:
        commit_group(person, g.id, p.id)
    withdraw_commitment(managers[0][0], managers[0][1].id, p.id)
    commit_group(managers[0][0], managers[0][1].id, p.id)
    withdraw_commitment(managers[1][0], managers[1][1].id, p.id)
    assert fresh(p).commitment_count == active_count(p.id) == 3


def test_withdrawal_allowed_while_not_fundable(app):
    p = f.proposal(threshold_override=5)
    person, g = f.manager_of()
    commit_group(person, g.id, p.id, note="Au marché du samedi")
    withdraw_commitment(person, g.id, p.id)
    c = db.session.scalar(select(Commitment).where(Commitment.proposal_id == p.id))
    assert c.status == CommitmentStatus.withdrawn and c.withdrawn_at is not None
    assert fresh(p).commitment_count == 0


def test_withdrawal_after_fundable_keeps_the_proposal_fundable(app):
    """Nothing can be spent yet, so withdrawal is allowed; fundable never goes back."""
    p = f.proposal(threshold_override=1)
    person, g = f.manager_of()
    commit_group(person, g.id, p.id)
    assert fresh(p).fundable_at is not None
    withdraw_commitment(person, g.id, p.id)
    p = fresh(p)
    assert p.fundable_at is not None and p.commitment_count == 0


def test_withdrawing_twice_is_refused(app):
    p = f.proposal()
    person, g = f.manager_of()
    commit_group(person, g.id, p.id)
    withdraw_commitment(person, g.id, p.id)
    with pytest.raises(Conflict):
        withdraw_commitment(person, g.id, p.id)
    assert fresh(p).commitment_count == 0


def test_recommitting_after_withdrawal_renews_the_same_row(app):
    p = f.proposal()
    person, g = f.manager_of()
    first = commit_group(person, g.id, p.id)
    withdraw_commitment(person, g.id, p.id)
    second = commit_group(person, g.id, p.id, note="On s'y remet")
    assert first == second
    assert fresh(p).commitment_count == 1


def test_fundable_recorded_once_with_threshold_and_count(app):
    p = f.proposal(threshold_override=3)
    managers = [f.manager_of() for _ in range(5)]
    for person, g in managers[:2]:
        commit_group(person, g.id, p.id)
    assert fresh(p).fundable_at is None
    commit_group(managers[2][0], managers[2][1].id, p.id)
    p = fresh(p)
    at = p.fundable_at
    assert at is not None and p.fundable_threshold == 3 and p.fundable_count == 3
    for person, g in managers[3:]:
        commit_group(person, g.id, p.id)
    p = fresh(p)
    assert p.fundable_at == at and p.fundable_count == 3 and p.commitment_count == 5


def test_fundable_never_goes_back(app):
    p = f.proposal(threshold_override=1)
    person, g = f.manager_of()
    admin = f.person(animation=True)
    commit_group(person, g.id, p.id)
    withdraw_commitment(person, g.id, p.id)
    set_threshold_override(admin, p.id, 50, "Relever le seuil")
    assert fresh(p).fundable_at is not None


def test_lowering_threshold_below_count_makes_fundable_at_once(app):
    p = f.proposal(threshold_override=10)
    f.commitments(p, [f.group() for _ in range(4)])
    animator = f.person(animation=True)
    set_threshold_override(animator, p.id, 4, "Action simple, seuil abaissé")
    p = fresh(p)
    assert p.fundable_at is not None and p.fundable_threshold == 4 and p.fundable_count == 4


def test_raising_threshold_never_unfunds(app):
    p = f.proposal(threshold_override=2)
    f.commitments(p, [f.group() for _ in range(2)])
    animator = f.person(animation=True)
    set_threshold_override(animator, p.id, 1, "Abaisser")
    set_threshold_override(animator, p.id, 30, "Relever")
    p = fresh(p)
    assert p.fundable_at is not None and p.fundable_threshold == 1


def test_threshold_change_is_audited_and_needs_a_reason(app):
    p = f.proposal()
    animator = f.person(animation=True)
    with pytest.raises(Invalid):
        set_threshold_override(animator, p.id, 3, "  ")
    set_threshold_override(animator, p.id, 3, "Petit budget")
    set_threshold_override(animator, p.id, None, "Retour au seuil du budget")
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.old_value, e.new_value, e.reason) for e in entries] == [
        ("", "3", "Petit budget"),
        ("3", "", "Retour au seuil du budget"),
    ]
    assert all(e.actor_id == animator.id for e in entries)


@pytest.mark.parametrize("role", [None, "finance"])
def test_only_animation_and_admins_set_thresholds(app, role):
    p = f.proposal()
    person = f.person(**({role: True} if role else {}))
    with pytest.raises(NotAllowed):
        set_threshold_override(person, p.id, 2, "Essai")
    assert fresh(p).threshold_override is None


def test_effective_threshold_is_the_override_else_the_round_base(app):
    r = f.budget_round(base_threshold=12)
    assert effective_threshold(f.proposal(r), r) == 12
    assert effective_threshold(f.proposal(r, threshold_override=4), r) == 4


def test_a_failed_commit_writes_nothing(app):
    p = f.proposal()
    person, g = f.manager_of()
    with pytest.raises(Invalid):
        commit_group(person, g.id, p.id, note="x" * 3000)
    assert active_count(p.id) == 0 and fresh(p).commitment_count == 0
