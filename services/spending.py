"""Spending and reimbursement requests: filed by a group, validated by a second manager,
reviewed by the finance team, paid from the budget round and the group's envelope.

The charging rule (DESIGN.md §3): a request linked to the group's commitment on a fundable
action is charged to the round up to what is left of that commitment's reservation; the rest
is debited from the group's envelope, and approval is refused, with the figures, when the
envelope cannot cover it. Both parts are written at approval, with the request, the
commitment, the reservation and the accounts locked, in that order.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, or_, select

from models import (
    AccountKind,
    ActionGroup,
    Commitment,
    CommitmentStatus,
    LedgerAccount,
    LedgerOperation,
    Person,
    Proposal,
    Reservation,
    SpendingCategory,
    SpendingEvent,
    SpendingReceipt,
    SpendingRequest,
    SpendingStatus,
    db,
    utcnow,
)

from . import receipts as receipt_files
from .access import require_certified, require_group_manager, require_staff, role_in_group
from .errors import Conflict, Invalid, NotAllowed, NotFound
from .iban import validate_iban
from .ledger import (
    LEDGER_ROLES,
    _lock,
    _record,
    account,
    charged_by_reservation,
    charged_on_reservation,
    envelope_balance,
)
from .money import format_cents
from .tx import for_update, write_transaction

TITLE_MAX_LENGTH = 160
PAYEE_MAX_LENGTH = 140
EXPLANATION_MAX_LENGTH = 5000
COMMENT_MAX_LENGTH = 2000
# A group's expense, not a building: larger sums go through the finance team directly.
AMOUNT_MAX_CENTS = 100_000_00
# Receipts older than this are not reimbursed (the movement's accounting year and the next).
OLDEST_EXPENSE = timedelta(days=2 * 366)


@dataclass(frozen=True)
class UploadedFile:
    """One receipt of a form: the name the person gave it (for messages only) and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class RequestFields:
    title: str
    category: SpendingCategory
    amount_cents: int
    spent_on: date
    explanation: str
    payee_name: str
    payee_iban: str
    commitment_id: int | None = None


@dataclass(frozen=True)
class Split:
    """How an amount would be charged now: the round's part, the envelope's part."""

    amount_cents: int
    round_cents: int
    envelope_cents: int
    envelope_balance_cents: int
    # What is left of the commitment's reservation; None without a reservation.
    reservation_left_cents: int | None

    @property
    def envelope_covers(self) -> bool:
        return self.envelope_cents <= self.envelope_balance_cents


@dataclass(frozen=True)
class Chargeable:
    """A commitment of the group a request can be linked to, and what is left to charge."""

    commitment_id: int
    proposal_id: int
    proposal_title: str
    reservation_cents: int | None
    left_cents: int | None


# Reading -------------------------------------------------------------------------------------


def is_group_manager(person: Person | None, group_id: int) -> bool:
    role = role_in_group(person, group_id)
    return role is not None and role.acts_for_group


def is_finance(person: Person | None) -> bool:
    return bool(
        person is not None and person.is_authenticated and (person.is_finance or person.is_admin)
    )


def viewable_request(person: Person | None, request_id: int) -> SpendingRequest:
    """The request, for its group's managers and the finance team; 404 or 403 otherwise."""
    spending = db.session.get(SpendingRequest, request_id)
    if spending is None:
        raise NotFound(_("Cette demande de dépense n'existe pas."))
    if not (is_finance(person) or is_group_manager(person, spending.group_id)):
        raise NotAllowed(
            _(
                "Les demandes de dépense d'un groupe sont visibles de ses gestionnaires "
                "et de l'équipe de suivi financier."
            )
        )
    return spending


def require_envelope_access(person: Person | None, group_id: int) -> ActionGroup:
    group = db.session.get(ActionGroup, group_id)
    if group is None:
        raise NotFound(_("Ce groupe d'action n'existe pas."))
    if not (is_finance(person) or is_group_manager(person, group_id)):
        raise NotAllowed(
            _(
                "L'enveloppe et les demandes de dépense d'un groupe sont visibles de ses "
                "gestionnaires et de l'équipe de suivi financier."
            )
        )
    return group


