"""The proposal list, a proposal's page, commit and withdraw over HTTP, with and without htmx."""

import re

import pytest
from sqlalchemy import func, select

from models import Commitment, CommitmentStatus, Proposal, ProposalStatus, db
from tests import factories as f


def count_rows(proposal_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Commitment.proposal_id == proposal_id, Commitment.status == CommitmentStatus.active
        )
    )


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- list -------------------------------------------------------------------------------------


def test_list_shows_only_published_proposals(client, app):
    f.proposal(title="Cantine solidaire")
    for status in ProposalStatus:
        if status != ProposalStatus.published:
            f.proposal(title=f"Cachée {status.value}", status=status)
    html = text_of(client.get("/"))
    assert "Cantine solidaire" in html
    assert "Cachée" not in html


def test_list_card_has_accessible_progress_bar(client, app):
    p = f.proposal(threshold_override=15)
    f.commitments(p, [f.group() for _ in range(12)])
    html = text_of(client.get("/"))
    assert 'role="progressbar"' in html
    assert 'aria-valuenow="12"' in html and 'aria-valuemax="15"' in html
    assert 'aria-valuetext="12 groupes engagés sur 15"' in html
    assert "Ouverte" in html


def test_list_search_ignores_case_and_accents(client, app):
    f.proposal(title="Épicerie solidaire")
    f.proposal(title="Atelier vélo")
    html = text_of(client.get("/?q=epicerie"))
    assert "Épicerie solidaire" in html and "Atelier vélo" not in html
    assert "1 proposition" in html


def test_list_search_treats_like_wildcards_as_text(client, app):
    f.proposal(title="Atelier vélo")
    assert "Aucune proposition" in text_of(client.get("/?q=%25"))
    assert "Aucune proposition" in text_of(client.get("/?q=_"))


def test_list_filters_by_category_and_status(client, app):
    from models import Category

    open_one = f.proposal(title="Ouverte culture", category=Category.culture)
    fundable = f.proposal(
        title="Finançable culture", category=Category.culture, threshold_override=1
    )
    f.proposal(title="Autre santé", category=Category.sante)
    fundable.fundable_at = fundable.published_at
    fundable.commitment_count = 1
    db.session.commit()
    html = text_of(client.get("/?categorie=culture"))
    assert open_one.title in html and fundable.title in html and "Autre santé" not in html
    html = text_of(client.get("/?categorie=culture&statut=financable"))
    assert fundable.title in html and open_one.title not in html
    html = text_of(client.get("/?statut=ouverte"))
    assert fundable.title not in html and open_one.title in html


def test_list_sorts_closest_to_threshold_first(client, app):
    far = f.proposal(title="Loin du seuil", threshold_override=20)
    close = f.proposal(title="Presque là", threshold_override=3)
    f.commitments(close, [f.group(), f.group()])
    html = text_of(client.get("/?tri=proches"))
    assert html.index(close.title) < html.index(far.title)


def test_list_paginates(client, app):
    app.config["PROPOSALS_PER_PAGE"] = 2
    for i in range(5):
        f.proposal(title=f"Action {i}")
    first = text_of(client.get("/"))
    assert "Page 1 sur 3" in first and 'rel="next"' in first
    last = text_of(client.get("/?page=3"))
    assert "Page 3 sur 3" in last and "Action 0" in last


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=-1",
        "page=99999999999",
        "tri=drop",
        "categorie=%00",
        "statut=x",
        "q=" + "a" * 5000,
        "page=0",
        "page=²",
        "page=١",
    ],
)
def test_malformed_list_parameters_are_ignored(client, app, query):
    f.proposal()
    assert client.get(f"/?{query}").status_code == 200


def test_live_search_returns_only_the_results_fragment(client, app, hx):
    f.proposal(title="Jardin partagé")
    response = client.get("/?q=jardin", headers={**hx, "HX-Target": "proposal-results"})
    html = text_of(response)
    assert response.status_code == 200
    assert "<html" not in html and 'id="proposal-results"' in html and "Jardin partagé" in html
    assert "HX-Request" in response.headers["Vary"]
    assert "HX-Request" in client.get("/").headers["Vary"]


def test_boosted_or_history_restore_requests_get_the_whole_page(client, app, hx):
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        html = text_of(client.get("/", headers={**hx, **extra, "HX-Target": "proposal-results"}))
        assert "<html" in html


