"""Sign in (rate limited, silent about which addresses exist), sign out, change password."""

from models import Person, SignInFailure, db
from tests import factories as f


def sign_in(client, email, password):
    return client.post("/connexion", data={"email": email, "password": password})


def test_sign_in_and_out(client, app):
    person = f.person(email="alice@example.org")
    response = sign_in(client, "  Alice@Example.org ", f.PASSWORD)
    assert response.status_code == 303
    assert "Se déconnecter" in client.get("/").get_data(as_text=True)
    assert client.post("/deconnexion").status_code == 303
    assert "Se connecter" in client.get("/").get_data(as_text=True)
    assert person.id


def test_sign_in_says_nothing_about_whether_an_email_exists(client, app):
    f.person(email="bob@example.org")
    unknown = sign_in(client, "nobody@example.org", "whatever-password")
    wrong = sign_in(client, "bob@example.org", "wrong-password")
    assert unknown.status_code == wrong.status_code == 422
    message = "Adresse e-mail ou mot de passe incorrect."
    assert message in unknown.get_data(as_text=True) and message in wrong.get_data(as_text=True)


def test_sign_in_is_rate_limited_per_email(client, app):
    f.person(email="carla@example.org")
    for _ in range(5):
        assert sign_in(client, "carla@example.org", "bad-password").status_code == 422
    blocked = sign_in(client, "carla@example.org", f.PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.get_data(as_text=True)


def test_sign_in_is_rate_limited_per_client_address(client, app):
    app.config["SIGN_IN_MAX_FAILURES_PER_IP"] = 3
    f.person(email="dan@example.org")
    for n in range(3):
        sign_in(client, f"guess{n}@example.org", "bad-password")
    assert sign_in(client, "dan@example.org", f.PASSWORD).status_code == 429


def test_successful_sign_in_clears_the_failures(client, app):
    f.person(email="eve@example.org")
    sign_in(client, "eve@example.org", "bad-password")
    assert sign_in(client, "eve@example.org", f.PASSWORD).status_code == 303
    assert db.session.query(SignInFailure).filter_by(email="eve@example.org").count() == 0


def test_sign_in_redirects_only_to_local_paths(client, app):
    f.person(email="fred@example.org")
    response = client.post(
        "/connexion?next=//evil.example/x",
        data={"email": "fred@example.org", "password": f.PASSWORD},
    )
    assert response.headers["Location"] == "/"
    client.post("/deconnexion")
    response = client.post(
        "/connexion?next=/groupes/1", data={"email": "fred@example.org", "password": f.PASSWORD}
    )
    assert response.headers["Location"] == "/groupes/1"


def test_change_password_keeps_this_session_and_ends_the_others(app):
    person = f.person(email="gina@example.org")
    here, elsewhere = app.test_client(), app.test_client()
    for c in (here, elsewhere):
        assert sign_in(c, "gina@example.org", f.PASSWORD).status_code == 303
    response = here.post(
        "/compte/mot-de-passe",
        data={
            "current": f.PASSWORD,
            "new": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 303
    assert "Se déconnecter" in here.get("/").get_data(as_text=True)
    assert "Se déconnecter" not in elsewhere.get("/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Person, person.id).check_password("a brand new passphrase")


def test_change_password_refuses_bad_input(client, app):
    f.person(email="hugo@example.org")
    sign_in(client, "hugo@example.org", f.PASSWORD)
    cases = [
        {"current": "wrong-password", "new": "long enough pass", "confirm": "long enough pass"},
        {"current": f.PASSWORD, "new": "short", "confirm": "short"},
        {"current": f.PASSWORD, "new": "long enough pass", "confirm": "different pass!"},
    ]
    for data in cases:
        assert client.post("/compte/mot-de-passe", data=data).status_code == 422
    assert sign_in(app.test_client(), "hugo@example.org", f.PASSWORD).status_code == 303


def test_password_page_needs_sign_in(client, app):
    response = client.get("/compte/mot-de-passe")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
