"""`flask demo`: a realistic French data set that keeps the rules of DESIGN.md §3, loaded once."""

import re
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from demo_data import BASE_THRESHOLD, DEMO_ACCOUNTS, DEMO_PASSWORD, ROUND_NAME
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
    db,
    utcnow,
)
from services.access import managed_groups
from services.commitments import commit_group, effective_threshold
from services.groups import clean_departement
from tests import factories as f

TABLES = (Person, ActionGroup, Membership, BudgetRound, Proposal, Commitment, AuditEntry)


def run_demo(runner):
    started = time.perf_counter()
    result = runner.invoke(args=["demo"])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output, elapsed


def row_counts() -> dict[str, int]:
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in TABLES}


def account(key: str) -> Person:
    email = next(email for k, _, email, _ in DEMO_ACCOUNTS if k == key)
    return db.session.scalar(select(Person).where(Person.email == email))


@pytest.fixture
def demo(app, runner):
    """The demo loaded once into the test database; its output and how long it took."""
    return run_demo(runner)


def published() -> list[Proposal]:
    statement = select(Proposal).where(Proposal.status == ProposalStatus.published)
    return list(db.session.scalars(statement.order_by(Proposal.id)))


def test_demo_loads_in_well_under_ten_seconds_and_prints_the_accounts(demo):
    output, elapsed = demo
    assert elapsed < 10, f"flask demo took {elapsed:.1f} s"
    assert "Données de démonstration chargées" in output
    assert "Visiteur·euse" in output
    for _, role, email, _ in DEMO_ACCOUNTS:
        assert re.search(rf"{re.escape(role)}\s+{re.escape(email)}\s+{DEMO_PASSWORD}", output)


def test_demo_counts_are_those_of_a_realistic_movement(demo):
    groups = list(db.session.scalars(select(ActionGroup)))
    certified = [g for g in groups if g.is_certified]
    assert 140 <= len(certified) <= 160
    assert 15 <= len(groups) - len(certified) <= 25
    assert len({g.departement for g in groups}) >= 60
    assert len({g.name for g in groups}) == len(groups)
    for g in groups:
        assert clean_departement(g.departement) == g.departement
        assert g.name.startswith("Groupe d'action ")
    where = {(g.commune, g.departement) for g in groups}
    for commune, dep in [
        ("Bordeaux", "33"),
        ("Lille", "59"),
        ("Marseille", "13"),
        ("Rennes", "35"),
        ("Saint-Denis", "93"),
        ("Ajaccio", "2A"),
        ("Fort-de-France", "972"),
    ]:
        assert (commune, dep) in where

    (round_,) = db.session.scalars(select(BudgetRound)).all()
    assert round_.name == ROUND_NAME
    assert round_.base_threshold == BASE_THRESHOLD == 15
    assert round_.total_cents == 25_000_000

    proposals = list(db.session.scalars(select(Proposal)))
    assert 20 <= len(proposals) <= 30
    statuses = Counter(p.status for p in proposals)
    assert set(statuses) == set(ProposalStatus)
    assert statuses[ProposalStatus.published] > len(proposals) / 2
    for p in proposals:
        assert 15_000 <= p.per_group_budget_cents <= 250_000
        assert p.round_id == round_.id
        assert "## Comment faire" in p.body and "| **Total** |" in p.body
        assert p.summary and len(p.summary) <= 500
        assert (p.published_at is not None) == (p.status == ProposalStatus.published)


def test_slugs_are_unique_ascii_and_made_from_the_title(demo):
    proposals = list(db.session.scalars(select(Proposal)))
    assert len({p.slug for p in proposals}) == len(proposals)
    for p in proposals:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", p.slug), p.slug
    slugs = {p.title: p.slug for p in proposals}
    assert slugs["Atelier de réparation de vélos"] == "atelier-de-reparation-de-velos"


def test_count_equals_the_number_of_active_commitments_for_every_proposal(demo):
    active = dict(
        db.session.execute(
            select(Commitment.proposal_id, func.count())
            .where(Commitment.status == CommitmentStatus.active)
            .group_by(Commitment.proposal_id)
        ).all()
    )
    for p in db.session.scalars(select(Proposal)):
        assert p.commitment_count == active.get(p.id, 0), p.title
    assert sum(active.values()) > 150