def request_receipts(request_id: int) -> list[SpendingReceipt]:
    return list(
        db.session.scalars(
            select(SpendingReceipt)
            .where(SpendingReceipt.request_id == request_id)
            .order_by(SpendingReceipt.id)
        )
    )


def request_timeline(request_id: int) -> list[SpendingEvent]:
    return list(
        db.session.scalars(
            select(SpendingEvent)
            .where(SpendingEvent.request_id == request_id)
            .options(db.joinedload(SpendingEvent.actor))
            .order_by(SpendingEvent.at, SpendingEvent.id)
        )
    )


def _usable_reservation(commitment: Commitment | None) -> Reservation | None:
    """The reservation a request on this commitment is charged to, if it has one."""
    if commitment is None or commitment.status != CommitmentStatus.active:
        return None
    return db.session.scalar(
        select(Reservation).where(
            Reservation.commitment_id == commitment.id, Reservation.released_at.is_(None)
        )
    )


def chargeable_commitments(group_id: int) -> list[Chargeable]:
    """The group's active commitments on fundable actions, with what is left to charge."""
    rows = db.session.execute(
        select(Commitment.id, Proposal.id, Proposal.title, Reservation.id, Reservation.amount_cents)
        .join(Proposal, Proposal.id == Commitment.proposal_id)
        .outerjoin(
            Reservation,
            (Reservation.commitment_id == Commitment.id) & Reservation.released_at.is_(None),
        )
        .where(
            Commitment.group_id == group_id,
            Commitment.status == CommitmentStatus.active,
            Proposal.fundable_at.is_not(None),
        )
        .order_by(Proposal.title)
    ).all()
    charged = charged_by_reservation([r[3] for r in rows if r[3] is not None])
    return [
        Chargeable(
            commitment_id=commitment_id,
            proposal_id=proposal_id,
            proposal_title=title,
            reservation_cents=amount,
            left_cents=None
            if reservation_id is None
            else max(0, amount - charged.get(reservation_id, 0)),
        )
        for commitment_id, proposal_id, title, reservation_id, amount in rows
    ]


def _left_on(reservation: Reservation) -> int:
    """What is left of a reservation to charge: its amount less its charges."""
    return max(0, reservation.amount_cents - charged_on_reservation(reservation.id))


def split_for(group_id: int, commitment_id: int | None, amount_cents: int) -> Split:
    """The split the group sees before it submits (and the finance team before it approves):
    the figures of now; approval computes them again under the locks."""
    reservation = None
    if commitment_id is not None:
        commitment = db.session.get(Commitment, commitment_id)
        if commitment is not None and commitment.group_id == group_id:
            reservation = _usable_reservation(commitment)
    left = None
    round_part = 0
    if reservation is not None:
        left = _left_on(reservation)
        round_part = min(amount_cents, left)
    return Split(
        amount_cents=amount_cents,
        round_cents=round_part,
        envelope_cents=amount_cents - round_part,
        envelope_balance_cents=envelope_balance(group_id),
        reservation_left_cents=left,
    )


# Checks --------------------------------------------------------------------------------------


def _one_line(value: str) -> str:
    return " ".join((value or "").split())


