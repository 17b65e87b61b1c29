"""The ledger's use cases: accounts, earmarked donations into envelopes, transfers, reversals.

Every operation is written with its two accounts' rows locked (in id order, so that two
transfers never wait on each other in a cycle), and the accounts' balances are changed in the
same transaction. A group envelope is checked under that lock never to go below zero, and the
database refuses it too (CHECK on the account). Nothing is updated or deleted: a correction is
a reversing operation, once per operation.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from models import (
    AccountKind,
    ActionGroup,
    BudgetRound,
    LedgerAccount,
    LedgerOperation,
    Person,
    db,
    utcnow,
)

from .access import require_staff
from .errors import Conflict, Invalid, NotFound
from .money import format_cents
from .tx import for_update, write_transaction

LEDGER_ROLES = ("finance", "admin")
REASON_MAX_LENGTH = 500
REFERENCE_MAX_LENGTH = 120


def account(kind: AccountKind, group_id: int | None = None, round_id: int | None = None):
    """The account of a group's envelope, of a round, or outside (donations, payees); created
    on first use, in the caller's transaction (a savepoint absorbs a concurrent creation)."""
    query = select(LedgerAccount).where(LedgerAccount.kind == kind)
    if kind == AccountKind.envelope:
        query = query.where(LedgerAccount.group_id == group_id)
    elif kind == AccountKind.round:
        query = query.where(LedgerAccount.round_id == round_id)
    found = db.session.scalar(query)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            created = LedgerAccount(
                kind=kind, group_id=group_id, round_id=round_id, balance_cents=0
            )
            db.session.add(created)
        return created
    except IntegrityError:
        return db.session.scalar(query)


def _lock(*accounts: LedgerAccount) -> None:
    """Lock the accounts' rows in id order and reload their balances."""
    ids = sorted({a.id for a in accounts})
    db.session.scalars(
        for_update(
            select(LedgerAccount).where(LedgerAccount.id.in_(ids)).order_by(LedgerAccount.id)
        )
    ).all()


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(_("Indiquez la raison de cette opération : elle figure au grand livre."))
    if len(reason) > REASON_MAX_LENGTH:
        raise Invalid(_("La raison ne peut dépasser %(max)d caractères.", max=REASON_MAX_LENGTH))
    return reason


def _record(
    source: LedgerAccount,
    destination: LedgerAccount,
    amount_cents: int,
    reason: str,
    actor_id: int | None,
    reference: str | None = None,
    reverses_id: int | None = None,
    spending_request_id: int | None = None,
    reservation_id: int | None = None,
) -> LedgerOperation:
    """One operation, in the caller's transaction, with both accounts already locked."""
    if amount_cents <= 0:
        raise Invalid(_("Le montant d'une opération est positif."))
    if source.kind == AccountKind.envelope and source.balance_cents < amount_cents:
        raise Conflict(
            _(
                "L'enveloppe du groupe ne couvre pas cette opération : %(balance)s disponibles, "
                "%(amount)s demandés.",
                balance=format_cents(source.balance_cents),
                amount=format_cents(amount_cents),
            )
        )
    operation = LedgerOperation(
        amount_cents=amount_cents,
        source_id=source.id,
        destination_id=destination.id,
        reason=reason,
        at=utcnow(),
        actor_id=actor_id,
        reference=reference,
        reverses_id=reverses_id,
        spending_request_id=spending_request_id,
        reservation_id=reservation_id,
    )
    source.balance_cents -= amount_cents
    destination.balance_cents += amount_cents
    db.session.add(operation)
    db.session.flush()
    return operation


def _group_or_404(group_id: int) -> ActionGroup:
    group = db.session.get(ActionGroup, group_id)
    if group is None:
        raise NotFound(_("Ce groupe d'action n'existe pas."))
    return group


def reference_recorded(reference: str) -> bool:
    return (
        db.session.scalar(
            select(LedgerOperation.id).where(LedgerOperation.reference == reference).limit(1)
        )
        is not None
    )


def allocate(
    actor: Person, group_id: int, amount_cents: int, reason: str, reference: str | None = None
) -> int | None:
    """An earmarked donation (or a manual allocation) into the group's envelope, by the
    finance team; the operation's id. A donation whose reference is already recorded adds
    nothing (None): importing a file twice records each donation once."""
    reason = _clean_reason(reason)
    reference = (reference or "").strip() or None
    if reference is not None and len(reference) > REFERENCE_MAX_LENGTH:
        raise Invalid(
            _("La référence ne peut dépasser %(max)d caractères.", max=REFERENCE_MAX_LENGTH)
        )
    try:
        with write_transaction():
            require_staff(actor, *LEDGER_ROLES)
            _group_or_404(group_id)
            if reference is not None and reference_recorded(reference):
                return None
            donations = account(AccountKind.donations)
            envelope = account(AccountKind.envelope, group_id=group_id)
            _lock(donations, envelope)
            return _record(donations, envelope, amount_cents, reason, actor.id, reference).id
    except IntegrityError:
        # The same donation recorded at the same instant by another import.
        if reference is not None and reference_recorded(reference):
            return None
        raise


