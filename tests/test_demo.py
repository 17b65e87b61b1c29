"""`flask demo`: a realistic French data set that keeps the rules of DESIGN.md §3, loaded once."""

import hashlib
import io
import re
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from flask import current_app
from markupsafe import escape
from PIL import Image
from sqlalchemy import create_engine, func, literal_column, select, text

import demo_data
from demo_data import (
    BASE_THRESHOLD,
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    INITIAL_BASE_THRESHOLD,
    MANAGER_MANAGER_OF,
    MANAGER_REFERENT_OF,
    PARIS,
    PREVIOUS_BASE_THRESHOLD,
    PREVIOUS_ROUND_NAME,
    ROUND_NAME,
    existing_demo,
)
from models import (
    RESOURCE_TSVECTOR,
    ROLES_BY_LEVEL,
    AccountKind,
    ActionGroup,
    AuditEntry,
    BudgetLine,
    BudgetRound,
    Commitment,
    CommitmentStatus,
    Illustration,
    LedgerAccount,
    LedgerOperation,
    Mandate,
    MandateLevel,
    MandateRole,
    MandateSide,
    MemberRole,
    Membership,
    MessageRead,
    NetworkMember,
    NetworkStatus,
    NetworkTeamEntry,
    NetworkTheme,
    NotifyMode,
    Person,
    Post,
    PostNotification,
    Proposal,
    ProposalMessage,
    ProposalRevision,
    ProposalStatus,
    Reservation,
    Resource,
    ResourceFile,
    ResourceKind,
    ResourceLevel,
    ResourceOutcome,
    ResourceReuse,
    SpendingCategory,
    SpendingEvent,
    SpendingReceipt,
    SpendingRequest,
    SpendingStatus,
    Subscription,
    SupportFile,
    SupportKind,
    SupportMessage,
    SupportRequest,
    SupportStatus,
    SupportUrgency,
    TeamRole,
    Thread,
    ThresholdPolicy,
    db,
    network_member_theme,
    resource_theme,
    utcnow,
)
from services import catalog, documents, images
from services import receipts as receipt_files
from services.access import managed_groups
from services.budget import effective_threshold
from services.commitments import commit_group
from services.errors import Conflict
from services.exchange import unread_counts
from services.groups import clean_departement
from services.iban import validate_iban
from services.ledger import charged_on_reservation, round_spent_cents
from services.library import search_text_of
from services.network import clean_departement as clean_network_departement
from services.proposals import ProposalText, check_text, group_proposals, text_of
from services.queue import QueueFilters, queue_page
from services.spending import (
    RequestFields,
    approve_spending,
    clean_fields,
    is_group_manager,
    request_timeline,
    split_for,
    validate_request,
)
from services.themes import theme_key
from services.workspace_access import acts_for_origin, is_team
from tests import factories as f
from tests.conftest import AuthActions, make_app

# Every table the demo writes.
TABLES = (
    Person,
    ActionGroup,
    Membership,
    BudgetRound,
    Proposal,
    BudgetLine,
    ProposalRevision,
    ProposalMessage,
    MessageRead,
    Illustration,
    Commitment,
    Reservation,
    AuditEntry,
    SpendingRequest,
    SpendingReceipt,
    SpendingEvent,
    LedgerAccount,
    LedgerOperation,
    # The network of elected officials (demo_network.py).
    NetworkTheme,
    NetworkMember,
    Mandate,
    NetworkTeamEntry,
    Resource,
    ResourceLevel,
    ResourceFile,
    ResourceReuse,
    Thread,
    Post,
    Subscription,
    PostNotification,
    SupportRequest,
    SupportMessage,
    SupportFile,
)
S = ProposalStatus
SS = SpendingStatus


def run_demo(runner):
    started = time.perf_counter()
    result = runner.invoke(args=["demo"])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output, elapsed


def row_counts() -> dict[str, int]:
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in TABLES}


def account(key: str) -> Person:
    email = next(email for k, _, email, _ in DEMO_ACCOUNTS if k == key)
    return db.session.scalar(select(Person).where(Person.email == email))


class SharedDemo:
    """The demo loaded once for the tests that only read it: loading it takes seconds.

    On PostgreSQL every app of the suite shares one database, which another test may have
    emptied or loaded again since: the demo is then loaded anew (a load is recognised by the
    random names of its illustration files).
    """

    def __init__(self, tmp_path_factory):
        self.tmp_path_factory = tmp_path_factory
        self.app = None
        self.run = None
        self.signature = None

    @staticmethod
    def _signature() -> tuple[str, ...] | None:
        if existing_demo(db.session) != "demo":
            return None
        return tuple(db.session.scalars(select(Illustration.stored_name).order_by(Illustration.id)))

    @contextmanager
    def context(self):
        if self.app is not None:
            with self.app.app_context():
                current = self._signature()
                db.session.remove()
            if current != self.signature:
                self.close()
        if self.app is None:
            self.app = make_app(self.tmp_path_factory.mktemp("demo"))
            with self.app.app_context():
                self.run = run_demo(self.app.test_cli_runner())
                self.signature = self._signature()
                db.session.remove()
        with self.app.app_context():
            yield self.run
            db.session.remove()

    def close(self) -> None:
        if self.app is not None:
            with self.app.app_context():
                db.session.remove()
                db.engine.dispose()
            self.app = None


@pytest.fixture(scope="module")
def shared_demo(tmp_path_factory):
    shared = SharedDemo(tmp_path_factory)
    yield shared
    shared.close()


@pytest.fixture
def demo(shared_demo):
    """The shared demo, read only, in its app context: its output and how long it took."""
    with shared_demo.context() as run:
        yield run


@pytest.fixture
def demo_client(shared_demo, demo):
    return shared_demo.app.test_client()


@pytest.fixture
def fresh_demo(app, runner):
    """The demo loaded into this test's own database, for the tests that change it."""
    return run_demo(runner)


def all_proposals() -> list[Proposal]:
    return list(db.session.scalars(select(Proposal).order_by(Proposal.id)))


def uploaded_files() -> list[str]:
    """Every file under the uploads folder, by its path in it (receipts are in a folder)."""
    root = Path(current_app.config["UPLOADS_PATH"])
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def published() -> list[Proposal]:
    statement = select(Proposal).where(Proposal.status == ProposalStatus.published)
    return list(db.session.scalars(statement.order_by(Proposal.id)))


def rounds() -> tuple[BudgetRound, BudgetRound]:
    """(last year's round, the current one): the demo has these two."""
    (current,) = db.session.scalars(select(BudgetRound).where(BudgetRound.is_current)).all()
    (previous,) = db.session.scalars(select(BudgetRound).where(~BudgetRound.is_current)).all()
    return previous, current


def active_reservations(**where) -> list[Reservation]:
    statement = select(Reservation).where(Reservation.released_at.is_(None)).filter_by(**where)
    return list(db.session.scalars(statement.order_by(Reservation.id)))


def commitment_order(c: Commitment) -> tuple:
    return (c.committed_at, c.id)


def test_demo_loads_in_well_under_ten_seconds_and_prints_the_accounts(demo):
    output, elapsed = demo
    assert elapsed < 10, f"flask demo took {elapsed:.1f} s"
    assert "Données de démonstration chargées" in output
    assert "Visiteur·euse" in output
    assert re.search(r"\d+ dons fléchés", output)
    assert re.search(r"\d+ demandes de dépense : \d+ brouillons, ", output)
    for _, role, email, _ in DEMO_ACCOUNTS:
        assert re.search(rf"{re.escape(role)}\s+{re.escape(email)}\s+{DEMO_PASSWORD}", output)


def test_demo_counts_are_those_of_a_realistic_movement(demo):
    groups = list(db.session.scalars(select(ActionGroup)))
    certified = [g for g in groups if g.is_certified]
    assert 140 <= len(certified) <= 160
    assert 15 <= len(groups) - len(certified) <= 25
    assert len({g.departement for g in groups}) >= 60
    assert len({g.name for g in groups}) == len(groups)
    for g in groups:
        assert clean_departement(g.departement) == g.departement
        assert g.name.startswith("Groupe d'action ")
    where = {(g.commune, g.departement) for g in groups}
    for commune, dep in [
        ("Bordeaux", "33"),
        ("Lille", "59"),
        ("Marseille", "13"),
        ("Rennes", "35"),
        ("Saint-Denis", "93"),
        ("Ajaccio", "2A"),
        ("Fort-de-France", "972"),
    ]:
        assert (commune, dep) in where

    previous, current = rounds()
    assert current.name == ROUND_NAME and previous.name == PREVIOUS_ROUND_NAME
    assert current.base_threshold == BASE_THRESHOLD == 15
    assert previous.base_threshold == PREVIOUS_BASE_THRESHOLD

    proposals = list(db.session.scalars(select(Proposal)))
    assert 20 <= len(proposals) <= 35
    statuses = Counter(p.status for p in proposals)
    assert set(statuses) == set(ProposalStatus)
    assert statuses[ProposalStatus.published] > len(proposals) / 2
    for p in proposals:
        assert 15_000 <= p.per_group_budget_cents <= 250_000
        assert p.round_id in (previous.id, current.id)
        assert p.summary and len(p.summary) <= 500
        assert (p.published_at is not None) == (p.status == ProposalStatus.published)
    # Most of them belong to the current round; last year's are a few published ones.
    older = [p for p in proposals if p.round_id == previous.id]
    assert 2 <= len(older) <= 5 and all(p.status == S.published for p in older)


def test_every_proposal_has_its_how_to_and_budget_lines_adding_up_to_its_budget(demo):
    for p in all_proposals():
        lines = list(
            db.session.scalars(
                select(BudgetLine).where(BudgetLine.proposal_id == p.id).order_by(BudgetLine.id)
            )
        )
        assert [line.position for line in lines] == list(range(1, len(lines) + 1)), p.title
        assert len(lines) >= 2 and all(line.amount_cents > 0 for line in lines)
        assert sum(line.amount_cents for line in lines) == p.per_group_budget_cents, p.title
        # The description says why; « Comment faire » holds the steps and the material.
        assert p.body and "Comment faire" not in p.body and "| **Total** |" not in p.body
        assert p.how_to.startswith("1. ") and "### Matériel" in p.how_to, p.title
        # What the services require of a submitted or published text.
        check_text(text_of(p), complete=True)
        assert text_of(p) == text_of(p).cleaned()


