"""Illustrations of a proposal: processed images on disk, their order, captions and cover."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow

THUMB_SUFFIX = "-400"


class Illustration(db.Model):
    __tablename__ = "illustration"
    __table_args__ = (
        Index("ix_illustration_proposal_position", "proposal_id", "position"),
        # At most one cover per proposal, whatever the concurrency.
        Index(
            "uq_illustration_one_cover",
            "proposal_id",
            unique=True,
            sqlite_where=text("is_cover"),
            postgresql_where=text("is_cover"),
        ),
        CheckConstraint("format IN ('jpeg', 'png', 'webp')", name="format_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    position: Mapped[int]
    is_cover: Mapped[bool] = mapped_column(default=False)
    # A random name under UPLOADS_PATH; the file is "<stored_name>.<ext>", its thumbnail
    # "<stored_name>-400.<ext>".
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    format: Mapped[str] = mapped_column(String(8))
    width: Mapped[int]
    height: Mapped[int]
    thumb_width: Mapped[int]
    thumb_height: Mapped[int]
    byte_size: Mapped[int]
    caption: Mapped[str] = mapped_column(String(300), default="")
    # Required before the illustration is shown in public; empty right after an upload.
    alt_text: Mapped[str] = mapped_column(String(300), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by = relationship("Person", lazy="raise")

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "jpeg" else self.format

    @property
    def file_name(self) -> str:
        return f"{self.stored_name}.{self.extension}"

    @property
    def thumb_name(self) -> str:
        return f"{self.stored_name}{THUMB_SUFFIX}.{self.extension}"
