"""Support requests (demandes d'appui): a member of the network asks its animation team for
technical or legal help; the team assigns, answers in a private exchange, and closes.

Lifecycle: open (nobody assigned) → assigned (prise en charge) → answered (the team wrote;
the member may reply, which sends it back to the team: assigned, or open when nobody is
assigned) → closed (by the team or by the member); the team alone reopens a closed request.
Nothing else happens to a closed request.

Who sees a request: its requester and the network team (and admins). Anybody else who sees
the network's space gets "not found", so that ids tell nothing; outside the space, 403.

The request's history (status and assignee) is read from the audit log: each change writes an
AuditEntry linked to the request (and, by `person_id`, to its requester) whose old and new
values are `request=<id>;status=<status>;assignee=<person id or empty>`.

E-mail notices, sent after the commit, only with MAIL_SERVER set, never to the person who
acted: a new request to each person of the network team (`is_network`); the team's answer,
or closing with a message, to the requester; the requester's message (reply, or closing with
a message) to the assignee, or to the whole team when nobody has it; a request given to a
colleague, to that colleague (not when one takes it oneself). They carry the subject,
kind, urgency and the link, never the details, messages or files (legal matters stay on the
site). A notice that cannot be sent is logged and dropped, never retried and never failing the
action: the request's page shows its status anyway, and it is the source of truth.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased

from models import (
    AuditEntry,
    NetworkMember,
    NetworkStatus,
    Person,
    SupportFile,
    SupportKind,
    SupportMessage,
    SupportRequest,
    SupportStatus,
    SupportUrgency,
    db,
    utcnow,
)

from . import documents, mailer
from .errors import Conflict, Invalid, NotAllowed, NotFound
from .network_access import (
    forget_network_member,
    is_network_team,
    require_network_member,
    require_network_space,
    require_network_team,
)
from .tx import for_update, write_transaction

FOLDER = "support"
SUBJECT_MAX = 200
DETAILS_MAX = 20_000
MESSAGE_MAX = 10_000

S = SupportStatus
ACTIVE = (S.open, S.assigned, S.answered)

# Audit actions; their entries make the request's history.
ACTIONS = (
    "support.create",
    "support.assign",
    "support.answer",
    "support.reply",
    "support.close",
    "support.reopen",
)

# Most urgent first, in the team's queue.
URGENCY_ORDER = (SupportUrgency.tres_urgente, SupportUrgency.urgente, SupportUrgency.normale)

KIND_LABELS = {
    SupportKind.technique: _l("Technique"),
    SupportKind.juridique: _l("Juridique"),
}
URGENCY_LABELS = {
    SupportUrgency.normale: _l("Normale"),
    SupportUrgency.urgente: _l("Urgente"),
    SupportUrgency.tres_urgente: _l("Très urgente"),
}
URGENCY_HINTS = {
    SupportUrgency.normale: _l("l'équipe vous répond dès qu'elle le peut"),
    SupportUrgency.urgente: _l("une réponse dans la semaine"),
    SupportUrgency.tres_urgente: _l("une séance dans les jours qui viennent"),
}

STATUS_NAMES = {
    S.open: _l("nouvelle"),
    S.assigned: _l("prise en charge"),
    S.answered: _l("répondue"),
    S.closed: _l("close"),
}


# Checks ------------------------------------------------------------------------------------


def clean_text(text: str | None, max_length: int, empty: str, label: str) -> str:
    text = (text or "").strip().replace("\r\n", "\n")
    if not text:
        raise Invalid(empty)
    if len(text) > max_length:
        raise Invalid(
            _(
                "%(label)s : %(max)d caractères au plus (le vôtre en compte %(n)d).",
                label=label,
                max=max_length,
                n=len(text),
            )
        )
    return text


def clean_subject(subject: str | None) -> str:
    subject = clean_text(subject, SUBJECT_MAX, _("Donnez un objet à votre demande."), _("L'objet"))
    return " ".join(subject.split())


def clean_details(details: str | None) -> str:
    return clean_text(
        details,
        DETAILS_MAX,
        _("Décrivez votre situation : l'équipe en a besoin pour vous répondre."),
        _("Les détails"),
    )


def clean_message(body: str | None) -> str:
    return clean_text(
        body, MESSAGE_MAX, _("Écrivez votre message avant de l'envoyer."), _("Le message")
    )


def check_files(files: list[tuple[str, bytes]]) -> list[documents.CheckedDocument]:
    """Every file checked by its content before any is stored (services.documents)."""
    config = current_app.config
    return documents.check_documents(
        files, config["NETWORK_FILE_MAX_FILES"], config["NETWORK_FILE_MAX_BYTES"]
    )


def _uploads_root() -> str:
    return current_app.config["UPLOADS_PATH"]


def _store_files(
    request: SupportRequest,
    message_id: int | None,
    person: Person,
    checked: list[documents.CheckedDocument],
    written: list[Path],
) -> None:
    """Write the files and their rows; `written` collects the paths, to remove on failure."""
    for document in checked:
        stored_name, paths = documents.store_document(_uploads_root(), document, FOLDER)
        written += paths
        db.session.add(
            SupportFile(
                request_id=request.id,
                message_id=message_id,
                stored_name=stored_name,
                display_name=document.display_name,
                content_type=document.content_type,
                size=document.size,
                sha256=document.sha256,
                uploaded_by_id=person.id,
            )
        )


# Who sees what -------------------------------------------------------------------------------


def may_see(person: Person, request: SupportRequest) -> bool:
    return request.requester_id == person.id or is_network_team(person)


def viewable_request(person: Person, request_id: int) -> SupportRequest:
    """The request, for its requester and the network team: the space first (403), then the
    request (404 for anybody else, as for an id that does not exist)."""
    require_network_space(person)
    request = db.session.get(SupportRequest, request_id)
    if request is None or not may_see(person, request):
        raise NotFound(_("Cette demande d'appui n'existe pas."))
    return request


def viewable_file(person: Person, request_id: int, file_id: int) -> SupportFile:
    viewable_request(person, request_id)
    row = db.session.get(SupportFile, file_id)
    if row is None or row.request_id != request_id:
        raise NotFound(_("Ce fichier n'existe pas."))
    return row


def file_path(row: SupportFile) -> Path:
    return documents.document_path(_uploads_root(), FOLDER, row.stored_name)


def require_requester(person: Person, request: SupportRequest) -> None:
    if request.requester_id != person.id:
        raise NotAllowed(
            _(
                "Seule la personne qui a demandé l'appui écrit ici ; l'équipe d'animation "
                "répond avec le formulaire « Répondre »."
            )
        )


def _lock(request_id: int) -> SupportRequest:
    request = db.session.scalar(
        for_update(select(SupportRequest).where(SupportRequest.id == request_id))
    )
    if request is None:
        raise NotFound(_("Cette demande d'appui n'existe pas."))
    return request


def _lock_visible(person: Person, request_id: int) -> SupportRequest:
    request = _lock(request_id)
    if not may_see(person, request):
        raise NotFound(_("Cette demande d'appui n'existe pas."))
    return request


def _require_open(request: SupportRequest, message: str | None = None) -> None:
    if request.status == S.closed:
        raise Conflict(
            message
            or _(
                "Cette demande est close : plus rien ne peut y être ajouté. L'équipe "
                "d'animation peut la rouvrir si le problème revient."
            )
        )


def _require_team_member(assignee_id: int | None) -> Person:
    assignee = db.session.get(Person, assignee_id) if assignee_id else None
    if assignee is None or not is_network_team(assignee):
        raise Invalid(_("Choisissez une personne de l'équipe d'animation du réseau."))
    return assignee


def _state(request: SupportRequest) -> str:
    assignee = request.assignee_id or ""
    return f"request={request.id};status={request.status.value};assignee={assignee}"


def _audit(person: Person, action: str, request: SupportRequest, before: str) -> None:
    db.session.add(
        AuditEntry(
            actor_id=person.id,
            action=action,
            person_id=request.requester_id,
            support_request_id=request.id,
            old_value=before,
            new_value=_state(request),
        )
    )


def _add_message(
    request: SupportRequest, person: Person, body: str, from_team: bool, now: datetime
) -> SupportMessage:
    message = SupportMessage(
        request_id=request.id,
        author_id=person.id,
        from_team=from_team,
        body=body,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message


# E-mail notices ----------------------------------------------------------------------------

# What an action tells by e-mail, and to whom.
NOTICE_NEW = "new"  # a member asked: the team
NOTICE_ANSWER = "answer"  # the team answered: the requester
NOTICE_TEAM_CLOSE = "team_close"  # the team closed with a last message: the requester
NOTICE_REPLY = "reply"  # the requester wrote: the assignee, or the team
NOTICE_REQUESTER_CLOSE = "requester_close"  # the requester closed with a message: the same
NOTICE_ASSIGNED = "assigned"  # a colleague gave the request to someone of the team: them

NOTICE_TEMPLATES = {
    NOTICE_NEW: "mail/support_new.txt",
    NOTICE_ANSWER: "mail/support_answer.txt",
    NOTICE_TEAM_CLOSE: "mail/support_answer.txt",
    NOTICE_REPLY: "mail/support_reply.txt",
    NOTICE_REQUESTER_CLOSE: "mail/support_reply.txt",
    NOTICE_ASSIGNED: "mail/support_assigned.txt",
}


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


@dataclass(frozen=True)
class Notice:
    """The e-mails an action owes, gathered in its transaction and sent after its commit
    (plain values: nothing is read from the database once committed)."""

    event: str  # one of NOTICE_TEMPLATES
    recipients: tuple[Recipient, ...]
    request_id: int
    subject: str
    kind: SupportKind
    urgency: SupportUrgency
    requester_name: str
    assigned_to_recipient: bool = False  # reply notices: sent to the assignee alone
    actor_name: str = ""  # who acted (the colleague who gave the request)


def _recipient(person: Person) -> Recipient:
    return Recipient(person.email, person.display_name)


def _team_recipients(actor_id: int) -> list[Recipient]:
    """The network's animation team (the staff role; admins only when they hold it too)."""
    rows = db.session.execute(
        select(Person.email, Person.display_name)
        .where(Person.is_network.is_(True), Person.id != actor_id)
        .order_by(Person.id)
    ).all()
    return [Recipient(*row) for row in rows]


