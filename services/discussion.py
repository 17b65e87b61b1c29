"""The network's discussion list: threads and replies, quotes, moderation, subscriptions, and
the e-mail notifications they owe (written with the message, sent after it, retried, or
gathered in a daily digest).

Who sees what: members, the animation team and admins read and post; a hidden message is
shown to the team only (with who hid it and why), counts nowhere, is quoted nowhere and is
mailed to no one. A thread whose every message is hidden is the team's alone.

Notifications: posting writes one PostNotification per subscriber (of the thread or of its
theme, the author excepted, only people who still see the network) in the message's own
transaction. The immediate ones are sent right after the commit, over one SMTP connection;
a failure leaves them unsent for `flask reseau envoyer`. The daily ones wait for
`flask reseau resume`. Just before sending, a notification whose message was hidden since,
whose recipient left the network or unsubscribed, is dropped (deleted, never sent). A run
takes the notifications it is about to send for CLAIM_LEASE (`claimed_until`), in a write
transaction that rechecks them: two runs at once (two crons, a cron and the request that wrote
them) never send one twice. One whose run stopped between the SMTP server and the record is
sent again once the lease is over (at least once, never twice at once).
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, false, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from models import (
    AuditEntry,
    MandateLevel,
    NetworkMember,
    NetworkStatus,
    NetworkTheme,
    NotifyMode,
    Person,
    Post,
    PostNotification,
    Subscription,
    Thread,
    db,
    utcnow,
)

from . import mailer
from .errors import Conflict, Invalid, NotAllowed, NotFound
from .network_access import (
    is_network_team,
    network_member,
    require_network_space,
    require_network_team,
)
from .themes import parse_themes, themes_named
from .tx import for_update, write_transaction

TITLE_MIN = 3
TITLE_MAX = 200
BODY_MAX = 10_000
REASON_MAX = 1_000
EXCERPT_MAX = 280
# A notification is tried this many times (the first send included), then left alone.
MAX_ATTEMPTS = 5
# `flask reseau envoyer` leaves a never-tried notification this long to the request that
# wrote it (which sends it right after its commit); the claim below keeps the two from both
# sending it in any case.
RETRY_GRACE = timedelta(seconds=60)
# How long a run keeps the notifications it took: far longer than sending a batch takes.
CLAIM_LEASE = timedelta(minutes=15)
# Notifications sent over one SMTP connection.
BATCH_SIZE = 200
UNSUBSCRIBE_SALT = "commun.unsubscribe"
_SPACES = re.compile(r"\s+")


# Reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadFilters:
    theme_id: int | None = None
    level: MandateLevel | None = None


@dataclass(frozen=True)
class ThreadRow:
    """One line of the list of threads."""

    id: int
    title: str
    theme_id: int | None
    theme_name: str | None
    level: MandateLevel | None
    author_name: str | None
    post_count: int
    created_at: datetime
    last_post_at: datetime


@dataclass(frozen=True)
class ThreadView:
    id: int
    title: str
    theme_id: int | None
    theme_name: str | None
    level: MandateLevel | None
    author_id: int | None
    author_name: str | None
    created_at: datetime
    post_count: int


@dataclass(frozen=True)
class Quote:
    """The message a post quotes, as the reader may see it: `hidden` with no text for a
    member when the quoted message is hidden."""

    post_id: int
    author_name: str | None
    excerpt: str
    hidden: bool


@dataclass(frozen=True)
class PostView:
    id: int
    author_id: int | None
    author_name: str | None
    body: str
    created_at: datetime
    quote: Quote | None
    hidden_at: datetime | None = None
    hidden_by_name: str | None = None
    hidden_reason: str = ""


def _visible_threads(person: Person | None):
    """Members do not see a thread whose every message is hidden; the team sees them all."""
    return true() if is_network_team(person) else Thread.post_count > 0


def list_threads(
    person: Person, filters: ThreadFilters, page: int, per_page: int
) -> tuple[list[ThreadRow], int]:
    """A page of threads, most recent activity first, and how many match (two queries)."""
    require_network_space(person)
    conditions = [_visible_threads(person)]
    if filters.theme_id is not None:
        conditions.append(Thread.theme_id == filters.theme_id)
    if filters.level is not None:
        conditions.append(Thread.level == filters.level)
    total = db.session.scalar(select(func.count()).select_from(Thread).where(*conditions))
    rows = db.session.execute(
        select(
            Thread.id,
            Thread.title,
            Thread.theme_id,
            NetworkTheme.name,
            Thread.level,
            Person.display_name,
            Thread.post_count,
            Thread.created_at,
            Thread.last_post_at,
        )
        .outerjoin(NetworkTheme, NetworkTheme.id == Thread.theme_id)
        .outerjoin(Person, Person.id == Thread.author_id)
        .where(*conditions)
        .order_by(Thread.last_post_at.desc(), Thread.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [ThreadRow(*row) for row in rows], total


def thread_for(person: Person, thread_id: int) -> ThreadView:
    """The thread as this person may see it; NotFound when it does not exist for them."""
    require_network_space(person)
    row = db.session.execute(
        select(
            Thread.id,
            Thread.title,
            Thread.theme_id,
            NetworkTheme.name,
            Thread.level,
            Thread.author_id,
            Person.display_name,
            Thread.created_at,
            Thread.post_count,
        )
        .outerjoin(NetworkTheme, NetworkTheme.id == Thread.theme_id)
        .outerjoin(Person, Person.id == Thread.author_id)
        .where(Thread.id == thread_id, _visible_threads(person))
    ).first()
    if row is None:
        raise NotFound(_("Cette discussion n'existe pas, ou plus."))
    return ThreadView(*row)


def excerpt(body: str, limit: int = EXCERPT_MAX) -> str:
    """A message's first words on one line, for a quote."""
    text = _SPACES.sub(" ", body or "").strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return (cut or text[:limit]) + "…"