# --- proposal page ----------------------------------------------------------------------------


def test_proposal_page_shows_text_budget_bar_and_engaged_groups(client, app):
    p = f.proposal(title="Cantine", budget_cents=123_450, body="## Étapes\n\n1. Cuisiner")
    g = f.group(name="Groupe Bastide", departement="33")
    f.commitments(p, [g])
    html = text_of(client.get(f"/propositions/{p.slug}"))
    assert "<h2>Étapes</h2>" in html and "1\u202f234,50\xa0€" in html
    assert "Groupe Bastide" in html and "(33)" in html
    assert 'aria-valuenow="1"' in html


@pytest.mark.parametrize("status", [s for s in ProposalStatus if s != ProposalStatus.published])
def test_unpublished_proposal_page_is_404(client, app, status):
    p = f.proposal(status=status)
    response = client.get(f"/propositions/{p.slug}")
    assert response.status_code == 404
    assert "Page introuvable" in text_of(response)


def test_markdown_body_never_carries_scripts(client, app):
    p = f.proposal(
        body=(
            "<script>alert(1)</script>\n\n[clic](javascript:alert(1))\n\n"
            '<img src=x onerror="alert(1)">\n\n<a href="#" onclick="x()">a</a>'
        )
    )
    html = text_of(client.get(f"/propositions/{p.slug}"))
    body = html[html.index('class="proposal-body"') : html.index('id="engaged-groups"')]
    assert "<script" not in body and "<img" not in body
    assert not re.search(r"""href=["']?\s*javascript:""", body)
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", body)
    assert "&lt;script&gt;" in body  # shown as text, harmless


def test_no_inline_scripts_and_a_strict_csp(client, app):
    p = f.proposal()
    for url in ("/", f"/propositions/{p.slug}", "/connexion"):
        response = client.get(url)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)", text_of(response))


@pytest.mark.parametrize(
    "who, message",
    [
        ("anonymous", "Se connecter pour engager mon groupe"),
        ("member", "Seul·es les gestionnaires et référent·es"),
        ("uncertified", "n'est pas certifié"),
        ("committed", "est déjà engagé"),
        ("manager", "Engager le groupe"),
    ],
)
def test_commit_control_explains_who_can_commit(client, app, auth, who, message):
    p = f.proposal()
    if who == "member":
        person, g = f.person(), f.group()
        f.member(person, g, "member")
    elif who == "uncertified":
        person, g = f.manager_of(certified=False)
    elif who in ("committed", "manager"):
        person, g = f.manager_of()
        if who == "committed":
            f.commitments(p, [g])
    if who != "anonymous":
        auth.login(person)
    html = text_of(client.get(f"/propositions/{p.slug}"))
    control = html[html.index('id="commit-control"') :]
    assert message in control


def test_manager_of_several_groups_chooses_the_group(client, app, auth):
    p = f.proposal()
    person, g1 = f.manager_of(name="Groupe Nord")
    g2 = f.group(name="Groupe Sud")
    f.member(person, g2, "referent")
    auth.login(person)
    html = text_of(client.get(f"/propositions/{p.slug}"))
    assert '<select id="group_id"' in html and "Groupe Nord" in html and "Groupe Sud" in html
    response = client.post(f"/propositions/{p.id}/engagement", data={"group_id": g2.id})
    assert response.status_code == 303
    assert db.session.scalar(select(Commitment.group_id)) == g2.id


# --- commit and withdraw ----------------------------------------------------------------------


