"""Every mutating route × every kind of person: who may do what, and a refusal writes nothing.

The route table below is explicit; `test_every_mutating_route_is_in_the_matrix` fails when a
route that accepts POST (or PUT, PATCH, DELETE) is added without a row here.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

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
    ProposalMessage,
    ProposalRevision,
    ProposalStatus,
    db,
)
from services.proposals import text_of
from tests import factories as f
from tests.dbstate import snapshot
from views.rounds import PARIS

ROLES = (
    "anonymous",
    "member",  # plain member of a certified group
    "manager_uncertified",
    "manager_certified",
    "animation",
    "finance",
    "admin",
)

NEW_PASSWORD = "un tout nouveau mot de passe"


@functools.cache
def _password_hash() -> str:
    # Hashing is slow on purpose; the matrix builds many people, all with the same password.
    return generate_password_hash(f.PASSWORD)


def _person(email: str, **roles) -> Person:
    person = Person(email=email, display_name=email.partition("@")[0].title())
    person.password_hash = _password_hash()
    for role, value in roles.items():
        setattr(person, f"is_{role}", value)
    db.session.add(person)
    db.session.commit()
    return person


@dataclass
class World:
    people: dict[str, Person]
    certified: ActionGroup
    uncertified: ActionGroup
    open: Proposal  # nobody committed yet
    committed: Proposal  # the certified group is committed to it
    draft: Proposal  # the certified group's draft
    submitted: Proposal  # the certified group's idea, submitted to the animation team
    in_review: Proposal  # the certified group's idea, in review
    target: Person  # plain member of the uncertified group, no staff role
    newcomer: Person  # in no group
    ids: dict[str, int] = field(default_factory=dict)

    def own_group(self, role: str) -> ActionGroup:
        return self.uncertified if role == "manager_uncertified" else self.certified


def build_world() -> World:
    certified = f.group("Groupe certifié")
    uncertified = f.group("Groupe non certifié", certified=False)
    people = {
        "member": _person("membre@example.org"),
        "manager_uncertified": _person("gestion-non-certifie@example.org"),
        "manager_certified": _person("gestion-certifie@example.org"),
        "animation": _person("animation@example.org", animation=True),
        "finance": _person("finance@example.org", finance=True),
        "admin": _person("admin@example.org", admin=True),
    }
    f.member(people["member"], certified, "member")
    f.member(people["manager_uncertified"], uncertified, "manager")
    f.member(people["manager_certified"], certified, "manager")
    target = _person("cible@example.org")
    f.member(target, uncertified, "member")
    newcomer = _person("nouvelle@example.org")
    budget_round = f.budget_round(base_threshold=10)
    # A round prepared for next year, not current yet.
    next_round = f.budget_round(name="Budget 2028", current=False)
    open_proposal = f.proposal(budget_round)
    committed = f.proposal(budget_round)
    f.commitments(committed, [certified], by=people["manager_certified"])
    draft, submitted, in_review = (
        f.proposal(budget_round, status=status, origin_group=certified, budget_lines=True)
        for status in (ProposalStatus.draft, ProposalStatus.submitted, ProposalStatus.in_review)
    )
    world = World(
        people,
        certified,
        uncertified,
        open_proposal,
        committed,
        draft,
        submitted,
        in_review,
        target,
        newcomer,
    )
    world.ids = {
        "open": open_proposal.id,
        "committed": committed.id,
        "draft": draft.id,
        "submitted": submitted.id,
        "in_review": in_review.id,
        "certified": certified.id,
        "uncertified": uncertified.id,
        "target": target.id,
        "round": budget_round.id,
        "next_round": next_round.id,
    }
    # Workspace: the submitted proposal has two versions; the first had another title.
    current = text_of(submitted).snapshot()
    for number, title in ((1, "Titre d'origine"), (2, current["title"])):
        db.session.add(
            ProposalRevision(
                proposal_id=submitted.id,
                number=number,
                kind="creation" if number == 1 else "edit",
                snapshot={**current, "title": title},
            )
        )
    submitted.version = 2
    db.session.commit()
    # Queue and exchange: the proposal in review is followed by the animator.
    in_review.assignee_id = people["animation"].id
    db.session.commit()
    # Illustrations: two on the draft; the routes change the second.
    world.ids["illustration"] = _add_illustrations(draft.id)
    return world


def fresh(model, object_id):
    db.session.rollback()
    return db.session.get(model, object_id)


def signed_in(client) -> bool:
    return client.get("/compte/mot-de-passe").status_code == 200


# Effects of a successful request ---------------------------------------------------------


def _committed(world: World, role: str, client) -> None:
    db.session.rollback()
    commitment = db.session.scalar(
        select(Commitment).where(
            Commitment.group_id == world.certified.id, Commitment.proposal_id == world.open.id
        )
    )
    assert commitment.status == CommitmentStatus.active
    assert commitment.person_id == world.people[role].id
    assert fresh(Proposal, world.ids["open"]).commitment_count == 1


def _withdrawn(world: World, role: str, client) -> None:
    db.session.rollback()
    commitment = db.session.scalar(
        select(Commitment).where(Commitment.proposal_id == world.ids["committed"])
    )
    assert commitment.status == CommitmentStatus.withdrawn
    assert fresh(Proposal, world.ids["committed"]).commitment_count == 0


def _threshold_set(world: World, role: str, client) -> None:
    assert fresh(Proposal, world.ids["open"]).threshold_override == 3
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.proposal_id == world.ids["open"]))
    assert (entry.action, entry.actor_id) == ("proposal.threshold_override", world.people[role].id)


def _signed_in(world: World, role: str, client) -> None:
    assert signed_in(client)


def _signed_out(world: World, role: str, client) -> None:
    assert not signed_in(client)


def _password_changed(world: World, role: str, client) -> None:
    person = fresh(Person, world.people[role].id)
    assert person.check_password(NEW_PASSWORD) and person.auth_version == 2
    assert signed_in(client)  # this session goes on with the new password


def _person_created(world: World, role: str, client) -> None:
    db.session.rollback()
    person = db.session.scalar(select(Person).where(Person.email == "creee@example.org"))
    assert person.staff_roles == ["animation"]


def _roles_set(world: World, role: str, client) -> None:
    assert fresh(Person, world.ids["target"]).staff_roles == ["finance"]


def _group_created(world: World, role: str, client) -> None:
    db.session.rollback()
    assert db.session.scalar(select(ActionGroup).where(ActionGroup.name == "Groupe créé"))


def _group_updated(world: World, role: str, client) -> None:
    group = fresh(ActionGroup, world.ids["uncertified"])
    assert (group.name, group.commune, group.departement) == ("Nouveau nom", "Pessac", "33")


def _role_of(group_id: int, person_id: int) -> MemberRole | None:
    db.session.rollback()
    return db.session.scalar(
        select(Membership.role).where(
            Membership.group_id == group_id, Membership.person_id == person_id
        )
    )


def _member_added(world: World, role: str, client) -> None:
    assert _role_of(world.ids["uncertified"], world.newcomer.id) == MemberRole.manager


def _member_removed(world: World, role: str, client) -> None:
    assert _role_of(world.ids["uncertified"], world.ids["target"]) is None


def _certified(world: World, role: str, client) -> None:
    assert fresh(ActionGroup, world.ids["uncertified"]).certified_at is not None


# Workspace


def _drafted(world: World, role: str, client) -> None:
    db.session.rollback()
    proposal = db.session.scalar(select(Proposal).where(Proposal.title == "Une idée neuve"))
    assert (proposal.status, proposal.origin_group_id, proposal.author_id) == (
        ProposalStatus.draft,
        world.ids["certified"],
        world.people[role].id,
    )


def _edited(world: World, role: str, client) -> None:
    proposal = fresh(Proposal, world.ids["submitted"])
    assert (proposal.title, proposal.version) == ("Une idée neuve", 3)


def _restored(world: World, role: str, client) -> None:
    proposal = fresh(Proposal, world.ids["submitted"])
    assert (proposal.title, proposal.version) == ("Titre d'origine", 3)


def _previewed(world: World, role: str, client) -> None:
    pass  # SHOWN: checked by its status; a preview writes nothing


def _status_is(key: str, status: ProposalStatus):
    def effect(world: World, role: str, client) -> None:
        assert fresh(Proposal, world.ids[key]).status == status

    return effect


def _override_set(world: World, role: str, client) -> None:
    assert fresh(Proposal, world.ids["in_review"]).threshold_override == 4
    entry = _audited(world.ids["in_review"], "proposal.threshold_override")
    assert (entry.actor_id, entry.new_value) == (world.people[role].id, "4")


def _proposal_form(w: World, role: str) -> dict:
    return {
        "title": "Une idée neuve",
        "summary": "Un résumé.",
        "body": "Une description.",
        "how_to": "",
        "category": "solidarite",
        "budget": "500",
        "lines-0-item": "Matériel",
        "lines-0-amount": "500",
        "version": "2",
        "action": "save",
    }


# Queue and exchange


def _audited(proposal_id: int, action: str) -> AuditEntry:
    return db.session.scalar(
        select(AuditEntry).where(AuditEntry.proposal_id == proposal_id, AuditEntry.action == action)
    )


def _assigned(world: World, role: str, client) -> None:
    proposal = fresh(Proposal, world.ids["submitted"])
    assert (proposal.assignee_id, proposal.status) == (
        world.people[role].id,
        ProposalStatus.in_review,
    )
    assert _audited(proposal.id, "proposal.assign").actor_id == world.people[role].id


def _released(world: World, role: str, client) -> None:
    assert fresh(Proposal, world.ids["in_review"]).assignee_id is None
    assert _audited(world.ids["in_review"], "proposal.release").actor_id == world.people[role].id


def _message_posted(world: World, role: str, client) -> None:
    db.session.rollback()
    message = db.session.scalar(
        select(ProposalMessage).where(ProposalMessage.proposal_id == world.ids["in_review"])
    )
    assert message.author_id == world.people[role].id
    assert message.from_team == (role in ("animation", "admin"))


# Illustrations


def _add_illustrations(proposal_id: int) -> int:
    """Two described illustrations (rows only, no files needed); returns the second's id."""
    from models import Illustration

    rows = [
        Illustration(
            proposal_id=proposal_id,
            position=n,
            stored_name=f"{n:032x}",
            format="jpeg",
            width=1,
            height=1,
            thumb_width=1,
            thumb_height=1,
            byte_size=1,
            alt_text=f"Illustration {n}",
        )
        for n in (1, 2)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows[1].id


def _photo(w: World, role: str) -> dict:
    from io import BytesIO

    from tests.test_images import plain_jpeg

    return {"images": (BytesIO(plain_jpeg()), "photo.jpg")}


def _illustration(world: World):
    from models import Illustration

    return fresh(Illustration, world.ids["illustration"])


def _illustration_uploaded(world: World, role: str, client) -> None:
    from models import Illustration

    db.session.rollback()
    rows = db.session.scalars(
        select(Illustration)
        .where(Illustration.proposal_id == world.ids["draft"])
        .order_by(Illustration.position)
    ).all()
    assert len(rows) == 3 and rows[-1].uploaded_by_id == world.people[role].id


def _illustration_described(world: World, role: str, client) -> None:
    assert _illustration(world).alt_text == "Des bocaux de graines"


def _illustration_moved(world: World, role: str, client) -> None:
    assert _illustration(world).position == 1


def _illustration_cover(world: World, role: str, client) -> None:
    assert _illustration(world).is_cover


def _illustration_deleted(world: World, role: str, client) -> None:
    assert _illustration(world) is None


def _round_created(world: World, role: str, client) -> None:
    db.session.rollback()
    created = db.session.scalar(select(BudgetRound).where(BudgetRound.name == "Budget 2029"))
    assert (created.total_cents, created.base_threshold) == (50_000_000, 12)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "round.create"))
    assert (entry.actor_id, entry.round_id) == (world.people[role].id, created.id)