def posts_for(person: Person, thread_id: int) -> list[PostView]:
    """The thread's messages in order, for this person: hidden ones only for the team, with
    who hid them and why (one query)."""
    team = is_network_team(person)
    author = aliased(Person)
    hider = aliased(Person)
    quoted = aliased(Post)
    quoted_author = aliased(Person)
    statement = (
        select(
            Post.id,
            Post.author_id,
            author.display_name,
            Post.body,
            Post.created_at,
            Post.hidden_at,
            hider.display_name,
            Post.hidden_reason,
            quoted.id,
            quoted.body,
            quoted.hidden_at,
            quoted_author.display_name,
        )
        .outerjoin(author, author.id == Post.author_id)
        .outerjoin(hider, hider.id == Post.hidden_by_id)
        .outerjoin(quoted, quoted.id == Post.quoted_post_id)
        .outerjoin(quoted_author, quoted_author.id == quoted.author_id)
        .where(Post.thread_id == thread_id)
        .order_by(Post.id)
    )
    if not team:
        statement = statement.where(Post.hidden_at.is_(None))
    posts = []
    for row in db.session.execute(statement):
        quote = None
        if row[8] is not None:
            quoted_hidden = row[10] is not None
            shown = team or not quoted_hidden
            quote = Quote(
                post_id=row[8],
                author_name=row[11] if shown else None,
                excerpt=excerpt(row[9]) if shown else "",
                hidden=quoted_hidden,
            )
        posts.append(
            PostView(
                id=row[0],
                author_id=row[1],
                author_name=row[2],
                body=row[3],
                created_at=row[4],
                quote=quote,
                hidden_at=row[5],
                hidden_by_name=row[6],
                hidden_reason=row[7] or "",
            )
        )
    return posts


def quotable(person: Person, thread_id: int, post_id: int | None) -> Quote | None:
    """The message a reply form would quote, if it can be quoted: in this thread, visible."""
    if post_id is None:
        return None
    require_network_space(person)
    row = db.session.execute(
        select(Post.id, Person.display_name, Post.body)
        .outerjoin(Person, Person.id == Post.author_id)
        .where(Post.id == post_id, Post.thread_id == thread_id, Post.hidden_at.is_(None))
    ).first()
    return None if row is None else Quote(row[0], row[1], excerpt(row[2]), hidden=False)


def thread_state(person: Person, thread_id: int) -> str:
    """What a page of the thread compares to know whether it is up to date: the last
    message, the visible count (it moves on a hide and an unhide) and the last hiding time.
    One indexed query; NotFound for a thread the person cannot see."""
    require_network_space(person)
    row = db.session.execute(
        select(Thread.post_count, func.max(Post.id), func.max(Post.hidden_at))
        .select_from(Thread)
        .outerjoin(Post, Post.thread_id == Thread.id)
        .where(Thread.id == thread_id)
        .group_by(Thread.id, Thread.post_count)
    ).first()
    if row is None or (row[0] <= 0 and not is_network_team(person)):
        raise NotFound(_("Cette discussion n'existe pas, ou plus."))
    count, last_id, last_hidden = row
    stamp = int(last_hidden.timestamp() * 1_000_000) if last_hidden is not None else 0
    return f"{last_id or 0}.{count}.{stamp}"


def post_for_moderation(person: Person, post_id: int) -> tuple[PostView, ThreadView]:
    """A message and its thread, for the animation team about to hide it."""
    require_network_team(person)
    row = db.session.execute(
        select(
            Post.id,
            Post.author_id,
            Person.display_name,
            Post.body,
            Post.created_at,
            Post.hidden_at,
            Post.thread_id,
        )
        .outerjoin(Person, Person.id == Post.author_id)
        .where(Post.id == post_id)
    ).first()
    if row is None:
        raise NotFound(_("Ce message n'existe pas, ou plus."))
    post = PostView(*row[:5], quote=None, hidden_at=row[5])
    return post, thread_for(person, row[6])