class InvalidFields(Invalid):
    """Fields refused, each problem under the name of its field (for a form to show it there)."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def field_problems(group_id: int, fields: RequestFields) -> tuple[RequestFields, dict[str, str]]:
    """The fields as they would be stored, and what is wrong, by field name, in French."""
    problems = {}
    title = _one_line(fields.title)
    if not title:
        problems["title"] = _("Donnez un titre à la demande.")
    elif len(title) > TITLE_MAX_LENGTH:
        problems["title"] = _("Le titre ne peut dépasser %(max)d caractères.", max=TITLE_MAX_LENGTH)
    if not isinstance(fields.category, SpendingCategory):
        problems["category"] = _("Choisissez une catégorie de dépense.")
    if not 0 < fields.amount_cents <= AMOUNT_MAX_CENTS:
        problems["amount_cents"] = _(
            "Le montant est compris entre 0,01 € et %(max)s.", max=format_cents(AMOUNT_MAX_CENTS)
        )
    today = utcnow().date()
    if fields.spent_on > today + timedelta(days=1):
        problems["spent_on"] = _("La date de la dépense ne peut être dans le futur.")
    elif fields.spent_on < today - OLDEST_EXPENSE:
        problems["spent_on"] = _("Les dépenses de plus de deux ans ne sont plus remboursées.")
    explanation = (fields.explanation or "").strip()
    if len(explanation) > EXPLANATION_MAX_LENGTH:
        problems["explanation"] = _(
            "L'explication ne peut dépasser %(max)d caractères.", max=EXPLANATION_MAX_LENGTH
        )
    payee_name = _one_line(fields.payee_name)
    if not payee_name:
        problems["payee_name"] = _(
            "Indiquez qui est payé : le fournisseur ou la personne à rembourser."
        )
    elif len(payee_name) > PAYEE_MAX_LENGTH:
        problems["payee_name"] = _(
            "Le nom du bénéficiaire ne peut dépasser %(max)d caractères.", max=PAYEE_MAX_LENGTH
        )
    iban = fields.payee_iban
    try:
        iban = validate_iban(fields.payee_iban)
    except Invalid as error:
        problems["payee_iban"] = error.message
    if fields.commitment_id is not None:
        commitment = db.session.get(Commitment, fields.commitment_id)
        proposal = commitment and db.session.get(Proposal, commitment.proposal_id)
        if (
            commitment is None
            or commitment.group_id != group_id
            or commitment.status != CommitmentStatus.active
            or not proposal.is_fundable
        ):
            problems["commitment_id"] = _(
                "Une dépense ne peut être rattachée qu'à un engagement du groupe sur "
                "une action finançable."
            )
    cleaned = RequestFields(
        title=title,
        category=fields.category,
        amount_cents=fields.amount_cents,
        spent_on=fields.spent_on,
        explanation=explanation,
        payee_name=payee_name,
        payee_iban=iban,
        commitment_id=fields.commitment_id,
    )
    return cleaned, problems


def clean_fields(group_id: int, fields: RequestFields) -> RequestFields:
    """The fields as stored, or InvalidFields with every problem found."""
    cleaned, problems = field_problems(group_id, fields)
    if problems:
        raise InvalidFields(problems)
    return cleaned


def _check_files(files: list[UploadedFile]) -> list:
    """Every receipt checked by its content, or one error that names each refused file."""
    max_files = current_app.config["RECEIPT_MAX_FILES"]
    if len(files) > max_files:
        raise Invalid(
            ngettext(
                "Une demande compte un justificatif au plus.",
                "Une demande compte %(num)d justificatifs au plus.",
                max_files,
            )
        )
    checked, errors = [], []
    for file in files:
        try:
            checked.append(
                receipt_files.check_receipt(
                    file.filename,
                    file.data,
                    current_app.config["RECEIPT_MAX_BYTES"],
                    current_app.config["RECEIPT_MAX_PIXELS"],
                )
            )
        except receipt_files.ReceiptRejected as error:
            errors.append(error)
    if not errors:
        return checked
    message = " ".join(error.message for error in errors)
    if len(files) > 1:
        message += " " + _("Aucun justificatif n'a été ajouté.")
    too_large = any(isinstance(error, receipt_files.ReceiptTooLarge) for error in errors)
    raise (receipt_files.ReceiptTooLarge if too_large else receipt_files.ReceiptRejected)(message)


def _uploads_root() -> str:
    return current_app.config["UPLOADS_PATH"]


def _lock_request(request_id: int) -> SpendingRequest:
    spending = db.session.scalar(
        for_update(select(SpendingRequest).where(SpendingRequest.id == request_id))
    )
    if spending is None:
        raise NotFound(_("Cette demande de dépense n'existe pas."))
    return spending


def _require_manager_of(person: Person, group_id: int) -> ActionGroup:
    group = db.session.get(ActionGroup, group_id)
    if group is None:
        raise NotFound(_("Ce groupe d'action n'existe pas."))
    require_group_manager(person, group)
    return group


def _require_status(spending: SpendingRequest, *allowed: SpendingStatus) -> None:
    if spending.status not in allowed:
        raise Conflict(
            _(
                "Cette demande est maintenant « %(status)s » : cette action n'est plus possible. "
                "Rechargez la page.",
                status=str(STATUS_NAMES[spending.status]),
            )
        )


def _require_version(spending: SpendingRequest, version: int | None) -> None:
    if version is not None and version != spending.version:
        raise Conflict(
            _(
                "La demande a été modifiée entre-temps par quelqu'un d'autre : rechargez la page "
                "pour voir sa version actuelle avant de la changer."
            )
        )


def _clean_comment(comment: str, required: str | None = None) -> str:
    comment = (comment or "").strip()
    if required and not comment:
        raise Invalid(required)
    if len(comment) > COMMENT_MAX_LENGTH:
        raise Invalid(
            _("Le commentaire ne peut dépasser %(max)d caractères.", max=COMMENT_MAX_LENGTH)
        )
    return comment


def _log(
    spending: SpendingRequest,
    person: Person,
    action: str,
    before: SpendingStatus | None,
    comment: str = "",
) -> None:
    db.session.add(
        SpendingEvent(
            request_id=spending.id,
            at=utcnow(),
            actor_id=person.id,
            action=action,
            from_status=before.value if before else None,
            to_status=spending.status.value,
            comment=comment,
        )
    )


def _touch(spending: SpendingRequest, person: Person) -> SpendingStatus:
    """A change by the group; after submission it goes back to the group's validation."""
    before = spending.status
    spending.version += 1
    spending.updated_at = utcnow()
    spending.last_editor_id = person.id
    if before in (SpendingStatus.awaiting_finance, SpendingStatus.info_requested):
        spending.status = SpendingStatus.awaiting_group
    return before