def _requester_recipient(request: SupportRequest, actor_id: int) -> list[Recipient]:
    """The requester, while they still see the request (not once excluded from the
    network: the link would only say 403)."""
    if request.requester_id == actor_id:
        return []
    row = db.session.execute(
        select(
            Person.email,
            Person.display_name,
            Person.is_network,
            Person.is_admin,
            NetworkMember.status,
        )
        .outerjoin(NetworkMember, NetworkMember.person_id == Person.id)
        .where(Person.id == request.requester_id)
    ).first()
    if row is None:
        return []
    email, name, is_network, is_admin, status = row
    if not (is_network or is_admin or status == NetworkStatus.member):
        return []
    return [Recipient(email, name)]


def _assignee_or_team(request: SupportRequest, actor_id: int) -> tuple[list[Recipient], bool]:
    """Who hears of the requester's message: the assignee while still on the team, else the
    whole team; and whether it went to the assignee alone."""
    if request.assignee_id is not None:
        assignee = db.session.get(Person, request.assignee_id)
        if assignee is not None and is_network_team(assignee):
            if assignee.id == actor_id:
                return [], True
            return [_recipient(assignee)], True
    return _team_recipients(actor_id), False


def _notice(event: str, request: SupportRequest, actor: Person) -> Notice | None:
    """The e-mails `actor`'s action on the request owes; None when nothing is sent (no
    MAIL_SERVER, or nobody to tell)."""
    if not mailer.is_configured():
        return None
    assigned = False
    if event == NOTICE_NEW:
        recipients = _team_recipients(actor.id)
    elif event in (NOTICE_ANSWER, NOTICE_TEAM_CLOSE):
        recipients = _requester_recipient(request, actor.id)
    elif event == NOTICE_ASSIGNED:
        assignee = db.session.get(Person, request.assignee_id)
        recipients = [] if assignee.id == actor.id else [_recipient(assignee)]
        assigned = True
    else:
        recipients, assigned = _assignee_or_team(request, actor.id)
    if not recipients:
        return None
    if request.requester_id == actor.id:
        requester_name = actor.display_name
    else:
        requester_name = db.session.scalar(
            select(Person.display_name).where(Person.id == request.requester_id)
        )
    return Notice(
        event=event,
        recipients=tuple(recipients),
        request_id=request.id,
        subject=request.subject,
        kind=request.kind,
        urgency=request.urgency,
        requester_name=requester_name or "",
        assigned_to_recipient=assigned,
        actor_name=actor.display_name,
    )