def _round_total_changed(world: World, role: str, client) -> None:
    assert fresh(BudgetRound, world.ids["round"]).total_cents == 12_000_000
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "round.total"))
    assert (entry.actor_id, entry.reason) == (world.people[role].id, "Dons de l'été")


def _round_made_current(world: World, role: str, client) -> None:
    assert fresh(BudgetRound, world.ids["next_round"]).is_current
    assert not fresh(BudgetRound, world.ids["round"]).is_current


def _round_form(world: World, role: str, total: str = "500 000", **extra) -> dict:
    return {
        "name": "Budget 2029",
        "total": total,
        "base_threshold": "12",
        "policy": "manual",
        "opens_on": "2029-01-01",
        "closes_on": "2029-12-31",
        **extra,
    }


def _round_edit_form(world: World, role: str) -> dict:
    budget_round = db.session.get(BudgetRound, world.ids["round"])
    paris = budget_round.opens_at.astimezone(PARIS)
    closes = (budget_round.closes_at - timedelta(microseconds=1)).astimezone(PARIS)
    return {
        "name": budget_round.name,
        "total": "120 000",
        "base_threshold": str(budget_round.base_threshold),
        "policy": budget_round.policy.value,
        "opens_on": paris.date().isoformat(),
        "closes_on": closes.date().isoformat(),
        "reason": "Dons de l'été",
    }