def _receipt_count(request_id: int) -> int:
    return db.session.scalar(
        select(func.count(SpendingReceipt.id)).where(SpendingReceipt.request_id == request_id)
    )


def _add_receipt_rows(spending: SpendingRequest, person: Person, checked: list) -> list:
    """Write the files and their rows; the paths written, to remove if the transaction fails."""
    written = []
    count = _receipt_count(spending.id)
    max_files = current_app.config["RECEIPT_MAX_FILES"]
    if count + len(checked) > max_files:
        raise Invalid(
            _(
                "Une demande compte au plus %(max)d justificatifs ; elle en a déjà %(count)d.",
                max=max_files,
                count=count,
            )
        )
    for receipt in checked:
        stored_name, paths = receipt_files.store_receipt(_uploads_root(), receipt)
        written += paths
        db.session.add(
            SpendingReceipt(
                request_id=spending.id,
                stored_name=stored_name,
                filename=receipt.display_name,
                content_type=receipt.content_type,
                size=receipt.size,
                sha256=receipt.sha256,
                uploaded_at=utcnow(),
                uploaded_by_id=person.id,
            )
        )
    return written


STATUS_NAMES = {
    SpendingStatus.draft: _l("brouillon"),
    SpendingStatus.awaiting_group: _l("à valider par le groupe"),
    SpendingStatus.awaiting_finance: _l("en examen par l'équipe financière"),
    SpendingStatus.info_requested: _l("informations demandées"),
    SpendingStatus.approved: _l("approuvée"),
    SpendingStatus.paid: _l("payée"),
    SpendingStatus.refused: _l("refusée"),
}


# The group's actions -------------------------------------------------------------------------


def create_request(
    person: Person, group_id: int, fields: RequestFields, files: list[UploadedFile] = ()
) -> int:
    """A new draft of the group's, with its first receipts; its id."""
    files = list(files)
    group = _require_manager_of(person, group_id)
    require_certified(group)
    fields = clean_fields(group_id, fields)
    checked = _check_files(files)
    written = []
    try:
        with write_transaction():
            group = _require_manager_of(person, group_id)
            require_certified(group)
            now = utcnow()
            spending = SpendingRequest(
                group_id=group_id,
                author_id=person.id,
                last_editor_id=person.id,
                status=SpendingStatus.draft,
                version=1,
                created_at=now,
                updated_at=now,
                **vars(fields),
            )
            db.session.add(spending)
            db.session.flush()
            written = _add_receipt_rows(spending, person, checked)
            _log(spending, person, "created", None)
            return spending.id
    except BaseException:
        receipt_files.remove_receipt_files(written)
        raise


