"""The finance team's queue of spending requests: what waits for a review, what is to pay, the
CSV of the requests to pay and the SEPA transfer file that pays them.

What the queue lists. By default the requests waiting for the finance team: those to examine
first, then those on which the team asked the group a question. A filter picks one status, or
every request the team has received (drafts and requests awaiting their group's validation
are the group's work in progress: never listed). The other filters narrow by group, category
and action (the proposal of the commitment the request is linked to, or none).

Each page function issues a fixed number of queries, whatever the number of requests; the CSV
is streamed (`yield_per`). Producing the transfer file changes nothing: the requests stay
approved until the team marks them paid (`services.spending.mark_paid`), once the bank has
taken the file.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, case, func, select

from models import (
    ActionGroup,
    AuditEntry,
    Commitment,
    Person,
    Proposal,
    ProposalStatus,
    SpendingCategory,
    SpendingRequest,
    SpendingStatus,
    as_id,
    db,
)

from .access import require_staff
from .errors import Conflict, Invalid, NotFound
from .finance_queries import (
    FINANCE_ROLES,
    PARIS,
    STREAM_BATCH,
    csv_amount,
    csv_datetime,
    csv_text,
)
from .money import format_cents
from .sepa import MAX_DESCRIPTION, Payment, credit_transfer_xml
from .tx import write_transaction

S = SpendingStatus
WAITING = (S.awaiting_finance, S.info_requested)
# Every status a request has once its group sent it to the finance team.
RECEIVED = (S.awaiting_finance, S.info_requested, S.approved, S.paid, S.refused)

# The status filter's values (in the address) and the statuses each one lists.
STATUS_FILTERS: dict[str, tuple[SpendingStatus, ...]] = {
    "a-traiter": WAITING,
    "a-examiner": (S.awaiting_finance,),
    "informations-demandees": (S.info_requested,),
    "a-payer": (S.approved,),
    "payees": (S.paid,),
    "refusees": (S.refused,),
    "toutes": RECEIVED,
}
DEFAULT_STATUS = "a-traiter"
# The filter value that lists one status alone, for the counts' links.
STATUS_FILTER_OF = {
    S.awaiting_finance: "a-examiner",
    S.info_requested: "informations-demandees",
    S.approved: "a-payer",
    S.paid: "payees",
    S.refused: "refusees",
}
# The action filter: a proposal's id, or the requests linked to no action.
NO_ACTION = "aucune"


@dataclass(frozen=True)
class QueueFilters:
    status: str = DEFAULT_STATUS
    group_id: int | None = None
    category: str = ""  # a SpendingCategory's value, or "" for all
    action: str = ""  # "", "aucune" or a proposal's id as digits

    @property
    def statuses(self) -> tuple[SpendingStatus, ...]:
        return STATUS_FILTERS.get(self.status, WAITING)

    @property
    def narrowed(self) -> bool:
        """Some filter other than the status is set."""
        return bool(self.group_id or self.category or self.action)

    def with_status(self, status: str) -> "QueueFilters":
        return replace(self, status=status)

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments, defaults left out."""
        args = {
            "statut": self.status if self.status != DEFAULT_STATUS else "",
            "groupe": str(self.group_id) if self.group_id else "",
            "categorie": self.category,
            "action": self.action,
        }
        return {key: value for key, value in args.items() if value}

    def narrowing_args(self) -> dict[str, str]:
        """The filters but the status, as query-string arguments (for the CSV of those to
        pay, whatever status the page shows)."""
        return {key: value for key, value in self.as_args().items() if key != "statut"}


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True)
class QueueChoices:
    """What the group and action filters offer: those that have requests in the queue."""

    groups: list[Choice]
    actions: list[Choice]


def queue_choices() -> QueueChoices:
    """Two queries: the groups, and the actions, that requests sent to the team belong to."""
    received = SpendingRequest.status.in_(RECEIVED)
    groups = db.session.execute(
        select(ActionGroup.id, ActionGroup.name)
        .where(ActionGroup.id.in_(select(SpendingRequest.group_id).where(received)))
        .order_by(ActionGroup.name, ActionGroup.id)
    ).all()
    actions = db.session.execute(
        select(Proposal.id, Proposal.title)
        .where(
            Proposal.id.in_(
                select(Commitment.proposal_id)
                .join(SpendingRequest, SpendingRequest.commitment_id == Commitment.id)
                .where(received)
            )
        )
        .order_by(Proposal.title, Proposal.id)
    ).all()
    return QueueChoices([Choice(*row) for row in groups], [Choice(*row) for row in actions])