def test_authors_submission_dates_and_assignees_follow_each_proposals_life(demo):
    for p in all_proposals():
        author = db.session.get(Person, p.author_id)
        assert acts_for_origin(author, p), p.title
        assert (p.submitted_at is None) == (p.status == S.draft), p.title
        if p.submitted_at is not None:
            assert p.created_at < p.submitted_at <= p.updated_at
        if p.published_at is not None:
            assert p.submitted_at < p.published_at
        # Someone of the animation team follows every proposal it has taken in charge.
        if p.status in (S.in_review, S.published, S.declined):
            assert is_team(db.session.get(Person, p.assignee_id)), p.title
        else:
            assert p.assignee_id is None, p.title


def test_declined_and_withdrawn_proposals_keep_their_reason_date_and_audit_entry(demo):
    closed = [p for p in all_proposals() if p.is_closed]
    assert Counter(p.status for p in closed) == {S.declined: 2, S.withdrawn: 2}
    for p in all_proposals():
        declined, withdrawn = p.status == S.declined, p.status == S.withdrawn
        assert (p.declined_at is not None) == declined == bool(p.decline_reason)
        assert (p.withdrawn_at is not None) == withdrawn == bool(p.withdraw_reason)
    for p in closed:
        action = "proposal.decline" if p.status == S.declined else "proposal.withdraw"
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.proposal_id == p.id, AuditEntry.action == action)
        ).one()
        reason, at = (
            (p.decline_reason, p.declined_at)
            if p.status == S.declined
            else (p.withdraw_reason, p.withdrawn_at)
        )
        assert len(reason) >= 10 and entry.reason == reason and entry.at == at
        assert p.submitted_at < at <= p.updated_at


def test_revisions_run_from_one_to_the_version_and_the_last_is_the_current_text(demo):
    edited = []
    for p in all_proposals():
        revisions = list(
            db.session.scalars(
                select(ProposalRevision)
                .where(ProposalRevision.proposal_id == p.id)
                .order_by(ProposalRevision.number)
            )
        )
        assert [r.number for r in revisions] == list(range(1, p.version + 1)), p.title
        first = revisions[0]
        assert first.kind == "creation" and first.changes == {}
        assert first.author_id == p.author_id and first.created_at == p.created_at
        assert revisions[-1].snapshot == text_of(p).snapshot(), p.title
        assert revisions[-1].created_at <= p.updated_at
        for before, after in pairwise(revisions):
            # An edit by the animation team, recorded as save_proposal records it.
            assert after.kind == "edit" and after.created_at > before.created_at
            assert is_team(db.session.get(Person, after.author_id))
            assert after.changes == {
                name: [before.snapshot[name], value]
                for name, value in after.snapshot.items()
                if before.snapshot[name] != value
            }
            assert after.changes, "a save that changes nothing is no revision"
            check_text(ProposalText.from_snapshot(after.snapshot), complete=True)
        if p.version > 1:
            edited.append(p)
    published_edits = [p for p in edited if p.status == S.published]
    assert len(published_edits) >= 3
    assert all(2 <= p.version <= 3 for p in published_edits)
    changed = Counter(
        name
        for r in db.session.scalars(select(ProposalRevision).where(ProposalRevision.number > 1))
        for name in r.changes
    )
    assert changed["title"] and changed["summary"] and changed["budget_lines"]


def test_the_animation_queue_lists_submitted_and_in_review_proposals_of_several_groups(demo):
    animation = account("animation")
    page = queue_page(animation, QueueFilters(), 1, 50)
    statuses = Counter(row.status for row in page.rows)
    assert statuses[S.submitted] >= 3 and statuses[S.in_review] >= 3
    assert len({row.group_name for row in page.rows}) >= 5
    assert len({row.departement for row in page.rows}) >= 4
    followers = {row.assignee_id for row in page.rows if row.status == S.in_review}
    assert animation.id in followers and len(followers) >= 2
    assert all(is_team(db.session.get(Person, i)) for i in followers)
    # Messages wait for the animation account, shown in its queue.
    assert any(row.unread for row in page.rows)


def test_exchanges_alternate_in_order_with_messages_unread_by_the_demo_accounts(demo):
    messages: dict[int, list[ProposalMessage]] = {}
    for m in db.session.scalars(select(ProposalMessage).order_by(ProposalMessage.id)):
        messages.setdefault(m.proposal_id, []).append(m)
    proposals = {p.id: p for p in all_proposals()}
    discussed = [proposals[i] for i in messages]
    assert {p.id for p in proposals.values() if p.status == S.in_review} <= set(messages)
    assert sum(1 for p in discussed if p.status == S.published) >= 3
    for p in discussed:
        said = messages[p.id]
        assert all(a.created_at < b.created_at for a, b in pairwise(said)), p.title
        assert p.submitted_at < said[0].created_at and said[-1].created_at < utcnow()
        for m in said:
            author = db.session.get(Person, m.author_id)
            assert m.from_team == is_team(author)
            assert m.author_id == (p.assignee_id if m.from_team else p.author_id)
            assert acts_for_origin(author, p) != m.from_team
        if p.status in (S.in_review, S.published):
            assert {m.from_team for m in said} == {True, False}, p.title
    # Read pointers point at a message of their proposal.
    for read in db.session.scalars(select(MessageRead)):
        assert read.last_read_id in {m.id for m in messages[read.proposal_id]}
    manager, animation = account("manager"), account("animation")
    mine = [p.id for p in discussed if acts_for_origin(manager, p)]
    assert sum(unread_counts(manager, mine).values()) >= 2
    unread = unread_counts(animation, [p.id for p in discussed])
    assert sum(1 for p in discussed if unread.get(p.id) and p.assignee_id == animation.id) >= 2


def illustrations_by_proposal() -> dict[int, list[Illustration]]:
    by_proposal: dict[int, list[Illustration]] = {}
    statement = select(Illustration).order_by(Illustration.proposal_id, Illustration.position)
    for illustration in db.session.scalars(statement):
        by_proposal.setdefault(illustration.proposal_id, []).append(illustration)
    return by_proposal


def test_published_proposals_are_illustrated_through_the_upload_processing(demo):
    by_proposal = illustrations_by_proposal()
    assert len(by_proposal) >= 6
    root = Path(current_app.config["UPLOADS_PATH"])
    shapes = set()
    for proposal_id, illustrations in by_proposal.items():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status == S.published
        assert 1 <= len(illustrations) <= 3
        assert [i.position for i in illustrations] == list(range(1, len(illustrations) + 1))
        assert sum(i.is_cover for i in illustrations) == 1, proposal.title
        for i in illustrations:
            assert i.alt_text and i.caption and "{" not in i.alt_text + i.caption
            assert is_team(db.session.get(Person, i.uploaded_by_id))
            shapes.add((i.format, i.width > i.height))
            for name, size in (
                (i.file_name, (i.width, i.height)),
                (i.thumb_name, (i.thumb_width, i.thumb_height)),
            ):
                path = root / name
                assert path.is_file(), name
                with Image.open(path) as image:
                    assert image.format == images.PILLOW_FORMATS[i.format]
                    assert image.size == size
                    # The processing removed the metadata the drawn files carried.
                    assert not image.getexif() and "exif" not in image.info
                    assert "Software" not in image.info
            assert max(i.width, i.height) <= images.MAX_SIDE
            assert max(i.thumb_width, i.thumb_height) <= images.THUMB_SIDE
            assert i.byte_size == (root / i.file_name).stat().st_size
    # JPEG and PNG, landscape and portrait.
    assert {fmt for fmt, _ in shapes} == {"jpeg", "png"}
    assert {landscape for _, landscape in shapes} == {True, False}
    # Nothing else lies in the uploads folder, but the receipts' folder.
    expected = {
        n for rows in by_proposal.values() for i in rows for n in (i.file_name, i.thumb_name)
    }
    # (the network's documents are checked by the network's tests).
    folders = (f"{receipt_files.FOLDER}/", "network/")
    assert {name for name in uploaded_files() if not name.startswith(folders)} == expected


def test_the_home_page_shows_the_covers_of_its_first_proposals(demo, demo_client):
    cards, _total = catalog.page_of_cards(catalog.ListFilters(), 1, 12)
    assert all(card.cover_thumb for card in cards[:4])
    html = demo_client.get("/").get_data(as_text=True)
    covers = re.findall(r'<img [^>]*src="(/medias/[^"]+)"', html)
    assert len(covers) >= 6
    assert covers[0] == f"/medias/{cards[0].cover_thumb}"
    response = demo_client.get(covers[0])
    assert response.status_code == 200 and response.content_type.startswith("image/")


def test_slugs_are_unique_ascii_and_made_from_the_title(demo):
    proposals = list(db.session.scalars(select(Proposal)))
    assert len({p.slug for p in proposals}) == len(proposals)
    for p in proposals:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", p.slug), p.slug
    slugs = {p.title: p.slug for p in proposals}
    assert slugs["Atelier de réparation de vélos"] == "atelier-de-reparation-de-velos"


def test_count_equals_the_number_of_active_commitments_for_every_proposal(demo):
    active = dict(
        db.session.execute(
            select(Commitment.proposal_id, func.count())
            .where(Commitment.status == CommitmentStatus.active)
            .group_by(Commitment.proposal_id)
        ).all()
    )
    for p in db.session.scalars(select(Proposal)):
        assert p.commitment_count == active.get(p.id, 0), p.title
    assert sum(active.values()) > 150


def test_one_commitment_per_group_and_proposal(demo):
    duplicates = db.session.execute(
        select(Commitment.group_id, Commitment.proposal_id)
        .group_by(Commitment.group_id, Commitment.proposal_id)
        .having(func.count() > 1)
    ).all()
    assert duplicates == []


def test_only_certified_groups_commit_and_only_to_published_proposals(demo):
    rows = db.session.execute(
        select(ActionGroup.certified_at, Proposal.status, Commitment.committed_at)
        .join(ActionGroup, ActionGroup.id == Commitment.group_id)
        .join(Proposal, Proposal.id == Commitment.proposal_id)
    ).all()
    assert rows
    for certified_at, status, committed_at in rows:
        assert certified_at is not None and certified_at < committed_at
        assert status == ProposalStatus.published


def test_committers_act_for_their_group(demo):
    acting = {
        (m.person_id, m.group_id)
        for m in db.session.scalars(select(Membership))
        if m.role.acts_for_group
    }
    for c in db.session.scalars(select(Commitment)):
        assert (c.person_id, c.group_id) in acting


