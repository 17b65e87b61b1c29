"""Live updates: one poll per page, 204/304 when nothing changed, fragments when it did."""

import re

from tests import factories as f


def tokens_on(html: str) -> str:
    return re.search(r'id="live-poll"[^>]*hx-get="[^"]*\?s=([^"&]+)', html).group(1)


def test_list_page_polls_all_visible_cards_in_one_request(client, app):
    proposals = [f.proposal() for _ in range(3)]
    html = client.get("/").get_data(as_text=True)
    assert html.count('id="live-poll"') == 1
    tokens = tokens_on(html)
    assert {int(t.split(".")[0]) for t in tokens.split("-")} == {p.id for p in proposals}
    assert 'hx-trigger="every 1s"' in html  # POLL_INTERVAL_SECONDS in the tests


def test_poll_answers_204_when_nothing_changed(client, app):
    p = f.proposal()
    tokens = tokens_on(client.get(f"/propositions/{p.slug}").get_data(as_text=True))
    response = client.get(f"/propositions/etat?s={tokens}&detail={p.id}")
    assert response.status_code == 204 and response.data == b""


def test_poll_answers_304_to_a_matching_etag(client, app):
    p = f.proposal()
    tokens = tokens_on(client.get("/").get_data(as_text=True))
    first = client.get(f"/propositions/etat?s={tokens}")
    etag = first.headers["ETag"]
    again = client.get(f"/propositions/etat?s={tokens}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    f.commitments(p, [f.group()])
    changed = client.get(f"/propositions/etat?s={tokens}", headers={"If-None-Match": etag})
    assert changed.status_code == 200


def test_poll_sends_every_changed_counter_and_the_new_poller(client, app):
    p, q = f.proposal(title="Vélo"), f.proposal(title="Cantine", threshold_override=2)
    tokens = tokens_on(client.get("/").get_data(as_text=True))
    f.commitments(q, [f.group(), f.group()])
    q.fundable_at = q.published_at
    from models import db

    db.session.commit()
    response = client.get(f"/propositions/etat?s={tokens}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"outerHTML:.progress-{q.id}" in html and f"outerHTML:.progress-{p.id}" not in html
    assert 'aria-valuetext="2 groupes engagés sur 2"' in html and "Finançable" in html
    assert "« Cantine » : 2 groupes engagés sur 2 — finançable" in html
    assert tokens_on(html) != tokens
    assert client.get(f"/propositions/etat?s={tokens_on(html)}").status_code == 204


def test_poll_on_a_proposal_page_refreshes_the_engaged_groups(client, app):
    p = f.proposal()
    tokens = tokens_on(client.get(f"/propositions/{p.slug}").get_data(as_text=True))
    f.commitments(p, [f.group(name="Groupe Chartrons")])
    html = client.get(f"/propositions/etat?s={tokens}&detail={p.id}").get_data(as_text=True)
    assert 'id="engaged-groups"' in html and "Groupe Chartrons" in html


def test_poll_with_malformed_state_is_400_never_500(client, app):
    for bad in (
        "zz",
        "1.2.3.0",
        "1.2.3.4.5",
        "a.b.c.d.e",
        "-".join(f"{i}.0.1.0.0" for i in range(200)),
    ):
        assert client.get(f"/propositions/etat?s={bad}").status_code == 400
    assert client.get("/propositions/etat?s=").status_code == 204
    assert client.get("/propositions/etat?s=1.0.1.0.0&detail=abc").status_code == 204
    assert client.get("/propositions/etat?s=1.0.1.0.0&detail=²").status_code == 204
    assert client.get("/propositions/etat?s=².0.1.0.0").status_code == 400


def test_poll_ignores_unpublished_or_unknown_proposals(client, app):
    from models import ProposalStatus

    hidden = f.proposal(status=ProposalStatus.draft)
    response = client.get(f"/propositions/etat?s={hidden.id}.0.15.0.0-99999.0.15.0.0")
    assert response.status_code == 204


def test_poll_notices_a_withdrawal_and_a_commitment_that_keep_the_count(client, app):
    """The count is the same, the engaged groups are not: the version tells them apart."""
    from services.commitments import commit_group, withdraw_commitment

    p = f.proposal(threshold_override=10)
    leaving, g1 = f.manager_of(name="Groupe Ancien")
    joining, g2 = f.manager_of(name="Groupe Nouveau")
    commit_group(leaving, g1.id, p.id)
    tokens = tokens_on(client.get(f"/propositions/{p.slug}").get_data(as_text=True))
    withdraw_commitment(leaving, g1.id, p.id)
    commit_group(joining, g2.id, p.id)
    response = client.get(f"/propositions/etat?s={tokens}&detail={p.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    groups = html[html.index('id="engaged-groups"') :]
    assert "Groupe Nouveau" in groups and "Groupe Ancien" not in groups


def test_polls_share_a_snapshot_that_never_moves_a_page_backwards(client, app, monkeypatch):
    import views.proposals as live

    clock = [1000.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    app.config["LIVE_SNAPSHOT_SECONDS"] = 1.0
    p = f.proposal(threshold_override=5)
    tokens = tokens_on(client.get(f"/propositions/{p.slug}").get_data(as_text=True))
    assert client.get(f"/propositions/etat?s={tokens}").status_code == 204  # snapshot taken

    person, g = f.manager_of()
    from services.commitments import commit_group

    commit_group(person, g.id, p.id)
    # Within the snapshot's second the change is not seen yet...
    assert client.get(f"/propositions/etat?s={tokens}").status_code == 204
    # ...and a page that already shows it (its own commit) is not sent the older state.
    newer = tokens_on(client.get(f"/propositions/{p.slug}").get_data(as_text=True))
    assert newer != tokens
    assert client.get(f"/propositions/etat?s={newer}").status_code == 204
    clock[0] += 1.5
    changed = client.get(f"/propositions/etat?s={tokens}")
    assert changed.status_code == 200 and 'aria-valuenow="1"' in changed.get_data(as_text=True)
    assert client.get(f"/propositions/etat?s={newer}").status_code == 204
