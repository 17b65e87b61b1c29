"""Pages issue a constant number of SQL queries, whatever the size of the data."""

from contextlib import contextmanager

from sqlalchemy import event

from models import ActionGroup, Commitment, Proposal, ProposalStatus, db, utcnow
from tests import factories as f


@contextmanager
def counting_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def add_bulk(round_id: int, n_proposals: int, n_groups: int, committed: int, start: int) -> None:
    """n proposals; the first `committed` of them get a commitment from every new group."""
    groups = [
        ActionGroup(
            name=f"Groupe {start + i}", commune="Lyon", departement="69", certified_at=utcnow()
        )
        for i in range(n_groups)
    ]
    proposals = [
        Proposal(
            round_id=round_id,
            title=f"Action {start + i}",
            slug=f"action-bulk-{start + i}",
            summary="Résumé",
            body="Texte",
            category="culture",
            per_group_budget_cents=10_000,
            status=ProposalStatus.published,
            published_at=utcnow(),
        )
        for i in range(n_proposals)
    ]
    db.session.add_all(groups + proposals)
    db.session.flush()
    for p in proposals[:committed]:
        db.session.add_all(Commitment(group_id=g.id, proposal_id=p.id) for g in groups)
        p.commitment_count += len(groups)
    db.session.commit()


def measure(client, auth, pages: dict[str, str], person) -> dict[str, int]:
    counts = {}
    for signed_in in (False, True):
        if signed_in:
            auth.login(person)
        for name, url in pages.items():
            client.get(url)  # warm-up: template compilation and the like stay out of the count
            with counting_queries() as statements:
                assert client.get(url).status_code == 200, url
            counts[f"{name}{'-signed-in' if signed_in else ''}"] = len(statements)
        if signed_in:
            auth.logout()
    return counts


def test_pages_issue_the_same_number_of_queries_with_10_or_1000_rows(client, auth, app):
    r = f.budget_round(base_threshold=5)
    add_bulk(r.id, n_proposals=10, n_groups=1, committed=10, start=0)
    first = db.session.query(Proposal).order_by(Proposal.id).first()
    person, group = f.manager_of()
    f.member(person, f.group(), "referent")
    tokens = "-".join(f"{i}.0.5.0.0" for i in range(1, 13))
    pages = {
        "list": "/",
        "list-filtered": "/?q=action&tri=proches&statut=ouverte",
        "proposal": f"/propositions/{first.slug}",
        "group": f"/groupes/{group.id}",
        "poll": f"/propositions/etat?s={tokens}&detail={first.id}",
        "api": "/api/proposals",
    }
    small = measure(client, auth, pages, person)

    # 1,000 proposals and 1,000 more commitments, some on the proposal whose page is measured.
    add_bulk(r.id, n_proposals=990, n_groups=40, committed=25, start=10)
    db.session.add_all(
        Commitment(group_id=g.id, proposal_id=first.id)
        for g in db.session.query(ActionGroup).filter(ActionGroup.name.like("Groupe 1_"))
    )
    db.session.commit()
    assert db.session.query(Proposal).count() == 1000
    assert db.session.query(Commitment).count() >= 1000
    big = measure(client, auth, pages, person)

    assert small == big
    # The most: the group page for its manager, with the envelope and the spending requests.
    assert max(small.values()) <= 9, small