def _lock_for_group(person: Person, request_id: int) -> SpendingRequest:
    spending = _lock_request(request_id)
    group = _require_manager_of(person, spending.group_id)
    require_certified(group)
    return spending


def update_request(
    person: Person, request_id: int, fields: RequestFields, version: int | None = None
) -> None:
    """The group changes its request; after submission it goes back to the group validation."""
    with write_transaction():
        spending = _lock_for_group(person, request_id)
        _require_status(spending, *OPEN)
        _require_version(spending, version)
        fields = clean_fields(spending.group_id, fields)
        changed = [name for name, value in vars(fields).items() if getattr(spending, name) != value]
        if not changed:
            return
        for name in changed:
            setattr(spending, name, getattr(fields, name))
        before = _touch(spending, person)
        _log(spending, person, "edited", before)


def add_receipts(
    person: Person, request_id: int, files: list[UploadedFile], version: int | None = None
) -> None:
    files = list(files)
    if not files:
        raise Invalid(_("Choisissez au moins un justificatif à ajouter (PDF, JPEG ou PNG)."))
    checked = _check_files(files)
    written = []
    try:
        with write_transaction():
            spending = _lock_for_group(person, request_id)
            _require_status(spending, *OPEN)
            _require_version(spending, version)
            written = _add_receipt_rows(spending, person, checked)
            before = _touch(spending, person)
            names = ", ".join(receipt.display_name for receipt in checked)
            _log(spending, person, "receipt_added", before, names)
    except BaseException:
        receipt_files.remove_receipt_files(written)
        raise


def remove_receipt(person: Person, receipt_id: int, version: int | None = None) -> int:
    """Remove a receipt (its file goes after the commit); the request's id."""
    request_id = db.session.scalar(
        select(SpendingReceipt.request_id).where(SpendingReceipt.id == receipt_id)
    )
    if request_id is None:
        raise NotFound(_("Ce justificatif n'existe pas."))
    with write_transaction():
        spending = _lock_for_group(person, request_id)
        _require_status(spending, *OPEN)
        _require_version(spending, version)
        receipt = db.session.get(SpendingReceipt, receipt_id)
        if receipt is None:
            raise NotFound(_("Ce justificatif n'existe pas."))
        if spending.status != SpendingStatus.draft and _receipt_count(request_id) <= 1:
            raise Conflict(
                _(
                    "Une demande déposée garde au moins un justificatif : ajoutez le bon "
                    "avant de retirer celui-ci."
                )
            )
        stored_name, filename = receipt.stored_name, receipt.filename
        db.session.delete(receipt)
        before = _touch(spending, person)
        _log(spending, person, "receipt_removed", before, filename)
    receipt_files.remove_receipt_files([receipt_files.receipt_path(_uploads_root(), stored_name)])
    return request_id


OPEN = (
    SpendingStatus.draft,
    SpendingStatus.awaiting_group,
    SpendingStatus.awaiting_finance,
    SpendingStatus.info_requested,
)


def submit_request(person: Person, request_id: int, version: int | None = None) -> None:
    """Draft → awaiting a second manager's validation; at least one receipt."""
    with write_transaction():
        spending = _lock_for_group(person, request_id)
        _require_status(spending, SpendingStatus.draft)
        _require_version(spending, version)
        if _receipt_count(request_id) == 0:
            raise Invalid(
                _("Joignez au moins un justificatif (facture, ticket) avant de déposer la demande.")
            )
        before = spending.status
        spending.status = SpendingStatus.awaiting_group
        spending.submitted_at = spending.submitted_at or utcnow()
        spending.version += 1
        _log(spending, person, "submitted", before)


def validate_request(
    person: Person, request_id: int, comment: str = "", version: int | None = None
) -> None:
    """A second manager of the group (neither the author nor the last to change it) sends the
    request to the finance team."""
    comment = _clean_comment(comment)
    with write_transaction():
        spending = _lock_for_group(person, request_id)
        _require_status(spending, SpendingStatus.awaiting_group)
        _require_version(spending, version)
        if person.id in (spending.author_id, spending.last_editor_id):
            raise NotAllowed(
                _(
                    "Une demande est validée par un·e second·e gestionnaire du groupe : ni son "
                    "auteur·ice ni la dernière personne à l'avoir modifiée."
                )
            )
        before = spending.status
        spending.status = SpendingStatus.awaiting_finance
        spending.version += 1
        _log(spending, person, "validated", before, comment)


