"""The budget rounds' pages: who sees and does what, the forms and their French errors, the
dates read as days in Paris, the audit log and the simulator's fragment."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models import AuditEntry, BudgetRound, Proposal, ThresholdPolicy, db, utcnow
from services.commitments import commit_group, set_threshold_override
from tests import dbstate
from tests import factories as f
from tests.test_queries import counting_queries

ROLES = ("anonymous", "member", "manager", "animation", "finance", "admin")
MANAGERS = {"finance", "admin"}
READERS = {"animation", "finance", "admin"}


def someone(role: str):
    """A person of that role, or None for a visitor who is not signed in."""
    if role == "anonymous":
        return None
    if role == "member":
        person = f.person()
        f.member(person, f.group(), "member")
        return person
    if role == "manager":
        return f.manager_of()[0]
    return f.person(**{role: True})


def sign_in_as(auth, role: str):
    person = someone(role)
    if person is not None:
        auth.login(person)
    return person


def form_data(**overrides) -> dict:
    data = {
        "name": "Budget participatif 2028",
        "total": "300 000",
        "base_threshold": "12",
        "policy": "manual",
        "opens_on": "2028-03-01",
        "closes_on": "2028-06-30",
    }
    data.update(overrides)
    return data


def rounds_named(name: str) -> list[BudgetRound]:
    db.session.expire_all()
    return db.session.scalars(select(BudgetRound).where(BudgetRound.name == name)).all()


def text(response) -> str:
    """The page as read: entities such as &#39; decoded."""
    return html.unescape(response.get_data(as_text=True))


def assert_sent_to_sign_in(response):
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


# Who may do what -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_list_of_rounds_is_public_and_only_managers_get_the_new_round_link(client, auth, role):
    f.budget_round(name="Budget 2027", total_cents=25_000_000)
    sign_in_as(auth, role)

    response = client.get("/budgets")

    assert response.status_code == 200
    page = text(response)
    assert "Budget 2027" in page
    assert "250\u202f000\xa0€" in page
    assert "courant" in page
    assert ("Nouveau budget" in page) == (role in MANAGERS)


@pytest.mark.parametrize("role", ROLES)
def test_the_round_page_shows_the_figures_to_all_and_the_audit_and_simulator_to_the_teams(
    client, auth, role
):
    budget_round = f.budget_round(base_threshold=4, total_cents=1_000_000)
    sign_in_as(auth, role)

    response = client.get(f"/budgets/{budget_round.id}")

    assert response.status_code == 200
    page = text(response)
    assert "Montant total" in page and "10\u202f000\xa0€" in page
    assert "Seuil de base : 4 groupes engagés." in page
    assert ("Journal des changements" in page) == (role in READERS)
    assert ('id="simulation"' in page) == (role in READERS)
    assert ("Modifier le budget" in page) == (role in MANAGERS)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_finance_team_and_admins_open_the_forms(client, auth, role):
    budget_round = f.budget_round()
    sign_in_as(auth, role)

    for url in ("/budgets/nouveau", f"/budgets/{budget_round.id}/modifier"):
        response = client.get(url)
        if role == "anonymous":
            assert_sent_to_sign_in(response)
        elif role in MANAGERS:
            assert response.status_code == 200
        else:
            assert response.status_code == 403
            assert "équipe de suivi financier" in text(response)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_finance_team_and_admins_create_a_round(client, auth, role):
    f.budget_round()
    sign_in_as(auth, role)
    before = dbstate.snapshot()

    response = client.post("/budgets/nouveau", data=form_data())

    if role in MANAGERS:
        assert response.status_code == 303
        (created,) = rounds_named("Budget participatif 2028")
        assert response.headers["Location"].endswith(f"/budgets/{created.id}")
        assert created.total_cents == 30_000_000
        assert created.base_threshold == 12
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert dbstate.snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_finance_team_and_admins_edit_a_round(client, auth, role):
    budget_round = f.budget_round(base_threshold=15)
    sign_in_as(auth, role)
    before = dbstate.snapshot()

    response = client.post(
        f"/budgets/{budget_round.id}/modifier",
        data=form_data(name=budget_round.name, base_threshold="10", reason="Trop haut"),
    )

    if role in MANAGERS:
        assert response.status_code == 303
        db.session.expire_all()
        assert db.session.get(BudgetRound, budget_round.id).base_threshold == 10
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert dbstate.snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_finance_team_and_admins_make_a_round_current(client, auth, role):
    current = f.budget_round(name="Budget 2027")
    other = f.budget_round(name="Budget 2028", current=False)
    sign_in_as(auth, role)
    before = dbstate.snapshot()

    response = client.post(f"/budgets/{other.id}/courant")

    db.session.expire_all()
    if role in MANAGERS:
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/budgets/{other.id}")
        assert db.session.get(BudgetRound, other.id).is_current
        assert not db.session.get(BudgetRound, current.id).is_current
        page = text(client.get(f"/budgets/{other.id}"))
        assert "« Budget 2028 » est maintenant le budget courant" in page
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert dbstate.snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_teams_use_the_simulator(client, auth, role, hx):
    budget_round = f.budget_round()
    sign_in_as(auth, role)

    response = client.get(f"/budgets/{budget_round.id}/simulation?base=3&policy=manual", headers=hx)

    if role == "anonymous":
        assert response.status_code == 401
        assert "/connexion" in response.headers["HX-Redirect"]
    elif role in READERS:
        assert response.status_code == 200
        assert text(response).lstrip().startswith('<div id="simulation"')
    else:
        assert response.status_code == 403
    # The page ignores a simulation asked for by someone who may not use it.
    page = client.get(f"/budgets/{budget_round.id}?base=3&policy=manual")
    assert page.status_code == 200
    assert ('id="simulation"' in text(page)) == (role in READERS)