def test_withdrawn_commitments_are_kept_but_not_counted(demo):
    withdrawn = list(
        db.session.scalars(
            select(Commitment).where(Commitment.status == CommitmentStatus.withdrawn)
        )
    )
    assert 1 <= len(withdrawn) <= 10
    for c in withdrawn:
        assert c.withdrawn_at is not None and c.withdrawn_at > c.committed_at
    actives = db.session.scalars(
        select(Commitment).where(Commitment.status == CommitmentStatus.active)
    )
    assert all(c.withdrawn_at is None for c in actives)


def test_fundable_transition_is_recorded_as_the_service_records_it(demo):
    by_id = {r.id: r for r in rounds()}
    proposals = published()
    fundable = [p for p in proposals if p.is_fundable]
    assert 4 <= len(fundable) <= len(proposals) - 4
    assert any(p.fundable_threshold != BASE_THRESHOLD for p in fundable)
    assert any(p.fundable_count > p.fundable_threshold for p in fundable)
    overrides = [p for p in proposals if p.threshold_override is not None]
    assert 2 <= len(overrides) <= 6
    for p in proposals:
        round_ = by_id[p.round_id]
        threshold = effective_threshold(p, round_)
        if not p.is_fundable:
            assert p.fundable_threshold is None and p.fundable_count is None
            assert p.commitment_count < threshold, p.title
            continue
        assert p.fundable_count >= p.fundable_threshold
        assert p.fundable_threshold in (round_.base_threshold, p.threshold_override)
        assert p.commitment_count >= threshold
        # The count recorded is the number of commitments active at that moment.
        rows = db.session.scalars(select(Commitment).where(Commitment.proposal_id == p.id))
        active_then = [
            c
            for c in rows
            if c.committed_at < p.fundable_at
            and (c.withdrawn_at is None or c.withdrawn_at > p.fundable_at)
        ]
        assert len(active_then) == p.fundable_count, p.title
    # Every threshold override was set by the animation team, with a reason.
    audited = dict(
        db.session.execute(
            select(AuditEntry.proposal_id, AuditEntry.new_value).where(
                AuditEntry.action == "proposal.threshold_override"
            )
        ).all()
    )
    assert audited == {p.id: str(p.threshold_override) for p in overrides}


def test_the_current_round_is_open_since_some_weeks_and_last_years_is_closed(demo):
    assert db.session.scalar(select(func.count()).select_from(BudgetRound)) == 2
    previous, current = rounds()
    now = utcnow()
    # Open for some weeks, closing in a few months; the manual policy (see demo_data).
    assert current.policy == ThresholdPolicy.manual
    assert current.accepts_commitments_at(now)
    assert timedelta(weeks=4) <= now - current.opens_at <= timedelta(weeks=10)
    assert timedelta(days=60) <= current.closes_at - now <= timedelta(days=200)
    # Last year's: closed before this one opened, not current, its figures kept.
    assert not previous.is_current and not previous.accepts_commitments_at(now)
    assert previous.opens_at < previous.closes_at <= current.opens_at < now
    assert previous.created_at < previous.opens_at and current.created_at < current.opens_at
    assert 0 < previous.reserved_cents < previous.total_cents
    older = [p for p in published() if p.round_id == previous.id]
    assert len(older) >= 3 and all(p.is_fundable and p.reserved_count for p in older)
    for p in db.session.scalars(select(Proposal)):
        round_ = current if p.round_id == current.id else previous
        assert round_.created_at < p.created_at, p.title
        if p.published_at is not None:
            assert p.published_at < round_.closes_at
    # Every commitment was made while its round accepted it.
    for c in db.session.scalars(select(Commitment)):
        p = db.session.get(Proposal, c.proposal_id)
        round_ = current if p.round_id == current.id else previous
        assert round_.accepts_commitments_at(c.committed_at), p.title


def test_reservations_add_up_to_the_counters_of_their_round_and_proposal(demo):
    proposals = {p.id: p for p in all_proposals()}
    for round_ in rounds():
        reservations = active_reservations(round_id=round_.id)
        assert reservations
        assert sum(r.amount_cents for r in reservations) == round_.reserved_cents
        assert round_.reserved_cents <= round_.total_cents
        assert round_.version >= len(reservations)
        for r in reservations:
            assert proposals[r.proposal_id].round_id == round_.id
    # Nothing was released: the demo's withdrawals all came before the transitions.
    assert db.session.scalar(select(func.count()).where(Reservation.released_at.is_not(None))) == 0
    by_proposal: dict[int, list[Reservation]] = {}
    for r in active_reservations():
        by_proposal.setdefault(r.proposal_id, []).append(r)
    for p in proposals.values():
        mine = by_proposal.get(p.id, [])
        assert p.reserved_count == len(mine), p.title
        assert p.reserved_cents == sum(r.amount_cents for r in mine), p.title
        # Only fundable proposals reserve, never more than their active commitments.
        assert not mine or p.is_fundable, p.title
        assert p.reserved_count <= p.commitment_count
    # A reservation per commitment at most, for an active commitment of its proposal.
    reserved = Counter(r.commitment_id for r in active_reservations())
    assert max(reserved.values()) == 1
    for r in active_reservations():
        c = db.session.get(Commitment, r.commitment_id)
        p = proposals[r.proposal_id]
        assert c.is_active and c.proposal_id == p.id and c.group_id == r.group_id
        assert r.amount_cents == p.per_group_budget_cents
        assert r.reserved_at >= max(c.committed_at, p.fundable_at)
        assert r.reserved_at <= utcnow()


def test_reservations_follow_commitment_order_on_each_proposal(demo):
    reserved_ids = {r.commitment_id for r in active_reservations()}
    outside_seen = 0
    for p in published():
        if not p.is_fundable:
            continue
        active = sorted(
            db.session.scalars(
                select(Commitment).where(
                    Commitment.proposal_id == p.id, Commitment.status == CommitmentStatus.active
                )
            ),
            key=commitment_order,
        )
        reserved = [c for c in active if c.id in reserved_ids]
        outside = [c for c in active if c.id not in reserved_ids]
        # No commitment « hors budget » is older than a reserved one: the reserved come first.
        assert active == reserved + outside, p.title
        outside_seen += len(outside)
    assert outside_seen


def test_replaying_the_commitments_in_time_order_gives_the_same_reservations(demo):
    """An independent replay of DESIGN.md § Reservations over each round: at a proposal's
    transition its active commitments reserve in order while the remaining budget allows; a
    later commitment reserves at once if it can."""
    for round_ in rounds():
        events = []
        for p in published():
            if p.round_id != round_.id or not p.is_fundable:
                continue
            active = sorted(
                db.session.scalars(
                    select(Commitment).where(
                        Commitment.proposal_id == p.id,
                        Commitment.status == CommitmentStatus.active,
                    )
                ),
                key=commitment_order,
            )
            batch = [c for c in active if c.committed_at < p.fundable_at]
            events.append((p.fundable_at, p, batch, True))
            events += [(c.committed_at, p, [c], False) for c in active if c not in batch]
        remaining, expected = round_.total_cents, {}
        for at, p, batch, transition in sorted(events, key=lambda e: e[0]):
            assert remaining > 0 or not transition, "fundable with nothing remaining"
            for c in batch:
                if p.per_group_budget_cents > remaining:
                    break
                remaining -= p.per_group_budget_cents
                expected[c.id] = at
        actual = {r.commitment_id: r.reserved_at for r in active_reservations(round_id=round_.id)}
        assert actual == expected, round_.name
        assert remaining == round_.remaining_cents


def test_the_current_round_is_nearly_exhausted_and_one_proposal_is_partly_outside(demo):
    previous, current = rounds()
    states = catalog.all_live_states()
    fundable = [p for p in published() if p.is_fundable and p.round_id == current.id]
    assert len(fundable) >= 5
    short = [p for p in fundable if states[p.id].outside_budget]
    # One fundable proposal has a few commitments « hors budget participatif »; every other
    # fundable one is fully reserved.
    assert len(short) == 1
    (p,) = short
    assert 2 <= states[p.id].outside_budget == p.commitment_count - p.reserved_count <= 5
    assert all(q.reserved_count == q.commitment_count for q in fundable if q is not p)
    # Nearly exhausted: something remains, less than that proposal's budget for one group.
    assert 0 < current.remaining_cents < p.per_group_budget_cents
    assert current.remaining_cents <= current.total_cents // 50
    assert not states[p.id].exhausted
    # The demo manager's group is among those left outside: its page says so.
    manager_group = db.session.scalars(
        select(ActionGroup).where(
            ActionGroup.name == "Groupe d'action " + " ".join(MANAGER_MANAGER_OF)
        )
    ).one()
    commitment = db.session.scalars(
        select(Commitment).where(
            Commitment.proposal_id == p.id, Commitment.group_id == manager_group.id
        )
    ).one()
    assert commitment.is_active and not active_reservations(commitment_id=commitment.id)
    # Last year's round covered every commitment.
    assert all(states[q.id].outside_budget == 0 for q in published() if q.round_id == previous.id)


def test_the_reservations_have_weeks_of_history_for_the_chart(demo):
    _, current = rounds()
    moments = sorted(r.reserved_at for r in active_reservations(round_id=current.id))
    assert moments[-1] - moments[0] >= timedelta(weeks=3)
    assert len({m.date() for m in moments}) >= 10
    # Several fundable transitions, each a step of the chart.
    steps = Counter(moments)
    assert sum(1 for n in steps.values() if n >= 10) >= 4


def test_the_rounds_audit_log_has_their_creation_a_threshold_change_and_overrides(demo):
    previous, current = rounds()
    finance = account("finance")

    def log(round_):
        statement = select(AuditEntry).where(AuditEntry.round_id == round_.id)
        return list(db.session.scalars(statement.order_by(AuditEntry.at)))

    entries = log(current)
    actions = Counter(e.action for e in entries)
    assert actions["round.create"] == 1 and actions["round.base_threshold"] == 1
    created = entries[0]
    assert created.action == "round.create" and created.actor_id == finance.id
    assert created.at == current.created_at and ROUND_NAME in created.new_value
    assert f"seuil de base {INITIAL_BASE_THRESHOLD}" in created.new_value
    (change,) = [e for e in entries if e.action == "round.base_threshold"]
    assert change.actor_id == finance.id and len(change.reason) >= 20
    assert (change.old_value, change.new_value) == (str(INITIAL_BASE_THRESHOLD), "15")
    assert current.created_at < change.at < current.opens_at
    overrides = [e for e in entries if e.action == "proposal.threshold_override"]
    assert len(overrides) == actions["proposal.threshold_override"] >= 2
    for e in overrides:
        p = db.session.get(Proposal, e.proposal_id)
        assert p.round_id == current.id and e.new_value == str(p.threshold_override)
        assert is_team(db.session.get(Person, e.actor_id)) and e.reason
    # Every override of the demo belongs to its proposal's round.
    assert (
        db.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "proposal.threshold_override", AuditEntry.round_id.is_(None)
            )
        )
        == 0
    )
    (created,) = log(previous)
    assert created.action == "round.create" and created.actor_id == finance.id
    assert PREVIOUS_ROUND_NAME in created.new_value


