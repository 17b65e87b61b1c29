"""Rows for tests, written directly (not through services) so tests set up fast."""

import itertools
from datetime import datetime, timedelta

from models import (
    ActionGroup,
    BudgetLine,
    BudgetRound,
    Category,
    Commitment,
    MemberRole,
    Membership,
    Person,
    Proposal,
    ProposalStatus,
    ThresholdPolicy,
    db,
    utcnow,
)

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def person(email: str | None = None, name: str | None = None, **roles) -> Person:
    n = next(_seq)
    p = Person(email=email or f"personne{n}@example.org", display_name=name or f"Personne {n}")
    p.set_password(PASSWORD)
    for role, value in roles.items():
        setattr(p, f"is_{role}", value)
    db.session.add(p)
    db.session.commit()
    return p


def group(name: str | None = None, certified: bool = True, departement: str = "33") -> ActionGroup:
    n = next(_seq)
    g = ActionGroup(
        name=name or f"Groupe {n}",
        commune="Bordeaux",
        departement=departement,
        certified_at=utcnow() if certified else None,
    )
    db.session.add(g)
    db.session.commit()
    return g


def member(p: Person, g: ActionGroup, role: str = "manager") -> Membership:
    m = Membership(person_id=p.id, group_id=g.id, role=MemberRole(role))
    db.session.add(m)
    db.session.commit()
    return m


def manager_of(g: ActionGroup | None = None, **kwargs) -> tuple[Person, ActionGroup]:
    g = g or group(**kwargs)
    p = person()
    member(p, g, "manager")
    return p, g


def budget_round(
    base_threshold: int = 15,
    total_cents: int = 10_000_000,
    policy: ThresholdPolicy = ThresholdPolicy.manual,
    name: str = "Budget 2027",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    current: bool | None = None,
) -> BudgetRound:
    """A round open for commitments (from 30 days ago to 180 days ahead unless told); the
    current one if there is none yet."""
    now = utcnow()
    if current is None:
        current = db.session.query(BudgetRound).filter(BudgetRound.is_current).first() is None
    r = BudgetRound(
        name=name,
        total_cents=total_cents,
        base_threshold=base_threshold,
        policy=policy,
        opens_at=opens_at or now - timedelta(days=30),
        closes_at=closes_at or now + timedelta(days=180),
        is_current=current,
        reserved_cents=0,
        version=0,
    )
    db.session.add(r)
    db.session.commit()
    return r


def proposal(
    round_: BudgetRound | None = None,
    title: str | None = None,
    status: ProposalStatus = ProposalStatus.published,
    threshold_override: int | None = None,
    category: Category = Category.solidarite,
    budget_cents: int = 50_000,
    summary: str = "Une action simple à reproduire.",
    body: str = "## Comment faire\n\nRéunir le groupe.",
    origin_group: ActionGroup | None = None,
    budget_lines: bool = False,
) -> Proposal:
    round_ = round_ or db.session.query(BudgetRound).first() or budget_round()
    n = next(_seq)
    title = title or f"Action numéro {n}"
    p = Proposal(
        round_id=round_.id,
        title=title,
        slug=f"action-{n}",
        summary=summary,
        body=body,
        category=category,
        per_group_budget_cents=budget_cents,
        status=status,
        threshold_override=threshold_override,
        origin_group_id=origin_group.id if origin_group else None,
        published_at=utcnow() if status == ProposalStatus.published else None,
        submitted_at=utcnow() if status != ProposalStatus.draft else None,
    )
    db.session.add(p)
    db.session.flush()
    if budget_lines:
        # Two lines that add up to the per-group budget.
        first = budget_cents // 2
        db.session.add(
            BudgetLine(proposal_id=p.id, position=1, item="Matériel", amount_cents=first)
        )
        db.session.add(
            BudgetLine(
                proposal_id=p.id,
                position=2,
                item="Location de salle",
                amount_cents=budget_cents - first,
            )
        )
    db.session.commit()
    return p


def commitments(p: Proposal, groups: list[ActionGroup], by: Person | None = None) -> None:
    """Active commitments written directly, keeping the proposal's counter in step."""
    for g in groups:
        db.session.add(Commitment(group_id=g.id, proposal_id=p.id, person_id=by.id if by else None))
    p.commitment_count += len(groups)
    p.live_version += 1
    db.session.commit()
