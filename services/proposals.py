"""A proposal's life before and around publication: drafts, edits with revisions, submission,
withdrawal, publication and decline (DESIGN.md, "Proposal lifecycle").

Every save is a revision holding the whole editable text, so a revision can be shown,
compared with the one before it and restored on its own. Editors name the version they
started from; a save from an older version is refused (an optimistic lock), so that two
animators editing at once never overwrite each other in silence.
"""

import re
import secrets
import unicodedata
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import (
    ActionGroup,
    AuditEntry,
    BudgetLine,
    BudgetRound,
    Category,
    Person,
    Proposal,
    ProposalRevision,
    ProposalStatus,
    db,
    fold_text,
    utcnow,
)

from .access import require_certified, require_group_manager
from .budget import record_fundable_if_reached, settle_deferred
from .commitments import lock_group_for_share
from .errors import Conflict, Invalid, NotAllowed, NotFound
from .illustrations import missing_alt_count
from .money import format_cents
from .tx import write_transaction
from .workspace_access import (
    acts_for_origin,
    lock_proposal,
    require_edit,
    require_team,
    require_workspace,
)

TITLE_MAX = 200
SUMMARY_MAX = 500
TEXT_MAX = 20_000
ITEM_MAX = 200
REASON_MAX = 2_000
MAX_LINES = 30
# A per-group budget above this is a typing mistake, not an action to reproduce locally.
MAX_BUDGET_CENTS = 100_000_000

EDITABLE_FIELDS = ("title", "summary", "body", "how_to", "category", "per_group_budget_cents")
FIELD_LABELS = {
    "title": "Titre",
    "summary": "Résumé",
    "body": "Description",
    "how_to": "Comment faire",
    "category": "Catégorie",
    "per_group_budget_cents": "Budget par groupe",
    "budget_lines": "Lignes de budget",
}
WITHDRAWABLE = (ProposalStatus.draft, ProposalStatus.submitted, ProposalStatus.in_review)
DECIDABLE = (ProposalStatus.submitted, ProposalStatus.in_review)


def slugify(title: str) -> str:
    """An address-friendly form of a title: « Épicerie solidaire » → « epicerie-solidaire »."""
    text = fold_text(title).replace("œ", "oe").replace("æ", "ae")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:180] or "action"


@dataclass(frozen=True)
class ProposalText:
    """Everything an editor changes in one save."""

    title: str
    summary: str
    body: str
    how_to: str
    category: str
    per_group_budget_cents: int
    budget_lines: tuple[tuple[str, int], ...] = field(default_factory=tuple)

    def cleaned(self) -> "ProposalText":
        return ProposalText(
            title=" ".join(self.title.split()),
            summary=self.summary.strip(),
            body=self.body.strip().replace("\r\n", "\n"),
            how_to=self.how_to.strip().replace("\r\n", "\n"),
            category=self.category,
            per_group_budget_cents=self.per_group_budget_cents,
            budget_lines=tuple(
                (" ".join(item.split()), amount) for item, amount in self.budget_lines
            ),
        )

    def snapshot(self) -> dict:
        data = {name: getattr(self, name) for name in EDITABLE_FIELDS}
        data["budget_lines"] = [[item, amount] for item, amount in self.budget_lines]
        return data

    @property
    def lines_total_cents(self) -> int:
        return sum(amount for _item, amount in self.budget_lines)

    @classmethod
    def from_snapshot(cls, data: dict) -> "ProposalText":
        return cls(
            **{name: data[name] for name in EDITABLE_FIELDS},
            budget_lines=tuple((item, amount) for item, amount in data["budget_lines"]),
        )


def budget_lines_of(proposal_id: int) -> list[BudgetLine]:
    return list(
        db.session.scalars(
            select(BudgetLine)
            .where(BudgetLine.proposal_id == proposal_id)
            .order_by(BudgetLine.position)
        )
    )


def text_of(proposal: Proposal) -> ProposalText:
    return ProposalText(
        title=proposal.title,
        summary=proposal.summary,
        body=proposal.body,
        how_to=proposal.how_to,
        category=proposal.category.value,
        per_group_budget_cents=proposal.per_group_budget_cents,
        budget_lines=tuple((line.item, line.amount_cents) for line in budget_lines_of(proposal.id)),
    )