def test_unknown_rounds_are_404(client, auth, hx):
    auth.login(f.person(finance=True))
    for url in ("/budgets/999", "/budgets/999/modifier"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Ce budget participatif n'existe pas." in text(response)
    assert client.get("/budgets/999/simulation?base=2&policy=manual", headers=hx).status_code == 404
    assert client.post("/budgets/999/courant").status_code == 404


def test_posts_without_the_csrf_token_are_refused(csrf_app):
    client = csrf_app.test_client()
    budget_round = f.budget_round()
    before = dbstate.snapshot()
    for url, data in (
        ("/budgets/nouveau", form_data()),
        (f"/budgets/{budget_round.id}/modifier", form_data(reason="x")),
        (f"/budgets/{budget_round.id}/courant", {}),
    ):
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "Le formulaire a expiré" in text(response)
    assert dbstate.snapshot() == before


# Creating a round ----------------------------------------------------------------------------


def test_the_new_round_form_explains_both_policies_and_the_dates(client, auth):
    auth.login(f.person(finance=True))

    page = text(client.get("/budgets/nouveau"))

    assert "Seuil fixe" in page and "Seuil proportionnel au budget restant" in page
    assert "seuil de base × total ÷ restant" in page
    assert 'type="date"' in page
    assert "En faire le budget courant" in page
    for label in ("Nom du budget participatif", "Montant total (€)", "Ouverture des engagements"):
        assert label in page


def test_dates_are_days_in_paris_the_closing_day_included(client, auth):
    auth.login(f.person(finance=True))

    client.post("/budgets/nouveau", data=form_data(opens_on="2028-03-01", closes_on="2028-06-30"))

    (created,) = rounds_named("Budget participatif 2028")
    # 00:00 in Paris is 23:00 UTC the day before in winter, 22:00 in summer.
    assert created.opens_at == datetime(2028, 2, 29, 23, 0, tzinfo=UTC)
    assert created.closes_at == datetime(2028, 6, 30, 22, 0, tzinfo=UTC)
    form = text(client.get(f"/budgets/{created.id}/modifier"))
    assert shown_days(form) == ("2028-03-01", "2028-06-30")
    assert 'value="300000"' in form


def test_the_first_round_becomes_current_and_a_later_one_when_asked(client, auth):
    auth.login(f.person(admin=True))

    client.post("/budgets/nouveau", data=form_data(name="Premier"))
    client.post("/budgets/nouveau", data=form_data(name="Deuxième"))
    client.post("/budgets/nouveau", data=form_data(name="Troisième", make_current="y"))

    assert rounds_named("Premier")[0].is_current is False
    assert rounds_named("Deuxième")[0].is_current is False
    assert rounds_named("Troisième")[0].is_current is True
    (created,) = rounds_named("Premier")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.round_id == created.id))
    assert entry.action == "round.create"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "  "}, "Donnez un nom au budget participatif."),
        ({"total": "beaucoup"}, "Écrivez un montant en euros"),
        ({"total": ""}, "Indiquez le montant total du budget, en euros."),
        ({"base_threshold": "0"}, "Le seuil de base est un nombre entier de groupes"),
        ({"base_threshold": "douze"}, "Le seuil de base est un nombre entier de groupes"),
        ({"policy": "au hasard"}, "Choisissez une règle de seuil"),
        ({"opens_on": "demain"}, "Indiquez la date d'ouverture des engagements."),
        ({"closes_on": ""}, "Indiquez le dernier jour des engagements."),
        (
            {"opens_on": "2028-07-01", "closes_on": "2028-06-30"},
            "La clôture des engagements doit venir après leur ouverture.",
        ),
        ({"name": "x" * 161}, "160 caractères au plus."),
    ],
)
def test_a_refused_new_round_shows_the_french_message_422_and_writes_nothing(
    client, auth, overrides, message
):
    auth.login(f.person(finance=True))
    before = dbstate.snapshot()

    response = client.post("/budgets/nouveau", data=form_data(**overrides))

    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert "<h1>Nouveau budget participatif</h1>" in page
    assert dbstate.snapshot() == before