def return_to_draft(
    person: Person, request_id: int, comment: str, version: int | None = None
) -> None:
    """A manager sends the request back to its draft, saying why."""
    comment = _clean_comment(comment, _("Dites pourquoi la demande revient en brouillon."))
    with write_transaction():
        spending = _lock_for_group(person, request_id)
        _require_status(spending, SpendingStatus.awaiting_group)
        _require_version(spending, version)
        before = spending.status
        spending.status = SpendingStatus.draft
        spending.version += 1
        _log(spending, person, "returned", before, comment)


def answer_request(
    person: Person, request_id: int, comment: str, version: int | None = None
) -> None:
    """The group answers the finance team's question; the request goes back to its review."""
    comment = _clean_comment(comment, _("Écrivez votre réponse à l'équipe financière."))
    with write_transaction():
        spending = _lock_for_group(person, request_id)
        _require_status(spending, SpendingStatus.info_requested)
        _require_version(spending, version)
        before = spending.status
        spending.status = SpendingStatus.awaiting_finance
        spending.version += 1
        _log(spending, person, "answered", before, comment)


def delete_draft(person: Person, request_id: int, version: int | None = None) -> int:
    """A draft never submitted is deleted with its receipts (files after the commit); the
    group's id. Once submitted, a request stays, whatever becomes of it: its timeline is the
    record of who asked for what."""
    with write_transaction():
        spending = _lock_for_group(person, request_id)
        _require_status(spending, SpendingStatus.draft)
        _require_version(spending, version)
        if spending.submitted_at is not None:
            raise Conflict(
                _(
                    "Cette demande a déjà été déposée une fois : elle reste, avec son "
                    "historique. Modifiez-la, ou laissez-la en brouillon."
                )
            )
        stored = [r.stored_name for r in request_receipts(request_id)]
        group_id = spending.group_id
        db.session.delete(spending)
    receipt_files.remove_receipt_files(
        [receipt_files.receipt_path(_uploads_root(), name) for name in stored]
    )
    return group_id


# The finance team's actions ------------------------------------------------------------------


def request_information(
    person: Person, request_id: int, comment: str, version: int | None = None
) -> None:
    comment = _clean_comment(comment, _("Écrivez la question posée au groupe."))
    with write_transaction():
        require_staff(person, *LEDGER_ROLES)
        spending = _lock_request(request_id)
        _require_status(spending, SpendingStatus.awaiting_finance)
        _require_version(spending, version)
        before = spending.status
        spending.status = SpendingStatus.info_requested
        spending.version += 1
        _log(spending, person, "info_requested", before, comment)


def refuse_spending(
    person: Person, request_id: int, reason: str, version: int | None = None
) -> None:
    reason = _clean_comment(reason, _("Indiquez la raison du refus : le groupe la verra."))
    with write_transaction():
        require_staff(person, *LEDGER_ROLES)
        spending = _lock_request(request_id)
        _require_status(spending, SpendingStatus.awaiting_finance, SpendingStatus.info_requested)
        _require_version(spending, version)
        before = spending.status
        spending.status = SpendingStatus.refused
        spending.decided_at = utcnow()
        spending.version += 1
        _log(spending, person, "refused", before, reason)