def check_text(text: ProposalText, complete: bool) -> None:
    """The rules of a proposal's text. `complete` adds what a submitted or public proposal
    needs: a description and budget lines that add up to the per-group budget."""
    if len(text.title) < 3:
        raise Invalid(_("Le titre doit compter au moins 3 caractères."))
    if len(text.title) > TITLE_MAX:
        raise Invalid(_("Le titre ne peut dépasser %(max)d caractères.", max=TITLE_MAX))
    if not text.summary:
        raise Invalid(_("Écrivez un résumé en une ou deux phrases."))
    if len(text.summary) > SUMMARY_MAX:
        raise Invalid(_("Le résumé ne peut dépasser %(max)d caractères.", max=SUMMARY_MAX))
    if len(text.body) > TEXT_MAX or len(text.how_to) > TEXT_MAX:
        raise Invalid(_("Un texte ne peut dépasser %(max)d caractères.", max=TEXT_MAX))
    if text.category not in Category.__members__:
        raise Invalid(_("Choisissez une catégorie de la liste."))
    if not 0 <= text.per_group_budget_cents <= MAX_BUDGET_CENTS:
        raise Invalid(_("Le budget par groupe doit être compris entre 0 et 1 000 000 €."))
    if len(text.budget_lines) > MAX_LINES:
        raise Invalid(_("Une proposition compte au plus %(max)d lignes de budget.", max=MAX_LINES))
    for item, amount in text.budget_lines:
        if not item or len(item) > ITEM_MAX:
            raise Invalid(
                _("Chaque ligne de budget a un intitulé de 1 à %(max)d caractères.", max=ITEM_MAX)
            )
        if not 0 < amount <= MAX_BUDGET_CENTS:
            raise Invalid(_("Le montant de la ligne « %(item)s » doit être positif.", item=item))
    if not complete:
        return
    if not text.body:
        raise Invalid(_("Décrivez l'action avant de l'envoyer."))
    if not text.budget_lines:
        raise Invalid(_("Détaillez le budget par groupe en une ligne au moins."))
    if text.lines_total_cents != text.per_group_budget_cents:
        raise Invalid(
            _(
                "Les lignes de budget totalisent %(total)s alors que le budget par groupe est de "
                "%(budget)s : ajustez l'un ou l'autre.",
                total=format_cents(text.lines_total_cents),
                budget=format_cents(text.per_group_budget_cents),
            )
        )


def current_round() -> BudgetRound:
    """The round new proposals join: the current one."""
    budget_round = db.session.scalar(select(BudgetRound).where(BudgetRound.is_current).limit(1))
    if budget_round is None:
        raise Invalid(
            _(
                "Aucun budget participatif n'est ouvert : les propositions ne peuvent pas "
                "encore être rédigées."
            )
        )
    return budget_round


def _apply(proposal: Proposal, text: ProposalText) -> None:
    for name in EDITABLE_FIELDS:
        value = getattr(text, name)
        setattr(proposal, name, Category(value) if name == "category" else value)
    db.session.execute(BudgetLine.__table__.delete().where(BudgetLine.proposal_id == proposal.id))
    for position, (item, amount) in enumerate(text.budget_lines, start=1):
        db.session.add(
            BudgetLine(proposal_id=proposal.id, position=position, item=item, amount_cents=amount)
        )


def _changes(old: dict, new: dict) -> dict:
    return {name: [old[name], new[name]] for name in new if old.get(name) != new[name]}


def _revision(
    proposal: Proposal,
    author: Person,
    kind: str,
    changes: dict,
    snapshot: dict,
    restored_from: int | None = None,
) -> ProposalRevision:
    revision = ProposalRevision(
        proposal_id=proposal.id,
        number=proposal.version,
        author_id=author.id,
        kind=kind,
        changes=changes,
        snapshot=snapshot,
        restored_from=restored_from,
    )
    db.session.add(revision)
    return revision


def create_draft(person: Person, group_id: int, text: ProposalText) -> Proposal:
    """A manager of a certified group starts a proposal; only the group and the animation
    team see it until it is published."""
    text = text.cleaned()
    check_text(text, complete=False)
    with write_transaction():
        group = lock_group_for_share(group_id)
        require_group_manager(person, group)
        require_certified(group)
        proposal = Proposal(
            round_id=current_round().id,
            # A private address until publication gives it its public one.
            slug=f"brouillon-{secrets.token_hex(8)}",
            origin_group_id=group.id,
            author_id=person.id,
            status=ProposalStatus.draft,
            version=1,
            title=text.title,
            summary=text.summary,
            body=text.body,
            how_to=text.how_to,
            category=Category(text.category),
            per_group_budget_cents=text.per_group_budget_cents,
        )
        db.session.add(proposal)
        db.session.flush()
        _apply(proposal, text)
        _revision(proposal, person, "creation", {}, text.snapshot())
        db.session.add(
            AuditEntry(
                actor_id=person.id,
                action="proposal.create",
                proposal_id=proposal.id,
                group_id=group.id,
                new_value=text.title,
            )
        )
    return proposal


