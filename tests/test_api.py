"""The read-only JSON API."""

from models import ProposalStatus, db
from tests import factories as f


def test_api_lists_published_proposals_with_live_figures(client, app):
    p = f.proposal(title="Cantine", threshold_override=2, budget_cents=40_000)
    f.proposal(status=ProposalStatus.draft)
    f.commitments(p, [f.group()])
    data = client.get("/api/proposals").get_json()
    assert data["total"] == 1 and data["page"] == 1
    item = data["items"][0]
    assert item == {
        "id": p.id,
        "title": "Cantine",
        "status": "open",
        "category": "solidarite",
        "per_group_budget_cents": 40_000,
        "threshold": 2,
        "commitments": 1,
        "fundable": False,
        "fundable_at": None,
        "reserved_cents": 0,
        "reserved_groups": 0,
        "outside_budget": 0,
        "url": f"http://localhost/propositions/{p.slug}",
    }
    assert client.get(f"/api/proposals/{p.id}").get_json() == item


def test_api_filters_by_status_and_paginates(client, app):
    fundable = f.proposal(threshold_override=1)
    fundable.fundable_at = fundable.published_at
    db.session.commit()
    for _ in range(3):
        f.proposal()
    assert [i["id"] for i in client.get("/api/proposals?status=fundable").get_json()["items"]] == [
        fundable.id
    ]
    assert client.get("/api/proposals?status=open").get_json()["total"] == 3
    page = client.get("/api/proposals?per_page=2&page=2").get_json()
    assert page["pages"] == 2 and len(page["items"]) == 2


def test_api_rejects_bad_parameters_with_400(client, app):
    for query in ("status=x", "page=0", "page=a", "per_page=1000", "page=²"):
        response = client.get(f"/api/proposals?{query}")
        assert response.status_code == 400 and "invalide" in response.get_json()["error"]


def test_api_unknown_or_unpublished_is_404(client, app):
    draft = f.proposal(status=ProposalStatus.draft)
    for pid in (draft.id, 9999):
        response = client.get(f"/api/proposals/{pid}")
        assert response.status_code == 404 and response.get_json()["error"]