def last_post_id_of(state: str | None) -> int:
    """The last message a state token names (0 when it names none or cannot be read)."""
    head = (state or "").split(".", 1)[0]
    return int(head) if head.isdecimal() and len(head) < 12 else 0


# Subscriptions (reading) ---------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionState:
    thread: bool  # follows the thread itself
    theme: bool  # follows the thread's theme


def subscription_state(person: Person, thread_id: int, theme_id: int | None) -> SubscriptionState:
    rows = db.session.execute(
        select(Subscription.thread_id, Subscription.theme_id).where(
            Subscription.person_id == person.id,
            or_(
                Subscription.thread_id == thread_id,
                Subscription.theme_id == theme_id if theme_id is not None else false(),
            ),
        )
    ).all()
    return SubscriptionState(
        thread=any(row.thread_id == thread_id for row in rows),
        theme=theme_id is not None and any(row.theme_id == theme_id for row in rows),
    )


def follows_theme(person: Person, theme_id: int) -> bool:
    return (
        db.session.scalar(
            select(Subscription.id).where(
                Subscription.person_id == person.id, Subscription.theme_id == theme_id
            )
        )
        is not None
    )


@dataclass(frozen=True)
class FollowedThread:
    id: int
    title: str
    theme_name: str | None
    last_post_at: datetime


@dataclass(frozen=True)
class FollowedTheme:
    id: int
    name: str


@dataclass(frozen=True)
class Subscriptions:
    threads: list[FollowedThread]
    themes: list[FollowedTheme]
    # The person's membership's mode; None for the team without a membership (immediate).
    notify_mode: NotifyMode | None


def subscriptions_of(person: Person) -> Subscriptions:
    require_network_space(person)
    threads = db.session.execute(
        select(Thread.id, Thread.title, NetworkTheme.name, Thread.last_post_at)
        .join(Subscription, Subscription.thread_id == Thread.id)
        .outerjoin(NetworkTheme, NetworkTheme.id == Thread.theme_id)
        .where(Subscription.person_id == person.id, _visible_threads(person))
        .order_by(Thread.last_post_at.desc(), Thread.id.desc())
    ).all()
    themes = db.session.execute(
        select(NetworkTheme.id, NetworkTheme.name)
        .join(Subscription, Subscription.theme_id == NetworkTheme.id)
        .where(Subscription.person_id == person.id)
        .order_by(func.lower(NetworkTheme.name))
    ).all()
    member = network_member(person)
    mode = member.notify_mode if member is not None else None
    return Subscriptions(
        [FollowedThread(*row) for row in threads], [FollowedTheme(*row) for row in themes], mode
    )


# Writing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    thread_id: int
    post_id: int
    # The notifications to send now (the daily ones wait for the digest).
    immediate: tuple[int, ...] = ()


def clean_title(title: str | None) -> str:
    title = _SPACES.sub(" ", title or "").strip()
    if len(title) < TITLE_MIN:
        raise Invalid(_("Donnez un titre d'au moins %(min)s caractères.", min=TITLE_MIN))
    if len(title) > TITLE_MAX:
        raise Invalid(_("Un titre compte %(max)s caractères au plus.", max=TITLE_MAX))
    return title


def clean_body(body: str | None) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise Invalid(_("Écrivez votre message avant de l'envoyer."))
    if len(body) > BODY_MAX:
        raise Invalid(
            _(
                "Un message compte %(max)s caractères au plus (le vôtre en compte %(n)s).",
                max="10 000",
                n=len(body),
            )
        )
    return body


def clean_reason(reason: str | None) -> str:
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise Invalid(_("Indiquez pourquoi ce message est masqué."))
    if len(reason) > REASON_MAX:
        raise Invalid(_("La raison compte %(max)s caractères au plus.", max="1 000"))
    return reason


