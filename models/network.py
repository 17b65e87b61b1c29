"""The network of elected officials: members and mandates, the shared library, the discussion
list with its subscriptions and notifications, support requests, the public animation team."""

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow


def _enum(cls, length=24):
    return Enum(cls, native_enum=False, length=length, validate_strings=True)


# Members and mandates -----------------------------------------------------------------------


class MandateLevel(enum.StrEnum):
    municipal = "municipal"
    intercommunal = "intercommunal"
    departemental = "departemental"
    regional = "regional"
    depute = "depute"
    senateur = "senateur"
    europeen = "europeen"
    francais_etranger = "francais_etranger"  # conseiller·e des Français de l'étranger


class MandateRole(enum.StrEnum):
    maire = "maire"
    adjoint = "adjoint"
    president = "president"
    vice_president = "vice_president"
    conseiller = "conseiller"
    parlementaire = "parlementaire"  # député·e, sénateur·rice, député·e européen·ne


# Which roles a mandate of each level can hold (checked by the service).
ROLES_BY_LEVEL: dict[MandateLevel, tuple[MandateRole, ...]] = {
    MandateLevel.municipal: (MandateRole.maire, MandateRole.adjoint, MandateRole.conseiller),
    MandateLevel.intercommunal: (
        MandateRole.president,
        MandateRole.vice_president,
        MandateRole.conseiller,
    ),
    MandateLevel.departemental: (
        MandateRole.president,
        MandateRole.vice_president,
        MandateRole.conseiller,
    ),
    MandateLevel.regional: (
        MandateRole.president,
        MandateRole.vice_president,
        MandateRole.conseiller,
    ),
    MandateLevel.depute: (MandateRole.parlementaire,),
    MandateLevel.senateur: (MandateRole.parlementaire,),
    MandateLevel.europeen: (MandateRole.parlementaire,),
    MandateLevel.francais_etranger: (MandateRole.president, MandateRole.conseiller),
}


class MandateSide(enum.StrEnum):
    majorite = "majorite"
    opposition = "opposition"


class Mandate(db.Model):
    """One mandate of one person. Two mandates of a person on the same council (same level and
    `council_key`) never overlap in time: checked by services.network under a lock on the
    person's row."""

    __tablename__ = "mandate"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_in_order"),
        Index("ix_mandate_person_id_level_council_key", "person_id", "level", "council_key"),
        Index("ix_mandate_level", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    level: Mapped[MandateLevel] = mapped_column(_enum(MandateLevel))
    # The council or territory as people write it ("Conseil municipal de Pessac")…
    council: Mapped[str] = mapped_column(String(200))
    # …and folded (lower case, no accents, single spaces): what "the same council" compares.
    council_key: Mapped[str] = mapped_column(String(200))
    departement: Mapped[str | None] = mapped_column(String(3))
    role: Mapped[MandateRole] = mapped_column(_enum(MandateRole))
    side: Mapped[MandateSide] = mapped_column(_enum(MandateSide))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)  # None: ongoing
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person = relationship("Person", lazy="raise")


class NetworkStatus(enum.StrEnum):
    pending = "pending"  # asked to join, waiting for the animation team
    member = "member"
    declined = "declined"  # may ask again
    excluded = "excluded"  # only the animation team can let them back in

    @property
    def sees_network(self) -> bool:
        return self is NetworkStatus.member


class NotifyMode(enum.StrEnum):
    immediate = "immediate"  # one e-mail per new message
    daily = "daily"  # one digest a day


class NetworkTheme(db.Model):
    """A theme (tag) shared by resources, threads, members and subscriptions."""

    __tablename__ = "network_theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))  # as first written: "Eau en régie publique"
    key: Mapped[str] = mapped_column(String(80), unique=True)  # folded: "eau en regie publique"