def _notice_subject(notice: Notice) -> str:
    if notice.event == NOTICE_NEW:
        return _(
            "[Réseau des élu·es] Demande d'appui (%(urgency)s) : %(subject)s",
            urgency=str(URGENCY_LABELS[notice.urgency]),
            subject=notice.subject,
        )
    if notice.event in (NOTICE_ANSWER, NOTICE_TEAM_CLOSE):
        return _(
            "[Réseau des élu·es] Réponse à votre demande d'appui : %(subject)s",
            subject=notice.subject,
        )
    if notice.event == NOTICE_REQUESTER_CLOSE:
        return _("[Réseau des élu·es] Demande d'appui close : %(subject)s", subject=notice.subject)
    if notice.event == NOTICE_ASSIGNED:
        return _(
            "[Réseau des élu·es] Demande d'appui qui vous est confiée : %(subject)s",
            subject=notice.subject,
        )
    return _(
        "[Réseau des élu·es] Nouveau message sur la demande d'appui : %(subject)s",
        subject=notice.subject,
    )


def notice_emails(notice: Notice) -> list:
    """One e-mail per recipient: what the request is and its link, never its content."""
    url = mailer.public_url("support.show", request_id=notice.request_id)
    subject = _notice_subject(notice)
    emails = []
    for recipient in notice.recipients:
        text = render_template(
            NOTICE_TEMPLATES[notice.event],
            notice=notice,
            recipient=recipient,
            url=url,
            kind_label=KIND_LABELS[notice.kind],
            urgency_label=URGENCY_LABELS[notice.urgency],
        )
        emails.append(mailer.compose(recipient.email, recipient.name, subject, text))
    return emails