def _insert_ignoring_duplicates(values: dict, *index_elements) -> bool:
    """Insert a subscription unless the person already has it (an upsert, so two requests at
    once both succeed); whether a row was written."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Subscription)
        .values(created_at=utcnow(), **values)
        .on_conflict_do_nothing(index_elements=index_elements)
        .returning(Subscription.id)
    )
    return db.session.execute(statement).scalar() is not None


def _follow_thread(person_id: int, thread_id: int) -> bool:
    return _insert_ignoring_duplicates(
        {"person_id": person_id, "thread_id": thread_id},
        Subscription.person_id,
        Subscription.thread_id,
    )


def _sees_network_clause():
    """People who still see the network: members, the network team and admins."""
    return or_(
        Person.is_network,
        Person.is_admin,
        NetworkMember.status == NetworkStatus.member,
    )


def _write_notifications(thread: Thread, post: Post, author_id: int) -> tuple[int, ...]:
    """One notification per subscriber of the thread or of its theme, in the message's
    transaction; returns the ids of those to send now."""
    followers = select(Subscription.person_id).where(
        or_(
            Subscription.thread_id == thread.id,
            Subscription.theme_id == thread.theme_id if thread.theme_id is not None else false(),
        )
    )
    recipients = db.session.execute(
        select(Person.id, NetworkMember.notify_mode)
        .outerjoin(NetworkMember, NetworkMember.person_id == Person.id)
        .where(Person.id.in_(followers), Person.id != author_id, _sees_network_clause())
        .order_by(Person.id)
    ).all()
    rows = [
        PostNotification(
            post_id=post.id,
            person_id=person_id,
            digest=mode == NotifyMode.daily,
            created_at=post.created_at,
        )
        for person_id, mode in recipients
    ]
    db.session.add_all(rows)
    db.session.flush()
    return tuple(row.id for row in rows if not row.digest)


def _lock_thread(person: Person, thread_id: int) -> Thread:
    thread = db.session.scalar(for_update(select(Thread).where(Thread.id == thread_id)))
    if thread is None or (not is_network_team(person) and thread.post_count <= 0):
        raise NotFound(_("Cette discussion n'existe pas, ou plus."))
    return thread


def _add_post(person: Person, thread: Thread, body: str, quoted_post_id: int | None) -> Post:
    now = utcnow()
    post = Post(
        thread_id=thread.id,
        author_id=person.id,
        body=body,
        quoted_post_id=quoted_post_id,
        created_at=now,
    )
    db.session.add(post)
    db.session.flush()
    thread.post_count += 1
    thread.last_post_at = now
    _follow_thread(person.id, thread.id)
    return post


def create_thread(
    person: Person,
    title: str,
    theme_name: str,
    level: MandateLevel | None,
    body: str,
) -> Posted:
    """Open a thread with its first message; the author follows it; the theme's
    subscribers are notified. A theme typed for the first time is created."""
    with write_transaction():
        require_network_space(person)
        title = clean_title(title)
        names = parse_themes(theme_name)
        if not names:
            raise Invalid(_("Choisissez un thème, ou écrivez-en un nouveau."))
        if len(names) > 1:
            raise Invalid(_("Une discussion porte sur un seul thème."))
        body = clean_body(body)
        theme = themes_named(names)[0]
        now = utcnow()
        thread = Thread(
            title=title,
            author_id=person.id,
            theme_id=theme.id,
            level=level,
            created_at=now,
            last_post_at=now,
            post_count=0,
        )
        db.session.add(thread)
        db.session.flush()
        post = _add_post(person, thread, body, None)
        posted = Posted(thread.id, post.id, _write_notifications(thread, post, person.id))
    deliver_notifications(posted.immediate)
    return posted


def post_reply(
    person: Person, thread_id: int, body: str, quoted_post_id: int | None = None
) -> Posted:
    """Add a reply, quoting a visible message of the same thread or none; the author follows
    the thread; its subscribers and its theme's are notified."""
    with write_transaction():
        require_network_space(person)
        thread = _lock_thread(person, thread_id)
        body = clean_body(body)
        if quoted_post_id is not None:
            quoted = db.session.scalar(
                select(Post.id).where(
                    Post.id == quoted_post_id,
                    Post.thread_id == thread.id,
                    Post.hidden_at.is_(None),
                )
            )
            if quoted is None:
                raise Invalid(_("Ce message ne peut pas être cité : il n'est plus visible."))
        post = _add_post(person, thread, body, quoted_post_id)
        posted = Posted(thread.id, post.id, _write_notifications(thread, post, person.id))
    deliver_notifications(posted.immediate)
    return posted


def _lock_post(post_id: int) -> tuple[Thread, Post]:
    """The post and its thread, locked in that order (the order replies lock the thread)."""
    thread_id = db.session.scalar(select(Post.thread_id).where(Post.id == post_id))
    if thread_id is None:
        raise NotFound(_("Ce message n'existe pas, ou plus."))
    thread = db.session.scalar(for_update(select(Thread).where(Thread.id == thread_id)))
    post = db.session.scalar(for_update(select(Post).where(Post.id == post_id)))
    if thread is None or post is None:
        raise NotFound(_("Ce message n'existe pas, ou plus."))
    return thread, post