def test_a_closed_round_refuses_commitments(demo):
    previous, _ = rounds()
    p = next(p for p in published() if p.round_id == previous.id)
    manager = account("manager")
    before = (p.commitment_count, p.reserved_count, previous.reserved_cents)
    for group in managed_groups(manager):
        with pytest.raises(Conflict, match="est clos depuis le"):
            commit_group(manager, group.id, p.id)
    db.session.expire_all()
    p, previous = db.session.get(Proposal, p.id), db.session.get(BudgetRound, previous.id)
    assert (p.commitment_count, p.reserved_count, previous.reserved_cents) == before


def test_timestamps_are_aware_utc_and_in_the_past(demo):
    now = utcnow()
    values = []
    for c in db.session.scalars(select(Commitment)):
        values += [c.committed_at, c.created_at, c.withdrawn_at]
    for p in db.session.scalars(select(Proposal)):
        values += [p.created_at, p.published_at, p.fundable_at, p.updated_at]
        values += [p.submitted_at, p.declined_at, p.withdrawn_at]
    for model in (ProposalRevision, ProposalMessage, Illustration):
        values += list(db.session.scalars(select(model.created_at)))
    for g in db.session.scalars(select(ActionGroup)):
        values += [g.created_at, g.certified_at]
    for r in db.session.scalars(select(BudgetRound)):
        values += [r.created_at, r.opens_at]
    values += list(db.session.scalars(select(Reservation.reserved_at)))
    values += list(db.session.scalars(select(AuditEntry.at)))
    for r in db.session.scalars(select(SpendingRequest)):
        values += [r.created_at, r.updated_at, r.submitted_at, r.decided_at, r.paid_at]
    values += list(db.session.scalars(select(SpendingEvent.at)))
    values += list(db.session.scalars(select(SpendingReceipt.uploaded_at)))
    values += list(db.session.scalars(select(LedgerOperation.at)))
    values += list(db.session.scalars(select(LedgerAccount.created_at)))
    values = [v for v in values if v is not None]
    assert all(v.tzinfo is not None and v.utcoffset() == timedelta(0) for v in values)
    assert all(v <= now for v in values)
    commitments = [v for v in db.session.scalars(select(Commitment.committed_at))]
    assert (max(commitments) - min(commitments)).days >= 14


def test_every_group_has_a_manager(demo):
    managed = set(
        db.session.scalars(select(Membership.group_id).where(Membership.role == MemberRole.manager))
    )
    groups = set(db.session.scalars(select(ActionGroup.id)))
    assert groups == managed


def test_demo_accounts_have_their_roles(demo):
    manager = account("manager")
    groups = managed_groups(manager)
    assert len(groups) == 2 and all(g.is_certified for g in groups)
    roles = set(
        db.session.scalars(select(Membership.role).where(Membership.person_id == manager.id))
    )
    assert MemberRole.referent in roles
    assert managed_groups(account("membre")) == []
    assert db.session.scalar(
        select(func.count()).where(Membership.person_id == account("membre").id)
    )
    (uncertified,) = managed_groups(account("non_certifie"))
    assert not uncertified.is_certified
    assert account("animation").staff_roles == ["animation"]
    assert account("finance").staff_roles == ["finance"]
    assert account("admin").staff_roles == ["admin"]
    assert account("network").staff_roles == ["network"]
    assert account("manager").staff_roles == []
    assert account("elue").staff_roles == account("candidat").staff_roles == []


@pytest.mark.parametrize("key", [key for key, *_ in DEMO_ACCOUNTS])
def test_every_demo_account_signs_in(demo_client, key):
    auth = AuthActions(demo_client)
    auth.login(account(key).email, DEMO_PASSWORD)
    auth.logout()


def test_every_account_shares_the_one_demo_password_hash(demo):
    hashes = set(db.session.scalars(select(Person.password_hash)))
    assert len(hashes) == 1
    assert account("membre").check_password(DEMO_PASSWORD)
    assert not account("membre").check_password("pas le bon mot de passe")


# The money side: envelopes, donations, spending requests and the ledger.

DONATION_REFERENCE = re.compile(r"DON-(\d{4})-\d{6}")
DONATION_REASON = re.compile(r"Don fléché du (\d\d)/(\d\d)/(\d{4}) \(import\)")
# What each action of a timeline changes, as services.spending logs it.
TRANSITIONS = {
    "created": {(None, SS.draft)},
    "submitted": {(SS.draft, SS.awaiting_group)},
    "validated": {(SS.awaiting_group, SS.awaiting_finance)},
    "info_requested": {(SS.awaiting_finance, SS.info_requested)},
    "answered": {(SS.info_requested, SS.awaiting_finance)},
    "approved": {(SS.awaiting_finance, SS.approved)},
    "refused": {(SS.awaiting_finance, SS.refused), (SS.info_requested, SS.refused)},
    "paid": {(SS.approved, SS.paid)},
}
FINANCE_ACTIONS = {"info_requested", "approved", "refused", "paid"}


def ledger_accounts() -> dict[int, LedgerAccount]:
    return {a.id: a for a in db.session.scalars(select(LedgerAccount).order_by(LedgerAccount.id))}


def outside_account(kind: AccountKind) -> LedgerAccount:
    return db.session.scalars(select(LedgerAccount).where(LedgerAccount.kind == kind)).one()


def operations(*where) -> list[LedgerOperation]:
    statement = select(LedgerOperation).where(*where)
    return list(db.session.scalars(statement.order_by(LedgerOperation.at, LedgerOperation.id)))


def spending_requests(*where) -> list[SpendingRequest]:
    statement = select(SpendingRequest).where(*where)
    return list(db.session.scalars(statement.order_by(SpendingRequest.id)))


def receipts_of(request_id: int) -> list[SpendingReceipt]:
    statement = select(SpendingReceipt).where(SpendingReceipt.request_id == request_id)
    return list(db.session.scalars(statement.order_by(SpendingReceipt.id)))


def test_every_certified_group_receives_earmarked_donations_from_the_finance_team(demo):
    finance = account("finance")
    donations = outside_account(AccountKind.donations)
    envelopes = {
        a.group_id: a for a in ledger_accounts().values() if a.kind == AccountKind.envelope
    }
    certified = {g.id for g in db.session.scalars(select(ActionGroup)) if g.is_certified}
    assert set(envelopes) == certified
    gifts = operations(LedgerOperation.source_id == donations.id)
    per_envelope = Counter(op.destination_id for op in gifts)
    assert {a.id for a in envelopes.values()} == set(per_envelope)
    assert min(per_envelope.values()) >= 2  # several allocations each
    imports = sorted(
        db.session.scalars(select(AuditEntry.at).where(AuditEntry.action == "ledger.import"))
    )
    for op in gifts:
        assert 2_000 <= op.amount_cents <= 30_000 and op.amount_cents % 100 == 0
        assert op.actor_id == finance.id
        reference = DONATION_REFERENCE.fullmatch(op.reference)
        day, month, year = DONATION_REASON.fullmatch(op.reason).groups()
        assert reference and reference[1] == year
        # Recorded by an import (audited) after the day of the donation.
        assert date(int(year), int(month), int(day)) < op.at.astimezone(PARIS).date()
        assert any(at <= op.at < at + timedelta(seconds=1) for at in imports)
    assert len({op.reference for op in gifts}) == len(gifts)
    # Over the past months, a file every fortnight.
    assert len({(op.at.year, op.at.month) for op in gifts}) >= 6
    assert len(imports) >= 12
    # A few groups with a larger balance, one with almost nothing.
    balances = sorted(a.balance_cents for a in envelopes.values())
    assert 3 <= sum(1 for b in balances if b >= 100_000) <= 10
    assert 0 < balances[0] < 1_000


def test_balances_are_the_sums_of_their_operations_and_no_envelope_goes_negative(demo):
    accounts = ledger_accounts()
    running: Counter = Counter()
    ops = operations()
    assert len(ops) >= 500
    # The grand livre's order (by id) is the order of time.
    assert [op.id for op in ops] == sorted(op.id for op in ops)
    for op in ops:
        assert op.amount_cents > 0 and op.reverses_id is None and op.reason
        running[op.source_id] -= op.amount_cents
        running[op.destination_id] += op.amount_cents
        if accounts[op.source_id].kind == AccountKind.envelope:
            assert running[op.source_id] >= 0, f"negative envelope after operation {op.id}"
    for a in accounts.values():
        assert a.balance_cents == running[a.id], a.kind
        assert a.created_at <= min(op.at for op in ops if a.id in (op.source_id, op.destination_id))
    assert all(a.balance_cents >= 0 for a in accounts.values() if a.kind == AccountKind.envelope)
    assert sum(a.balance_cents for a in accounts.values()) == 0


def test_spending_requests_are_in_every_status_and_category_as_a_form_saves_them(demo):
    requests = spending_requests()
    assert Counter(r.status for r in requests).keys() == set(SpendingStatus)
    assert {r.category for r in requests} == set(SpendingCategory)
    # A draft with its receipt, another still waiting for it.
    drafts = [r for r in requests if r.status == SS.draft]
    assert {bool(receipts_of(r.id)) for r in drafts} == {True, False}
    for r in requests:
        group = db.session.get(ActionGroup, r.group_id)
        assert group.is_certified and group.certified_at < r.created_at
        assert is_group_manager(db.session.get(Person, r.author_id), r.group_id)
        assert r.last_editor_id == r.author_id
        assert r.status == SS.draft or receipts_of(r.id), r.title
        assert r.spent_on <= r.created_at.astimezone(PARIS).date()
        assert len(r.explanation) >= 40
        # What a person's form would store: the same checks find nothing to clean.
        fields = RequestFields(
            r.title,
            r.category,
            r.amount_cents,
            r.spent_on,
            r.explanation,
            r.payee_name,
            r.payee_iban,
            r.commitment_id,
        )
        assert clean_fields(r.group_id, fields) == fields
    # Requests of this year's actions and of last year's.
    rounds_charged = {
        db.session.get(Reservation, r.reservation_id).round_id for r in requests if r.reservation_id
    }
    assert rounds_charged == {r.id for r in rounds()}


