"""The private exchange on a proposal between its group's managers and the animation team.

Each person has a read pointer per proposal (MessageRead.last_read_id): the messages after it
that someone else wrote are unread for them. The pointer only moves forward, to the last
message the person was shown, so that a message written while the page was being built is
not marked read unseen.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from models import MessageRead, Person, Proposal, ProposalMessage, db

from .errors import Invalid
from .tx import write_transaction
from .workspace_access import is_team, require_workspace

BODY_MAX = 5000


@dataclass(frozen=True)
class Message:
    """One message as shown to one person."""

    id: int
    author_name: str
    from_team: bool
    body: str
    created_at: datetime
    mine: bool
    unread: bool


def clean_body(body: str | None) -> str:
    body = (body or "").strip().replace("\r\n", "\n")
    if not body:
        raise Invalid(_("Écrivez votre message avant de l'envoyer."))
    if len(body) > BODY_MAX:
        raise Invalid(
            _(
                "Un message ne peut dépasser %(max)s caractères (le vôtre en compte %(n)s) : "
                "coupez-le en plusieurs messages.",
                max="5 000",
                n=len(body),
            )
        )
    return body


def post_message(person: Person, proposal_id: int, body: str) -> int:
    """Add a message to the exchange, in any status of the proposal; returns its id.

    Whoever shares the workspace may write (the group's managers and referents, the
    animation team); the message says which side wrote it. Access is checked before the
    text, so that an outsider learns nothing from the answer about a private proposal.
    """
    with write_transaction():
        require_workspace(person, db.session.get(Proposal, proposal_id))
        message = ProposalMessage(
            proposal_id=proposal_id,
            author_id=person.id,
            from_team=is_team(person),
            body=clean_body(body),
        )
        db.session.add(message)
        db.session.flush()
        return message.id


def _unread_clause(person_id: int, last_read_id):
    """Messages after the pointer that this person did not write (a deleted author's count)."""
    return and_(
        ProposalMessage.id > last_read_id,
        or_(ProposalMessage.author_id.is_(None), ProposalMessage.author_id != person_id),
    )


def messages_for(person: Person, proposal_id: int) -> list[Message]:
    """The exchange in order, each message flagged unread or not for this person (two
    queries, the proposal usually comes from the session's identity map)."""
    require_workspace(person, db.session.get(Proposal, proposal_id))
    last_read_id = (
        db.session.scalar(
            select(MessageRead.last_read_id).where(
                MessageRead.person_id == person.id, MessageRead.proposal_id == proposal_id
            )
        )
        or 0
    )
    rows = db.session.execute(
        select(
            ProposalMessage.id,
            ProposalMessage.author_id,
            ProposalMessage.from_team,
            ProposalMessage.body,
            ProposalMessage.created_at,
            Person.display_name,
        )
        .outerjoin(Person, Person.id == ProposalMessage.author_id)
        .where(ProposalMessage.proposal_id == proposal_id)
        .order_by(ProposalMessage.id)
    ).all()
    return [
        Message(
            id=row.id,
            author_name=row.display_name or _("Compte supprimé"),
            from_team=row.from_team,
            body=row.body,
            created_at=row.created_at,
            mine=row.author_id == person.id,
            unread=row.id > last_read_id and row.author_id != person.id,
        )
        for row in rows
    ]


def mark_read(person: Person, proposal_id: int, up_to: int | None = None) -> None:
    """Move the person's read pointer to `up_to` (the last message they were shown), or to
    the last message; never backwards.

    One upsert whose update only applies to a larger value: two tabs doing it at once both
    succeed and the larger pointer wins, on SQLite and PostgreSQL alike.
    """
    with write_transaction():
        require_workspace(person, db.session.get(Proposal, proposal_id))
        last = db.session.scalar(
            select(func.max(ProposalMessage.id)).where(ProposalMessage.proposal_id == proposal_id)
        )
        target = last if up_to is None or last is None else min(up_to, last)
        if not target:
            return
        insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(MessageRead).values(
            person_id=person.id, proposal_id=proposal_id, last_read_id=target
        )
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=[MessageRead.person_id, MessageRead.proposal_id],
                set_={"last_read_id": statement.excluded.last_read_id},
                where=MessageRead.last_read_id < statement.excluded.last_read_id,
            )
        )


def unread_counts(person: Person, proposal_ids: list[int]) -> dict[int, int]:
    """Unread messages per proposal for this person, in one query; proposals without any are
    left out. The caller lists only proposals whose workspace the person shares."""
    if not proposal_ids or person is None or not person.is_authenticated:
        return {}
    pointer = MessageRead.__table__.alias("pointer")
    rows = db.session.execute(
        select(ProposalMessage.proposal_id, func.count(ProposalMessage.id))
        .outerjoin(
            pointer,
            and_(
                pointer.c.proposal_id == ProposalMessage.proposal_id,
                pointer.c.person_id == person.id,
            ),
        )
        .where(
            ProposalMessage.proposal_id.in_(proposal_ids),
            _unread_clause(person.id, func.coalesce(pointer.c.last_read_id, 0)),
        )
        .group_by(ProposalMessage.proposal_id)
    ).all()
    return {proposal_id: count for proposal_id, count in rows}