def clean_filters(args: Mapping[str, str], choices: QueueChoices) -> QueueFilters:
    """Filters from a query string; anything malformed or unknown is ignored, never an error."""
    status = args.get("statut", "")
    raw_group = args.get("groupe", "")
    group_ids = {choice.id for choice in choices.groups}
    group_id = as_id(raw_group)
    category = args.get("categorie", "")
    action = args.get("action", "")
    action_ids = {str(choice.id) for choice in choices.actions}
    return QueueFilters(
        status=status if status in STATUS_FILTERS else DEFAULT_STATUS,
        group_id=group_id if group_id in group_ids else None,
        category=category if category in SpendingCategory.__members__ else "",
        action=action if action == NO_ACTION or action in action_ids else "",
    )


def _narrowed(query: Select, filters: QueueFilters) -> Select:
    """Every filter but the status, which the counts break down."""
    if filters.group_id:
        query = query.where(SpendingRequest.group_id == filters.group_id)
    if filters.category:
        query = query.where(SpendingRequest.category == SpendingCategory(filters.category))
    if filters.action == NO_ACTION:
        query = query.where(SpendingRequest.commitment_id.is_(None))
    elif filters.action:
        query = query.where(
            SpendingRequest.commitment_id.in_(
                select(Commitment.id).where(Commitment.proposal_id == int(filters.action))
            )
        )
    return query


@dataclass(frozen=True)
class QueueRow:
    id: int
    submitted_at: datetime | None
    decided_at: datetime | None
    group_id: int
    group_name: str
    title: str
    category: SpendingCategory
    amount_cents: int
    status: SpendingStatus
    round_cents: int | None
    envelope_cents: int | None
    proposal_id: int | None
    proposal_title: str | None
    proposal_slug: str | None
    proposal_status: ProposalStatus | None

    @property
    def is_payable(self) -> bool:
        return self.status == S.approved

    @property
    def has_split(self) -> bool:
        return self.round_cents is not None

    @property
    def proposal_is_public(self) -> bool:
        return self.proposal_status == ProposalStatus.published


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    # Per status, under the group, category and action filters (one grouped query).
    counts: dict[SpendingStatus, int] = field(default_factory=dict)
    total: int = 0
    page: int = 1
    pages: int = 1
    # The approved requests, not yet paid, under the same filters: how many, how much, which.
    to_pay_count: int = 0
    to_pay_cents: int = 0
    to_pay_ids: list[int] = field(default_factory=list)
    # The same, whatever the filters.
    all_to_pay_count: int = 0
    all_to_pay_cents: int = 0


def _order(query: Select) -> Select:
    """Status by status in the queue's order; the oldest submitted first while it waits, the
    oldest approved first to pay, the latest first once closed (paid or refused)."""
    rank = case(
        {status: n for n, status in enumerate(RECEIVED)},
        value=SpendingRequest.status,
        else_=len(RECEIVED),
    )
    oldest_first = case(
        (SpendingRequest.status.in_(WAITING), SpendingRequest.submitted_at),
        (SpendingRequest.status == S.approved, SpendingRequest.decided_at),
        else_=None,
    )
    latest_first = case(
        (SpendingRequest.status == S.paid, SpendingRequest.paid_at),
        (SpendingRequest.status == S.refused, SpendingRequest.decided_at),
        else_=None,
    )
    # Within one status, each key is either always null or never: where the backends put
    # nulls does not change the order.
    return query.order_by(rank, oldest_first.asc(), latest_first.desc(), SpendingRequest.id)


def _with_group_and_action(*columns) -> Select:
    """A select of requests with their group and the action their commitment belongs to."""
    return (
        select(*columns)
        .join(ActionGroup, ActionGroup.id == SpendingRequest.group_id)
        .outerjoin(Commitment, Commitment.id == SpendingRequest.commitment_id)
        .outerjoin(Proposal, Proposal.id == Commitment.proposal_id)
    )