def approve_spending(
    person: Person, request_id: int, comment: str = "", version: int | None = None
) -> Split:
    """Write the request's ledger operations: the round's part up to what is left of the
    commitment's reservation, the rest from the envelope; refused, with the figures, when the
    envelope cannot cover its part. Returns the split as charged."""
    comment = _clean_comment(comment)
    with write_transaction():
        require_staff(person, *LEDGER_ROLES)
        spending = _lock_request(request_id)
        _require_status(spending, SpendingStatus.awaiting_finance)
        _require_version(spending, version)
        reservation = None
        if spending.commitment_id is not None:
            # The commitment's lock: a withdrawal checks the charges under it.
            commitment = db.session.scalar(
                for_update(select(Commitment).where(Commitment.id == spending.commitment_id))
            )
            reservation = _usable_reservation(commitment)
            if reservation is not None:
                reservation = db.session.scalar(
                    for_update(select(Reservation).where(Reservation.id == reservation.id))
                )
        round_part = 0
        if reservation is not None:
            round_part = min(spending.amount_cents, _left_on(reservation))
        envelope_part = spending.amount_cents - round_part
        payees = account(AccountKind.payees)
        envelope = account(AccountKind.envelope, group_id=spending.group_id)
        accounts = [payees, envelope]
        round_account = None
        if round_part:
            round_account = account(AccountKind.round, round_id=reservation.round_id)
            accounts.append(round_account)
        _lock(*accounts)
        if envelope_part > envelope.balance_cents:
            raise Conflict(
                _envelope_short(spending.amount_cents, round_part, envelope.balance_cents)
            )
        reason = _("Demande de dépense n° %(id)d : %(title)s", id=spending.id, title=spending.title)
        if round_part:
            _record(
                round_account,
                payees,
                round_part,
                reason,
                person.id,
                spending_request_id=spending.id,
                reservation_id=reservation.id,
            )
        if envelope_part:
            _record(
                envelope, payees, envelope_part, reason, person.id, spending_request_id=spending.id
            )
        before = spending.status
        spending.status = SpendingStatus.approved
        spending.reservation_id = reservation.id if round_part else None
        spending.round_cents = round_part
        spending.envelope_cents = envelope_part
        spending.decided_at = utcnow()
        spending.version += 1
        _log(spending, person, "approved", before, comment)
        return Split(
            amount_cents=spending.amount_cents,
            round_cents=round_part,
            envelope_cents=envelope_part,
            envelope_balance_cents=envelope.balance_cents,
            reservation_left_cents=None,
        )


def _envelope_short(amount: int, round_part: int, balance: int) -> str:
    if round_part:
        return _(
            "L'enveloppe du groupe ne couvre pas cette demande : sur %(amount)s, le budget "
            "participatif prend en charge %(round)s ; les %(part)s restants sont à débiter de "
            "l'enveloppe, qui contient %(balance)s.",
            amount=format_cents(amount),
            round=format_cents(round_part),
            part=format_cents(amount - round_part),
            balance=format_cents(balance),
        )
    return _(
        "L'enveloppe du groupe ne couvre pas cette demande : %(amount)s sont à débiter de "
        "l'enveloppe, qui contient %(balance)s.",
        amount=format_cents(amount),
        balance=format_cents(balance),
    )


def _to_mark_paid(request_ids: list[int], lock: bool) -> list[SpendingRequest]:
    """The requests to mark paid, each known and approved (or already paid): NotFound,
    Conflict naming the others, Invalid if none."""
    ids = sorted(set(request_ids))
    if not ids:
        raise Invalid(_("Choisissez les demandes payées."))
    query = select(SpendingRequest).where(SpendingRequest.id.in_(ids)).order_by(SpendingRequest.id)
    rows = list(db.session.scalars(for_update(query) if lock else query))
    if len(rows) != len(ids):
        raise NotFound(_("Une de ces demandes de dépense n'existe pas."))
    not_approved = [
        row.id for row in rows if row.status not in (SpendingStatus.approved, SpendingStatus.paid)
    ]
    if not_approved:
        raise Conflict(
            _(
                "Seules les demandes approuvées sont payées ; ce n'est pas le cas de : "
                "%(ids)s. Rien n'a été marqué.",
                ids=", ".join(f"n° {i}" for i in not_approved),
            )
        )
    return rows


def to_mark_paid(person: Person, request_ids: list[int]) -> list[SpendingRequest]:
    """What `mark_paid` would mark, for the finance team to confirm first; writes nothing."""
    require_staff(person, *LEDGER_ROLES)
    return [
        row for row in _to_mark_paid(request_ids, lock=False) if row.status != SpendingStatus.paid
    ]