def test_one_commitment_per_group_and_proposal(demo):
    duplicates = db.session.execute(
        select(Commitment.group_id, Commitment.proposal_id)
        .group_by(Commitment.group_id, Commitment.proposal_id)
        .having(func.count() > 1)
    ).all()
    assert duplicates == []


def test_only_certified_groups_commit_and_only_to_published_proposals(demo):
    rows = db.session.execute(
        select(ActionGroup.certified_at, Proposal.status, Commitment.committed_at)
        .join(ActionGroup, ActionGroup.id == Commitment.group_id)
        .join(Proposal, Proposal.id == Commitment.proposal_id)
    ).all()
    assert rows
    for certified_at, status, committed_at in rows:
        assert certified_at is not None and certified_at < committed_at
        assert status == ProposalStatus.published


def test_committers_act_for_their_group(demo):
    acting = {
        (m.person_id, m.group_id)
        for m in db.session.scalars(select(Membership))
        if m.role.acts_for_group
    }
    for c in db.session.scalars(select(Commitment)):
        assert (c.person_id, c.group_id) in acting


def test_withdrawn_commitments_are_kept_but_not_counted(demo):
    withdrawn = list(
        db.session.scalars(
            select(Commitment).where(Commitment.status == CommitmentStatus.withdrawn)
        )
    )
    assert 1 <= len(withdrawn) <= 10
    for c in withdrawn:
        assert c.withdrawn_at is not None and c.withdrawn_at > c.committed_at
    actives = db.session.scalars(
        select(Commitment).where(Commitment.status == CommitmentStatus.active)
    )
    assert all(c.withdrawn_at is None for c in actives)


def test_fundable_transition_is_recorded_as_the_service_records_it(demo):
    round_ = db.session.scalars(select(BudgetRound)).one()
    proposals = published()
    fundable = [p for p in proposals if p.is_fundable]
    assert 4 <= len(fundable) <= len(proposals) - 4
    assert any(p.fundable_threshold != BASE_THRESHOLD for p in fundable)
    assert any(p.fundable_count > p.fundable_threshold for p in fundable)
    overrides = [p for p in proposals if p.threshold_override is not None]
    assert 2 <= len(overrides) <= 6
    for p in proposals:
        threshold = effective_threshold(p, round_)
        if not p.is_fundable:
            assert p.fundable_threshold is None and p.fundable_count is None
            assert p.commitment_count < threshold, p.title
            continue
        assert p.fundable_count >= p.fundable_threshold
        assert p.fundable_threshold in (BASE_THRESHOLD, p.threshold_override)
        assert p.commitment_count >= threshold
        # The count recorded is the number of commitments active at that moment.
        rows = db.session.scalars(select(Commitment).where(Commitment.proposal_id == p.id))
        active_then = [
            c
            for c in rows
            if c.committed_at < p.fundable_at
            and (c.withdrawn_at is None or c.withdrawn_at > p.fundable_at)
        ]
        assert len(active_then) == p.fundable_count, p.title
    # Every threshold override was set by the animation team, with a reason.
    audited = dict(
        db.session.execute(
            select(AuditEntry.proposal_id, AuditEntry.new_value).where(
                AuditEntry.action == "proposal.threshold_override"
            )
        ).all()
    )
    assert audited == {p.id: str(p.threshold_override) for p in overrides}


def test_budgets_of_every_engagement_fit_the_round(demo):
    round_ = db.session.scalars(select(BudgetRound)).one()
    reserved = sum(p.per_group_budget_cents * p.commitment_count for p in published())
    assert reserved <= round_.total_cents