def test_payees_are_paid_on_valid_french_ibans(demo):
    requests = spending_requests()
    for r in requests:
        assert validate_iban(r.payee_iban) == r.payee_iban
        # The RIB inside checks too: bank, branch, account number and their key.
        rib = [r.payee_iban[start:end] for start, end in ((4, 9), (9, 14), (14, 25), (25, 27))]
        bank, branch, number, key = (int(part) for part in rib)
        assert r.payee_iban.startswith("FR")
        assert (89 * bank + 15 * branch + 3 * number + key) % 97 == 0
    # Members reimbursed and suppliers paid; one account per payee.
    authors = {r.id: db.session.get(Person, r.author_id).display_name for r in requests}
    assert any(r.payee_name == authors[r.id] for r in requests)
    assert any(r.payee_name != authors[r.id] for r in requests)
    ibans = {(r.payee_name, r.payee_iban) for r in requests}
    assert len(ibans) == len({name for name, _ in ibans}) == len({iban for _, iban in ibans})


def test_every_receipt_is_stored_and_passes_the_checks_of_an_upload(demo):
    config = current_app.config
    root = config["UPLOADS_PATH"]
    receipts = list(db.session.scalars(select(SpendingReceipt)))
    assert len(receipts) >= 15
    kinds = Counter()
    for receipt in receipts:
        data = receipt_files.receipt_path(root, receipt.stored_name).read_bytes()
        checked = receipt_files.check_receipt(
            receipt.filename, data, config["RECEIPT_MAX_BYTES"], config["RECEIPT_MAX_PIXELS"]
        )
        assert checked.content_type == receipt.content_type
        assert receipt.size == len(data) and receipt.sha256 == hashlib.sha256(data).hexdigest()
        assert receipt.stored_name.endswith(f".{checked.extension}")
        kinds[checked.kind] += 1
        if checked.kind != "pdf":
            # Stored as the upload processing stores it: without the phone's metadata.
            with Image.open(io.BytesIO(data)) as image:
                assert not image.getexif() and "Software" not in image.info
        request = db.session.get(SpendingRequest, receipt.request_id)
        assert receipt.uploaded_by_id == request.author_id
        assert receipt.uploaded_at == request.created_at
    assert set(kinds) == {"pdf", "jpeg", "png"}
    # Every receipt file belongs to a receipt row.
    folder = f"{receipt_files.FOLDER}/"
    stored = {name.removeprefix(folder) for name in uploaded_files() if name.startswith(folder)}
    assert stored == {r.stored_name for r in receipts}


def test_timelines_run_in_order_with_the_people_who_may_act(demo):
    finance = account("finance")
    asked_and_answered = 0
    for r in spending_requests():
        events = request_timeline(r.id)
        assert [e.action for e in events][0] == "created"
        assert all(a.at < b.at for a, b in pairwise(events)), r.title
        assert r.version == len(events) and r.created_at == events[0].at
        status = None
        for e in events:
            before, after = e.from_status and SS(e.from_status), SS(e.to_status)
            assert (before, after) in TRANSITIONS[e.action], (r.title, e.action)
            assert before == status
            status = after
            actor = db.session.get(Person, e.actor_id)
            if e.action in FINANCE_ACTIONS:
                assert actor.id == finance.id
            elif e.action == "validated":
                # A second manager of the group: neither the author nor the last editor.
                assert is_group_manager(actor, r.group_id)
                assert actor.id not in (r.author_id, r.last_editor_id)
            elif e.action == "answered":
                assert is_group_manager(actor, r.group_id)
            else:
                assert actor.id == r.author_id
            # In waking hours, Paris time.
            assert 8 <= e.at.astimezone(PARIS).hour < 22
        assert status == r.status
        at = {e.action: e.at for e in events}
        assert (r.submitted_at, r.paid_at) == (at.get("submitted"), at.get("paid"))
        assert r.decided_at == at.get("approved", at.get("refused"))
        said = {e.action: e.comment for e in events}
        if r.status == SS.refused:
            assert len(said["refused"]) >= 40
        if r.status == SS.info_requested:
            assert events[-1].action == "info_requested" and len(said["info_requested"]) >= 40
        elif "info_requested" in said:
            assert len(said["answered"]) >= 20
            asked_and_answered += 1
    assert asked_and_answered >= 1


def test_approved_requests_are_charged_by_the_rule_within_their_reservations(demo):
    accounts = ledger_accounts()
    payees = outside_account(AccountKind.payees)
    charged: Counter = Counter()
    shapes = set()
    decided = spending_requests(SpendingRequest.status.in_([SS.approved, SS.paid]))
    for r in sorted(decided, key=lambda r: r.decided_at):
        assert r.round_cents + r.envelope_cents == r.amount_cents
        # The charging rule, replayed approval after approval.
        reservation = None
        if r.commitment_id is not None:
            reservation = db.session.scalars(
                select(Reservation).where(
                    Reservation.commitment_id == r.commitment_id, Reservation.released_at.is_(None)
                )
            ).one_or_none()
        expected = 0
        if reservation is not None:
            expected = min(r.amount_cents, reservation.amount_cents - charged[reservation.id])
            charged[reservation.id] += expected
        assert r.round_cents == expected, r.title
        assert r.reservation_id == (reservation.id if expected else None)
        ops = operations(LedgerOperation.spending_request_id == r.id)
        assert sum(op.amount_cents for op in ops) == r.amount_cents
        for op in ops:
            assert op.destination_id == payees.id and op.at == r.decided_at
            assert op.reason == f"Demande de dépense n° {r.id} : {r.title}"
            source = accounts[op.source_id]
            if op.reservation_id is not None:
                assert op.reservation_id == r.reservation_id
                assert source.kind == AccountKind.round
                assert source.round_id == reservation.round_id
                assert op.amount_cents == r.round_cents
            else:
                assert (source.kind, source.group_id) == (AccountKind.envelope, r.group_id)
                assert op.amount_cents == r.envelope_cents
        shapes.add((r.round_cents > 0, r.envelope_cents > 0))
    # Round only, envelope only, and split between them.
    assert shapes == {(True, False), (False, True), (True, True)}
    # Nothing is charged before approval.
    for r in spending_requests(SpendingRequest.status.not_in([SS.approved, SS.paid])):
        assert r.round_cents is None and r.envelope_cents is None and r.reservation_id is None
        assert not operations(LedgerOperation.spending_request_id == r.id)
    # The round's charges never exceed a reservation; the round's account says what it paid.
    for reservation_id, amount in charged.items():
        reservation = db.session.get(Reservation, reservation_id)
        assert charged_on_reservation(reservation_id) == amount <= reservation.amount_cents
    paid_by_round: Counter = Counter()
    for r in decided:
        if r.reservation_id is not None:
            paid_by_round[db.session.get(Reservation, r.reservation_id).round_id] += r.round_cents
    for round_ in rounds():
        assert round_spent_cents(round_.id) == paid_by_round[round_.id] > 0


def test_the_demo_manager_has_requests_in_several_statuses_and_one_to_validate(demo):
    manager = account("manager")
    groups = [g.id for g in managed_groups(manager)]
    mine = spending_requests(SpendingRequest.group_id.in_(groups))
    assert len({r.status for r in mine}) >= 6
    assert {SS.draft, SS.awaiting_group, SS.info_requested, SS.refused} <= {r.status for r in mine}
    assert any(r.author_id == manager.id for r in mine)
    # Filed by another manager of the same group: the demo manager is the one to validate it.
    to_validate = [
        r
        for r in mine
        if r.status == SS.awaiting_group and manager.id not in (r.author_id, r.last_editor_id)
    ]
    assert to_validate
    for r in to_validate:
        assert is_group_manager(db.session.get(Person, r.author_id), r.group_id)


# Tests that change the database or load the demo themselves: last, so that on PostgreSQL the
# shared demo is loaded once.


def test_exactly_one_proposal_is_within_two_commitments_of_its_threshold(fresh_demo):
    output, _ = fresh_demo
    _, round_ = rounds()
    near = [
        p
        for p in published()
        if not p.is_fundable and effective_threshold(p, round_) - p.commitment_count <= 2
    ]
    assert len(near) == 1
    assert f"« {near[0].title} »" in output
    # The demo manager can push it over the line with their two groups.
    manager = account("manager")
    for group in managed_groups(manager):
        commit_group(manager, group.id, near[0].id)
    db.session.expire_all()
    p = db.session.get(Proposal, near[0].id)
    assert p.is_fundable
    assert p.fundable_count == p.fundable_threshold == effective_threshold(p, round_)
    # It reserved what the nearly exhausted round still allowed, in commitment order.
    round_ = db.session.get(BudgetRound, round_.id)
    reserved = active_reservations(proposal_id=p.id)
    assert p.reserved_count == len(reserved) < p.commitment_count
    assert round_.remaining_cents < p.per_group_budget_cents
    in_round = active_reservations(round_id=round_.id)
    assert sum(r.amount_cents for r in in_round) == round_.reserved_cents <= round_.total_cents
    first = sorted(
        db.session.scalars(
            select(Commitment).where(
                Commitment.proposal_id == p.id, Commitment.status == CommitmentStatus.active
            )
        ),
        key=commitment_order,
    )[: len(reserved)]
    assert {r.commitment_id for r in reserved} == {c.id for c in first}


def demo_group() -> ActionGroup:
    name = "Groupe d'action " + " ".join(MANAGER_REFERENT_OF)
    return db.session.scalars(select(ActionGroup).where(ActionGroup.name == name)).one()


def test_the_demo_managers_group_shows_a_draft_a_submitted_and_an_in_review_proposal(
    fresh_demo, client, auth
):
    group = demo_group()
    own = group_proposals(group.id)
    assert {S.draft, S.submitted, S.in_review, S.published} <= {p.status for p in own}
    auth.login(account("manager").email, DEMO_PASSWORD)
    page = client.get(f"/groupes/{group.id}").get_data(as_text=True)
    for p in own:
        assert str(escape(p.title)) in page
    (in_review,) = [p for p in own if p.status == S.in_review]
    response = client.get(f"/espace/propositions/{in_review.id}")
    assert response.status_code == 200
    assert "Jules-Ferry" in response.get_data(as_text=True)  # the first message of its exchange