def hide_post(person: Person, post_id: int, reason: str) -> int:
    """Hide a message (the animation team): kept with who and why, gone for members, out
    of the count, and out of every notification not yet sent. Returns the thread's id."""
    with write_transaction():
        require_network_team(person)
        reason = clean_reason(reason)
        thread, post = _lock_post(post_id)
        if post.hidden_at is not None:
            raise Conflict(_("Ce message est déjà masqué."))
        post.hidden_at = utcnow()
        post.hidden_by_id = person.id
        post.hidden_reason = reason
        thread.post_count -= 1
        db.session.execute(
            delete(PostNotification).where(
                PostNotification.post_id == post.id, PostNotification.sent_at.is_(None)
            )
        )
        db.session.add(
            AuditEntry(
                actor_id=person.id,
                action="post.hide",
                person_id=post.author_id,
                new_value=f"post {post.id}, thread {thread.id}",
                reason=reason,
            )
        )
        return thread.id


def unhide_post(person: Person, post_id: int) -> int:
    """Show a hidden message again (the animation team). Its notifications, dropped when it
    was hidden, are not sent again. Returns the thread's id."""
    with write_transaction():
        require_network_team(person)
        thread, post = _lock_post(post_id)
        if post.hidden_at is None:
            raise Conflict(_("Ce message n'est pas masqué."))
        old_reason = post.hidden_reason
        post.hidden_at = None
        post.hidden_by_id = None
        post.hidden_reason = ""
        thread.post_count += 1
        db.session.add(
            AuditEntry(
                actor_id=person.id,
                action="post.unhide",
                person_id=post.author_id,
                old_value=old_reason,
                new_value=f"post {post.id}, thread {thread.id}",
            )
        )
        return thread.id


def subscribe_thread(person: Person, thread_id: int) -> bool:
    """Follow a thread; whether it is new (following twice is no error)."""
    with write_transaction():
        require_network_space(person)
        thread = _lock_thread(person, thread_id)
        return _follow_thread(person.id, thread.id)


def unsubscribe_thread(person: Person, thread_id: int) -> bool:
    with write_transaction():
        require_network_space(person)
        _lock_thread(person, thread_id)
        return _unfollow(person.id, thread_id=thread_id)


def subscribe_theme(person: Person, theme_id: int) -> bool:
    """Follow every thread of a theme, new ones included."""
    with write_transaction():
        require_network_space(person)
        if db.session.get(NetworkTheme, theme_id) is None:
            raise NotFound(_("Ce thème n'existe pas."))
        return _insert_ignoring_duplicates(
            {"person_id": person.id, "theme_id": theme_id},
            Subscription.person_id,
            Subscription.theme_id,
        )


def unsubscribe_theme(person: Person, theme_id: int) -> bool:
    with write_transaction():
        require_network_space(person)
        if db.session.get(NetworkTheme, theme_id) is None:
            raise NotFound(_("Ce thème n'existe pas."))
        return _unfollow(person.id, theme_id=theme_id)


def _unfollow(person_id: int, thread_id: int | None = None, theme_id: int | None = None) -> bool:
    statement = delete(Subscription).where(Subscription.person_id == person_id)
    if thread_id is not None:
        statement = statement.where(Subscription.thread_id == thread_id)
    if theme_id is not None:
        statement = statement.where(Subscription.theme_id == theme_id)
    return bool(db.session.execute(statement).rowcount)


def set_notify_mode(person: Person, mode: NotifyMode) -> bool:
    """A member's choice: one e-mail per message, or a daily digest. The mode is kept on the
    membership, so the animation team without one is always notified at once. Whether it
    changed."""
    with write_transaction():
        require_network_space(person)
        member = db.session.scalar(
            for_update(select(NetworkMember).where(NetworkMember.person_id == person.id))
        )
        if member is None or member.status != NetworkStatus.member:
            raise NotAllowed(
                _(
                    "Le résumé quotidien est réservé aux membres du réseau : l'équipe "
                    "d'animation reçoit un e-mail à chaque message."
                )
            )
        if member.notify_mode == mode:
            return False
        member.notify_mode = mode
        return True


# Unsubscribe links ---------------------------------------------------------------------------

UNSUBSCRIBE_KINDS = ("thread", "theme", "all")


@dataclass(frozen=True)
class UnsubscribeTarget:
    """What an unsubscribe link names: a person and a thread, a theme, or everything."""

    person_id: int
    kind: str
    target_id: int | None = None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(target: UnsubscribeTarget) -> str:
    return _serializer().dumps([target.person_id, target.kind, target.target_id])


def read_unsubscribe_token(token: str) -> UnsubscribeTarget | None:
    """The target a link names, or None for a token this site did not sign (or garbled)."""
    if not token or len(token) > 200:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, list) or len(data) != 3:
        return None
    person_id, kind, target_id = data
    if type(person_id) is not int or kind not in UNSUBSCRIBE_KINDS:
        return None
    if kind == "all" and target_id is not None:
        return None
    if kind != "all" and type(target_id) is not int:
        return None
    return UnsubscribeTarget(person_id, kind, target_id)