def test_a_one_day_round_is_allowed(client, auth):
    auth.login(f.person(finance=True))

    response = client.post(
        "/budgets/nouveau", data=form_data(opens_on="2028-03-01", closes_on="2028-03-01")
    )

    assert response.status_code == 303
    (created,) = rounds_named("Budget participatif 2028")
    assert created.closes_at - created.opens_at == timedelta(days=1)


# Editing a round -----------------------------------------------------------------------------


def fundable_round():
    """A round of 1,000 € with a fundable proposal reserving 3 × 200 €."""
    budget_round = f.budget_round(base_threshold=3, total_cents=100_000)
    p = f.proposal(budget_round, budget_cents=20_000, title="Cantine populaire")
    for _ in range(3):
        person, group = f.manager_of()
        commit_group(person, group.id, p.id)
    return budget_round, p


def shown_days(form: str) -> tuple[str, str]:
    """The opening and last days the edit form shows."""
    return tuple(
        re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', form).group(1)
        for name in ("opens_on", "closes_on")
    )


def edit_data(budget_round: BudgetRound, **overrides) -> dict:
    data = {
        "name": budget_round.name,
        "total": str(budget_round.total_cents // 100),
        "base_threshold": str(budget_round.base_threshold),
        "policy": budget_round.policy.value,
        "opens_on": "",
        "closes_on": "",
        "reason": "",
    }
    data.update(overrides)
    return data


def test_the_edit_form_is_filled_with_the_round_and_asks_a_reason(client, auth):
    budget_round, _ = fundable_round()
    auth.login(f.person(finance=True))

    page = text(client.get(f"/budgets/{budget_round.id}/modifier"))

    assert f'value="{budget_round.name}"' in page
    assert 'value="1000"' in page
    assert "Raison du changement" in page
    assert "600\xa0€" in page  # what is reserved, which the total cannot go below


def test_lowering_the_total_below_what_is_reserved_is_refused_with_the_figures(client, auth):
    budget_round, _ = fundable_round()
    auth.login(f.person(finance=True))
    form = text(client.get(f"/budgets/{budget_round.id}/modifier"))
    opens, closes = shown_days(form)
    before = dbstate.snapshot()

    response = client.post(
        f"/budgets/{budget_round.id}/modifier",
        data=edit_data(
            budget_round, total="500", opens_on=opens, closes_on=closes, reason="Coupe budgétaire"
        ),
    )

    assert response.status_code == 422
    page = text(response)
    assert "Le total ne peut pas descendre sous ce qui est déjà réservé" in page
    assert "600\xa0€" in page and "500\xa0€" in page
    assert 'value="500"' in page  # what was typed stays on screen
    assert dbstate.snapshot() == before


def test_a_change_without_a_reason_is_refused_and_writes_nothing(client, auth):
    budget_round, _ = fundable_round()
    auth.login(f.person(finance=True))
    before = dbstate.snapshot()

    response = client.post(
        f"/budgets/{budget_round.id}/modifier",
        data=edit_data(
            budget_round, base_threshold="2", opens_on="2027-01-01", closes_on="2027-12-31"
        ),
    )

    assert response.status_code == 422
    assert "Indiquez la raison de ce changement" in text(response)
    assert dbstate.snapshot() == before


def test_days_left_as_they_were_keep_the_rounds_exact_moments(client, auth):
    # The factory's round opens and closes at the current time of day, not at midnight.
    budget_round, _ = fundable_round()
    opens_at, closes_at = budget_round.opens_at, budget_round.closes_at
    auth.login(f.person(finance=True))
    form = text(client.get(f"/budgets/{budget_round.id}/modifier"))
    opens, closes = shown_days(form)

    response = client.post(
        f"/budgets/{budget_round.id}/modifier",
        data=edit_data(
            budget_round, base_threshold="2", opens_on=opens, closes_on=closes, reason="Plus bas"
        ),
    )

    assert response.status_code == 303
    db.session.expire_all()
    changed = db.session.get(BudgetRound, budget_round.id)
    assert (changed.opens_at, changed.closes_at) == (opens_at, closes_at)
    actions = db.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.round_id == budget_round.id, AuditEntry.action.like("round.%")
        )
    ).all()
    assert actions == ["round.base_threshold"]


