"""`flask users create` and `flask groups create`: what they write, their errors, their help."""

import pytest
from sqlalchemy import select

from models import ActionGroup, AuditEntry, MemberRole, Membership, Person, db
from tests import factories as f
from tests.dbstate import snapshot
from tests.test_budget import fundable_with_unserved_commitments

PASSWORD = "un mot de passe solide"


def person_by_email(email: str) -> Person | None:
    db.session.rollback()
    return db.session.scalar(select(Person).where(Person.email == email))


def group_by_name(name: str) -> ActionGroup | None:
    db.session.rollback()
    return db.session.scalar(select(ActionGroup).where(ActionGroup.name == name))


# users create ----------------------------------------------------------------------------


def test_users_create_with_name_password_and_roles(runner):
    result = runner.invoke(
        args=[
            "users", "create", "Camille@Example.org", "--name", "Camille Martin",
            "--password", PASSWORD, "--role", "finance", "--role", "admin",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    person = person_by_email("camille@example.org")
    assert person.display_name == "Camille Martin"
    assert person.staff_roles == ["finance", "admin"]
    assert person.check_password(PASSWORD)
    assert f"Compte n° {person.id} créé" in result.output
    assert "rôles : finance, admin." in result.output


def test_users_create_without_role_or_name(runner):
    result = runner.invoke(
        args=["users", "create", "dominique@example.org", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    person = person_by_email("dominique@example.org")
    assert person.staff_roles == [] and person.display_name == "dominique"
    assert "sans rôle d'équipe" in result.output


def test_users_create_prompts_for_the_password_without_echo(runner):
    result = runner.invoke(
        args=["users", "create", "camille@example.org", "--name", "Camille"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Mot de passe" in result.output and "Confirmez le mot de passe" in result.output
    assert PASSWORD not in result.output
    assert person_by_email("camille@example.org").check_password(PASSWORD)


def test_users_create_prompt_asks_again_when_confirmation_differs(runner):
    result = runner.invoke(
        args=["users", "create", "camille@example.org"],
        input=f"{PASSWORD}\nautre chose\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert person_by_email("camille@example.org").check_password(PASSWORD)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pas-une-adresse", "--password", PASSWORD], "Erreur : Adresse e-mail invalide."),
        (["camille@example.org", "--password", "court"], "au moins 10 caractères"),
        (["camille@example.org", "--name", "  ", "--password", PASSWORD], "Le nom affiché"),
        (["camille@example.org", "--name", "n" * 121, "--password", PASSWORD], "120 caractères"),
        (["deja@example.org", "--password", PASSWORD], "Un compte existe déjà"),
    ],
)
def test_users_create_errors_are_french_and_write_nothing(runner, args, message):
    f.person(email="deja@example.org")
    before = snapshot()
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert snapshot() == before


def test_users_create_rejects_an_unknown_role(runner):
    before = snapshot()
    result = runner.invoke(
        args=["users", "create", "camille@example.org", "--password", PASSWORD, "--role", "chef"]
    )
    assert result.exit_code == 2
    assert "animation" in result.output and "finance" in result.output
    assert snapshot() == before


# groups create ---------------------------------------------------------------------------


def test_groups_create_uncertified_by_default(runner):
    result = runner.invoke(
        args=["groups", "create", "Tulle en commun", "--commune", "Tulle", "--departement", "19"]
    )
    assert result.exit_code == 0, result.output
    group = group_by_name("Tulle en commun")
    assert (group.commune, group.departement, group.certified_at) == ("Tulle", "19", None)
    assert "non certifié" in result.output


def test_groups_create_certified_with_managers(runner):
    camille = f.person(email="camille@example.org")
    dominique = f.person(email="dominique@example.org")
    result = runner.invoke(
        args=[
            "groups", "create", "Pessac Solidaire", "--commune", "Pessac", "--departement", "33",
            "--certified", "--manager", "Camille@example.org", "--manager", "dominique@example.org",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    group = group_by_name("Pessac Solidaire")
    assert group.certified_at is not None
    roles = dict(
        db.session.execute(
            select(Membership.person_id, Membership.role).where(Membership.group_id == group.id)
        ).all()
    )
    assert roles == {camille.id: MemberRole.manager, dominique.id: MemberRole.manager}
    certification = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.group_id == group.id, AuditEntry.action == "group.certify"
        )
    )
    assert certification.reason == "Certifié à la création." and certification.actor_id is None
    assert "certifié, gestionnaires" in result.output


def test_groups_create_prompts_for_the_commune(runner):
    result = runner.invoke(
        args=["groups", "create", "Ajaccio en commun", "--departement", "2a"], input="Ajaccio\n"
    )
    assert result.exit_code == 0, result.output
    group = group_by_name("Ajaccio en commun")
    assert (group.commune, group.departement) == ("Ajaccio", "2A")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--departement", "999"], "Erreur : Code de département invalide : « 999 »."),
        (["--departement", "33", "--manager", "inconnu@example.org"], "inconnu@example.org"),
        (
            ["--departement", "33", "--manager", "deja@example.org", "--manager", "x@example.org"],
            "Aucun compte n'a cette adresse e-mail : x@example.org.",
        ),
    ],
)
def test_groups_create_errors_are_french_and_write_nothing(runner, args, message):
    f.person(email="deja@example.org")
    before = snapshot()
    result = runner.invoke(args=["groups", "create", "Nouveau", "--commune", "Tulle", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert snapshot() == before


def test_groups_create_needs_a_name_of_reasonable_length(runner):
    before = snapshot()
    result = runner.invoke(
        args=["groups", "create", "x" * 161, "--commune", "Tulle", "--departement", "19"]
    )
    assert result.exit_code == 1
    assert "Le nom du groupe est obligatoire" in result.output
    assert snapshot() == before


def test_groups_create_needs_a_departement(runner):
    result = runner.invoke(args=["groups", "create", "Nouveau", "--commune", "Tulle"])
    assert result.exit_code == 2
    assert "--departement" in result.output
    assert group_by_name("Nouveau") is None


# help ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["users", "--help"], ["Gérer les comptes.", "create", "Afficher cette aide"]),
        (
            ["users", "create", "--help"],
            ["Créer le compte EMAIL", "--name", "Nom affiché", "--password", "--role",
             "animation|finance|network|admin", "répétez l'option", "Afficher cette aide"],
        ),
        (["groups", "--help"], ["Gérer les groupes d'action.", "create", "Afficher cette aide"]),
        (
            ["groups", "create", "--help"],
            ["Créer le groupe d'action NOM", "--commune", "--departement", "--certified",
             "Certifier le groupe", "--manager", "gestionnaire", "Afficher cette aide"],
        ),
    ],
)  # fmt: skip
def test_help_is_in_french(runner, args, expected):
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output


# budget settle ---------------------------------------------------------------------------


def test_budget_settle_serves_a_commitment_left_waiting_by_a_stopped_server(runner):
    # A fundable proposal whose last commitment was written but not served (as if the
    # process stopped between a withdrawal's transaction and its settlement).
    r = f.budget_round(total_cents=100_000)
    p = fundable_with_unserved_commitments(r, 30_000, [f.group(), f.group()])

    result = runner.invoke(args=["budget", "settle"])

    assert result.exit_code == 0, result.output
    assert "2 réservation(s) faite(s), 0 action(s) devenue(s) finançable(s)" in result.output
    db.session.expire_all()
    assert (db.session.get(type(r), r.id).reserved_cents, p.reserved_count) == (60_000, 2)
    again = runner.invoke(args=["budget", "settle", str(r.id)])
    assert "0 réservation(s) faite(s)" in again.output


def test_budget_settle_errors_are_french(runner):
    result = runner.invoke(args=["budget", "settle"])
    assert result.exit_code == 1
    assert "Aucun budget participatif n'est courant." in result.output
    f.budget_round()
    result = runner.invoke(args=["budget", "settle", "999"])
    assert result.exit_code == 1 and "numéro 999" in result.output