def send_notice(notice: Notice | None) -> None:
    """Send the notice's e-mails over one connection, after the action's commit. Never
    raises: the action is done whatever happens here; an e-mail not sent is logged, not
    retried (the request's page shows its status: the site is the source of truth)."""
    if notice is None or not mailer.is_configured():
        return
    logger = current_app.logger
    try:
        results = mailer.send_batch(notice_emails(notice))
    except Exception:
        logger.exception(
            "Support request %s: %s e-mail(s) not sent (not retried)",
            notice.request_id,
            notice.event,
        )
        return
    failed = results.count(False)
    if failed:
        logger.warning(
            "Support request %s: %d of %d %s e-mail(s) not sent (not retried)",
            notice.request_id,
            failed,
            len(results),
            notice.event,
        )


# Actions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewRequest:
    kind: SupportKind
    urgency: SupportUrgency
    subject: str
    details: str


def create_request(person: Person, fields: NewRequest, files: list[tuple[str, bytes]] = ()) -> int:
    """A member asks for support; the new request's id."""
    require_network_member(person)
    fields = replace(
        fields,
        kind=SupportKind(fields.kind),
        urgency=SupportUrgency(fields.urgency),
        subject=clean_subject(fields.subject),
        details=clean_details(fields.details),
    )
    checked = check_files(list(files))
    written: list[Path] = []
    try:
        with write_transaction():
            # Membership could have ended since the page was shown: checked under its lock.
            forget_network_member(person)
            db.session.scalar(
                for_update(select(NetworkMember).where(NetworkMember.person_id == person.id))
            )
            require_network_member(person)
            now = utcnow()
            request = SupportRequest(
                requester_id=person.id,
                status=S.open,
                created_at=now,
                updated_at=now,
                **vars(fields),
            )
            db.session.add(request)
            db.session.flush()
            _store_files(request, None, person, checked, written)
            _audit(person, "support.create", request, "")
            request_id = request.id
            notice = _notice(NOTICE_NEW, request, person)
    except BaseException:
        documents.remove_document_files(written)
        raise
    send_notice(notice)
    return request_id


def assign_request(person: Person, request_id: int, assignee_id: int | None) -> Person:
    """The team gives the request to one of its own (themself or another); the assignee."""
    require_network_team(person)
    with write_transaction():
        require_network_team(person)
        request = _lock(request_id)
        _require_open(
            request, _("Cette demande est close : rouvrez-la avant de la confier à quelqu'un.")
        )
        assignee = _require_team_member(assignee_id)
        if request.assignee_id == assignee.id:
            raise Conflict(
                _(
                    "Cette demande est déjà prise en charge par %(name)s.",
                    name=assignee.display_name,
                )
            )
        before = _state(request)
        request.assignee_id = assignee.id
        request.status = S.assigned
        request.updated_at = utcnow()
        _audit(person, "support.assign", request, before)
        notice = _notice(NOTICE_ASSIGNED, request, person)
    send_notice(notice)
    return assignee