# The finance team's queue of spending requests


def _approved_spending(world: World) -> int:
    """An approved request of the certified group's, written directly; its id."""
    from datetime import date

    from models import SpendingCategory, SpendingRequest, SpendingStatus, utcnow

    manager = world.people["manager_certified"]
    row = SpendingRequest(
        group_id=world.certified.id,
        author_id=manager.id,
        last_editor_id=manager.id,
        title="Tracts",
        category=SpendingCategory.printing,
        amount_cents=12_000,
        spent_on=date(2027, 2, 1),
        payee_name="Imprimerie du Port",
        payee_iban="FR1420041010050500013M02606",
        status=SpendingStatus.approved,
        round_cents=0,
        envelope_cents=12_000,
        submitted_at=utcnow(),
        decided_at=utcnow(),
    )
    db.session.add(row)
    db.session.commit()
    world.ids["spending"] = row.id
    return row.id


def _payment_form(w: World, role: str) -> dict:
    return {
        "ids": str(_approved_spending(w)),
        "portee": "selection",
        "date": "2099-01-02",
        "confirme": "1",
    }


def _marked_paid(world: World, role: str, client) -> None:
    from models import SpendingEvent, SpendingRequest, SpendingStatus

    assert fresh(SpendingRequest, world.ids["spending"]).status == SpendingStatus.paid
    event = db.session.scalar(
        select(SpendingEvent).where(
            SpendingEvent.request_id == world.ids["spending"], SpendingEvent.action == "paid"
        )
    )
    assert event.actor_id == world.people[role].id


# The grand livre: the finance team and admins


def _donations_csv(world: World) -> bytes:
    row = f"2026-11-03;{world.certified.id};12,50;DON-1"
    return f"date;groupe;montant;référence\r\n{row}\r\n".encode()


def _donations_file(w: World, role: str) -> dict:
    from io import BytesIO

    return {"file": (BytesIO(_donations_csv(w)), "dons.csv")}


def _donations_confirmed(w: World, role: str) -> dict:
    import base64

    return {"content": base64.b64encode(_donations_csv(w)).decode(), "filename": "dons.csv"}


def _donations_imported(world: World, role: str, client) -> None:
    from models import LedgerOperation

    db.session.rollback()
    operation = db.session.scalar(
        select(LedgerOperation).where(LedgerOperation.reference == "DON-1")
    )
    assert (operation.amount_cents, operation.actor_id) == (1_250, world.people[role].id)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ledger.import"))
    assert entry.actor_id == world.people[role].id


def _allocated(world: World, role: str, client) -> None:
    from models import LedgerOperation
    from services.ledger import envelope_balance

    db.session.rollback()
    assert envelope_balance(world.certified.id) == 12_050
    operation = db.session.scalar(
        select(LedgerOperation).where(LedgerOperation.reference == "MAN-1")
    )
    assert operation.actor_id == world.people[role].id


