"""Error pages are French, with the right status, and never a 500 for bad input."""

from tests import factories as f


def test_unknown_page_is_a_french_404(client, app):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_wrong_method_is_405(client, app):
    assert client.get("/deconnexion").status_code == 405


def test_htmx_errors_go_to_the_message_area(client, app):
    response = client.get("/nulle-part", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#messages"


def test_too_large_request_is_413(client, app, auth):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    p = f.proposal()
    auth.login(f.person())
    response = client.post(f"/propositions/{p.id}/engagement", data={"note": "x" * 5000})
    assert response.status_code == 413
    assert "taille autorisée" in response.get_data(as_text=True)


def test_unexpected_error_is_a_french_500_and_rolls_back(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Erreur du serveur" in response.get_data(as_text=True)


HUGE = "99999999999999999999"  # beyond every id column, of SQLite as of PostgreSQL


def test_an_id_beyond_what_the_database_holds_is_a_404_not_a_500(client, app, auth):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    auth.login(f.person(finance=True, admin=True))
    for path in (
        f"/groupes/{HUGE}",
        f"/budgets/{HUGE}",
        f"/depenses/{HUGE}",
        f"/groupes/{HUGE}/enveloppe",
        f"/finance?round={HUGE[:11]}",
        f"/finance/depenses?groupe={HUGE[:11]}",
        "/groupes/2147483648",
    ):
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
    assert client.get("/groupes/2147483648").status_code == 404


def test_a_group_id_beyond_what_the_database_holds_in_a_form_is_refused_not_a_500(
    client, app, auth
):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    manager, _group = f.manager_of()
    p = f.proposal()
    auth.login(manager)
    response = client.post(f"/propositions/{p.id}/engagement", data={"group_id": HUGE})
    assert 400 <= response.status_code < 500, response.status_code
    auth.logout()
    auth.login(f.person(finance=True))
    for data in ({"ids": HUGE}, {"ids": "2147483648"}):
        response = client.post("/finance/depenses/paiement", data=data)
        assert response.status_code == 404, response.status_code
    response = client.post(
        "/finance/dons/nouveau", data={"group_id": HUGE, "amount": "10", "reason": "Don"}
    )
    assert 400 <= response.status_code < 500, response.status_code