def transfer(
    actor_id: int | None,
    source: tuple[AccountKind, int | None],
    destination: tuple[AccountKind, int | None],
    amount_cents: int,
    reason: str,
) -> int:
    """Move money between two accounts in a transaction of its own; the operation's id.
    An account is (kind, its group's or round's id). For the services that pay (spending
    requests): they authorize the person, this checks the envelope under the lock."""
    reason = _clean_reason(reason)
    with write_transaction():
        source_account = _account_of(*source)
        destination_account = _account_of(*destination)
        _lock(source_account, destination_account)
        return _record(source_account, destination_account, amount_cents, reason, actor_id).id


def _account_of(kind: AccountKind, owner_id: int | None) -> LedgerAccount:
    if kind == AccountKind.envelope:
        _group_or_404(owner_id)
        return account(kind, group_id=owner_id)
    if kind == AccountKind.round:
        if db.session.get(BudgetRound, owner_id) is None:
            raise NotFound(_("Ce budget participatif n'existe pas."))
        return account(kind, round_id=owner_id)
    return account(kind)


def reverse(actor: Person, operation_id: int, reason: str) -> int:
    """Correct an operation by its reverse (same amount, the other way), once; the finance
    team. Refused, with the figures, when the envelope it takes back from no longer holds it."""
    reason = _clean_reason(reason)
    try:
        with write_transaction():
            require_staff(actor, *LEDGER_ROLES)
            operation = db.session.get(LedgerOperation, operation_id)
            if operation is None:
                raise NotFound(_("Cette opération n'existe pas."))
            already = db.session.scalar(
                select(LedgerOperation.id).where(LedgerOperation.reverses_id == operation_id)
            )
            if already is not None:
                raise Conflict(
                    _("Cette opération est déjà corrigée (opération n° %(id)d).", id=already)
                )
            source = db.session.get(LedgerAccount, operation.destination_id)
            destination = db.session.get(LedgerAccount, operation.source_id)
            _lock(source, destination)
            return _record(
                source,
                destination,
                operation.amount_cents,
                reason,
                actor.id,
                reverses_id=operation.id,
                # A reversed charge gives its reservation back what it took.
                spending_request_id=operation.spending_request_id,
                reservation_id=operation.reservation_id,
            ).id
    except IntegrityError as error:
        # Two corrections of the same operation at the same instant: the index keeps one.
        raise Conflict(_("Cette opération vient d'être corrigée.")) from error


def charged_by_reservation(reservation_ids: list[int]) -> dict[int, int]:
    """What the spending charged to each reservation adds up to, its reversals deducted (the
    reservations charged nothing are left out)."""
    if not reservation_ids:
        return {}
    signed = case(
        (LedgerOperation.reverses_id.is_(None), LedgerOperation.amount_cents),
        else_=-LedgerOperation.amount_cents,
    )
    rows = db.session.execute(
        select(LedgerOperation.reservation_id, func.sum(signed))
        .where(LedgerOperation.reservation_id.in_(reservation_ids))
        .group_by(LedgerOperation.reservation_id)
    ).all()
    # int(): PostgreSQL sums a bigint as a numeric (a Decimal in Python).
    return {reservation_id: int(charged) for reservation_id, charged in rows}


def charged_on_reservation(reservation_id: int) -> int:
    return charged_by_reservation([reservation_id]).get(reservation_id, 0)


def round_spent_cents(round_id: int) -> int:
    """What the round paid for the actions it funds: what left its account, less reversals."""
    balance = db.session.scalar(
        select(LedgerAccount.balance_cents).where(
            LedgerAccount.kind == AccountKind.round, LedgerAccount.round_id == round_id
        )
    )
    return -(balance or 0)


def envelope_balance(group_id: int) -> int:
    balance = db.session.scalar(
        select(LedgerAccount.balance_cents).where(
            LedgerAccount.kind == AccountKind.envelope, LedgerAccount.group_id == group_id
        )
    )
    return balance or 0


# Several allocations at once: an import of earmarked donations --------------------------------


@dataclass(frozen=True)
class Allocation:
    """A donation (or a manual allocation) into a group's envelope."""

    group_id: int
    amount_cents: int
    reason: str
    reference: str | None = None


# References looked up per query: well below every database's limit on bound parameters.
_LOOKUP_CHUNK = 500


def recorded_references(references: set[str]) -> set[str]:
    """Those of the donation references already in the ledger."""
    ordered = sorted(references)
    found: set[str] = set()
    for start in range(0, len(ordered), _LOOKUP_CHUNK):
        chunk = ordered[start : start + _LOOKUP_CHUNK]
        found.update(
            db.session.scalars(
                select(LedgerOperation.reference).where(LedgerOperation.reference.in_(chunk))
            )
        )
    return found


