"""The ledger's use cases: accounts, earmarked donations into envelopes, transfers, reversals.

Every operation is written with its two accounts' rows locked (in id order, so that two
transfers never wait on each other in a cycle), and the accounts' balances are changed in the
same transaction. A group envelope is checked under that lock never to go below zero, and the
database refuses it too (CHECK on the account). Nothing is updated or deleted: a correction is
a reversing operation, once per operation.
"""

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

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


def charged_on_reservation(reservation_id: int) -> int:
    """What the spending charged to a reservation adds up to, its reversals deducted."""
    signed = case(
        (LedgerOperation.reverses_id.is_(None), LedgerOperation.amount_cents),
        else_=-LedgerOperation.amount_cents,
    )
    return db.session.scalar(
        select(func.coalesce(func.sum(signed), 0)).where(
            LedgerOperation.reservation_id == reservation_id
        )
    )


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