def _operation_to_correct(w: World, role: str) -> dict:
    """An allocation recorded by the finance team before the request; its id in w.ids."""
    from services import ledger

    w.ids["operation"] = ledger.allocate(w.people["finance"], w.certified.id, 5_000, "Don")
    return {"reason": "Don mal attribué"}


def _corrected(world: World, role: str, client) -> None:
    from models import LedgerOperation

    db.session.rollback()
    reversal = db.session.scalar(
        select(LedgerOperation).where(LedgerOperation.reverses_id == world.ids["operation"])
    )
    assert (reversal.amount_cents, reversal.actor_id) == (5_000, world.people[role].id)


# Spending requests: the group's side and the finance team's decisions (views/spending.py).
# Each route's data function writes the request it acts on (directly, like the factories), so
# that every role meets the same request in the state where the route makes sense. The author
# is the certified group's manager, except for validation: that takes a second manager, so the
# request to validate is by a co-manager of the group and manager_certified validates it.


def _spending_request(w: World, status: str, author: Person | None = None) -> dict:
    """A request of the certified group's in this status, with one receipt (a row: no file is
    read by these routes); its id and its receipt's in w.ids."""
    from datetime import date

    from models import SpendingCategory, SpendingReceipt, SpendingRequest, SpendingStatus

    author = author or w.people["manager_certified"]
    row = SpendingRequest(
        group_id=w.certified.id,
        author_id=author.id,
        last_editor_id=author.id,
        title="Tracts",
        category=SpendingCategory.printing,
        amount_cents=12_000,
        spent_on=date.today() - timedelta(days=3),
        payee_name="Imprimerie du Port",
        payee_iban="FR1420041010050500013M02606",
        status=SpendingStatus(status),
        version=1,
    )
    db.session.add(row)
    db.session.flush()
    receipt = SpendingReceipt(
        request_id=row.id,
        stored_name=f"{row.id:032x}.pdf",
        filename="facture.pdf",
        content_type="application/pdf",
        size=100,
        sha256="0" * 64,
    )
    db.session.add(receipt)
    db.session.commit()
    w.ids["request"], w.ids["receipt"] = row.id, receipt.id
    return {"version": "1"}


def _spending_to_validate(w: World, role: str) -> dict:
    co_manager = _person("gestion-bis@example.org")
    f.member(co_manager, w.certified, "manager")
    return _spending_request(w, "awaiting_group", author=co_manager)


def _spending_to_approve(w: World, role: str) -> dict:
    from services import ledger

    ledger.allocate(w.people["finance"], w.certified.id, 50_000, "Dons fléchés")
    return {**_spending_request(w, "awaiting_finance"), "comment": "Bon pour paiement"}


def _spending_form(w: World, role: str) -> dict:
    from datetime import date
    from io import BytesIO

    from tests.test_spending import PDF

    return {
        "title": "Matériel de la fête",
        "category": "equipment_purchase",
        "amount": "120,50",
        "spent_on": (date.today() - timedelta(days=3)).isoformat(),
        "explanation": "",
        "payee_name": "Quincaillerie du marché",
        "payee_iban": "FR14 2004 1010 0505 0001 3M02 606",
        "commitment": "",
        "receipts": (BytesIO(PDF), "facture.pdf"),
    }


def _spending_edit_form(w: World, role: str) -> dict:
    # An empty IBAN keeps the stored one (the group's managers never see it whole).
    form = {**_spending_form(w, role), "title": "Tracts et affiches", "payee_iban": ""}
    form.pop("receipts")
    return {**form, **_spending_request(w, "draft")}


def _receipt_form(w: World, role: str) -> dict:
    from io import BytesIO

    from tests.test_spending import PDF

    return {**_spending_request(w, "draft"), "receipts": (BytesIO(PDF), "devis.pdf")}


def _spending_row(world: World):
    from models import SpendingRequest

    return fresh(SpendingRequest, world.ids["request"])


def _spending_filed(world: World, role: str, client) -> None:
    from models import SpendingReceipt, SpendingRequest

    db.session.rollback()
    row = db.session.scalar(
        select(SpendingRequest).where(SpendingRequest.title == "Matériel de la fête")
    )
    assert (row.author_id, row.amount_cents, row.status.value) == (
        world.people[role].id,
        12_050,
        "draft",
    )
    receipts = db.session.scalars(
        select(SpendingReceipt).where(SpendingReceipt.request_id == row.id)
    ).all()
    assert [r.filename for r in receipts] == ["facture.pdf"]


def _spending_edited(world: World, role: str, client) -> None:
    row = _spending_row(world)
    assert (row.title, row.version, row.last_editor_id) == (
        "Tracts et affiches",
        2,
        world.people[role].id,
    )
    assert row.payee_iban == "FR1420041010050500013M02606"


def _receipts_of(world: World) -> list[str]:
    from models import SpendingReceipt

    db.session.rollback()
    return list(
        db.session.scalars(
            select(SpendingReceipt.filename)
            .where(SpendingReceipt.request_id == world.ids["request"])
            .order_by(SpendingReceipt.id)
        )
    )


def _receipt_added(world: World, role: str, client) -> None:
    assert _receipts_of(world) == ["facture.pdf", "devis.pdf"]


def _receipt_removed(world: World, role: str, client) -> None:
    assert _receipts_of(world) == []