@dataclass(frozen=True)
class UnsubscribePage:
    """What the unsubscribe page shows: what the link names, whether it is still followed,
    and the person's other subscription that still brings this thread (its theme)."""

    target: UnsubscribeTarget
    label: str  # the thread's title or the theme's name ("" for everything)
    subscribed: bool
    count: int  # subscriptions the link would end
    also_theme: FollowedTheme | None = None
    also_theme_token: str | None = None


def unsubscribe_page(target: UnsubscribeTarget) -> UnsubscribePage:
    """NotFound when the person, thread or theme the link names no longer exists."""
    if db.session.get(Person, target.person_id) is None:
        raise NotFound(_("Ce lien de désabonnement n'est pas valide."))
    subscriptions = select(func.count()).where(Subscription.person_id == target.person_id)
    if target.kind == "all":
        count = db.session.scalar(subscriptions)
        return UnsubscribePage(target, "", count > 0, count)
    if target.kind == "theme":
        theme = db.session.get(NetworkTheme, target.target_id)
        if theme is None:
            raise NotFound(_("Ce thème n'existe plus."))
        count = db.session.scalar(subscriptions.where(Subscription.theme_id == theme.id))
        return UnsubscribePage(target, theme.name, count > 0, count)
    thread = db.session.get(Thread, target.target_id)
    if thread is None:
        raise NotFound(_("Cette discussion n'existe plus."))
    count = db.session.scalar(subscriptions.where(Subscription.thread_id == thread.id))
    also = None
    token = None
    if thread.theme_id is not None:
        row = db.session.execute(
            select(NetworkTheme.id, NetworkTheme.name)
            .join(Subscription, Subscription.theme_id == NetworkTheme.id)
            .where(Subscription.person_id == target.person_id, NetworkTheme.id == thread.theme_id)
        ).first()
        if row is not None:
            also = FollowedTheme(*row)
            token = unsubscribe_token(UnsubscribeTarget(target.person_id, "theme", also.id))
    return UnsubscribePage(target, thread.title, count > 0, count, also, token)


def unsubscribe_with_link(target: UnsubscribeTarget) -> int:
    """End what the link names (the link is the credential: no sign-in). Returns how many
    subscriptions ended; 0 when already done."""
    with write_transaction():
        if db.session.get(Person, target.person_id) is None:
            raise NotFound(_("Ce lien de désabonnement n'est pas valide."))
        statement = delete(Subscription).where(Subscription.person_id == target.person_id)
        if target.kind == "thread":
            statement = statement.where(Subscription.thread_id == target.target_id)
        elif target.kind == "theme":
            statement = statement.where(Subscription.theme_id == target.target_id)
        return db.session.execute(statement).rowcount or 0


# Sending -------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What one sending run did."""

    sent: int = 0
    failed: int = 0
    dropped: int = 0  # message hidden, recipient gone or unsubscribed: never sent
    people: int = 0  # digests: people who got one


@dataclass(frozen=True)
class _Item:
    """A notification with everything its e-mail says."""

    id: int
    person_id: int
    email: str
    name: str
    post_id: int
    body: str
    created_at: datetime
    author_name: str | None
    thread_id: int
    thread_title: str
    theme_id: int | None
    theme_name: str | None


@dataclass
class _Sorted:
    keep: list[_Item] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    # (person, thread) pairs followed directly, to name the right subscription in the link.
    follows_thread: set[tuple[int, int]] = field(default_factory=set)


def _items(*conditions) -> _Sorted:
    """Unsent notifications matching the conditions, sorted into those still owed and those
    to drop (hidden message, recipient out of the network, no subscription left)."""
    recipient = aliased(Person)
    author = aliased(Person)
    rows = db.session.execute(
        select(
            PostNotification.id,
            PostNotification.person_id,
            recipient.email,
            recipient.display_name,
            Post.id,
            Post.body,
            Post.created_at,
            author.display_name,
            Thread.id,
            Thread.title,
            Thread.theme_id,
            NetworkTheme.name,
            Post.hidden_at,
            recipient.is_network,
            recipient.is_admin,
            NetworkMember.status,
        )
        .join(recipient, recipient.id == PostNotification.person_id)
        .join(Post, Post.id == PostNotification.post_id)
        .join(Thread, Thread.id == Post.thread_id)
        .outerjoin(author, author.id == Post.author_id)
        .outerjoin(NetworkTheme, NetworkTheme.id == Thread.theme_id)
        .outerjoin(NetworkMember, NetworkMember.person_id == PostNotification.person_id)
        .where(PostNotification.sent_at.is_(None), *conditions)
        .order_by(PostNotification.person_id, Thread.id, Post.id)
    ).all()
    result = _Sorted()
    if not rows:
        return result
    person_ids = {row[1] for row in rows}
    thread_ids = {row[8] for row in rows}
    theme_ids = {row[10] for row in rows if row[10] is not None}
    followed = db.session.execute(
        select(Subscription.person_id, Subscription.thread_id, Subscription.theme_id).where(
            Subscription.person_id.in_(person_ids),
            or_(Subscription.thread_id.in_(thread_ids), Subscription.theme_id.in_(theme_ids)),
        )
    ).all()
    follows_theme = {(p, h) for p, t, h in followed if h is not None}
    result.follows_thread = {(p, t) for p, t, h in followed if t is not None}
    for row in rows:
        item = _Item(*row[:12])
        hidden, is_network, is_admin, status = row[12:]
        sees = is_network or is_admin or status == NetworkStatus.member
        subscribed = (item.person_id, item.thread_id) in result.follows_thread or (
            item.person_id,
            item.theme_id,
        ) in follows_theme
        if hidden is not None or not sees or not subscribed:
            result.dropped.append(item.id)
        else:
            result.keep.append(item)
    return result