def _rows_query() -> Select:
    return _with_group_and_action(
        SpendingRequest.id,
        SpendingRequest.submitted_at,
        SpendingRequest.decided_at,
        ActionGroup.id,
        ActionGroup.name,
        SpendingRequest.title,
        SpendingRequest.category,
        SpendingRequest.amount_cents,
        SpendingRequest.status,
        SpendingRequest.round_cents,
        SpendingRequest.envelope_cents,
        Proposal.id,
        Proposal.title,
        Proposal.slug,
        Proposal.status,
    )


def queue_page(filters: QueueFilters, page: int, per_page: int) -> QueuePage:
    """One page of the queue with its counts per status and the amounts to pay: four queries,
    whatever the number of requests."""
    count_rows = db.session.execute(
        _narrowed(
            select(SpendingRequest.status, func.count(SpendingRequest.id)).where(
                SpendingRequest.status.in_(RECEIVED)
            ),
            filters,
        ).group_by(SpendingRequest.status)
    ).all()
    counts = dict.fromkeys(RECEIVED, 0)
    for status, n in count_rows:
        counts[status] = n
    all_count, all_cents = db.session.execute(
        select(
            func.count(SpendingRequest.id),
            func.coalesce(func.sum(SpendingRequest.amount_cents), 0),
        ).where(SpendingRequest.status == S.approved)
    ).one()
    total = sum(counts[status] for status in filters.statuses)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        _order(
            _narrowed(_rows_query().where(SpendingRequest.status.in_(filters.statuses)), filters)
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    # The ids behind the « all to pay » buttons, and the figures shown beside them, from one
    # query: the file and the marking cover exactly what the page announced.
    to_pay = db.session.execute(
        _narrowed(
            select(SpendingRequest.id, SpendingRequest.amount_cents).where(
                SpendingRequest.status == S.approved
            ),
            filters,
        ).order_by(SpendingRequest.decided_at, SpendingRequest.id)
    ).all()
    return QueuePage(
        rows=[QueueRow(*row) for row in rows],
        counts=counts,
        total=total,
        page=page,
        pages=pages,
        to_pay_count=len(to_pay),
        to_pay_cents=sum(amount for _id, amount in to_pay),
        to_pay_ids=[request_id for request_id, _amount in to_pay],
        all_to_pay_count=all_count,
        all_to_pay_cents=int(all_cents),
    )


# The CSV of the requests to pay ---------------------------------------------------------------


def record_export(actor: Person, filters: QueueFilters) -> None:
    """Audit an export of the requests to pay (names and IBANs are personal data): who, when,
    under which filters. Refused to anyone outside the finance team and the admins."""
    with write_transaction():
        require_staff(actor, *FINANCE_ROLES)
        db.session.add(
            AuditEntry(
                actor_id=actor.id,
                action="spending.export",
                group_id=filters.group_id,
                new_value="a-payer",
                reason=" ".join(
                    f"{key}={value}" for key, value in filters.narrowing_args().items()
                ),
            )
        )


def to_pay_header() -> list[str]:
    return [
        _("N°"),
        _("Approuvée le"),
        _("Groupe"),
        _("Bénéficiaire"),
        _("IBAN"),
        _("Montant (€)"),
        _("Part budget participatif (€)"),
        _("Part enveloppe (€)"),
        _("Titre"),
        _("Catégorie"),
        _("Action"),
    ]


def to_pay_rows(
    filters: QueueFilters, category_labels: Mapping[SpendingCategory, str]
) -> Iterator[list[str]]:
    """The approved requests not yet paid, under the filters but the status, the oldest
    approved first, streamed; categories named by `category_labels`."""
    labels = {category: str(label) for category, label in category_labels.items()}
    query = _narrowed(
        _with_group_and_action(
            SpendingRequest.id,
            SpendingRequest.decided_at,
            ActionGroup.name,
            SpendingRequest.payee_name,
            SpendingRequest.payee_iban,
            SpendingRequest.amount_cents,
            SpendingRequest.round_cents,
            SpendingRequest.envelope_cents,
            SpendingRequest.title,
            SpendingRequest.category,
            Proposal.title,
        ).where(SpendingRequest.status == S.approved),
        filters,
    ).order_by(SpendingRequest.decided_at, SpendingRequest.id)
    result = db.session.execute(query.execution_options(yield_per=STREAM_BATCH))
    for (
        request_id,
        decided_at,
        group_name,
        payee,
        iban,
        amount,
        round_part,
        envelope_part,
        title,
        category,
        action,
    ) in result:
        yield [
            str(request_id),
            csv_datetime(decided_at),
            csv_text(group_name),
            csv_text(payee),
            iban,
            csv_amount(amount),
            csv_amount(round_part),
            csv_amount(envelope_part),
            csv_text(title),
            labels.get(category, category),
            csv_text(action),
        ]


def export_filename(today: date) -> str:
    return f"demandes-a-payer-{today:%Y%m%d}.csv"


# The SEPA transfer file -----------------------------------------------------------------------


def paris_today() -> date:
    return datetime.now(PARIS).date()


def next_business_day(today: date) -> date:
    """The first weekday after `today`: the default execution date of the transfers. (Bank
    holidays are left to the person, who can pick another day.)"""
    day = today + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def parse_execution_date(raw: str | None, today: date) -> date:
    """The execution date from the form (2027-03-15 from a date field, or 15/03/2027 typed):
    today or later, else Invalid."""
    text = (raw or "").strip()
    try:
        day = (
            datetime.strptime(text, "%d/%m/%Y").date() if "/" in text else date.fromisoformat(text)
        )
    except ValueError:
        raise Invalid(
            _("Indiquez la date d'exécution des virements (par exemple 15/03/2027).")
        ) from None
    if day < today:
        raise Invalid(
            _(
                "La date d'exécution des virements ne peut pas être passée : choisissez "
                "aujourd'hui ou un jour à venir."
            )
        )
    return day


def payment_description(request_id: int, title: str) -> str:
    """What the payee reads on their statement, at most 140 characters."""
    text = _("Commun demande n° %(id)d - %(title)s", id=request_id, title=title)
    return text[:MAX_DESCRIPTION]


def end_to_end_id(request_id: int) -> str:
    return f"COMMUN-REQ-{request_id}"


def payable_requests(request_ids: list[int]) -> list[SpendingRequest]:
    """The requests to put in a transfer file: each one known and approved, not yet paid.
    NotFound for an unknown id, Conflict naming those no longer approved, Invalid if none."""
    ids = sorted(set(request_ids))
    if not ids:
        raise Invalid(
            _(
                "Aucune demande approuvée à payer : cochez les demandes à inclure dans le "
                "fichier de virements."
            )
        )
    rows = list(
        db.session.scalars(
            select(SpendingRequest)
            .where(SpendingRequest.id.in_(ids))
            .order_by(SpendingRequest.decided_at, SpendingRequest.id)
        )
    )
    if len(rows) != len(ids):
        raise NotFound(_("Une de ces demandes de dépense n'existe pas."))
    not_approved = [row.id for row in rows if row.status != S.approved]
    if not_approved:
        raise Conflict(
            _(
                "Seules les demandes approuvées et pas encore payées vont dans un fichier de "
                "virements ; ce n'est pas le cas de : %(ids)s. Aucun fichier n'a été produit.",
                ids=", ".join(f"n° {i}" for i in sorted(not_approved)),
            )
        )
    return rows


def transfer_file(
    person: Person, request_ids: list[int], execution_date: date, debtor: Mapping
) -> bytes:
    """The SEPA credit transfer file (pain.001) paying these approved requests from the
    movement's account on `execution_date`. Each request stays approved; the file is recorded
    in the audit log (it holds names and IBANs, and it is what the bank will pay)."""
    require_staff(person, *FINANCE_ROLES)
    payments = [
        Payment(
            name=row.payee_name,
            iban=row.payee_iban,
            amount_cents=row.amount_cents,
            description=payment_description(row.id, row.title),
            end_to_end_id=end_to_end_id(row.id),
        )
        for row in payable_requests(request_ids)
    ]
    content = credit_transfer_xml(debtor, payments, execution_date)
    with write_transaction():
        require_staff(person, *FINANCE_ROLES)
        db.session.add(
            AuditEntry(
                actor_id=person.id,
                action="spending.transfer_file",
                new_value=format_cents(sum(p.amount_cents for p in payments)),
                reason=" ".join(p.end_to_end_id for p in payments)
                + f" ; exécution le {execution_date:%d/%m/%Y}",
            )
        )
    return content


def transfer_filename(execution_date: date) -> str:
    """« virements-commun-20270315.xml »: named after the day the transfers are made."""
    return f"virements-commun-{execution_date:%Y%m%d}.xml"