def answer_request(
    person: Person, request_id: int, body: str, files: list[tuple[str, bytes]] = ()
) -> None:
    """The team answers in the exchange; whoever answers a request nobody had takes it."""
    require_network_team(person)
    body = clean_message(body)
    checked = check_files(list(files))
    written: list[Path] = []
    try:
        with write_transaction():
            require_network_team(person)
            request = _lock(request_id)
            _require_open(request)
            before = _state(request)
            now = utcnow()
            message = _add_message(request, person, body, True, now)
            _store_files(request, message.id, person, checked, written)
            if request.assignee_id is None:
                request.assignee_id = person.id
            request.status = S.answered
            request.updated_at = now
            _audit(person, "support.answer", request, before)
            notice = _notice(NOTICE_ANSWER, request, person)
    except BaseException:
        documents.remove_document_files(written)
        raise
    send_notice(notice)


def reply_to_request(
    person: Person, request_id: int, body: str, files: list[tuple[str, bytes]] = ()
) -> None:
    """The requester writes in the exchange: the request goes back to the team."""
    require_network_space(person)
    body = clean_message(body)
    checked = check_files(list(files))
    written: list[Path] = []
    try:
        with write_transaction():
            require_network_space(person)
            request = _lock_visible(person, request_id)
            require_requester(person, request)
            _require_open(
                request,
                _(
                    "Cette demande est close : votre message n'a pas été envoyé. Si le problème "
                    "revient, faites une nouvelle demande."
                ),
            )
            before = _state(request)
            now = utcnow()
            message = _add_message(request, person, body, False, now)
            _store_files(request, message.id, person, checked, written)
            request.status = S.assigned if request.assignee_id else S.open
            request.updated_at = now
            _audit(person, "support.reply", request, before)
            notice = _notice(NOTICE_REPLY, request, person)
    except BaseException:
        documents.remove_document_files(written)
        raise
    send_notice(notice)


def close_request(person: Person, request_id: int, body: str = "") -> None:
    """The team, or the requester ("mon problème est résolu"), closes the request, with an
    optional last message."""
    require_network_space(person)
    body = clean_message(body) if (body or "").strip() else ""
    with write_transaction():
        require_network_space(person)
        request = _lock_visible(person, request_id)
        _require_open(request, _("Cette demande est déjà close."))
        before = _state(request)
        now = utcnow()
        by_requester = request.requester_id == person.id
        if body:
            _add_message(request, person, body, not by_requester, now)
        request.status = S.closed
        request.closed_at = now
        request.closed_by_id = person.id
        request.updated_at = now
        _audit(person, "support.close", request, before)
        notice = None
        if body:
            event = NOTICE_REQUESTER_CLOSE if by_requester else NOTICE_TEAM_CLOSE
            notice = _notice(event, request, person)
    send_notice(notice)


def reopen_request(person: Person, request_id: int) -> None:
    """The team reopens a closed request: back to its assignee, or to the queue."""
    require_network_team(person)
    with write_transaction():
        require_network_team(person)
        request = _lock(request_id)
        if request.status != S.closed:
            raise Conflict(
                _(
                    "Cette demande n'est pas close (elle est « %(status)s ») : il n'y a rien "
                    "à rouvrir.",
                    status=str(STATUS_NAMES[request.status]),
                )
            )
        before = _state(request)
        request.status = S.assigned if request.assignee_id else S.open
        request.closed_at = None
        request.closed_by_id = None
        request.updated_at = utcnow()
        _audit(person, "support.reopen", request, before)


# Lists ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRow:
    id: int
    subject: str
    kind: SupportKind
    urgency: SupportUrgency
    status: SupportStatus
    created_at: datetime
    updated_at: datetime
    requester_id: int
    requester_name: str
    assignee_id: int | None
    assignee_name: str | None