def _link_target(item: _Item, follows_thread: set[tuple[int, int]]) -> UnsubscribeTarget:
    """The subscription that brought this message: the thread's when followed, else its
    theme's."""
    if (item.person_id, item.thread_id) in follows_thread or item.theme_id is None:
        return UnsubscribeTarget(item.person_id, "thread", item.thread_id)
    return UnsubscribeTarget(item.person_id, "theme", item.theme_id)


def _unsubscribe_url(target: UnsubscribeTarget) -> str:
    return mailer.public_url("discussion.unsubscribe_link", token=unsubscribe_token(target))


def _post_url(item: _Item) -> str:
    return mailer.public_url(
        "discussion.thread", thread_id=item.thread_id, _anchor=f"message-{item.post_id}"
    )


def _subject(title: str) -> str:
    return _("[Réseau des élu·es] %(title)s", title=title)


def _notification_email(item: _Item, follows_thread: set[tuple[int, int]]):
    target = _link_target(item, follows_thread)
    unsubscribe_url = _unsubscribe_url(target)
    text = render_template(
        "mail/post.txt",
        item=item,
        target=target,
        post_url=_post_url(item),
        unsubscribe_url=unsubscribe_url,
        subscriptions_url=mailer.public_url("discussion.subscriptions"),
    )
    return mailer.compose(item.email, item.name, _subject(item.thread_title), text, unsubscribe_url)


def _record(
    sent: list[int],
    failed: list[int],
    dropped: list[int],
    now: datetime,
    digest_people: list[int] | None = None,
) -> None:
    """Write what the SMTP server said: sent, one more failed attempt, or dropped; and when
    the people who got a digest got it."""
    with write_transaction():
        if digest_people:
            db.session.execute(
                update(NetworkMember)
                .where(NetworkMember.person_id.in_(digest_people))
                .values(digest_sent_at=now)
            )
        if sent:
            db.session.execute(
                update(PostNotification)
                .where(PostNotification.id.in_(sent), PostNotification.sent_at.is_(None))
                .values(sent_at=now)
            )
        if failed:
            db.session.execute(
                update(PostNotification)
                .where(PostNotification.id.in_(failed))
                .values(attempts=PostNotification.attempts + 1, claimed_until=None)
            )
        if dropped:
            db.session.execute(
                delete(PostNotification).where(
                    PostNotification.id.in_(dropped), PostNotification.sent_at.is_(None)
                )
            )


def _claim(ids: list[int]) -> set[int]:
    """Take these notifications for this run, among them those still unsent and taken by no
    other run (or by one whose lease is over); the ids taken. The UPDATE rechecks each row
    once it holds it (PostgreSQL waits for a run taking it at the same moment, then sees it
    taken; SQLite runs one write transaction at a time)."""
    if not ids:
        return set()
    now = utcnow()
    with write_transaction():
        taken = db.session.scalars(
            update(PostNotification)
            .where(
                PostNotification.id.in_(ids),
                PostNotification.sent_at.is_(None),
                or_(
                    PostNotification.claimed_until.is_(None),
                    PostNotification.claimed_until <= now,
                ),
            )
            .values(claimed_until=now + CLAIM_LEASE)
            .returning(PostNotification.id)
            .execution_options(synchronize_session=False)
        ).all()
    return set(taken)


