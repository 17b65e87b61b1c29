"""Typed models, one module per aggregate; importing this package registers them all."""

from .audit import AuditEntry
from .base import Base, UTCDateTime, db, utcnow
from .groups import ActionGroup, MemberRole, Membership
from .people import STAFF_ROLES, Person, SignInFailure
from .proposals import (
    Category,
    Commitment,
    CommitmentStatus,
    Proposal,
    ProposalStatus,
    fold_text,
)
from .rounds import BudgetRound

__all__ = [
    "STAFF_ROLES",
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
    "SignInFailure",
    "UTCDateTime",
    "db",
    "fold_text",
    "utcnow",
]
