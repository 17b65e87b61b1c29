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