def test_commit_without_javascript_redirects_to_the_page(client, app, auth):
    p = f.proposal(threshold_override=5)
    person, g = f.manager_of()
    auth.login(person)
    response = client.post(
        f"/propositions/{p.id}/engagement", data={"group_id": g.id, "note": "Au marché"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/propositions/{p.slug}")
    html = text_of(client.get(response.headers["Location"]))
    assert "Le groupe est engagé" in html and 'aria-valuenow="1"' in html
    assert count_rows(p.id) == 1


def test_commit_with_htmx_returns_control_and_out_of_band_counters(client, app, auth, hx):
    p = f.proposal(threshold_override=5)
    person, g = f.manager_of()
    auth.login(person)
    response = client.post(f"/propositions/{p.id}/engagement", data={"group_id": g.id}, headers=hx)
    html = text_of(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="commit-control"')
    assert f'hx-swap-oob="outerHTML:.progress-{p.id}"' in html
    assert f'hx-swap-oob="outerHTML:.status-{p.id}"' in html
    assert 'id="engaged-groups"' in html and 'id="live-poll"' in html
    assert 'aria-valuenow="1"' in html and "Retirer l'engagement" in html
    assert "HX-Request" in response.headers["Vary"]


def test_double_commit_answers_already_committed(client, app, auth, hx):
    p = f.proposal()
    person, g = f.manager_of()
    auth.login(person)
    client.post(f"/propositions/{p.id}/engagement", data={"group_id": g.id})
    again = client.post(f"/propositions/{p.id}/engagement", data={"group_id": g.id}, headers=hx)
    assert again.status_code == 409 and "déjà engagé" in text_of(again)
    plain = client.post(f"/propositions/{p.id}/engagement", data={"group_id": g.id})
    assert plain.status_code == 409 and "déjà engagé" in text_of(plain)
    assert count_rows(p.id) == 1


def test_withdraw_with_and_without_htmx(client, app, auth, hx):
    p = f.proposal()
    person, g = f.manager_of()
    auth.login(person)
    client.post(f"/propositions/{p.id}/engagement", data={"group_id": g.id})
    response = client.post(f"/propositions/{p.id}/retrait", data={"group_id": g.id}, headers=hx)
    assert response.status_code == 200 and 'aria-valuenow="0"' in text_of(response)
    assert count_rows(p.id) == 0
    client.post(f"/propositions/{p.id}/engagement", data={"group_id": g.id})
    response = client.post(f"/propositions/{p.id}/retrait", data={"group_id": g.id})
    assert response.status_code == 303 and count_rows(p.id) == 0


@pytest.mark.parametrize("data", [{}, {"group_id": "abc"}, {"group_id": "1", "note": "x" * 2001}])
def test_commit_with_bad_form_is_422_and_writes_nothing(client, app, auth, data):
    p = f.proposal()
    person, _g = f.manager_of()
    auth.login(person)
    response = client.post(f"/propositions/{p.id}/engagement", data=data)
    assert response.status_code == 422
    assert count_rows(p.id) == 0


def test_commit_to_unknown_group_or_proposal_is_404(client, app, auth):
    p = f.proposal()
    person, g = f.manager_of()
    auth.login(person)
    assert client.post("/propositions/9999/engagement", data={"group_id": g.id}).status_code == 404
    assert (
        client.post(f"/propositions/{p.id}/engagement", data={"group_id": 9999}).status_code == 404
    )
    assert count_rows(p.id) == 0


def test_anonymous_commit_goes_to_sign_in_and_back(client, app, hx):
    p = f.proposal()
    _person, g = f.manager_of()
    page = f"http://localhost/propositions/{p.slug}"
    response = client.post(
        f"/propositions/{p.id}/engagement", data={"group_id": g.id}, headers={"Referer": page}
    )
    assert response.status_code == 302
    assert "/connexion?next=/propositions/" in response.headers["Location"]
    response = client.post(
        f"/propositions/{p.id}/engagement", data={"group_id": g.id}, headers={**hx, "Referer": page}
    )
    assert response.status_code == 401 and "/connexion" in response.headers["HX-Redirect"]
    assert count_rows(p.id) == 0


# --- CSRF -------------------------------------------------------------------------------------


def test_missing_csrf_token_is_400_with_a_way_forward(csrf_app):
    client = csrf_app.test_client()
    p = f.proposal()
    person, g = f.manager_of()
    page = client.get("/connexion")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text_of(page)).group(1)
    signed_in = client.post(
        "/connexion", data={"email": person.email, "password": f.PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 303
    response = client.post(f"/propositions/{p.id}/engagement", data={"group_id": g.id})
    assert response.status_code == 400
    assert "Rechargez la page" in text_of(response)
    response = client.post(
        f"/propositions/{p.id}/engagement",
        data={"group_id": g.id},
        headers={"HX-Request": "true", "X-CSRFToken": "stale"},
    )
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#messages"
    assert "Rechargez la page" in text_of(response)
    assert count_rows(p.id) == 0


def test_csrf_token_in_header_is_accepted_for_htmx(csrf_app):
    client = csrf_app.test_client()
    p = f.proposal()
    person, g = f.manager_of()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', text_of(client.get("/"))).group(1)
    client.post(
        "/connexion", data={"email": person.email, "password": f.PASSWORD, "csrf_token": token}
    )
    html = text_of(client.get(f"/propositions/{p.slug}"))
    token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    response = client.post(
        f"/propositions/{p.id}/engagement",
        data={"group_id": g.id},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert count_rows(p.id) == 1


# --- threshold --------------------------------------------------------------------------------


def test_animator_lowers_threshold_from_the_page_and_it_becomes_fundable(client, app, auth):
    p = f.proposal(threshold_override=10)
    f.commitments(p, [f.group() for _ in range(3)])
    animator = f.person(animation=True)
    auth.login(animator)
    assert "Seuil de cette action" in text_of(client.get(f"/propositions/{p.slug}"))
    response = client.post(
        f"/propositions/{p.id}/seuil", data={"threshold": "3", "reason": "Action peu coûteuse"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).fundable_at is not None
    missing_reason = client.post(f"/propositions/{p.id}/seuil", data={"threshold": "2"})
    assert missing_reason.status_code == 422


# --- groups -----------------------------------------------------------------------------------


def test_group_page_shows_commitments_to_all_and_members_to_members(client, app, auth):
    p = f.proposal(title="Jardin partagé")
    person, g = f.manager_of(name="Groupe Capucins")
    f.commitments(p, [g])
    html = text_of(client.get(f"/groupes/{g.id}"))
    assert "Groupe Capucins" in html and "Jardin partagé" in html
    assert person.display_name not in html
    auth.login(person)
    assert person.display_name in text_of(client.get(f"/groupes/{g.id}"))
    outsider, _ = f.manager_of()
    auth.logout()
    auth.login(outsider)
    assert person.display_name not in text_of(client.get(f"/groupes/{g.id}"))
    assert client.get("/groupes/9999").status_code == 404


def test_counts_follow_french_plural_rules(client, app):
    p = f.proposal(threshold_override=15)
    html = text_of(client.get(f"/propositions/{p.slug}"))
    assert "0 groupe engagé" in html and "0 groupes" not in html
    f.commitments(p, [f.group(), f.group()])
    assert "2 groupes engagés" in text_of(client.get(f"/propositions/{p.slug}"))


def test_engaged_groups_show_their_local_adaptation_note(client, app, auth):
    p = f.proposal()
    person, g = f.manager_of(name="Groupe Belleville")
    auth.login(person)
    client.post(
        f"/propositions/{p.id}/engagement", data={"group_id": g.id, "note": "Le samedi au marché"}
    )
    html = text_of(client.get(f"/propositions/{p.slug}"))
    groups = html[html.index('id="engaged-groups"') :]
    assert "Groupe Belleville" in groups and "« Le samedi au marché »" in groups


def test_a_manager_of_several_groups_finds_them_in_the_navigation(client, app, auth):
    p = f.proposal()
    person, g1 = f.manager_of(name="Groupe Nord")
    f.member(person, f.group(name="Groupe Sud"), "referent")
    f.commitments(p, [g1])
    auth.login(person)
    response = client.get(f"/propositions/{p.slug}")
    html = text_of(response)
    assert response.status_code == 200
    nav = html[: html.index("</header>")]
    assert "Mes groupes" in nav and "Groupe Nord" in nav and "Groupe Sud" in nav


def test_proposal_page_shows_the_latest_groups_and_links_to_all_of_them(client, app):
    from services.catalog import ENGAGED_ON_PAGE

    p = f.proposal(threshold_override=200)
    groups = [f.group(name=f"Groupe n°{i:03d}") for i in range(ENGAGED_ON_PAGE + 110)]
    f.commitments(p, groups)
    html = text_of(client.get(f"/propositions/{p.slug}"))
    section = html[html.index('id="engaged-groups"') :]
    assert f"{len(groups)} groupes engagés" in section
    assert section.count("/groupes/") == ENGAGED_ON_PAGE
    assert f"/propositions/{p.id}/groupes" in section
    first = text_of(client.get(f"/propositions/{p.id}/groupes"))
    second = text_of(client.get(f"/propositions/{p.id}/groupes?page=2"))
    names = {g.name for g in groups}
    shown = {n for n in names if n in first} | {n for n in names if n in second}
    assert shown == names and "Page 2 sur 2" in second
    assert client.get(f"/propositions/{p.id}/groupes?page=abc").status_code == 200
    assert client.get("/propositions/9999/groupes").status_code == 404