def _send_immediate(*conditions) -> Delivery:
    delivery = Delivery()
    found = _items(PostNotification.digest.is_(False), *conditions)
    for start in range(0, max(len(found.keep), 1), BATCH_SIZE):
        batch = found.keep[start : start + BATCH_SIZE]
        taken = _claim([item.id for item in batch])
        batch = [item for item in batch if item.id in taken]
        results = mailer.send_batch([_notification_email(i, found.follows_thread) for i in batch])
        sent = [item.id for item, ok in zip(batch, results, strict=True) if ok]
        failed = [item.id for item, ok in zip(batch, results, strict=True) if not ok]
        dropped = found.dropped if start == 0 else []
        _record(sent, failed, dropped, utcnow())
        delivery.sent += len(sent)
        delivery.failed += len(failed)
        delivery.dropped += len(dropped)
    return delivery


def deliver_notifications(notification_ids: tuple[int, ...] | list[int]) -> Delivery | None:
    """Send these notifications now (right after the message's commit). Never raises: the
    message is saved whatever happens here; what could not be sent waits for
    `flask reseau envoyer`. Without MAIL_SERVER nothing is sent."""
    if not notification_ids or not mailer.is_configured():
        return None
    try:
        return _send_immediate(PostNotification.id.in_(list(notification_ids)))
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Discussion notifications not sent; they will be retried")
        return None


def send_pending_notifications(now: datetime | None = None) -> Delivery:
    """`flask reseau envoyer`: the immediate notifications still unsent, tried fewer than
    MAX_ATTEMPTS times; a never-tried one only once RETRY_GRACE has passed (until then the
    request that wrote it may be sending it). MailNotConfigured without MAIL_SERVER."""
    if not mailer.is_configured():
        raise mailer.MailNotConfigured("MAIL_SERVER is not set")
    now = now or utcnow()
    return _send_immediate(
        PostNotification.attempts < MAX_ATTEMPTS,
        or_(PostNotification.attempts > 0, PostNotification.created_at <= now - RETRY_GRACE),
    )


@dataclass(frozen=True)
class _DigestThread:
    id: int
    title: str
    theme_name: str | None
    url: str
    unsubscribe_url: str
    posts: list[_Item]


def _digest_email(items: list[_Item], follows_thread: set[tuple[int, int]]):
    first = items[0]
    by_thread: dict[int, list[_Item]] = defaultdict(list)
    for item in items:
        by_thread[item.thread_id].append(item)
    threads = [
        _DigestThread(
            id=posts[0].thread_id,
            title=posts[0].thread_title,
            theme_name=posts[0].theme_name,
            url=mailer.public_url("discussion.thread", thread_id=posts[0].thread_id),
            unsubscribe_url=_unsubscribe_url(_link_target(posts[0], follows_thread)),
            posts=posts,
        )
        for posts in by_thread.values()
    ]
    everything = _unsubscribe_url(UnsubscribeTarget(first.person_id, "all"))
    text = render_template(
        "mail/digest.txt",
        name=first.name,
        threads=threads,
        count=len(items),
        unsubscribe_all_url=everything,
        subscriptions_url=mailer.public_url("discussion.subscriptions"),
    )
    subject = _subject(
        _("résumé du jour, %(n)s nouveaux messages", n=len(items))
        if len(items) > 1
        else _("résumé du jour, 1 nouveau message")
    )
    return mailer.compose(first.email, first.name, subject, text, everything)


def send_digests(now: datetime | None = None) -> Delivery:
    """`flask reseau resume`: to each person with daily notifications waiting, one e-mail
    listing them by thread (hidden messages left out), then marked sent, and the
    membership's `digest_sent_at` set. Running it again sends nothing new."""
    if not mailer.is_configured():
        raise mailer.MailNotConfigured("MAIL_SERVER is not set")
    delivery = Delivery()
    found = _items(PostNotification.digest.is_(True), PostNotification.attempts < MAX_ATTEMPTS)
    by_person: dict[int, list[_Item]] = defaultdict(list)
    for item in found.keep:
        by_person[item.person_id].append(item)
    people = list(by_person.items())
    for start in range(0, max(len(people), 1), BATCH_SIZE):
        batch = people[start : start + BATCH_SIZE]
        taken = _claim([item.id for _p, items in batch for item in items])
        batch = [
            (person_id, mine)
            for person_id, items in batch
            if (mine := [item for item in items if item.id in taken])
        ]
        results = mailer.send_batch([_digest_email(i, found.follows_thread) for _p, i in batch])
        sent_people = [p for (p, _i), ok in zip(batch, results, strict=True) if ok]
        sent = [i.id for (_p, items), ok in zip(batch, results, strict=True) if ok for i in items]
        failed = [
            i.id for (_p, items), ok in zip(batch, results, strict=True) if not ok for i in items
        ]
        dropped = found.dropped if start == 0 else []
        _record(sent, failed, dropped, now or utcnow(), sent_people)
        delivery.sent += len(sent)
        delivery.failed += len(failed)
        delivery.dropped += len(dropped)
        delivery.people += len(sent_people)
    return delivery
