"""Action groups and their members."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow


class MemberRole(enum.StrEnum):
    member = "member"
    manager = "manager"
    referent = "referent"

    @property
    def acts_for_group(self) -> bool:
        return self in (MemberRole.manager, MemberRole.referent)


class ActionGroup(db.Model):
    __tablename__ = "action_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    commune: Mapped[str] = mapped_column(String(120))
    departement: Mapped[str] = mapped_column(String(3), index=True)
    certified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships = relationship("Membership", back_populates="group", lazy="raise")

    @property
    def is_certified(self) -> bool:
        return self.certified_at is not None


class Membership(db.Model):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("person_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(
        ForeignKey("action_group.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MemberRole] = mapped_column(
        Enum(MemberRole, native_enum=False, length=16, validate_strings=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person = relationship("Person", back_populates="memberships", lazy="raise")
    group = relationship("ActionGroup", back_populates="memberships", lazy="raise")