def test_the_demo_manager_validates_a_request_that_finance_approves_or_explains_refusing(
    fresh_demo,
):
    output, _ = fresh_demo
    manager, finance = account("manager"), account("finance")
    groups = [g.id for g in managed_groups(manager)]
    (filed,) = [
        r
        for r in spending_requests(
            SpendingRequest.group_id.in_(groups), SpendingRequest.status == SS.awaiting_group
        )
        if r.author_id != manager.id
    ]
    expected = split_for(filed.group_id, filed.commitment_id, filed.amount_cents)
    validate_request(manager, filed.id)
    split = approve_spending(finance, filed.id)
    db.session.expire_all()
    filed = db.session.get(SpendingRequest, filed.id)
    assert filed.status == SS.approved
    assert (filed.round_cents, filed.envelope_cents) == (split.round_cents, split.envelope_cents)
    assert (split.round_cents, split.envelope_cents) == (
        expected.round_cents,
        expected.envelope_cents,
    )
    # The nearly empty envelope cannot pay its group's request: the summary says so.
    (short,) = [
        r
        for r in spending_requests(SpendingRequest.status == SS.awaiting_finance)
        if not split_for(r.group_id, r.commitment_id, r.amount_cents).envelope_covers
    ]
    assert f"« {short.title} » ne peut l'être" in output
    with pytest.raises(Conflict, match="ne couvre pas cette demande"):
        approve_spending(finance, short.id)


# The network of elected officials (demo_network.py).


def network_members(*statuses: NetworkStatus) -> list[NetworkMember]:
    statement = select(NetworkMember).order_by(NetworkMember.id)
    if statuses:
        statement = statement.where(NetworkMember.status.in_(statuses))
    return list(db.session.scalars(statement))


def mandates_by_person() -> dict[int, list[Mandate]]:
    by_person: dict[int, list[Mandate]] = {}
    for mandate in db.session.scalars(select(Mandate).order_by(Mandate.id)):
        by_person.setdefault(mandate.person_id, []).append(mandate)
    return by_person


def network_team() -> set[int]:
    return set(db.session.scalars(select(Person.id).where(Person.is_network)))


def membership_of(person_id: int) -> NetworkMember:
    return db.session.scalar(select(NetworkMember).where(NetworkMember.person_id == person_id))


def was_member(person_id: int, moment) -> bool:
    """A member at that moment: accepted before it, and not excluded since before it."""
    member = membership_of(person_id)
    if member is None or member.status not in (NetworkStatus.member, NetworkStatus.excluded):
        return False
    accepted = db.session.scalar(
        select(AuditEntry.at).where(
            AuditEntry.person_id == person_id, AuditEntry.action == "network.accept"
        )
    )
    until = member.decided_at if member.status == NetworkStatus.excluded else utcnow()
    return accepted < moment <= until


def test_the_network_has_members_with_mandates_at_every_level_and_role(demo):
    members = network_members(NetworkStatus.member)
    assert 30 <= len(members) <= 45
    by_person = mandates_by_person()
    today = datetime_now_paris_date()
    levels, roles, sides, current_levels = set(), set(), set(), set()
    for member in members:
        mandates = by_person[member.person_id]
        assert member.presentation and member.motivation
        for m in mandates:
            assert m.role in ROLES_BY_LEVEL[m.level], (m.council, m.level, m.role)
            assert m.council_key == theme_key(m.council)
            assert m.ends_on is None or m.ends_on >= m.starts_on
            assert m.starts_on <= today
            if m.level in (MandateLevel.europeen, MandateLevel.francais_etranger):
                assert m.departement is None
            else:
                assert clean_network_departement(m.departement) == m.departement
            levels.add(m.level)
            roles.add(m.role)
            sides.add(m.side)
            if m.ends_on is None:
                current_levels.add(m.level)
        # Every member holds a mandate today.
        assert any(m.ends_on is None or m.ends_on >= today for m in mandates)
    assert levels == current_levels == set(MandateLevel)
    assert roles == set(MandateRole)
    assert sides == set(MandateSide)
    councils = {m.council for ms in by_person.values() for m in ms}
    for council in (
        "Conseil municipal de Grigny",
        "Métropole de Lyon",
        "Conseil départemental de la Seine-Saint-Denis",
        "Conseil régional d'Occitanie",
        "Assemblée nationale",
        "Sénat",
        "Parlement européen",
        "Conseil consulaire de Montréal",
    ):
        assert council in councils
    # Past and current mandates; people with two mandates at once (a municipal councillor
    # also intercommunal); re-elected people with two terms on the same council.
    everyone = [m for ms in by_person.values() for m in ms]
    assert sum(m.ends_on is not None for m in everyone) >= 10
    both = [
        ms
        for ms in by_person.values()
        if {MandateLevel.municipal, MandateLevel.intercommunal}
        <= {m.level for m in ms if m.ends_on is None}
    ]
    assert len(both) >= 5
    assert any(
        len([m for m in ms if m.council_key == other.council_key]) >= 2
        for ms in by_person.values()
        for other in ms
    )
    # All over France, overseas and Corsica included, and abroad.
    departements = {member.departement for member in members}
    assert {"2A", "2B", "971", "972", "973", "974", "976", None} <= departements
    assert len(departements) >= 25
    for member in members:
        assert member.departement is None or (
            clean_network_departement(member.departement) == member.departement
        )


def datetime_now_paris_date():
    return utcnow().astimezone(PARIS).date()


def test_no_one_has_two_overlapping_mandates_on_the_same_council(demo):
    for mandates in mandates_by_person().values():
        for n, a in enumerate(mandates):
            for b in mandates[n + 1 :]:
                if (a.level, a.council_key) != (b.level, b.council_key):
                    continue
                # Both ends inclusive, an open mandate runs forever.
                assert (a.ends_on is not None and a.ends_on < b.starts_on) or (
                    b.ends_on is not None and b.ends_on < a.starts_on
                ), (a.council, a.starts_on, b.starts_on)


def test_applications_wait_or_were_decided_by_the_network_team_with_reasons(demo):
    statuses = Counter(m.status for m in network_members())
    assert statuses[NetworkStatus.pending] >= 3
    assert statuses[NetworkStatus.declined] == statuses[NetworkStatus.excluded] == 1
    team, admin = network_team(), account("admin")
    by_person = mandates_by_person()
    today = datetime_now_paris_date()
    for member in network_members():
        assert member.motivation
        actions = list(
            db.session.execute(
                select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.reason)
                .where(AuditEntry.person_id == member.person_id)
                .where(AuditEntry.action.like("network.%"))
                .order_by(AuditEntry.at)
            )
        )
        assert actions[0][:2] == ("network.apply", member.person_id)
        if member.status == NetworkStatus.pending:
            assert member.decided_at is None and member.decided_by_id is None
            assert member.applied_at > utcnow() - timedelta(days=30)
            # An applicant holds a mandate, as the animation team will check.
            assert any(m.ends_on is None for m in by_person[member.person_id])
            assert len(actions) == 1
            continue
        assert member.decided_at > member.applied_at
        assert member.decided_by_id in team | {admin.id}
        if member.status == NetworkStatus.member:
            assert not member.decision_reason
            assert [a for a, *_ in actions] == ["network.apply", "network.accept"]
        else:
            assert len(member.decision_reason) > 50
            assert member.decided_by_id in team
            assert actions[-1][2] == member.decision_reason
        if member.status == NetworkStatus.declined:
            # Declined because the mandate had ended.
            assert all(
                m.ends_on is not None and m.ends_on < today for m in by_person[member.person_id]
            )
    candidate = membership_of(account("candidat").id)
    assert candidate.status == NetworkStatus.pending and candidate.motivation
    assert membership_of(account("elue").id).status == NetworkStatus.member
    modes = Counter(m.notify_mode for m in network_members(NetworkStatus.member))
    assert modes[NotifyMode.immediate] > modes[NotifyMode.daily] > 0
    for member in network_members():
        # A daily digest went out at 7 a.m. (Paris time), to those who get one.
        sent = member.digest_sent_at
        assert sent is None or member.notify_mode == NotifyMode.daily
        assert sent is None or (sent <= utcnow() and sent.astimezone(PARIS).hour == 7)


def test_members_have_themes_keyed_as_the_theme_service_keys_them(demo):
    themes = list(db.session.scalars(select(NetworkTheme)))
    assert len(themes) >= 10
    assert all(t.key == theme_key(t.name) for t in themes)
    names = {t.name for t in themes}
    assert {"Eau en régie publique", "Cantines bio", "Services publics", "Dotations"} <= names
    assert {"Travail détaché", "Logement", "Transports gratuits", "Santé"} <= names
    with_themes = set(db.session.scalars(select(network_member_theme.c.member_id)))
    assert with_themes == {m.id for m in network_members()}


def test_the_network_team_has_two_animators_who_sign_in_and_the_public_page_lists_it(
    demo, demo_client
):
    team = network_team()
    assert len(team) == 2 and account("network").id in team
    auth = AuthActions(demo_client)
    for person_id in team:
        person = db.session.get(Person, person_id)
        assert person.staff_roles == ["network"]
        assert membership_of(person_id).status == NetworkStatus.member
        auth.login(person.email, DEMO_PASSWORD)
        auth.logout()
    entries = list(db.session.scalars(select(NetworkTeamEntry).order_by(NetworkTeamEntry.position)))
    roles = Counter(e.role for e in entries)
    assert roles[TeamRole.co_lead] == 2 and roles[TeamRole.member] >= 4
    assert [e.position for e in entries] == list(range(1, len(entries) + 1))
    assert {e.person_id for e in entries if e.role == TeamRole.co_lead} == team
    for entry in entries:
        assert entry.display_name and len(entry.description) > 30
        if entry.person_id is not None:
            assert db.session.get(Person, entry.person_id).display_name == entry.display_name