def test_nothing_changed_says_so(client, auth):
    budget_round, _ = fundable_round()
    auth.login(f.person(finance=True))
    form = text(client.get(f"/budgets/{budget_round.id}/modifier"))
    opens, closes = shown_days(form)

    response = client.post(
        f"/budgets/{budget_round.id}/modifier",
        data=edit_data(budget_round, opens_on=opens, closes_on=closes),
        follow_redirects=True,
    )

    assert "Aucune modification à enregistrer." in text(response)


def test_every_change_is_in_the_rounds_audit_log_with_who_what_and_why(client, auth):
    budget_round, p = fundable_round()
    finance = f.person(finance=True, name="Inès Fontaine")
    animator = f.person(animation=True, name="Aïcha Benali")
    set_threshold_override(animator, p.id, 2, "Action prioritaire")
    auth.login(finance)

    client.post(
        f"/budgets/{budget_round.id}/modifier",
        data=edit_data(
            budget_round,
            total="2000",
            base_threshold="5",
            policy="scaled",
            opens_on="2027-01-01",
            closes_on="2027-12-31",
            reason="Dons supplémentaires",
        ),
    )
    page = text(client.get(f"/budgets/{budget_round.id}"))

    journal = page.split('id="journal"')[1]
    for label in (
        "Montant total",
        "Seuil de base",
        "Règle de seuil",
        "Ouverture des engagements",
        "Clôture des engagements",
        "Seuil propre à l'action",
    ):
        assert label in journal, label
    assert "1\u202f000\xa0€" in journal and "2\u202f000\xa0€" in journal
    assert "fixe" in journal and "proportionnelle au budget restant" in journal
    assert "Dons supplémentaires" in journal and "Action prioritaire" in journal
    assert "Inès Fontaine" in journal and "Aïcha Benali" in journal
    assert "seuil du budget" in journal  # the override's old value: none
    # Newest first: this edit comes before the animator's override.
    assert journal.index("Dons supplémentaires") < journal.index("Action prioritaire")
    # For the finance team the proposal links to its public page; the animators get the workspace.
    assert f'href="/propositions/{p.slug}">Cantine populaire</a>' in journal
    auth.logout()
    auth.login(animator)
    journal = text(client.get(f"/budgets/{budget_round.id}")).split('id="journal"')[1]
    assert f'href="/espace/propositions/{p.id}">Cantine populaire</a>' in journal


def test_the_audit_log_is_paginated_newest_first(client, auth):
    budget_round = f.budget_round()
    person = f.person(finance=True, name="Inès Fontaine")
    start = utcnow() - timedelta(days=1)
    for i in range(60):
        db.session.add(
            AuditEntry(
                actor_id=person.id,
                action="round.base_threshold",
                round_id=budget_round.id,
                old_value=str(i),
                new_value=str(i + 1),
                reason=f"raison numéro {i:02d}",
                at=start + timedelta(minutes=i),
            )
        )
    db.session.commit()
    auth.login(person)

    first = text(client.get(f"/budgets/{budget_round.id}"))
    second = text(client.get(f"/budgets/{budget_round.id}?page=2"))

    assert first.count("raison numéro") == 50 and second.count("raison numéro") == 10
    assert first.index("raison numéro 59") < first.index("raison numéro 58")
    assert "raison numéro 10" in first and "raison numéro 09" in second
    assert "Page 1 sur 2" in first and f"/budgets/{budget_round.id}?page=2#journal" in first


# The round page ------------------------------------------------------------------------------


def at_paris(year, month, day, hour=0):
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, tzinfo=ZoneInfo("Europe/Paris")).astimezone(UTC)


