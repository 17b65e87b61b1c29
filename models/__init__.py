"""Typed models, one module per aggregate; importing this package registers them all."""

from .audit import AuditEntry
from .base import MAX_ID, Base, UTCDateTime, as_id, db, utcnow
from .exchange import MessageRead, ProposalMessage
from .groups import ActionGroup, MemberRole, Membership
from .illustrations import THUMB_SUFFIX, Illustration
from .ledger import AccountKind, AppendOnly, LedgerAccount, LedgerOperation
from .network import *  # noqa: F403
from .network import __all__ as _network_names
from .people import STAFF_ROLES, Person, SignInFailure
from .proposals import (
    BudgetLine,
    Category,
    Commitment,
    CommitmentStatus,
    Proposal,
    ProposalRevision,
    ProposalStatus,
    fold_text,
)
from .rounds import BudgetRound, Reservation, ThresholdPolicy
from .spending import (
    SpendingCategory,
    SpendingEvent,
    SpendingReceipt,
    SpendingRequest,
    SpendingStatus,
)

__all__ = [
    "AccountKind",
    "AppendOnly",
    "LedgerAccount",
    "LedgerOperation",
    "STAFF_ROLES",
    "THUMB_SUFFIX",
    "BudgetLine",
    "Illustration",
    "MessageRead",
    "ProposalMessage",
    "ProposalRevision",
    "ActionGroup",
    "AuditEntry",
    "Base",
    "BudgetRound",
    "Category",
    "Commitment",
    "CommitmentStatus",
    "MemberRole",
    "Membership",
    "Person",
    "Proposal",
    "ProposalStatus",
    "Reservation",
    "SignInFailure",
    "SpendingCategory",
    "SpendingEvent",
    "SpendingReceipt",
    "SpendingRequest",
    "SpendingStatus",
    "ThresholdPolicy",
    "UTCDateTime",
    "db",
    "fold_text",
    "utcnow",
    "as_id",
    "MAX_ID",
    *_network_names,
]
