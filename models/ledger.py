"""The ledger: accounts and the append-only operations that move money between them.

Money that moves is a list of operations `(amount > 0, source, destination, why)`. A balance is
the sum of what came in less what went out; each account keeps it in `balance_cents`, written
in the same transaction as its operations (services/ledger.py), so that a group envelope can
be checked — and guarded by the database — never to go negative. Operations are never updated
nor deleted: the mapper refuses it here, and a trigger refuses it in the database (PostgreSQL
and SQLite); a correction is a reversing operation.
"""

import enum
from datetime import datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db, utcnow


class AccountKind(enum.StrEnum):
    envelope = "envelope"  # a group's envelope of earmarked donations
    round = "round"  # a budget round: what it pays for the actions it funds
    donations = "donations"  # outside: the donations system, source of allocations
    payees = "payees"  # outside: suppliers and members reimbursed


class LedgerAccount(db.Model):
    __tablename__ = "ledger_account"
    __table_args__ = (
        CheckConstraint("kind <> 'envelope' OR balance_cents >= 0", name="envelope_not_negative"),
        CheckConstraint("(kind = 'envelope') = (group_id IS NOT NULL)", name="envelope_has_group"),
        CheckConstraint("(kind = 'round') = (round_id IS NOT NULL)", name="round_has_round"),
        # One envelope per group, one account per round, one of each outside account.
        Index("uq_ledger_account_group_id", "group_id", unique=True),
        Index("uq_ledger_account_round_id", "round_id", unique=True),
        Index(
            "uq_ledger_account_outside_kind",
            "kind",
            unique=True,
            sqlite_where=text("kind IN ('donations', 'payees')"),
            postgresql_where=text("kind IN ('donations', 'payees')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(
        Enum(AccountKind, native_enum=False, length=16, validate_strings=True)
    )
    group_id: Mapped[int | None] = mapped_column(ForeignKey("action_group.id", ondelete="RESTRICT"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("budget_round.id", ondelete="RESTRICT"))
    # Σ operations in − Σ operations out, kept with them.
    balance_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerOperation(db.Model):
    __tablename__ = "ledger_operation"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("source_id <> destination_id", name="two_accounts"),
        CheckConstraint("reason <> ''", name="has_reason"),
        Index("ix_ledger_operation_source_id_at", "source_id", "at"),
        Index("ix_ledger_operation_destination_id_at", "destination_id", "at"),
        # An operation is reversed once at most.
        Index("uq_ledger_operation_reverses_id", "reverses_id", unique=True),
        # A donation is recorded once, whatever the number of imports of its file.
        Index("uq_ledger_operation_reference", "reference", unique=True),
        Index("ix_ledger_operation_spending_request_id", "spending_request_id"),
        Index("ix_ledger_operation_reservation_id", "reservation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    source_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id", ondelete="RESTRICT"))
    destination_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_account.id", ondelete="RESTRICT")
    )
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # RESTRICT, not SET NULL: that would update the operation, which the trigger refuses; who
    # moved money stays known.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    # The operation this one corrects (same amount, the other way).
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_operation.id", ondelete="RESTRICT")
    )
    # The donations system's reference of an earmarked donation.
    reference: Mapped[str | None] = mapped_column(String(120))
    # What caused it: the spending request it pays, and for the round's part the reservation
    # it is charged to (what is left of a reservation is its amount less these charges).
    spending_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("spending_request.id", ondelete="RESTRICT")
    )
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservation.id", ondelete="RESTRICT")
    )


class AppendOnly(Exception):
    """An update or a deletion of a ledger operation: never allowed."""


@event.listens_for(LedgerOperation, "before_update")
def _refuse_update(mapper, connection, target):
    raise AppendOnly("ledger operations are never updated: write a reversing operation")


@event.listens_for(LedgerOperation, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AppendOnly("ledger operations are never deleted: write a reversing operation")


# The database's own guard, for every client (the migration creates the same triggers).
APPEND_ONLY_MESSAGE = "ledger operations are append-only"
PG_FUNCTION = f"""
CREATE FUNCTION ledger_operation_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}';
END;
$$ LANGUAGE plpgsql
"""
PG_TRIGGER = """
CREATE TRIGGER ledger_operation_append_only BEFORE UPDATE OR DELETE ON ledger_operation
FOR EACH ROW EXECUTE FUNCTION ledger_operation_append_only()
"""
SQLITE_TRIGGERS = [
    f"""
CREATE TRIGGER ledger_operation_no_{verb.lower()} BEFORE {verb} ON ledger_operation
BEGIN
    SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}');
END
"""
    for verb in ("UPDATE", "DELETE")
]

_table = LedgerOperation.__table__
event.listen(_table, "after_create", DDL(PG_FUNCTION).execute_if(dialect="postgresql"))
event.listen(_table, "after_create", DDL(PG_TRIGGER).execute_if(dialect="postgresql"))
for _statement in SQLITE_TRIGGERS:
    event.listen(_table, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
event.listen(
    _table,
    "after_drop",
    DDL("DROP FUNCTION IF EXISTS ledger_operation_append_only()").execute_if(dialect="postgresql"),
)