@pytest.mark.parametrize(
    ("opens", "closes", "expected"),
    [
        (
            at_paris(2020, 1, 1),
            at_paris(2036, 7, 1),
            "Engagements ouverts jusqu'au 30 juin 2036 inclus.",
        ),
        (
            at_paris(2020, 1, 1),
            at_paris(2021, 7, 1),
            "Clos depuis le 1 juillet 2021 : les engagements ne sont plus acceptés.",
        ),
        (
            at_paris(2035, 3, 1),
            at_paris(2035, 7, 1),
            "Ouvre le 1 mars 2035 ; engagements acceptés jusqu'au 30 juin 2035 inclus.",
        ),
        (
            at_paris(2020, 1, 1),
            at_paris(2036, 6, 30, 14),
            "Engagements ouverts jusqu'au 30 juin 2036 à 14:00.",
        ),
    ],
)
def test_the_round_page_says_whether_commitments_are_open(client, opens, closes, expected):
    budget_round = f.budget_round(opens_at=opens, closes_at=closes)

    page = text(client.get(f"/budgets/{budget_round.id}"))

    assert expected in page


def test_the_round_page_shows_threshold_in_force_and_fundable_count(client, auth):
    budget_round = f.budget_round(
        base_threshold=2, total_cents=100_000, policy=ThresholdPolicy.scaled
    )
    p = f.proposal(budget_round, budget_cents=10_000)
    for _ in range(3):
        person, group = f.manager_of()
        commit_group(person, group.id, p.id)
    # 2 commitments reached ceil(2 × 1000 / 1000) = 2; the third reserved too: 300 € reserved.

    page = text(client.get(f"/budgets/{budget_round.id}"))

    assert "Seuil proportionnel au budget restant" in page
    figures = page.split('class="round-figures"')[1].split("</section>")[0]
    assert "<dt>Actions finançables</dt><dd>1</dd>" in figures
    assert "<dt>Restant</dt><dd>700\xa0€</dd>" in figures
    # ceil(2 × 1000 / 700) = 3
    assert "Seuil en vigueur pour une action sans seuil propre : 3 groupes engagés." in figures


def test_the_round_page_says_when_the_budget_is_exhausted(client):
    budget_round = f.budget_round(base_threshold=1, total_cents=20_000)
    p = f.proposal(budget_round, budget_cents=20_000)
    person, group = f.manager_of()
    commit_group(person, group.id, p.id)

    page = text(client.get(f"/budgets/{budget_round.id}"))

    assert "Le budget est épuisé : aucune action ne peut plus devenir finançable." in page


def test_the_round_page_issues_the_same_number_of_queries_whatever_the_data(client, auth):
    budget_round = f.budget_round(base_threshold=50, total_cents=10_000_000)
    person = f.person(finance=True)

    def add(n: int, start: int) -> None:
        for i in range(n):
            p = f.proposal(budget_round, budget_cents=1_000, title=f"Action {start + i}")
            f.commitments(p, [f.group() for _ in range(2)])
            db.session.add(
                AuditEntry(
                    actor_id=person.id,
                    action="proposal.threshold_override",
                    proposal_id=p.id,
                    round_id=budget_round.id,
                    new_value="40",
                    reason="Pour voir",
                )
            )
        db.session.commit()

    def measure() -> dict[str, int]:
        counts = {}
        for name, url, headers in (
            ("page", f"/budgets/{budget_round.id}", {}),
            ("simulated", f"/budgets/{budget_round.id}?base=2&policy=scaled", {}),
            ("fragment", f"/budgets/{budget_round.id}/simulation?base=2&policy=manual", hx),
            ("list", "/budgets", {}),
        ):
            client.get(url, headers=headers)
            with counting_queries() as statements:
                assert client.get(url, headers=headers).status_code == 200
            counts[name] = len(statements)
        return counts

    hx = {"HX-Request": "true"}
    add(3, 0)
    auth.login(person)
    small = measure()
    add(60, 3)
    big = measure()

    assert small == big
    assert max(small.values()) <= 8, small


# The simulator on the page and as a fragment -------------------------------------------------


def simulator_round():
    budget_round = f.budget_round(base_threshold=5, total_cents=100_000)
    near = f.proposal(budget_round, title="Jardin partagé", budget_cents=20_000)
    f.commitments(near, [f.group() for _ in range(3)])
    far = f.proposal(budget_round, title="Atelier vélo", budget_cents=10_000)
    f.commitments(far, [f.group()])
    return budget_round, near, far


