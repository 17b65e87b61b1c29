"""Concurrency rules with real threads started together, on SQLite and PostgreSQL.

Rules: one commitment per (group, proposal); the count equals the active commitments, always;
the fundable transition is recorded once, under the lock, in the transaction that crossed it.
"""

import contextlib
import http.cookiejar
import random
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import func, select

from models import Commitment, CommitmentStatus, Person, Proposal, db
from services.commitments import AlreadyCommitted, commit_group, withdraw_commitment
from services.errors import Conflict
from tests import factories as f
from tests.servers import serving

pytestmark = pytest.mark.concurrency


def run_together(n: int, work) -> list:
    """Run work(i) in n threads released at the same instant; results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # collected and asserted on by the test
            results[i] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results


def as_person(app, person_id: int, action):
    """Run a service call in a thread of its own, in its own app context and session."""
    with app.app_context():
        return action(db.session.get(Person, person_id))


def active_rows(proposal_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Commitment.proposal_id == proposal_id, Commitment.status == CommitmentStatus.active
        )
    )


def reload(proposal_id: int) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, proposal_id)


def test_forty_groups_committing_at_once_give_forty_commitments_and_one_transition(app):
    p = f.proposal(threshold_override=25)
    managers = [f.manager_of() for _ in range(40)]
    ids = [(person.id, g.id) for person, g in managers]
    pid = p.id
    db.session.commit()

    results = run_together(
        40,
        lambda i: as_person(app, ids[i][0], lambda who: commit_group(who, ids[i][1], pid)),
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    p = reload(pid)
    assert active_rows(pid) == p.commitment_count == 40
    assert p.fundable_at is not None
    assert p.fundable_threshold == 25 and p.fundable_count >= 25
    # Recorded once: exactly the commitments made before the transition precede it.
    before = db.session.scalar(
        select(func.count()).where(
            Commitment.proposal_id == pid, Commitment.committed_at <= p.fundable_at
        )
    )
    assert before == p.fundable_count


def test_one_group_committing_twice_at_once_gives_one_row(app):
    p = f.proposal()
    person, g = f.manager_of()
    pid, person_id, gid = p.id, person.id, g.id
    db.session.commit()

    results = run_together(
        8, lambda i: as_person(app, person_id, lambda who: commit_group(who, gid, pid))
    )

    assert sum(isinstance(r, int) for r in results) == 1
    assert all(isinstance(r, AlreadyCommitted) for r in results if not isinstance(r, int))
    assert active_rows(pid) == reload(pid).commitment_count == 1
    assert db.session.scalar(select(func.count()).select_from(Commitment)) == 1


def test_counts_and_rows_agree_under_mixed_commits_and_withdrawals(app):
    p = f.proposal(threshold_override=1000)
    managers = [f.manager_of() for _ in range(12)]
    ids = [(person.id, g.id) for person, g in managers]
    pid = p.id
    db.session.commit()

    def churn(i: int):
        person_id, gid = ids[i]
        rng = random.Random(i)
        for _ in range(6):
            action = commit_group if rng.random() < 0.6 else withdraw_commitment
            with contextlib.suppress(AlreadyCommitted, Conflict):
                as_person(app, person_id, lambda who, a=action: a(who, gid, pid))
        return True

    results = run_together(12, churn)

    assert all(r is True for r in results), results
    assert active_rows(pid) == reload(pid).commitment_count


# --- over HTTP --------------------------------------------------------------------------------


class Browser:
    """A client with its own cookies, like one person's browser."""

    def __init__(self, base: str):
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), _NoRedirect()
        )

    def post(self, path: str, data: dict) -> int:
        body = urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(base: str, email: str) -> Browser:
    browser = Browser(base)
    assert browser.post("/connexion", {"email": email, "password": f.PASSWORD}) == 303
    return browser


def test_forty_groups_committing_at_once_over_http(app):
    p = f.proposal(threshold_override=25)
    managers = [f.manager_of() for _ in range(40)]
    pid = p.id
    emails_groups = [(person.email, g.id) for person, g in managers]
    db.session.commit()

    with serving(app) as base:
        browsers = [sign_in(base, email) for email, _ in emails_groups]
        statuses = run_together(
            40,
            lambda i: browsers[i].post(
                f"/propositions/{pid}/engagement", {"group_id": emails_groups[i][1]}
            ),
        )

    assert statuses == [303] * 40
    p = reload(pid)
    assert active_rows(pid) == p.commitment_count == 40
    assert p.fundable_at is not None and p.fundable_count >= 25


def test_double_click_over_http_gives_one_commitment(app):
    p = f.proposal()
    person, g = f.manager_of()
    pid, gid, email = p.id, g.id, person.email
    db.session.commit()

    with serving(app) as base:
        browser = sign_in(base, email)
        statuses = run_together(
            6, lambda i: browser.post(f"/propositions/{pid}/engagement", {"group_id": gid})
        )

    assert sorted(statuses) == [303] + [409] * 5
    assert active_rows(pid) == reload(pid).commitment_count == 1