def record_allocations(actor: Person, allocations: Sequence[Allocation]) -> list[int | None]:
    """Allocations from donations into envelopes, in the caller's write transaction (a file's
    import is all or nothing); each operation's id, or None for a donation whose reference is
    already recorded. Every account is locked once, all in id order, and the references are
    checked after that lock: two imports of one file at once record each donation once."""
    require_staff(actor, *LEDGER_ROLES)
    if not allocations:
        return []
    donations = account(AccountKind.donations)
    envelopes = {
        group_id: account(AccountKind.envelope, group_id=group_id)
        for group_id in sorted({a.group_id for a in allocations})
    }
    _lock(donations, *envelopes.values())
    recorded = recorded_references({a.reference for a in allocations if a.reference})
    # What _record does, flushed once for the whole file: one flush per operation would
    # cost three statements each (ten thousand donations: thirty seconds under the locks).
    # The source is the donations account, which has no balance to check.
    now = utcnow()
    operations: list[LedgerOperation | None] = []
    for allocation in allocations:
        if allocation.reference is not None and allocation.reference in recorded:
            operations.append(None)
            continue
        if allocation.amount_cents <= 0:
            raise Invalid(_("Le montant d'une opération est positif."))
        envelope = envelopes[allocation.group_id]
        operation = LedgerOperation(
            amount_cents=allocation.amount_cents,
            source_id=donations.id,
            destination_id=envelope.id,
            reason=_clean_reason(allocation.reason),
            at=now,
            actor_id=actor.id,
            reference=allocation.reference,
        )
        donations.balance_cents -= allocation.amount_cents
        envelope.balance_cents += allocation.amount_cents
        operations.append(operation)
        if allocation.reference is not None:
            recorded.add(allocation.reference)
    db.session.add_all([operation for operation in operations if operation is not None])
    db.session.flush()
    return [None if operation is None else operation.id for operation in operations]


# The grand livre: the latest operations, for the finance team --------------------------------

JOURNAL_PER_PAGE = 50


@dataclass(frozen=True)
class AccountName:
    """An account as the grand livre names it: its kind, and its group's or round's name."""

    kind: AccountKind
    owner_id: int | None
    owner_name: str | None


@dataclass(frozen=True)
class JournalLine:
    id: int
    at: datetime
    amount_cents: int
    source: AccountName
    destination: AccountName
    reason: str
    reference: str | None
    actor_name: str | None
    reverses_id: int | None
    reversed_by_id: int | None  # the operation that corrects this one


@dataclass(frozen=True)
class JournalPage:
    lines: list[JournalLine]
    total: int
    page: int
    pages: int


def _journal_query():
    """Operations with both accounts named, who recorded them and what corrects them: one
    query, whatever the number of rows."""
    source, destination = aliased(LedgerAccount), aliased(LedgerAccount)
    source_group, destination_group = aliased(ActionGroup), aliased(ActionGroup)
    source_round, destination_round = aliased(BudgetRound), aliased(BudgetRound)
    reversal = aliased(LedgerOperation)
    return (
        select(
            LedgerOperation.id,
            LedgerOperation.at,
            LedgerOperation.amount_cents,
            source.kind,
            func.coalesce(source.group_id, source.round_id),
            func.coalesce(source_group.name, source_round.name),
            destination.kind,
            func.coalesce(destination.group_id, destination.round_id),
            func.coalesce(destination_group.name, destination_round.name),
            LedgerOperation.reason,
            LedgerOperation.reference,
            Person.display_name,
            LedgerOperation.reverses_id,
            reversal.id,
        )
        .join(source, source.id == LedgerOperation.source_id)
        .join(destination, destination.id == LedgerOperation.destination_id)
        .outerjoin(source_group, source_group.id == source.group_id)
        .outerjoin(source_round, source_round.id == source.round_id)
        .outerjoin(destination_group, destination_group.id == destination.group_id)
        .outerjoin(destination_round, destination_round.id == destination.round_id)
        .outerjoin(Person, Person.id == LedgerOperation.actor_id)
        .outerjoin(reversal, reversal.reverses_id == LedgerOperation.id)
    )


def _journal_line(row) -> JournalLine:
    """A row of _journal_query: the operation, its two accounts (three columns each), the rest."""
    source = AccountName(AccountKind(row[3]), row[4], row[5])
    destination = AccountName(AccountKind(row[6]), row[7], row[8])
    return JournalLine(*row[:3], source, destination, *row[9:])


def journal(page: int, per_page: int = JOURNAL_PER_PAGE) -> JournalPage:
    """A page of the grand livre, the latest operation first (two queries; a page beyond the
    last shows the last)."""
    total = db.session.scalar(select(func.count(LedgerOperation.id))) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        _journal_query()
        .order_by(LedgerOperation.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return JournalPage([_journal_line(row) for row in rows], total, page, pages)


def journal_line(operation_id: int) -> JournalLine | None:
    row = db.session.execute(
        _journal_query().where(LedgerOperation.id == operation_id)
    ).one_or_none()
    return None if row is None else _journal_line(row)