def test_the_simulator_starts_from_the_rounds_settings(client, auth):
    budget_round, _near, _far = simulator_round()
    auth.login(f.person(animation=True))

    page = text(client.get(f"/budgets/{budget_round.id}"))

    simulator = page.split('id="simulateur"')[1]
    assert 'name="base"' in simulator and 'value="5"' in simulator
    assert re.search(r'<input checked[^>]*value="manual"', simulator)
    assert "Aucune action ne deviendrait finançable" in simulator
    assert "Jardin partagé" in simulator and "Atelier vélo" in simulator


def test_the_page_reads_the_simulation_from_the_query_string_without_javascript(client, auth):
    budget_round, near, far = simulator_round()
    auth.login(f.person(finance=True))
    before = dbstate.snapshot()

    page = text(client.get(f"/budgets/{budget_round.id}?base=3&policy=manual"))

    simulator = page.split('id="simulateur"')[1]
    assert 'value="3"' in simulator
    assert "1 action deviendrait finançable" in simulator
    fundable = simulator.split('id="simulation-fundable"')[1].split("</table>")[0]
    assert "Jardin partagé" in fundable and "600\xa0€" in fundable
    assert "Atelier vélo" not in fundable
    assert "<dt>Resterait</dt><dd>400\xa0€</dd>" in simulator
    assert dbstate.snapshot() == before
    # The form is a plain GET form to this very page.
    assert f'action="/budgets/{budget_round.id}#simulateur"' in page
    assert 'method="get"' in page


def test_the_fragment_answers_htmx_with_the_results_and_a_line_for_screen_readers(client, auth, hx):
    budget_round, _near, _far = simulator_round()
    auth.login(f.person(admin=True))

    response = client.get(f"/budgets/{budget_round.id}/simulation?base=1&policy=manual", headers=hx)

    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body
    assert "2 actions deviendraient finançables" in body
    assert 'id="live-announcer" hx-swap-oob="innerHTML"' in body
    assert response.headers["HX-Replace-Url"] == f"/budgets/{budget_round.id}?base=1&policy=manual"
    assert "HX-Request" in response.headers["Vary"]


def test_the_fragment_without_htmx_leads_to_the_page(client, auth):
    budget_round, _near, _far = simulator_round()
    auth.login(f.person(finance=True))

    response = client.get(f"/budgets/{budget_round.id}/simulation?base=2&policy=manual")

    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"/budgets/{budget_round.id}?base=2&policy=manual#simulateur"
    )


@pytest.mark.parametrize("extra", ["round_id=2", "endpoint=x", "_external=1", "_anchor=x"])
def test_the_fragment_without_htmx_keeps_only_the_simulators_parameters(client, auth, extra):
    budget_round, _near, _far = simulator_round()
    auth.login(f.person(finance=True))

    response = client.get(f"/budgets/{budget_round.id}/simulation?base=2&policy=manual&{extra}")

    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"/budgets/{budget_round.id}?base=2&policy=manual#simulateur"
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("base=&policy=manual", "Le seuil de base est un nombre entier de groupes"),
        ("base=0&policy=manual", "Le seuil de base est un nombre entier de groupes"),
        ("base=100001&policy=manual", "Le seuil de base est un nombre entier de groupes"),
        ("base=deux&policy=manual", "Le seuil de base est un nombre entier de groupes"),
        ("base=2.5&policy=manual", "Le seuil de base est un nombre entier de groupes"),
        ("base=2&policy=magique", "Choisissez une règle de seuil"),
        ("base=2", "Choisissez une règle de seuil"),
    ],
)
def test_invalid_simulator_input_gives_a_french_message_never_a_500(
    client, auth, hx, query, message
):
    budget_round, _near, _far = simulator_round()
    auth.login(f.person(finance=True))

    fragment = client.get(f"/budgets/{budget_round.id}/simulation?{query}", headers=hx)
    page = client.get(f"/budgets/{budget_round.id}?{query}")

    for response in (fragment, page):
        assert response.status_code == 422
        assert message in text(response)
    assert "HX-Replace-Url" not in fragment.headers
    assert "HX-Retarget" not in fragment.headers  # swapped in place, like any result


def test_the_simulator_marks_proposals_with_their_own_threshold(client, auth):
    budget_round, near, _far = simulator_round()
    near.threshold_override = 9
    db.session.commit()
    auth.login(f.person(finance=True))

    page = text(client.get(f"/budgets/{budget_round.id}?base=1&policy=manual"))

    still_open = page.split('id="simulation-open"')[1].split("</table>")[0]
    assert "Jardin partagé" in still_open and "(propre)" in still_open
    assert db.session.scalar(select(Proposal.fundable_at).where(Proposal.id == near.id)) is None