network_member_theme = Table(
    "network_member_theme",
    db.metadata,
    Column("member_id", ForeignKey("network_member.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("network_theme.id", ondelete="CASCADE"), primary_key=True),
)


class NetworkMember(db.Model):
    """A person's place in the network: their application, then membership (or not)."""

    __tablename__ = "network_member"
    __table_args__ = (
        Index("ix_network_member_status_applied_at", "status", "applied_at"),
        Index("ix_network_member_departement", "departement"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    status: Mapped[NetworkStatus] = mapped_column(_enum(NetworkStatus))
    motivation: Mapped[str] = mapped_column(Text, default="")
    presentation: Mapped[str] = mapped_column(Text, default="")  # shown on the profile
    departement: Mapped[str | None] = mapped_column(String(3))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    # Why the application was declined, or the member excluded (shown to them).
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    notify_mode: Mapped[NotifyMode] = mapped_column(_enum(NotifyMode), default=NotifyMode.immediate)
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person = relationship("Person", foreign_keys=[person_id], lazy="raise")
    decided_by = relationship("Person", foreign_keys=[decided_by_id], lazy="raise")
    themes = relationship("NetworkTheme", secondary=network_member_theme, lazy="raise")


class TeamRole(enum.StrEnum):
    co_lead = "co_lead"  # co-animateur·rice
    member = "member"  # membre de l'équipe


class NetworkTeamEntry(db.Model):
    """One line of the animation team shown on the network's public page."""

    __tablename__ = "network_team_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[TeamRole] = mapped_column(_enum(TeamRole))
    description: Mapped[str] = mapped_column(String(300), default="")  # mandate, what they do
    position: Mapped[int] = mapped_column(Integer, default=0)


# Shared library -----------------------------------------------------------------------------


class ResourceKind(enum.StrEnum):
    amendement = "amendement"
    deliberation = "deliberation"
    voeu = "voeu"
    motion = "motion"
    compte_rendu = "compte_rendu"  # compte-rendu de mandat
    note_juridique = "note_juridique"
    outil_communication = "outil_communication"
    autre = "autre"


class ResourceOutcome(enum.StrEnum):
    adopte = "adopte"
    rejete = "rejete"
    en_cours = "en_cours"


resource_theme = Table(
    "resource_theme",
    db.metadata,
    Column("resource_id", ForeignKey("resource.id", ondelete="CASCADE"), primary_key=True),
    Column("theme_id", ForeignKey("network_theme.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_resource_theme_theme_id", "theme_id"),
)


class ResourceLevel(db.Model):
    """A level of mandate a resource concerns (a resource can concern several)."""

    __tablename__ = "resource_level"
    __table_args__ = (Index("ix_resource_level_level", "level"),)

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[MandateLevel] = mapped_column(_enum(MandateLevel), primary_key=True)


class Resource(db.Model):
    __tablename__ = "resource"
    __table_args__ = (
        CheckConstraint("reuse_count >= 0", name="reuse_count_not_negative"),
        Index("ix_resource_created_at", "created_at"),
        Index("ix_resource_author_id", "author_id"),
        Index("ix_resource_kind", "kind"),
        Index("ix_resource_departement", "departement"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    kind: Mapped[ResourceKind] = mapped_column(_enum(ResourceKind))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")  # safe Markdown
    council: Mapped[str] = mapped_column(String(200), default="")
    departement: Mapped[str | None] = mapped_column(String(3))
    decided_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[ResourceOutcome | None] = mapped_column(_enum(ResourceOutcome))
    # Kept in the same transaction as the ResourceReuse rows it counts.
    reuse_count: Mapped[int] = mapped_column(Integer, default=0)
    # What full-text search reads: title, summary, body, council and themes, as written
    # (PostgreSQL stems it in French; SQLite's FTS5 index mirrors it through triggers).
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))

    author = relationship("Person", foreign_keys=[author_id], lazy="raise")
    themes = relationship("NetworkTheme", secondary=resource_theme, lazy="raise")
    levels = relationship(
        "ResourceLevel", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    files = relationship(
        "ResourceFile",
        lazy="raise",
        order_by="ResourceFile.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


# French stemming on PostgreSQL: each resource's French vector, a column PostgreSQL generates
# and stores from search_text, under a GIN index. The search filters and ranks on the stored
# vector: ranking on `to_tsvector(search_text)` recomputed it for every match (`make bench`,
# a common word over 20,000 resources: 264 ms of server CPU a search, 26 ms stored).
# PostgreSQL's alone, so made by SQL like SQLite's FTS5 table below, not by the model;
# `made_by_sql` lists both for Alembic's comparison.
SEARCH_VECTOR = "search_vector"
POSTGRESQL_SEARCH_INDEX = "ix_resource_search_vector"
RESOURCE_TSVECTOR = literal_column(f"resource.{SEARCH_VECTOR}")
POSTGRESQL_SEARCH_DDL = (
    f"ALTER TABLE resource ADD COLUMN {SEARCH_VECTOR} tsvector "
    "GENERATED ALWAYS AS (to_tsvector('french'::regconfig, search_text)) STORED",
    f"CREATE INDEX {POSTGRESQL_SEARCH_INDEX} ON resource USING gin ({SEARCH_VECTOR})",
)

# On SQLite, an FTS5 index over resource.search_text (external content), kept in step by
# triggers. Alembic's comparison ignores these tables (migrations/env.py, FTS_TABLES).
FTS_TABLES = frozenset(
    {
        "resource_fts",
        "resource_fts_data",
        "resource_fts_idx",
        "resource_fts_content",
        "resource_fts_docsize",
        "resource_fts_config",
    }
)
SQLITE_FTS_DDL = (
    "CREATE VIRTUAL TABLE resource_fts USING fts5(search_text, content='resource', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER resource_fts_insert AFTER INSERT ON resource BEGIN "
    "INSERT INTO resource_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER resource_fts_delete AFTER DELETE ON resource BEGIN "
    "INSERT INTO resource_fts(resource_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER resource_fts_update AFTER UPDATE OF search_text ON resource BEGIN "
    "INSERT INTO resource_fts(resource_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO resource_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
)
SQLITE_FTS_DROP = (
    "DROP TRIGGER IF EXISTS resource_fts_update",
    "DROP TRIGGER IF EXISTS resource_fts_delete",
    "DROP TRIGGER IF EXISTS resource_fts_insert",
    "DROP TABLE IF EXISTS resource_fts",
)


@event.listens_for(Resource.__table__, "after_create")
def _create_search_index(target, connection, **kw):
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_FTS_DDL:
            connection.exec_driver_sql(statement)
    elif connection.dialect.name == "postgresql":
        for statement in POSTGRESQL_SEARCH_DDL:
            connection.exec_driver_sql(statement)


@event.listens_for(Resource.__table__, "before_drop")
def _drop_search_index(target, connection, **kw):
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_FTS_DROP:
            connection.exec_driver_sql(statement)


def made_by_sql(obj, name, type_, reflected, compare_to) -> bool:
    """Whether Alembic's comparison should leave this alone (an `include_object` hook returns
    the opposite): SQLite's FTS5 tables and PostgreSQL's stored vector with its index are made
    by the SQL above and by the migrations, not from the models."""
    if type_ == "table":
        return name in FTS_TABLES
    if type_ == "index":
        return name == POSTGRESQL_SEARCH_INDEX
    if type_ == "column":
        return name == SEARCH_VECTOR and obj.table.name == Resource.__tablename__
    return False


class StoredFileMixin:
    """A file checked by services.documents and stored under a random name."""

    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))  # the uploaded name, cleaned
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ResourceFile(StoredFileMixin, db.Model):
    __tablename__ = "resource_file"
    __table_args__ = (Index("ix_resource_file_resource_id", "resource_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


class ResourceReuse(db.Model):
    """ "Je l'ai repris chez moi": one per (resource, member)."""

    __tablename__ = "resource_reuse"
    __table_args__ = (
        UniqueConstraint("resource_id", "person_id"),
        Index("ix_resource_reuse_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(300), default="")  # where, how
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person = relationship("Person", lazy="raise")


# Discussion list ----------------------------------------------------------------------------


class Thread(db.Model):
    __tablename__ = "thread"
    __table_args__ = (
        Index("ix_thread_last_post_at", "last_post_at"),
        Index("ix_thread_theme_id_last_post_at", "theme_id", "last_post_at"),
        Index("ix_thread_level_last_post_at", "level", "last_post_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_theme.id", ondelete="SET NULL")
    )
    level: Mapped[MandateLevel | None] = mapped_column(_enum(MandateLevel))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Messages members see (hidden ones excepted), kept with the posts in one transaction.
    post_count: Mapped[int] = mapped_column(Integer, default=0)

    author = relationship("Person", lazy="raise")
    theme = relationship("NetworkTheme", lazy="raise")


class Post(db.Model):
    __tablename__ = "post"
    __table_args__ = (Index("ix_post_thread_id_id", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)  # safe Markdown
    quoted_post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Hidden by the animation team: kept, shown to the team with the reason, to no one else.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str] = mapped_column(Text, default="")

    author = relationship("Person", foreign_keys=[author_id], lazy="raise")
    hidden_by = relationship("Person", foreign_keys=[hidden_by_id], lazy="raise")
    quoted = relationship("Post", remote_side=[id], lazy="raise")


class Subscription(db.Model):
    """A member follows a thread, or a theme (every thread of it, new ones included)."""

    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint("(thread_id IS NULL) <> (theme_id IS NULL)", name="thread_or_theme"),
        UniqueConstraint("person_id", "thread_id"),
        UniqueConstraint("person_id", "theme_id"),
        Index("ix_subscription_thread_id", "thread_id"),
        Index("ix_subscription_theme_id", "theme_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("network_theme.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostNotification(db.Model):
    """One e-mail owed to one subscriber about one message: written with the message, in its
    transaction (the unique constraint makes it once per subscriber), then sent, at once or in
    the daily digest; `sent_at` is set when the SMTP server has accepted it. A run about to
    send it first takes it until `claimed_until` (services.discussion), so that two runs at
    once never send it twice."""

    __tablename__ = "post_notification"
    __table_args__ = (
        UniqueConstraint("post_id", "person_id"),
        Index("ix_post_notification_sent_at_person_id", "sent_at", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    digest: Mapped[bool] = mapped_column(default=False)  # waits for the daily digest
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Support requests ---------------------------------------------------------------------------


class SupportKind(enum.StrEnum):
    technique = "technique"
    juridique = "juridique"


class SupportUrgency(enum.StrEnum):
    normale = "normale"
    urgente = "urgente"  # within the week
    tres_urgente = "tres_urgente"  # a council sits within days


class SupportStatus(enum.StrEnum):
    open = "open"  # nouvelle, nobody assigned
    assigned = "assigned"  # prise en charge
    answered = "answered"  # the team answered; the member may reply
    closed = "closed"


class SupportRequest(db.Model):
    __tablename__ = "support_request"
    __table_args__ = (
        Index("ix_support_request_status_created_at", "status", "created_at"),
        Index("ix_support_request_requester_id", "requester_id"),
        Index("ix_support_request_assignee_id", "assignee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[SupportKind] = mapped_column(_enum(SupportKind))
    urgency: Mapped[SupportUrgency] = mapped_column(_enum(SupportUrgency))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)
    status: Mapped[SupportStatus] = mapped_column(_enum(SupportStatus), default=SupportStatus.open)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))

    requester = relationship("Person", foreign_keys=[requester_id], lazy="raise")
    assignee = relationship("Person", foreign_keys=[assignee_id], lazy="raise")


class SupportMessage(db.Model):
    """One message of the private exchange between the member and the animation team."""

    __tablename__ = "support_message"
    __table_args__ = (Index("ix_support_message_request_id_id", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_request.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    from_team: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("Person", lazy="raise")


class SupportFile(StoredFileMixin, db.Model):
    __tablename__ = "support_file"
    __table_args__ = (Index("ix_support_file_request_id", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_request.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("support_message.id", ondelete="CASCADE")
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


__all__ = [
    "ROLES_BY_LEVEL",
    "FTS_TABLES",
    "POSTGRESQL_SEARCH_INDEX",
    "RESOURCE_TSVECTOR",
    "made_by_sql",
    "MandateLevel",
    "MandateRole",
    "MandateSide",
    "Mandate",
    "NetworkStatus",
    "NotifyMode",
    "NetworkTheme",
    "NetworkMember",
    "network_member_theme",
    "TeamRole",
    "NetworkTeamEntry",
    "ResourceKind",
    "ResourceOutcome",
    "resource_theme",
    "ResourceLevel",
    "Resource",
    "ResourceFile",
    "ResourceReuse",
    "Thread",
    "Post",
    "Subscription",
    "PostNotification",
    "SupportKind",
    "SupportUrgency",
    "SupportStatus",
    "SupportRequest",
    "SupportMessage",
    "SupportFile",
]