def test_resources_of_every_kind_with_their_levels_themes_and_reuses(demo):
    resources = list(db.session.scalars(select(Resource).order_by(Resource.id)))
    assert 20 <= len(resources) <= 30
    kinds = Counter(r.kind for r in resources)
    assert set(kinds) == set(ResourceKind) and min(kinds.values()) >= 2
    decisions = (
        ResourceKind.amendement,
        ResourceKind.deliberation,
        ResourceKind.voeu,
        ResourceKind.motion,
    )
    outcomes = set()
    reused = 0
    for r in resources:
        assert r.title and len(r.summary) > 100 and len(r.body) > 300, r.title
        assert was_member(r.author_id, r.created_at), r.title
        assert r.updated_at == r.created_at and r.updated_by_id == r.author_id
        assert (r.outcome is not None) == (r.kind in decisions), r.title
        outcomes.add(r.outcome)
        assert r.decided_on is None or r.decided_on <= r.created_at.astimezone(PARIS).date()
        levels = set(
            db.session.scalars(select(ResourceLevel.level).where(ResourceLevel.resource_id == r.id))
        )
        assert levels
        themes = list(
            db.session.scalars(
                select(NetworkTheme.name)
                .join(resource_theme, resource_theme.c.theme_id == NetworkTheme.id)
                .where(resource_theme.c.resource_id == r.id)
                .order_by(NetworkTheme.id)
            )
        )
        assert themes
        # The text the library service indexes, as it computes it.
        assert r.search_text == search_text_of(r, themes)
        reuses = list(
            db.session.scalars(select(ResourceReuse).where(ResourceReuse.resource_id == r.id))
        )
        assert r.reuse_count == len(reuses)
        for reuse in reuses:
            assert reuse.person_id != r.author_id and reuse.note
            assert r.created_at < reuse.created_at <= utcnow()
            assert was_member(reuse.person_id, reuse.created_at)
        reused += bool(reuses)
    assert outcomes == {None, *ResourceOutcome}
    assert reused >= 8


def test_about_half_the_resources_have_files_stored_and_passing_the_upload_checks(demo):
    config = current_app.config
    root = config["UPLOADS_PATH"]
    files = list(db.session.scalars(select(ResourceFile).order_by(ResourceFile.id)))
    resources = db.session.scalar(select(func.count()).select_from(Resource))
    with_files = {f.resource_id for f in files}
    assert 0.4 <= len(with_files) / resources <= 0.65
    kinds = Counter()
    for row in files:
        path = documents.document_path(root, "library", row.stored_name)
        assert path.is_file()
        data = path.read_bytes()
        checked = documents.check_document(row.display_name, data, config["NETWORK_FILE_MAX_BYTES"])
        assert checked.content_type == row.content_type
        assert checked.display_name == row.display_name
        assert row.size == len(data) and row.sha256 == hashlib.sha256(data).hexdigest()
        assert row.stored_name.endswith(f".{checked.extension}")
        resource = db.session.get(Resource, row.resource_id)
        assert row.uploaded_by_id == resource.author_id and row.created_at == resource.created_at
        kinds[checked.kind] += 1
        if checked.kind == "pdf":
            assert data.rstrip().endswith(b"%%EOF")
    assert set(kinds) == {"pdf", "odt", "ods", "docx", "xlsx", "png"}
    # Every file of the network folder belongs to a row, and the other way round.
    support = list(db.session.scalars(select(SupportFile)))
    stored = {f"network/library/{f.stored_name}" for f in files}
    stored |= {f"network/support/{f.stored_name}" for f in support}
    assert {name for name in uploaded_files() if name.startswith("network/")} == stored


def test_full_text_search_finds_the_demo_resources_on_both_backends(demo):
    if db.engine.dialect.name == "postgresql":
        matching = select(Resource.title).where(
            RESOURCE_TSVECTOR.op("@@")(func.plainto_tsquery(literal_column("'french'"), "régies"))
        )
    else:
        matching = select(Resource.title).where(
            Resource.id.in_(
                select(literal_column("rowid"))
                .select_from(text("resource_fts"))
                .where(text("resource_fts MATCH 'regie'"))
            )
        )
    titles = set(db.session.scalars(matching))
    assert "Délibération créant la régie publique de l'eau potable" in titles
    assert "Note juridique : du contrat de délégation à la régie de l'eau" in titles
    assert not any("Motion" in title for title in titles)


def test_threads_run_in_order_with_quotes_and_one_message_hidden_by_the_team(demo):
    threads = list(db.session.scalars(select(Thread).order_by(Thread.id)))
    assert 10 <= len(threads) <= 15
    team = network_team()
    hidden = []
    quotes = 0
    for thread in threads:
        posts = list(
            db.session.scalars(select(Post).where(Post.thread_id == thread.id).order_by(Post.id))
        )
        assert 3 <= len(posts) <= 15, thread.title
        assert thread.theme_id is not None
        assert posts[0].author_id == thread.author_id
        assert posts[0].created_at == thread.created_at
        assert [p.created_at for p in posts] == sorted(p.created_at for p in posts)
        visible = [p for p in posts if p.hidden_at is None]
        assert thread.post_count == len(visible)
        assert thread.last_post_at == visible[-1].created_at
        ids = [p.id for p in posts]
        for post in posts:
            assert was_member(post.author_id, post.created_at), thread.title
            if post.quoted_post_id is not None:
                quotes += 1
                assert post.quoted_post_id in ids[: ids.index(post.id)]
                assert db.session.get(Post, post.quoted_post_id).hidden_at is None
            if post.hidden_at is not None:
                hidden.append(post)
                assert post.hidden_by_id in team and len(post.hidden_reason) > 30
                assert post.created_at < post.hidden_at <= utcnow()
                assert (
                    db.session.scalar(
                        select(func.count()).where(
                            AuditEntry.action == "post.hide",
                            AuditEntry.new_value == f"post {post.id}, thread {thread.id}",
                        )
                    )
                    == 1
                )
        # Every author follows the threads they wrote in, as the discussion service makes them.
        followers = set(
            db.session.scalars(
                select(Subscription.person_id).where(Subscription.thread_id == thread.id)
            )
        )
        assert {p.author_id for p in posts} <= followers
    assert len(hidden) == 1 and quotes >= 5
    assert {t.level for t in threads} > {None}
    assert db.session.scalar(select(func.count()).where(Subscription.theme_id.is_not(None))) >= 10
    # Nothing waits to be sent: the demo never mails anyone.
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(PostNotification)
            .where(PostNotification.sent_at.is_(None))
        )
        == 0
    )


def test_support_requests_in_every_status_kind_and_urgency_with_their_exchanges(demo):
    requests = list(db.session.scalars(select(SupportRequest).order_by(SupportRequest.id)))
    assert 6 <= len(requests) <= 12
    assert {r.status for r in requests} == set(SupportStatus)
    assert {r.kind for r in requests} == set(SupportKind)
    assert {r.urgency for r in requests} == set(SupportUrgency)
    team = network_team()
    for r in requests:
        assert was_member(r.requester_id, r.created_at)
        messages = list(
            db.session.scalars(
                select(SupportMessage)
                .where(SupportMessage.request_id == r.id)
                .order_by(SupportMessage.id)
            )
        )
        times = [r.created_at, *(m.created_at for m in messages)]
        assert times == sorted(times) and r.updated_at >= times[-1]
        for m in messages:
            assert m.author_id in (team if m.from_team else {r.requester_id})
        if r.status == SupportStatus.open:
            assert r.assignee_id is None and not any(m.from_team for m in messages)
        else:
            assert r.assignee_id in team
        if r.status == SupportStatus.answered:
            assert messages[-1].from_team
        assert (r.closed_at is not None) == (r.status == SupportStatus.closed)
        if r.closed_at is not None:
            assert r.closed_by_id in team | {r.requester_id} and r.closed_at == r.updated_at
        # The audit entries the request's history is read from end where the request is.
        states = list(
            db.session.scalars(
                select(AuditEntry.new_value)
                .where(AuditEntry.action.like("support.%"))
                .where(AuditEntry.new_value.like(f"request={r.id};%"))
                .order_by(AuditEntry.at)
            )
        )
        assert states[0] == f"request={r.id};status=open;assignee="
        assert (
            states[-1] == f"request={r.id};status={r.status.value};assignee={r.assignee_id or ''}"
        )
    both = {m.from_team for m in db.session.scalars(select(SupportMessage))}
    assert both == {True, False}
    (joined,) = db.session.scalars(select(SupportFile))
    root, config = current_app.config["UPLOADS_PATH"], current_app.config
    data = documents.document_path(root, "support", joined.stored_name).read_bytes()
    checked = documents.check_document(joined.display_name, data, config["NETWORK_FILE_MAX_BYTES"])
    assert checked.kind == "odt" and joined.sha256 == hashlib.sha256(data).hexdigest()
    assert joined.uploaded_by_id == db.session.get(SupportRequest, joined.request_id).requester_id


def test_network_timestamps_are_aware_utc_and_in_the_past(demo):
    now = utcnow()
    values = []
    for model, columns in (
        (NetworkMember, ("applied_at", "decided_at", "digest_sent_at")),
        (Mandate, ("created_at",)),
        (Resource, ("created_at", "updated_at")),
        (ResourceFile, ("created_at",)),
        (ResourceReuse, ("created_at",)),
        (Thread, ("created_at", "last_post_at")),
        (Post, ("created_at", "hidden_at")),
        (Subscription, ("created_at",)),
        (SupportRequest, ("created_at", "updated_at", "closed_at")),
        (SupportMessage, ("created_at",)),
        (SupportFile, ("created_at",)),
    ):
        for column in columns:
            values += list(db.session.scalars(select(getattr(model, column))))
    values = [v for v in values if v is not None]
    assert all(v.tzinfo is not None and v.utcoffset() == timedelta(0) for v in values)
    assert all(v <= now for v in values)
    # Spread over months.
    posts = list(db.session.scalars(select(Post.created_at)))
    assert (max(posts) - min(posts)).days >= 120
    for member in network_members():
        person = db.session.get(Person, member.person_id)
        assert person.created_at < member.applied_at


def test_the_demo_prints_the_network_and_its_accounts(demo):
    output, _ = demo
    assert re.search(r"Réseau des élu·es : \d+ membres, \d+ mandats", output)
    assert re.search(r"\d+ ressources partagées de 8 sortes, \d+ fichiers", output)
    for key in ("network", "elue", "candidat"):
        assert account(key).email in output.split("Comptes de démonstration")[0]


def test_a_failed_network_stage_removes_everything_the_demo_wrote(app, runner, monkeypatch):
    store_document, stored = documents.store_document, []

    def disk_full_at_the_fourth_document(root, checked, folder):
        if len(stored) == 3:
            raise OSError(28, "No space left on device")
        name, paths = store_document(root, checked, folder)
        stored.extend(paths)
        return name, paths

    monkeypatch.setattr(documents, "store_document", disk_full_at_the_fourth_document)
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "Erreur : l'ajout du réseau des élu·es de démonstration a échoué" in result.output
    assert "No space left on device" in result.output
    assert "la base est de nouveau vide" in result.output
    db.session.expire_all()
    assert set(row_counts().values()) == {0}
    assert len(stored) == 3 and not any(path.exists() for path in stored)
    assert uploaded_files() == []