def _rows_query():
    requester = aliased(Person)
    assignee = aliased(Person)
    return (
        select(
            SupportRequest.id,
            SupportRequest.subject,
            SupportRequest.kind,
            SupportRequest.urgency,
            SupportRequest.status,
            SupportRequest.created_at,
            SupportRequest.updated_at,
            SupportRequest.requester_id,
            requester.display_name,
            SupportRequest.assignee_id,
            assignee.display_name,
        )
        .join(requester, requester.id == SupportRequest.requester_id)
        .outerjoin(assignee, assignee.id == SupportRequest.assignee_id)
    )


@dataclass(frozen=True)
class Page:
    rows: list[RequestRow]
    total: int
    page: int
    pages: int


def _paged(query, count_query, page: int, per_page: int) -> Page:
    total = db.session.scalar(count_query) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page([RequestRow(*row) for row in rows], total, page, pages)


def my_requests(person: Person, page: int, per_page: int) -> Page:
    """The person's own requests, the latest activity first."""
    mine = SupportRequest.requester_id == person.id
    return _paged(
        _rows_query()
        .where(mine)
        .order_by(SupportRequest.updated_at.desc(), SupportRequest.id.desc()),
        select(func.count()).select_from(SupportRequest).where(mine),
        page,
        per_page,
    )


# The queue's status filter: its value in the address and the statuses it lists.
STATUS_FILTERS: dict[str, tuple[SupportStatus, ...]] = {
    "en-cours": ACTIVE,
    "nouvelles": (S.open,),
    "prises-en-charge": (S.assigned,),
    "repondues": (S.answered,),
    "closes": (S.closed,),
    "toutes": (S.open, S.assigned, S.answered, S.closed),
}
DEFAULT_STATUS = "en-cours"
STATUS_FILTER_OF = {
    S.open: "nouvelles",
    S.assigned: "prises-en-charge",
    S.answered: "repondues",
    S.closed: "closes",
}
ASSIGNEE_FILTERS = ("moi", "personne")  # and "" for anyone


@dataclass(frozen=True)
class QueueFilters:
    status: str = DEFAULT_STATUS
    kind: str = ""  # a SupportKind's value, or "" for both
    urgency: str = ""  # a SupportUrgency's value, or "" for all
    assignee: str = ""  # "moi", "personne" or "" for anyone

    @property
    def statuses(self) -> tuple[SupportStatus, ...]:
        return STATUS_FILTERS[self.status]

    def with_status(self, status: str) -> "QueueFilters":
        return replace(self, status=status)

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments, defaults left out."""
        args = {
            "statut": self.status if self.status != DEFAULT_STATUS else "",
            "type": self.kind,
            "urgence": self.urgency,
            "suivi": self.assignee,
        }
        return {key: value for key, value in args.items() if value}


def clean_filters(args) -> QueueFilters:
    """Filters from a query string; anything unknown is ignored, never an error."""
    status = args.get("statut", "")
    kind = args.get("type", "")
    urgency = args.get("urgence", "")
    assignee = args.get("suivi", "")
    return QueueFilters(
        status=status if status in STATUS_FILTERS else DEFAULT_STATUS,
        kind=kind if kind in SupportKind.__members__ else "",
        urgency=urgency if urgency in SupportUrgency.__members__ else "",
        assignee=assignee if assignee in ASSIGNEE_FILTERS else "",
    )


@dataclass(frozen=True)
class Queue:
    page: Page
    counts: dict[SupportStatus, int]  # under every filter but the status


def queue(person: Person, filters: QueueFilters, page: int, per_page: int) -> Queue:
    """The team's queue: the most urgent first, then the oldest; three queries."""
    require_network_team(person)
    conditions = []
    if filters.kind:
        conditions.append(SupportRequest.kind == SupportKind(filters.kind))
    if filters.urgency:
        conditions.append(SupportRequest.urgency == SupportUrgency(filters.urgency))
    if filters.assignee == "moi":
        conditions.append(SupportRequest.assignee_id == person.id)
    elif filters.assignee == "personne":
        conditions.append(SupportRequest.assignee_id.is_(None))
    counted = dict(
        db.session.execute(
            select(SupportRequest.status, func.count())
            .where(*conditions)
            .group_by(SupportRequest.status)
        ).all()
    )
    counts = {status: counted.get(status, 0) for status in SupportStatus}
    conditions.append(SupportRequest.status.in_(filters.statuses))
    urgency_rank = case(
        {urgency: rank for rank, urgency in enumerate(URGENCY_ORDER)},
        value=SupportRequest.urgency,
    )
    result = _paged(
        _rows_query()
        .where(*conditions)
        .order_by(urgency_rank, SupportRequest.created_at, SupportRequest.id),
        select(func.count()).select_from(SupportRequest).where(*conditions),
        page,
        per_page,
    )
    return Queue(result, counts)