def test_exactly_one_proposal_is_within_two_commitments_of_its_threshold(demo):
    output, _ = demo
    round_ = db.session.scalars(select(BudgetRound)).one()
    near = [
        p
        for p in published()
        if not p.is_fundable and effective_threshold(p, round_) - p.commitment_count <= 2
    ]
    assert len(near) == 1
    assert f"« {near[0].title} »" in output
    # The demo manager can push it over the line with their two groups.
    manager = account("manager")
    for group in managed_groups(manager):
        commit_group(manager, group.id, near[0].id)
    db.session.expire_all()
    p = db.session.get(Proposal, near[0].id)
    assert p.is_fundable
    assert p.fundable_count == p.fundable_threshold == effective_threshold(p, round_)


def test_timestamps_are_aware_utc_and_in_the_past(demo):
    now = utcnow()
    values = []
    for c in db.session.scalars(select(Commitment)):
        values += [c.committed_at, c.created_at, c.withdrawn_at]
    for p in db.session.scalars(select(Proposal)):
        values += [p.created_at, p.published_at, p.fundable_at, p.updated_at]
    for g in db.session.scalars(select(ActionGroup)):
        values += [g.created_at, g.certified_at]
    values = [v for v in values if v is not None]
    assert all(v.tzinfo is not None and v.utcoffset() == timedelta(0) for v in values)
    assert all(v <= now for v in values)
    commitments = [v for v in db.session.scalars(select(Commitment.committed_at))]
    assert (max(commitments) - min(commitments)).days >= 14


def test_every_group_has_a_manager(demo):
    managed = set(
        db.session.scalars(select(Membership.group_id).where(Membership.role == MemberRole.manager))
    )
    groups = set(db.session.scalars(select(ActionGroup.id)))
    assert groups == managed


def test_demo_accounts_have_their_roles(demo):
    manager = account("manager")
    groups = managed_groups(manager)
    assert len(groups) == 2 and all(g.is_certified for g in groups)
    roles = set(
        db.session.scalars(select(Membership.role).where(Membership.person_id == manager.id))
    )
    assert MemberRole.referent in roles
    assert managed_groups(account("membre")) == []
    assert db.session.scalar(
        select(func.count()).where(Membership.person_id == account("membre").id)
    )
    (uncertified,) = managed_groups(account("non_certifie"))
    assert not uncertified.is_certified
    assert account("animation").staff_roles == ["animation"]
    assert account("finance").staff_roles == ["finance"]
    assert account("admin").staff_roles == ["admin"]
    assert account("manager").staff_roles == []


@pytest.mark.parametrize("key", [key for key, *_ in DEMO_ACCOUNTS])
def test_every_demo_account_signs_in(demo, auth, key):
    auth.login(account(key).email, DEMO_PASSWORD)
    auth.logout()


def test_every_account_shares_the_one_demo_password_hash(demo):
    hashes = set(db.session.scalars(select(Person.password_hash)))
    assert len(hashes) == 1
    assert account("membre").check_password(DEMO_PASSWORD)
    assert not account("membre").check_password("pas le bon mot de passe")


def test_second_run_adds_nothing_and_says_so(demo, runner):
    before = row_counts()
    output, _ = run_demo(runner)
    assert row_counts() == before
    assert "déjà chargées" in output and "rien n'a été ajouté" in output
    assert "manager@demo.commun.fr" in output


def commitment_rows() -> list[tuple]:
    return db.session.execute(
        select(ActionGroup.name, Proposal.slug, Commitment.status, Commitment.note)
        .join(ActionGroup, ActionGroup.id == Commitment.group_id)
        .join(Proposal, Proposal.id == Commitment.proposal_id)
        .order_by(Commitment.id)
    ).all()


def test_demo_is_deterministic(app, runner):
    run_demo(runner)
    first = commitment_rows()
    for model in reversed(TABLES):
        db.session.execute(model.__table__.delete())
    db.session.commit()
    run_demo(runner)
    assert commitment_rows() == first


def test_demo_never_loads_into_a_database_with_other_data(app, runner):
    f.person(email="militante@example.org")
    output, _ = run_demo(runner)
    assert "base vide" in output and "rien n'a été ajouté" in output.lower()
    assert db.session.scalar(select(func.count()).select_from(Person)) == 1
    assert db.session.scalar(select(func.count()).select_from(ActionGroup)) == 0