class EditConflict(Conflict):
    """Someone saved since this editor started; carries what is saved now."""

    def __init__(self, message: str, current: ProposalText, revision: ProposalRevision | None):
        super().__init__(message)
        self.current = current
        self.version = revision.number if revision else None
        self.revision = revision


def _latest_revision(proposal_id: int) -> ProposalRevision | None:
    return db.session.scalar(
        select(ProposalRevision)
        .where(ProposalRevision.proposal_id == proposal_id)
        .order_by(ProposalRevision.number.desc())
        .limit(1)
    )


def _check_version(proposal: Proposal, base_version: int) -> None:
    if proposal.version == base_version:
        return
    latest = _latest_revision(proposal.id)
    author = db.session.get(Person, latest.author_id) if latest and latest.author_id else None
    raise EditConflict(
        _(
            "%(name)s a enregistré une autre version de cette proposition pendant que vous la "
            "modifiiez. Votre texte n'est pas perdu : il est ci-dessous. Comparez-le avec la "
            "version enregistrée, puis enregistrez à nouveau.",
            name=author.display_name if author else _("Quelqu'un"),
        ),
        text_of(proposal),
        latest,
    )


def save_proposal(
    person: Person, proposal_id: int, base_version: int, text: ProposalText
) -> ProposalRevision | None:
    """Save an edit as a new revision; None when nothing changed.

    Refused with EditConflict when the proposal was saved since `base_version`.
    """
    text = text.cleaned()
    with write_transaction():
        proposal = lock_proposal(proposal_id)
        require_edit(person, proposal)
        _check_version(proposal, base_version)
        check_text(text, complete=proposal.status != ProposalStatus.draft)
        old = text_of(proposal).snapshot()
        new = text.snapshot()
        changes = _changes(old, new)
        if not changes:
            return None
        _apply(proposal, text)
        proposal.version += 1
        return _revision(proposal, person, "edit", changes, new)


def restore_revision(
    person: Person, proposal_id: int, number: int, base_version: int
) -> ProposalRevision | None:
    """Bring back the text of an earlier revision, as a new revision."""
    with write_transaction():
        proposal = lock_proposal(proposal_id)
        require_edit(person, proposal)
        revision = db.session.scalar(
            select(ProposalRevision).where(
                ProposalRevision.proposal_id == proposal.id, ProposalRevision.number == number
            )
        )
        if revision is None:
            raise NotFound(_("Cette version n'existe pas."))
        _check_version(proposal, base_version)
        text = ProposalText.from_snapshot(revision.snapshot)
        check_text(text, complete=proposal.status != ProposalStatus.draft)
        old = text_of(proposal).snapshot()
        new = text.snapshot()
        changes = _changes(old, new)
        if not changes:
            raise Invalid(_("Le texte actuel est déjà celui de cette version."))
        _apply(proposal, text)
        proposal.version += 1
        return _revision(proposal, person, "restore", changes, new, restored_from=number)


def revisions_of(proposal_id: int) -> list[tuple[ProposalRevision, str]]:
    """Every revision, the latest first, with its author's name."""
    rows = db.session.execute(
        select(ProposalRevision, Person.display_name)
        .outerjoin(Person, Person.id == ProposalRevision.author_id)
        .where(ProposalRevision.proposal_id == proposal_id)
        .order_by(ProposalRevision.number.desc())
    ).all()
    return [(revision, name or _("personne supprimée")) for revision, name in rows]


def _audit(person: Person, proposal: Proposal, action: str, old="", new="", reason="") -> None:
    db.session.add(
        AuditEntry(
            actor_id=person.id,
            action=action,
            proposal_id=proposal.id,
            group_id=proposal.origin_group_id,
            old_value=old,
            new_value=new,
            reason=reason,
        )
    )


def _require_origin_manager(person: Person, proposal: Proposal) -> None:
    require_workspace(person, proposal)
    if not acts_for_origin(person, proposal):
        raise NotAllowed(
            _("Seuls les gestionnaires et référent·es du groupe qui l'a proposée peuvent le faire.")
        )