def team_people() -> list[Person]:
    """Whom a request can be given to: the network team and the admins."""
    return list(
        db.session.scalars(
            select(Person)
            .where(or_(Person.is_network.is_(True), Person.is_admin.is_(True)))
            .order_by(Person.display_name, Person.id)
        )
    )


# A request's page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileRow:
    id: int
    display_name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MessageRow:
    id: int
    author_name: str | None
    from_team: bool
    body: str
    created_at: datetime
    files: list[FileRow]


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    action: str  # one of ACTIONS, without "support."
    actor_name: str | None
    status: SupportStatus
    old_status: SupportStatus | None
    assignee_name: str | None  # when the assignee changed
    assignee_changed: bool


@dataclass(frozen=True)
class RequestPage:
    request: SupportRequest
    requester_name: str
    assignee_name: str | None
    closed_by_name: str | None
    files: list[FileRow]  # sent with the request itself
    messages: list[MessageRow]
    history: list[HistoryEntry]


def _parse_state(value: str) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in value.split(";") if part)


def request_page(request: SupportRequest) -> RequestPage:
    """What the request's page shows; five queries."""
    files_by_message: dict[int | None, list[FileRow]] = defaultdict(list)
    for row in db.session.execute(
        select(
            SupportFile.message_id,
            SupportFile.id,
            SupportFile.display_name,
            SupportFile.content_type,
            SupportFile.size,
        )
        .where(SupportFile.request_id == request.id)
        .order_by(SupportFile.id)
    ):
        files_by_message[row[0]].append(FileRow(*row[1:]))
    messages = [
        MessageRow(id, name, from_team, body, created_at, files_by_message.get(id, []))
        for id, name, from_team, body, created_at in db.session.execute(
            select(
                SupportMessage.id,
                Person.display_name,
                SupportMessage.from_team,
                SupportMessage.body,
                SupportMessage.created_at,
            )
            .outerjoin(Person, Person.id == SupportMessage.author_id)
            .where(SupportMessage.request_id == request.id)
            .order_by(SupportMessage.id)
        )
    ]
    entries = db.session.execute(
        select(
            AuditEntry.at,
            AuditEntry.action,
            Person.display_name,
            AuditEntry.old_value,
            AuditEntry.new_value,
        )
        .outerjoin(Person, Person.id == AuditEntry.actor_id)
        .where(
            AuditEntry.support_request_id == request.id,
            AuditEntry.action.in_(ACTIONS),
        )
        .order_by(AuditEntry.id)
    ).all()
    states = [(_parse_state(old), _parse_state(new)) for *_rest, old, new in entries]
    people_ids = {
        int(new["assignee"]) for _old, new in states if new.get("assignee", "").isdecimal()
    }
    for extra in (request.requester_id, request.assignee_id, request.closed_by_id):
        if extra:
            people_ids.add(extra)
    names = dict(
        db.session.execute(
            select(Person.id, Person.display_name).where(Person.id.in_(people_ids))
        ).all()
    )
    history = []
    for (at, action, actor_name, _old_value, _new_value), (old, new) in zip(
        entries, states, strict=True
    ):
        new_assignee = new.get("assignee", "")
        history.append(
            HistoryEntry(
                at=at,
                action=action.partition(".")[2],
                actor_name=actor_name,
                status=SupportStatus(new["status"]),
                old_status=SupportStatus(old["status"]) if old.get("status") else None,
                assignee_name=names.get(int(new_assignee)) if new_assignee else None,
                assignee_changed=old.get("assignee", "") != new_assignee,
            )
        )
    return RequestPage(
        request=request,
        requester_name=names.get(request.requester_id, ""),
        assignee_name=names.get(request.assignee_id) if request.assignee_id else None,
        closed_by_name=names.get(request.closed_by_id) if request.closed_by_id else None,
        files=files_by_message.get(None, []),
        messages=messages,
        history=history,
    )