def test_second_run_adds_nothing_and_says_so(fresh_demo, runner):
    before, files = row_counts(), uploaded_files()
    output, _ = run_demo(runner)
    assert row_counts() == before
    assert uploaded_files() == files
    assert "déjà chargées" in output and "rien n'a été ajouté" in output
    assert "manager@demo.commun.fr" in output


def commitment_rows() -> list[tuple]:
    return db.session.execute(
        select(ActionGroup.name, Proposal.slug, Commitment.status, Commitment.note)
        .join(ActionGroup, ActionGroup.id == Commitment.group_id)
        .join(Proposal, Proposal.id == Commitment.proposal_id)
        .order_by(Commitment.id)
    ).all()


def reservation_rows() -> list[tuple]:
    return db.session.execute(
        select(BudgetRound.name, ActionGroup.name, Proposal.slug, Reservation.amount_cents)
        .join(BudgetRound, BudgetRound.id == Reservation.round_id)
        .join(ActionGroup, ActionGroup.id == Reservation.group_id)
        .join(Proposal, Proposal.id == Reservation.proposal_id)
        .order_by(Reservation.id)
    ).all()


def round_figures() -> list[tuple]:
    return db.session.execute(
        select(BudgetRound.name, BudgetRound.total_cents, BudgetRound.reserved_cents).order_by(
            BudgetRound.id
        )
    ).all()


def spending_rows() -> list[tuple]:
    return db.session.execute(
        select(
            ActionGroup.name,
            SpendingRequest.title,
            SpendingRequest.status,
            SpendingRequest.amount_cents,
            SpendingRequest.round_cents,
            SpendingRequest.envelope_cents,
            SpendingRequest.payee_name,
            SpendingRequest.payee_iban,
        )
        .join(ActionGroup, ActionGroup.id == SpendingRequest.group_id)
        .order_by(SpendingRequest.id)
    ).all()


def donation_rows() -> list[tuple]:
    return db.session.execute(
        select(ActionGroup.name, LedgerOperation.amount_cents, LedgerOperation.reference)
        .join(LedgerAccount, LedgerAccount.id == LedgerOperation.destination_id)
        .join(ActionGroup, ActionGroup.id == LedgerAccount.group_id)
        .where(LedgerOperation.reference.is_not(None))
        .order_by(LedgerOperation.id)
    ).all()


def network_rows() -> list[tuple]:
    """The network's people, mandates, resources, messages and requests, without the moments
    (relative to the time of the load)."""
    return [
        *db.session.execute(
            select(Person.email, Mandate.council, Mandate.role, Mandate.starts_on, Mandate.ends_on)
            .join(Person, Person.id == Mandate.person_id)
            .order_by(Mandate.id)
        ).all(),
        *db.session.execute(
            select(Resource.title, Resource.reuse_count, Resource.search_text).order_by(Resource.id)
        ).all(),
        *db.session.execute(
            select(Thread.title, Person.email, Post.body, Post.hidden_reason)
            .join(Thread, Thread.id == Post.thread_id)
            .join(Person, Person.id == Post.author_id)
            .order_by(Post.id)
        ).all(),
        *db.session.execute(
            select(SupportRequest.subject, SupportRequest.status, SupportMessage.body)
            .join(SupportMessage, SupportMessage.request_id == SupportRequest.id)
            .order_by(SupportMessage.id)
        ).all(),
    ]


def load_into_a_new_database(folder: Path) -> tuple:
    """The demo loaded into its own empty database (ledger operations are never deleted: a
    load cannot be emptied out); what it wrote, without the moments."""
    folder.mkdir()
    app = make_app(folder)
    with app.app_context():
        try:
            run_demo(app.test_cli_runner())
            return (
                commitment_rows(),
                reservation_rows(),
                round_figures(),
                spending_rows(),
                donation_rows(),
                network_rows(),
            )
        finally:
            db.session.remove()
            db.engine.dispose()


def test_demo_is_deterministic(tmp_path, monkeypatch):
    """Two loads at the same moment write the same data.

    The demo is written relative to the moment of its load (donations so many days ago,
    mandates begun at the last elections), so two loads either side of midnight in Paris
    rightly differ: the days, then the order, of some donations. CI once loaded them on either
    side; both loads now read one clock.
    """
    moment = utcnow()
    monkeypatch.setattr(demo_data, "utcnow", lambda: moment)
    first = load_into_a_new_database(tmp_path / "load-1")
    second = load_into_a_new_database(tmp_path / "load-2")
    assert first == second


@pytest.mark.parametrize(
    "moment",
    [
        # 23:59:50 in Paris: the loads around it fell on two days.
        datetime(2026, 11, 29, 22, 59, 50, tzinfo=UTC),
        # 22:00 in Paris: the night begins (the demo moves nightly moments to the evening).
        datetime(2026, 11, 29, 21, 0, 5, tzinfo=UTC),
        # The night the clocks go back, and a summer night.
        datetime(2026, 10, 25, 1, 0, 30, tzinfo=UTC),
        datetime(2026, 7, 14, 2, 30, tzinfo=UTC),
    ],
    ids=["midnight", "nightfall", "clocks-back", "summer-night"],
)
def test_demo_loads_at_any_hour(tmp_path, monkeypatch, moment):
    """Its checks (messages in order and in the past, members at the time they write, no
    mandate overlap) hold whatever the hour; 56 moments of three days were tried once."""
    monkeypatch.setattr(demo_data, "utcnow", lambda: moment)
    rows = load_into_a_new_database(tmp_path / "load")
    assert all(rows)


def test_demo_never_loads_into_a_database_with_other_data(app, runner):
    f.person(email="militante@example.org")
    output, _ = run_demo(runner)
    assert "base vide" in output and "rien n'a été ajouté" in output.lower()
    assert db.session.scalar(select(func.count()).select_from(Person)) == 1
    assert db.session.scalar(select(func.count()).select_from(ActionGroup)) == 0
    assert uploaded_files() == []


def test_a_failed_illustration_removes_everything_the_demo_wrote(app, runner, monkeypatch):
    save_files, saved = images.save_files, []

    def disk_full_at_the_fifth_image(root, stored_name, image):
        if len(saved) == 4:
            raise OSError(28, "No space left on device")
        saved.append(stored_name)
        return save_files(root, stored_name, image)

    monkeypatch.setattr(images, "save_files", disk_full_at_the_fifth_image)
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "Erreur : l'ajout des illustrations de démonstration a échoué" in result.output
    assert "No space left on device" in result.output
    assert "la base est de nouveau vide" in result.output
    db.session.expire_all()
    assert set(row_counts().values()) == {0}
    assert uploaded_files() == []
    # Once the cause is gone, the demo loads.
    monkeypatch.undo()
    output, _ = run_demo(runner)
    assert "Données de démonstration chargées" in output


def test_a_failed_money_stage_removes_everything_the_demo_wrote(app, runner, monkeypatch):
    store_receipt, stored = receipt_files.store_receipt, []

    def disk_full_at_the_sixth_receipt(root, checked):
        if len(stored) == 5:
            raise OSError(28, "No space left on device")
        name, paths = store_receipt(root, checked)
        stored.extend(paths)
        return name, paths

    monkeypatch.setattr(receipt_files, "store_receipt", disk_full_at_the_sixth_receipt)
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert (
        "Erreur : l'enregistrement des dons et des dépenses de démonstration a échoué"
        in result.output
    )
    assert "No space left on device" in result.output
    assert "la base est de nouveau vide" in result.output
    db.session.expire_all()
    assert set(row_counts().values()) == {0}
    # The receipts stored before the failure are gone, and the illustrations with them.
    assert len(stored) == 5 and not any(path.exists() for path in stored)
    assert uploaded_files() == []


def test_demo_refuses_to_start_when_the_uploads_folder_cannot_be_written(tmp_path):
    blocker = tmp_path / "un-fichier"
    blocker.write_text("")
    app = make_app(tmp_path, UPLOADS_PATH=str(blocker / "uploads"))
    with app.app_context():
        try:
            result = app.test_cli_runner().invoke(args=["demo"])
            assert result.exit_code == 1
            assert "n'est pas accessible en écriture" in result.output
            assert "Rien n'a été chargé" in result.output
            assert set(row_counts().values()) == {0}
        finally:
            db.session.remove()
            db.engine.dispose()


def test_the_bench_generator_writes_a_current_round_with_consistent_reservations(tmp_path):
    """A reduced national data set (the generator's own checks run too), in a process of its
    own as `make bench` runs it, on an SQLite file whatever the suite's backend."""
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    scale = ["--groups", "400", "--proposals", "40", "--commitments", "6000", "--threshold", "60"]
    result = subprocess.run(
        [sys.executable, "-m", "bench.generate", "--url", url, *scale],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stderr
    assert "reservations" in result.stdout
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            (round_,) = conn.execute(select(BudgetRound.__table__)).all()
            proposals = conn.execute(select(Proposal.__table__)).all()
            commitments = {c.id: c for c in conn.execute(select(Commitment.__table__))}
            reservations = conn.execute(
                select(Reservation.__table__).order_by(Reservation.id)
            ).all()
    finally:
        engine.dispose()
    assert round_.is_current and round_.policy == "manual"
    assert round_.opens_at < utcnow() < round_.closes_at
    assert round_.reserved_cents == sum(r.amount_cents for r in reservations)
    assert 0 < round_.reserved_cents <= round_.total_cents
    assert len({r.commitment_id for r in reservations}) == len(reservations)
    by_proposal: dict[int, list] = {}
    for r in reservations:
        by_proposal.setdefault(r.proposal_id, []).append(r)
    fundable = [p for p in proposals if p.fundable_at is not None]
    assert len(fundable) >= 10
    for p in proposals:
        mine = by_proposal.get(p.id, [])
        assert p.reserved_count == len(mine) and p.reserved_cents == sum(
            r.amount_cents for r in mine
        )
        assert not mine or p.fundable_at is not None
        for r in mine:
            c = commitments[r.commitment_id]
            assert c.proposal_id == p.id and c.group_id == r.group_id
            assert r.amount_cents == p.per_group_budget_cents
            assert r.reserved_at >= max(c.committed_at, p.fundable_at)
        # In commitment order: the reserved ones are the first.
        active = sorted(
            (c for c in commitments.values() if c.proposal_id == p.id),
            key=lambda c: (c.committed_at, c.id),
        )
        assert {r.commitment_id for r in mine} == {c.id for c in active[: len(mine)]}
    # The total is large enough: most fundable proposals are fully reserved.
    full = [p for p in fundable if p.reserved_count == p.commitment_count]
    assert len(full) >= 0.9 * len(fundable)