def submit_proposal(person: Person, proposal_id: int) -> None:
    """The group sends its draft to the animation team."""
    with write_transaction():
        proposal = lock_proposal(proposal_id)
        _require_origin_manager(person, proposal)
        if proposal.status != ProposalStatus.draft:
            raise Conflict(_("Seul un brouillon peut être soumis ; celui-ci l'a déjà été."))
        group = db.session.get(ActionGroup, proposal.origin_group_id)
        require_certified(group)
        check_text(text_of(proposal), complete=True)
        proposal.status = ProposalStatus.submitted
        proposal.submitted_at = utcnow()
        _audit(person, proposal, "proposal.submit", "draft", "submitted")


def withdraw_proposal(person: Person, proposal_id: int, reason: str = "") -> None:
    """The group withdraws its idea, at any time before publication."""
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise Invalid(_("La raison ne peut dépasser %(max)d caractères.", max=REASON_MAX))
    with write_transaction():
        proposal = lock_proposal(proposal_id)
        _require_origin_manager(person, proposal)
        if proposal.status not in WITHDRAWABLE:
            raise Conflict(
                _("Une proposition publiée, refusée ou déjà retirée ne peut plus être retirée.")
            )
        old = proposal.status.value
        proposal.status = ProposalStatus.withdrawn
        proposal.withdrawn_at = utcnow()
        proposal.withdraw_reason = reason
        _audit(person, proposal, "proposal.withdraw", old, "withdrawn", reason)


def _public_slug(title: str) -> str:
    base = slugify(title)
    taken = set(
        db.session.scalars(
            select(Proposal.slug).where((Proposal.slug == base) | Proposal.slug.like(f"{base}-%"))
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def publish_proposal(person: Person, proposal_id: int) -> Proposal:
    """The animation team publishes: the proposal becomes public and open to commitments."""
    try:
        proposal = _publish(person, proposal_id)
    except IntegrityError as error:
        # Two proposals of the same title published at the same instant: one gets the address.
        raise Conflict(_("Une autre publication vient d'avoir lieu : réessayez.")) from error
    settle_deferred()
    return proposal


def _publish(person: Person, proposal_id: int) -> Proposal:
    with write_transaction():
        require_team(person)
        proposal = lock_proposal(proposal_id)
        if proposal.status not in DECIDABLE:
            raise Conflict(
                _("Seule une proposition soumise ou en cours de revue peut être publiée.")
            )
        check_text(text_of(proposal), complete=True)
        missing = missing_alt_count(proposal.id)
        if missing:
            raise Invalid(
                _(
                    "Rédigez le texte alternatif de chaque illustration avant de publier "
                    "(%(count)d à rédiger).",
                    count=missing,
                )
            )
        old = proposal.status.value
        proposal.status = ProposalStatus.published
        proposal.published_at = utcnow()
        proposal.slug = _public_slug(proposal.title)
        # Published into the current round (a draft may have been started in an earlier one).
        proposal.round_id = current_round().id
        proposal.live_version += 1
        # A threshold override set low enough makes it fundable at once.
        record_fundable_if_reached(proposal)
        _audit(person, proposal, "proposal.publish", old, "published")
    return proposal


def decline_proposal(person: Person, proposal_id: int, reason: str) -> None:
    """The animation team declines an idea, with a reason the group reads."""
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise Invalid(
            _("Expliquez au groupe pourquoi l'idée n'est pas retenue (10 caractères au moins).")
        )
    if len(reason) > REASON_MAX:
        raise Invalid(_("La raison ne peut dépasser %(max)d caractères.", max=REASON_MAX))
    with write_transaction():
        require_team(person)
        proposal = lock_proposal(proposal_id)
        if proposal.status not in DECIDABLE:
            raise Conflict(
                _("Seule une proposition soumise ou en cours de revue peut être refusée.")
            )
        old = proposal.status.value
        proposal.status = ProposalStatus.declined
        proposal.declined_at = utcnow()
        proposal.decline_reason = reason
        _audit(person, proposal, "proposal.decline", old, "declined", reason)


def group_proposals(group_id: int) -> list[Proposal]:
    """A group's own proposals, every status, the latest first (for its managers)."""
    return list(
        db.session.scalars(
            select(Proposal)
            .where(Proposal.origin_group_id == group_id)
            .order_by(Proposal.created_at.desc(), Proposal.id.desc())
        )
    )


def workspace_proposal(person: Person, proposal_id: int) -> Proposal:
    """The proposal, if this person shares its workspace (404/403 otherwise)."""
    return require_workspace(person, db.session.get(Proposal, proposal_id))