def _transfer_file_recorded(world: World, role: str, client) -> None:
    db.session.rollback()
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "spending.transfer_file")
    )
    assert entry.actor_id == world.people[role].id
    assert f"COMMUN-REQ-{world.ids['spending']}" in entry.reason


def _spending_deleted(world: World, role: str, client) -> None:
    assert _spending_row(world) is None


def _spending_now(status: str, action: str):
    """The request is in `status`, and its last event is `action` by the person who posted."""

    def effect(world: World, role: str, client) -> None:
        from models import SpendingEvent

        assert _spending_row(world).status.value == status
        event = db.session.scalar(
            select(SpendingEvent)
            .where(SpendingEvent.request_id == world.ids["request"])
            .order_by(SpendingEvent.id.desc())
            .limit(1)
        )
        assert (event.action, event.actor_id) == (action, world.people[role].id)

    return effect


# The route table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    path: str  # formatted with World.ids
    data: Callable[[World, str], dict]
    effect: Callable[[World, str, object], None]


ROUTES = {
    "proposals.commit": Route(
        "/propositions/{open}/engagement",
        lambda w, role: {"group_id": w.own_group(role).id, "note": "Au marché du samedi"},
        _committed,
    ),
    "proposals.withdraw": Route(
        "/propositions/{committed}/retrait",
        lambda w, role: {"group_id": w.certified.id},
        _withdrawn,
    ),
    "proposals.threshold": Route(
        "/propositions/{open}/seuil",
        lambda w, role: {"threshold": "3", "reason": "Action simple"},
        _threshold_set,
    ),
    "auth.sign_in": Route(
        "/connexion",
        lambda w, role: {"email": w.newcomer.email, "password": f.PASSWORD},
        _signed_in,
    ),
    "auth.sign_out": Route("/deconnexion", lambda w, role: {}, _signed_out),
    "auth.password": Route(
        "/compte/mot-de-passe",
        lambda w, role: {"current": f.PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        _password_changed,
    ),
    "admin.create_person": Route(
        "/admin/personnes",
        lambda w, role: {
            "email": "creee@example.org",
            "display_name": "Créée",
            "password": NEW_PASSWORD,
            "animation": "y",
        },
        _person_created,
    ),
    "admin.person_roles": Route(
        "/admin/personnes/{target}/roles", lambda w, role: {"finance": "y"}, _roles_set
    ),
    "admin.create_group": Route(
        "/admin/groupes",
        lambda w, role: {"name": "Groupe créé", "commune": "Tulle", "departement": "19"},
        _group_created,
    ),
    "admin.update_group": Route(
        "/admin/groupes/{uncertified}/modifier",
        lambda w, role: {"name": "Nouveau nom", "commune": "Pessac", "departement": "33"},
        _group_updated,
    ),
    "admin.set_member": Route(
        "/admin/groupes/{uncertified}/membres",
        lambda w, role: {"email": w.newcomer.email, "role": "manager"},
        _member_added,
    ),
    "admin.remove_member": Route(
        "/admin/groupes/{uncertified}/membres/{target}/retrait", lambda w, role: {}, _member_removed
    ),
    "admin.certification": Route(
        "/admin/groupes/{uncertified}/certification",
        lambda w, role: {"decision": "certify", "reason": "Charte signée"},
        _certified,
    ),
    # Workspace
    "workspace.new": Route("/groupes/{certified}/propositions/nouvelle", _proposal_form, _drafted),
    "workspace.edit": Route("/espace/propositions/{submitted}/modifier", _proposal_form, _edited),
    "workspace.preview": Route("/espace/apercu", _proposal_form, _previewed),
    "workspace.restore": Route(
        "/espace/propositions/{submitted}/historique/1/restauration",
        lambda w, role: {"version": "2"},
        _restored,
    ),
    "workspace.submit": Route(
        "/espace/propositions/{draft}/soumission",
        lambda w, role: {},
        _status_is("draft", ProposalStatus.submitted),
    ),
    "workspace.withdraw": Route(
        "/espace/propositions/{in_review}/retrait",
        lambda w, role: {"reason": "Plus de local"},
        _status_is("in_review", ProposalStatus.withdrawn),
    ),
    "workspace.publish": Route(
        "/espace/propositions/{submitted}/publication",
        lambda w, role: {},
        _status_is("submitted", ProposalStatus.published),
    ),
    "workspace.threshold": Route(
        "/espace/propositions/{in_review}/seuil",
        lambda w, role: {"threshold": "4", "reason": "Action simple à reproduire"},
        _override_set,
    ),
    "workspace.decline": Route(
        "/espace/propositions/{in_review}/refus",
        lambda w, role: {"reason": "Une action semblable existe déjà."},
        _status_is("in_review", ProposalStatus.declined),
    ),
    # Queue and exchange
    "queue.assign": Route(
        "/espace/propositions/{submitted}/attribution", lambda w, r: {}, _assigned
    ),
    "queue.release": Route(
        "/espace/propositions/{in_review}/liberation", lambda w, r: {}, _released
    ),
    "exchange.post": Route(
        "/espace/propositions/{in_review}/messages",
        lambda w, role: {"message": "Pouvez-vous préciser le budget ?"},
        _message_posted,
    ),
    # Budget rounds
    "rounds.new": Route("/budgets/nouveau", _round_form, _round_created),
    "rounds.edit": Route("/budgets/{round}/modifier", _round_edit_form, _round_total_changed),
    "rounds.make_current": Route(
        "/budgets/{next_round}/courant", lambda w, role: {}, _round_made_current
    ),
    # Illustrations
    "illustrations.upload": Route(
        "/espace/propositions/{draft}/illustrations", _photo, _illustration_uploaded
    ),
    "illustrations.update": Route(
        "/espace/illustrations/{illustration}/modifier",
        lambda w, role: {"alt_text": "Des bocaux de graines", "caption": "La grainothèque"},
        _illustration_described,
    ),
    "illustrations.move": Route(
        "/espace/illustrations/{illustration}/deplacement",
        lambda w, role: {"direction": "up"},
        _illustration_moved,
    ),
    "illustrations.cover": Route(
        "/espace/illustrations/{illustration}/couverture", lambda w, r: {}, _illustration_cover
    ),
    "illustrations.delete": Route(
        "/espace/illustrations/{illustration}/suppression", lambda w, r: {}, _illustration_deleted
    ),
    # The finance team's queue of spending requests
    "spending_queue.mark_paid": Route("/finance/depenses/paiement", _payment_form, _marked_paid),
    # SHOWN: the SEPA file is a download that changes nothing
    "spending_queue.transfer_file": Route(
        "/finance/depenses/virements", _payment_form, _transfer_file_recorded
    ),
    # The grand livre: the finance team and admins (SHOWN: the import's preview)
    "ledger.import_preview": Route("/finance/dons/import", _donations_file, _previewed),
    "ledger.import_apply": Route(
        "/finance/dons/import/confirmation", _donations_confirmed, _donations_imported
    ),
    "ledger.allocate": Route(
        "/finance/dons/nouveau",
        lambda w, role: {
            "group_id": w.certified.id,
            "amount": "120,50",
            "reason": "Don fléché de la fête",
            "reference": "MAN-1",
        },
        _allocated,
    ),
    "ledger.reverse": Route(
        "/finance/grand-livre/operations/{operation}/correction",
        _operation_to_correct,
        _corrected,
    ),
    # Spending requests (views/spending.py): the group's managers, then the finance team
    "spending.new": Route(
        "/groupes/{certified}/depenses/nouvelle", _spending_form, _spending_filed
    ),
    "spending.edit": Route("/depenses/{request}/modifier", _spending_edit_form, _spending_edited),
    "spending.add_receipts": Route(
        "/depenses/{request}/justificatifs", _receipt_form, _receipt_added
    ),
    "spending.remove_receipt": Route(
        "/depenses/justificatifs/{receipt}/retrait",
        lambda w, role: _spending_request(w, "draft"),
        _receipt_removed,
    ),
    "spending.submit": Route(
        "/depenses/{request}/depot",
        lambda w, role: _spending_request(w, "draft"),
        _spending_now("awaiting_group", "submitted"),
    ),
    "spending.delete": Route(
        "/depenses/{request}/suppression",
        lambda w, role: _spending_request(w, "draft"),
        _spending_deleted,
    ),
    "spending.validate": Route(
        "/depenses/{request}/validation",
        _spending_to_validate,
        _spending_now("awaiting_finance", "validated"),
    ),
    "spending.return_to_draft": Route(
        "/depenses/{request}/brouillon",
        lambda w, role: {**_spending_to_validate(w, role), "comment": "Il manque le devis."},
        _spending_now("draft", "returned"),
    ),
    "spending.answer": Route(
        "/depenses/{request}/reponse",
        lambda w, role: {**_spending_request(w, "info_requested"), "comment": "Celle du 12."},
        _spending_now("awaiting_finance", "answered"),
    ),
    "spending.request_information": Route(
        "/depenses/{request}/informations",
        lambda w, role: {**_spending_request(w, "awaiting_finance"), "comment": "Le devis ?"},
        _spending_now("info_requested", "info_requested"),
    ),
    "spending.approve": Route(
        "/depenses/{request}/approbation",
        _spending_to_approve,
        _spending_now("approved", "approved"),
    ),
    "spending.refuse": Route(
        "/depenses/{request}/refus",
        lambda w, role: {**_spending_request(w, "awaiting_finance"), "comment": "Hors sujet."},
        _spending_now("refused", "refused"),
    ),
}

# Outcomes: DONE answers 303 and has the route's effect; LOGIN redirects to the sign-in page;
# DENIED answers 403; IGNORED (sign-in when already signed in) redirects; HIDDEN answers 404
# (a proposal that is not public, to someone outside its workspace). All but DONE write
# nothing at all.
DONE, LOGIN, DENIED, IGNORED = "done", "login", "denied", "ignored"
HIDDEN = "hidden"
SHOWN = "shown"  # 200: a page or fragment that writes nothing (the live preview)
RECORDED = "recorded"  # 200: a file that changes nothing but is recorded in the audit log
ADMIN_ONLY = (LOGIN, DENIED, DENIED, DENIED, DENIED, DENIED, DONE)

EXPECTED = {
    #                     anonymous member  mgr-uncert mgr-cert animation finance admin
    "proposals.commit":    (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "proposals.withdraw":  (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "proposals.threshold": (LOGIN, DENIED, DENIED, DENIED, DONE, DENIED, DONE),
    "auth.sign_in":        (DONE, IGNORED, IGNORED, IGNORED, IGNORED, IGNORED, IGNORED),
    "auth.sign_out":       (DONE, DONE, DONE, DONE, DONE, DONE, DONE),
    "auth.password":       (LOGIN, DONE, DONE, DONE, DONE, DONE, DONE),
    "admin.create_person": ADMIN_ONLY,
    "admin.person_roles":  ADMIN_ONLY,
    "admin.create_group":  ADMIN_ONLY,
    "admin.update_group":  ADMIN_ONLY,
    "admin.set_member":    ADMIN_ONLY,
    "admin.remove_member": ADMIN_ONLY,
    "admin.certification": ADMIN_ONLY,
    # Workspace
    "workspace.new":       (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "workspace.edit":      (LOGIN, HIDDEN, HIDDEN, DENIED, DONE, HIDDEN, DONE),
    "workspace.preview":   (LOGIN, SHOWN, SHOWN, SHOWN, SHOWN, SHOWN, SHOWN),
    "workspace.restore":   (LOGIN, HIDDEN, HIDDEN, DENIED, DONE, HIDDEN, DONE),
    "workspace.submit":    (LOGIN, HIDDEN, HIDDEN, DONE, DENIED, HIDDEN, DENIED),
    "workspace.withdraw":  (LOGIN, HIDDEN, HIDDEN, DONE, DENIED, HIDDEN, DENIED),
    "workspace.publish":   (LOGIN, DENIED, DENIED, DENIED, DONE, DENIED, DONE),
    "workspace.threshold": (LOGIN, DENIED, DENIED, DENIED, DONE, DENIED, DONE),
    "workspace.decline":   (LOGIN, DENIED, DENIED, DENIED, DONE, DENIED, DONE),
    # Queue and exchange
    "queue.assign":        (LOGIN, DENIED, DENIED, DENIED, DONE, DENIED, DONE),
    "queue.release":       (LOGIN, DENIED, DENIED, DENIED, DONE, DENIED, DONE),
    "exchange.post":       (LOGIN, HIDDEN, HIDDEN, DONE, DONE, HIDDEN, DONE),
    # Budget rounds: the finance team and admins
    "rounds.new":           (LOGIN, DENIED, DENIED, DENIED, DENIED, DONE, DONE),
    "rounds.edit":          (LOGIN, DENIED, DENIED, DENIED, DENIED, DONE, DONE),
    "rounds.make_current":  (LOGIN, DENIED, DENIED, DENIED, DENIED, DONE, DONE),
    # Illustrations (of the draft: its group edits them, the team sees them but may not)
    "illustrations.upload": (LOGIN, HIDDEN, HIDDEN, DONE, DENIED, HIDDEN, DENIED),
    "illustrations.update": (LOGIN, HIDDEN, HIDDEN, DONE, DENIED, HIDDEN, DENIED),
    "illustrations.move":   (LOGIN, HIDDEN, HIDDEN, DONE, DENIED, HIDDEN, DENIED),
    "illustrations.cover":  (LOGIN, HIDDEN, HIDDEN, DONE, DENIED, HIDDEN, DENIED),
    "illustrations.delete": (LOGIN, HIDDEN, HIDDEN, DONE, DENIED, HIDDEN, DENIED),
    # The finance team's queue of spending requests
    "spending_queue.mark_paid":     (LOGIN, DENIED, DENIED, DENIED, DENIED, DONE, DONE),
    "spending_queue.transfer_file": (LOGIN, DENIED, DENIED, DENIED, DENIED, RECORDED, RECORDED),
    # The grand livre: the finance team and admins
    "ledger.import_preview": (LOGIN, DENIED, DENIED, DENIED, DENIED, SHOWN, SHOWN),
    "ledger.import_apply":   (LOGIN, DENIED, DENIED, DENIED, DENIED, DONE, DONE),
    "ledger.allocate":       (LOGIN, DENIED, DENIED, DENIED, DENIED, DONE, DONE),
    "ledger.reverse":        (LOGIN, DENIED, DENIED, DENIED, DENIED, DONE, DONE),
    # Spending requests: the group's managers act for their certified group (the finance team
    # and admins see the request but may not act for the group); the finance team decides.
    "spending.new":              (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "spending.edit":             (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "spending.add_receipts":     (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "spending.remove_receipt":   (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "spending.submit":           (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "spending.delete":           (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "spending.validate":         (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "spending.return_to_draft":  (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "spending.answer":           (LOGIN, DENIED, DENIED, DONE, DENIED, DENIED, DENIED),
    "spending.request_information": (LOGIN, DENIED, DENIED, DENIED, DENIED, DONE, DONE),
    "spending.approve":          (LOGIN, DENIED, DENIED, DENIED, DENIED, DONE, DONE),
    "spending.refuse":           (LOGIN, DENIED, DENIED, DENIED, DENIED, DONE, DONE),
}  # fmt: skip

MUTATING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
NETWORK_BLUEPRINTS = {"network", "library", "discussion", "support"}


def test_every_mutating_route_is_in_the_matrix(app):
    # The network of elected officials has its own people and matrix
    # (tests/test_network_authorization.py).
    mutating = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.methods & MUTATING_METHODS
        and rule.endpoint.partition(".")[0] not in NETWORK_BLUEPRINTS
    }
    assert mutating == set(EXPECTED), "add the new route to ROUTES and EXPECTED"
    assert set(ROUTES) == set(EXPECTED)
    assert all(len(outcomes) == len(ROLES) for outcomes in EXPECTED.values())


def test_matrix_paths_reach_their_endpoints(app):
    adapter = app.url_map.bind("localhost")
    ids = {
        "open": 1,
        "committed": 2,
        "draft": 3,
        "submitted": 4,
        "in_review": 5,
        "certified": 3,
        "uncertified": 4,
        "target": 5,
        "illustration": 1,
        "round": 1,
        "next_round": 2,
        "operation": 1,
        "request": 1,
        "receipt": 1,
    }
    for endpoint, route in ROUTES.items():
        assert adapter.match(route.path.format(**ids), method="POST")[0] == endpoint


@pytest.mark.parametrize(
    ("endpoint", "role"), [(endpoint, role) for endpoint in EXPECTED for role in ROLES]
)
def test_authorization_matrix(client, auth, endpoint, role):
    world = build_world()
    if role != "anonymous":
        auth.login(world.people[role])
    route = ROUTES[endpoint]
    expected = EXPECTED[endpoint][ROLES.index(role)]
    data = route.data(world, role)
    before = snapshot()

    response = client.post(route.path.format(**world.ids), data=data)

    if expected == DONE:
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        route.effect(world, role, client)
        return
    if expected == RECORDED:
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        route.effect(world, role, client)
        return
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/connexion")
    elif expected == DENIED:
        assert response.status_code == 403
    elif expected == HIDDEN:
        assert response.status_code == 404
    elif expected == SHOWN:
        assert response.status_code == 200
    elif expected == IGNORED:
        assert response.status_code == 302
        assert not response.headers["Location"].startswith("/connexion")
    assert snapshot() == before


@pytest.mark.parametrize("role", ["member", "manager", "referent"])
def test_commit_and_withdraw_for_a_certified_group_by_role_in_it(client, auth, role):
    world = build_world()
    person = _person("quelquun@example.org")
    f.member(person, world.certified, role)
    auth.login(person)
    before = snapshot()
    response = client.post(
        f"/propositions/{world.ids['open']}/engagement", data={"group_id": world.ids["certified"]}
    )
    if role == "member":
        assert response.status_code == 403
        assert snapshot() == before
        return
    assert response.status_code == 303
    assert response.headers["Location"] == f"/propositions/{world.open.slug}"
    response = client.post(
        f"/propositions/{world.ids['open']}/retrait", data={"group_id": world.ids["certified"]}
    )
    assert response.status_code == 303
    assert fresh(Proposal, world.ids["open"]).commitment_count == 0


@pytest.mark.parametrize("action", ["engagement", "retrait"])
def test_a_manager_cannot_act_for_another_certified_group(client, auth, action):
    world = build_world()
    other, other_group = f.manager_of()  # manages another certified group
    auth.login(other)
    proposal_id = world.ids["committed"] if action == "retrait" else world.ids["open"]
    before = snapshot()
    response = client.post(
        f"/propositions/{proposal_id}/{action}", data={"group_id": world.ids["certified"]}
    )
    assert response.status_code == 403
    assert "Groupe certifié" in response.get_data(as_text=True)
    assert snapshot() == before
    assert other_group.id != world.ids["certified"]


@pytest.mark.parametrize(
    ("role", "path", "data"),
    [
        ("manager_certified", "/propositions/999/engagement", {"group_id": "1"}),
        ("manager_certified", "/propositions/999/retrait", {"group_id": "1"}),
        ("animation", "/propositions/999/seuil", {"threshold": "3", "reason": "Essai"}),
        ("admin", "/admin/personnes/999/roles", {"finance": "y"}),
        (
            "admin",
            "/admin/groupes/999/modifier",
            {"name": "X", "commune": "Y", "departement": "33"},
        ),
        ("admin", "/admin/groupes/999/membres", {"email": "admin@example.org", "role": "member"}),
        ("admin", "/admin/groupes/999/membres/1/retrait", {}),
        ("admin", "/admin/groupes/999/certification", {"decision": "certify", "reason": "Essai"}),
    ],
)
def test_unknown_ids_are_404_for_those_allowed_and_write_nothing(client, auth, role, path, data):
    world = build_world()
    auth.login(world.people[role])
    before = snapshot()
    assert client.post(path, data=data).status_code == 404
    assert snapshot() == before


WORKSPACE_ROUTES = [
    endpoint
    for endpoint in EXPECTED
    if endpoint.startswith(("workspace.", "exchange.", "illustrations."))
    and endpoint not in ("workspace.new", "workspace.preview")
]


@pytest.mark.parametrize("endpoint", WORKSPACE_ROUTES)
def test_a_manager_of_another_certified_group_has_no_access_to_a_workspace(client, auth, endpoint):
    world = build_world()
    other, _other_group = f.manager_of()  # manages another certified group
    auth.login(other)
    route = ROUTES[endpoint]
    before = snapshot()
    response = client.post(route.path.format(**world.ids), data=route.data(world, "member"))
    # Not public: the workspace does not exist for them; team-only actions are refused.
    assert response.status_code == (403 if EXPECTED[endpoint][1] == DENIED else 404)
    assert snapshot() == before


def test_a_manager_of_another_certified_group_cannot_propose_for_this_one(client, auth):
    world = build_world()
    other, _other_group = f.manager_of()
    auth.login(other)
    before = snapshot()
    route = ROUTES["workspace.new"]
    response = client.post(route.path.format(**world.ids), data=route.data(world, "member"))
    assert response.status_code == 403
    assert snapshot() == before