def mark_paid(person: Person, request_ids: list[int]) -> int:
    """Approved requests marked paid in one go (after the transfer file was sent), each one
    logged; those already paid are left as they are. How many were marked."""
    ids = sorted(set(request_ids))
    if not ids:
        raise Invalid(_("Choisissez les demandes payées."))
    with write_transaction():
        require_staff(person, *LEDGER_ROLES)
        rows = _to_mark_paid(ids, lock=True)
        marked = 0
        now = utcnow()
        for row in rows:
            if row.status == SpendingStatus.paid:
                continue
            before = row.status
            row.status = SpendingStatus.paid
            row.paid_at = now
            row.version += 1
            _log(row, person, "paid", before)
            marked += 1
        return marked


# Reading, for the group's pages --------------------------------------------------------------


@dataclass(frozen=True)
class EnvelopeEntry:
    """One operation in or out of a group's envelope, signed as the group reads it."""

    operation_id: int
    at: datetime
    signed_cents: int  # > 0: into the envelope; < 0: out of it
    reason: str
    spending_request_id: int | None
    reverses_id: int | None


@dataclass(frozen=True)
class EnvelopePage:
    balance_cents: int
    total: int  # the envelope's operations, all pages together
    entries: list[EnvelopeEntry]


def envelope_history(
    group_id: int, limit: int, offset: int = 0, counted: bool = True
) -> EnvelopePage:
    """The envelope's balance and a page of its operations, the latest first: three queries
    whatever their number (the account, the count, the page); two without the count
    (`counted=False`: the total is then None)."""
    row = db.session.execute(
        select(LedgerAccount.id, LedgerAccount.balance_cents).where(
            LedgerAccount.kind == AccountKind.envelope, LedgerAccount.group_id == group_id
        )
    ).first()
    if row is None:  # no donation yet: the account is created with the first operation
        return EnvelopePage(balance_cents=0, total=0, entries=[])
    account_id, balance = row
    touches = or_(
        LedgerOperation.source_id == account_id, LedgerOperation.destination_id == account_id
    )
    total = (
        db.session.scalar(select(func.count(LedgerOperation.id)).where(touches))
        if counted
        else None
    )
    rows = db.session.execute(
        select(
            LedgerOperation.id,
            LedgerOperation.at,
            LedgerOperation.amount_cents,
            LedgerOperation.destination_id,
            LedgerOperation.reason,
            LedgerOperation.spending_request_id,
            LedgerOperation.reverses_id,
        )
        .where(touches)
        .order_by(LedgerOperation.at.desc(), LedgerOperation.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    entries = [
        EnvelopeEntry(
            operation_id=op_id,
            at=at,
            signed_cents=amount if destination_id == account_id else -amount,
            reason=reason,
            spending_request_id=request_id,
            reverses_id=reverses_id,
        )
        for op_id, at, amount, destination_id, reason, request_id, reverses_id in rows
    ]
    return EnvelopePage(balance_cents=balance, total=total, entries=entries)


def group_requests(
    group_id: int, limit: int, offset: int = 0, counted: bool = True
) -> tuple[list[SpendingRequest], int | None]:
    """A page of the group's requests, the latest first, and how many it has: two queries
    (one with `counted=False`, and None for how many)."""
    total = (
        db.session.scalar(
            select(func.count(SpendingRequest.id)).where(SpendingRequest.group_id == group_id)
        )
        if counted
        else None
    )
    rows = list(
        db.session.scalars(
            select(SpendingRequest)
            .where(SpendingRequest.group_id == group_id)
            .order_by(SpendingRequest.created_at.desc(), SpendingRequest.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return rows, total


def viewable_receipt(person: Person | None, receipt_id: int) -> SpendingReceipt:
    """A receipt, for its request's group managers and the finance team; 404 or 403."""
    receipt = db.session.get(SpendingReceipt, receipt_id)
    if receipt is None:
        raise NotFound(_("Ce justificatif n'existe pas."))
    viewable_request(person, receipt.request_id)
    return receipt


def linked_action(commitment_id: int | None) -> Proposal | None:
    """The action a request is linked to through the group's commitment, if any."""
    if commitment_id is None:
        return None
    return db.session.scalar(
        select(Proposal)
        .join(Commitment, Commitment.proposal_id == Proposal.id)
        .where(Commitment.id == commitment_id)
    )
