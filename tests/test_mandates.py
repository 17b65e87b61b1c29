"""Mandates of elected officials: levels and roles, dates, départements, and the rule that two
mandates of one person on the same council never overlap in time (checked under a lock, on
SQLite and PostgreSQL, with real threads)."""

import html
from datetime import date

import pytest
from sqlalchemy import func, select

from models import (
    ROLES_BY_LEVEL,
    AuditEntry,
    Mandate,
    MandateLevel,
    MandateRole,
    db,
)
from services import network as service
from services.errors import Invalid, NotFound
from tests import factories as f
from tests.dbstate import snapshot
from tests.network_world import mandate
from tests.test_concurrency import as_person, run_together


def page_text(response) -> str:
    """The page as a reader sees it (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


PESSAC = "Conseil municipal de Pessac"


def data(**fields) -> service.MandateData:
    values = {
        "level": "municipal",
        "council": PESSAC,
        "departement": "33",
        "role": "conseiller",
        "side": "opposition",
        "starts_on": date(2020, 7, 3),
        "ends_on": None,
    }
    values.update(fields)
    return service.MandateData(**values)


def count_mandates(person_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(Mandate).where(Mandate.person_id == person_id)
    )


# Levels and roles ---------------------------------------------------------------------------

VALID = [(level, role) for level, roles in ROLES_BY_LEVEL.items() for role in roles]
INVALID = [
    (level, role)
    for level in MandateLevel
    for role in MandateRole
    if role not in ROLES_BY_LEVEL[level]
]


def test_every_level_has_allowed_roles_and_refused_ones_cover_the_rest():
    assert {level for level, _ in VALID} == set(MandateLevel)
    assert len(VALID) + len(INVALID) == len(MandateLevel) * len(MandateRole)
    # The municipal roles, and parliament's single role, as the law has them.
    assert set(ROLES_BY_LEVEL[MandateLevel.municipal]) == {
        MandateRole.maire,
        MandateRole.adjoint,
        MandateRole.conseiller,
    }
    for level in (MandateLevel.depute, MandateLevel.senateur, MandateLevel.europeen):
        assert ROLES_BY_LEVEL[level] == (MandateRole.parlementaire,)


@pytest.mark.parametrize(("level", "role"), VALID, ids=[f"{lv}-{r}" for lv, r in VALID])
def test_a_mandate_holds_a_role_its_level_allows(app, level, role):
    person = f.person()

    mandate_id = service.add_mandate(person, data(level=level.value, role=role.value))

    row = db.session.get(Mandate, mandate_id)
    assert (row.level, row.role) == (level, role)
    assert row.council_key == "conseil municipal de pessac"


@pytest.mark.parametrize(("level", "role"), INVALID, ids=[f"{lv}-{r}" for lv, r in INVALID])
def test_a_role_the_level_does_not_allow_is_refused_with_the_allowed_ones_named(app, level, role):
    person = f.person()

    with pytest.raises(Invalid) as refused:
        service.add_mandate(person, data(level=level.value, role=role.value))

    message = refused.value.message
    assert str(service.ROLE_LABELS[role]) in message
    assert str(service.LEVEL_LABELS[level]) in message
    for allowed in ROLES_BY_LEVEL[level]:
        assert str(service.ROLE_LABELS[allowed]) in message
    assert count_mandates(person.id) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("level", "cantonal"), ("level", ""), ("role", "ministre"), ("side", "neutre")],
)
def test_an_unknown_level_role_or_side_is_refused(app, field, value):
    person = f.person()
    with pytest.raises(Invalid):
        service.add_mandate(person, data(**{field: value}))
    assert count_mandates(person.id) == 0


# Council, département, dates ------------------------------------------------------------------


@pytest.mark.parametrize("council", ["", "   ", "x" * 201])
def test_the_council_is_required_and_at_most_200_characters(app, council):
    person = f.person()
    with pytest.raises(Invalid):
        service.add_mandate(person, data(council=council))
    service.add_mandate(person, data(council="x" * 200))
    assert count_mandates(person.id) == 1


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("33", "33"), ("1", "01"), ("01", "01"), ("2a", "2A"), ("2B", "2B"), ("95", "95")]
    + [("971", "971"), ("976", "976"), (" 29 ", "29"), ("", None)],
)
def test_a_departement_is_a_real_code_or_nothing(app, typed, stored):
    person = f.person()
    mandate_id = service.add_mandate(person, data(departement=typed))
    assert db.session.get(Mandate, mandate_id).departement == stored


@pytest.mark.parametrize("typed", ["00", "20", "96", "970", "977", "2C", "A2", "999", "x"])
def test_a_departement_that_does_not_exist_is_refused(app, typed):
    person = f.person()
    with pytest.raises(Invalid, match="département"):
        service.add_mandate(person, data(departement=typed))
    assert count_mandates(person.id) == 0


def test_the_start_date_is_required(app):
    person = f.person()
    with pytest.raises(Invalid, match="début"):
        service.add_mandate(person, data(starts_on=None))


def test_a_mandate_cannot_end_before_it_starts(app):
    person = f.person()
    with pytest.raises(Invalid, match="fin"):
        service.add_mandate(person, data(starts_on=date(2020, 7, 3), ends_on=date(2020, 7, 2)))
    assert count_mandates(person.id) == 0


def test_a_mandate_may_end_the_day_it_starts(app):
    person = f.person()
    service.add_mandate(person, data(starts_on=date(2020, 7, 3), ends_on=date(2020, 7, 3)))
    assert count_mandates(person.id) == 1


# The overlap rule ----------------------------------------------------------------------------


def test_two_mandates_on_the_same_council_cannot_overlap(app):
    person = f.person()
    service.add_mandate(person, data(starts_on=date(2014, 3, 30), ends_on=date(2020, 7, 3)))

    with pytest.raises(Invalid) as refused:
        service.add_mandate(person, data(starts_on=date(2019, 1, 1), ends_on=date(2026, 3, 1)))

    # The message names the mandate it conflicts with.
    assert PESSAC in refused.value.message
    assert "30/03/2014" in refused.value.message and "03/07/2020" in refused.value.message
    assert count_mandates(person.id) == 1


def test_a_mandate_ending_on_a_day_overlaps_one_starting_that_day(app):
    person = f.person()
    service.add_mandate(person, data(starts_on=date(2014, 3, 30), ends_on=date(2020, 7, 3)))
    with pytest.raises(Invalid, match="chevauche"):
        service.add_mandate(person, data(starts_on=date(2020, 7, 3)))
    # And the other way round: a new one ending the day the existing one starts.
    with pytest.raises(Invalid, match="chevauche"):
        service.add_mandate(person, data(starts_on=date(2008, 3, 16), ends_on=date(2014, 3, 30)))
    assert count_mandates(person.id) == 1


def test_a_mandate_starting_the_day_after_another_ends_does_not_overlap(app):
    person = f.person()
    service.add_mandate(person, data(starts_on=date(2014, 3, 30), ends_on=date(2020, 7, 3)))
    service.add_mandate(person, data(starts_on=date(2020, 7, 4), role="maire"))
    service.add_mandate(person, data(starts_on=date(2008, 3, 16), ends_on=date(2014, 3, 29)))
    assert count_mandates(person.id) == 3


def test_an_open_ended_mandate_overlaps_every_later_one_on_the_same_council(app):
    person = f.person()
    service.add_mandate(person, data(starts_on=date(2020, 7, 3), ends_on=None))
    with pytest.raises(Invalid, match="depuis le 03/07/2020"):
        service.add_mandate(person, data(starts_on=date(2040, 1, 1), ends_on=date(2041, 1, 1)))
    # One that ended before it started is fine.
    service.add_mandate(person, data(starts_on=date(2014, 3, 30), ends_on=date(2020, 7, 2)))
    # An open-ended one starting earlier covers it too.
    with pytest.raises(Invalid):
        service.add_mandate(person, data(starts_on=date(2001, 1, 1), ends_on=None))
    assert count_mandates(person.id) == 2


def test_the_same_council_is_the_same_whatever_the_case_accents_and_spaces(app):
    person = f.person()
    service.add_mandate(
        person, data(council="Conseil départemental de l'Hérault", level="departemental")
    )
    with pytest.raises(Invalid):
        service.add_mandate(
            person,
            data(council="  conseil   DEPARTEMENTAL de l'herault ", level="departemental"),
        )
    assert count_mandates(person.id) == 1


def test_mandates_on_different_councils_or_levels_may_run_at_the_same_time(app):
    person = f.person()
    service.add_mandate(person, data())
    service.add_mandate(person, data(council="Conseil municipal de Talence"))
    # Same name, another level: the intercommunal council is another council.
    service.add_mandate(person, data(level="intercommunal"))
    service.add_mandate(person, data(level="regional", council="Nouvelle-Aquitaine"))
    assert count_mandates(person.id) == 4


def test_two_people_may_sit_on_the_same_council_at_the_same_time(app):
    first, second = f.person(), f.person()
    service.add_mandate(first, data(role="maire"))
    service.add_mandate(second, data())
    assert count_mandates(first.id) == count_mandates(second.id) == 1


def test_editing_a_mandate_does_not_conflict_with_itself(app):
    person = f.person()
    mandate_id = service.add_mandate(person, data(starts_on=date(2020, 7, 3)))

    service.update_mandate(
        person, mandate_id, data(starts_on=date(2020, 7, 4), ends_on=date(2026, 3, 20))
    )

    row = db.session.get(Mandate, mandate_id)
    assert (row.starts_on, row.ends_on) == (date(2020, 7, 4), date(2026, 3, 20))


def test_editing_a_mandate_into_another_on_the_same_council_is_refused(app):
    person = f.person()
    service.add_mandate(person, data(starts_on=date(2014, 3, 30), ends_on=date(2020, 7, 3)))
    later = service.add_mandate(person, data(starts_on=date(2020, 7, 4)))
    before = snapshot()

    with pytest.raises(Invalid, match="30/03/2014"):
        service.update_mandate(person, later, data(starts_on=date(2020, 7, 3)))

    assert snapshot() == before


def test_declaring_editing_and_deleting_a_mandate_is_audited(app):
    person = f.person()
    mandate_id = service.add_mandate(person, data())
    service.update_mandate(person, mandate_id, data(role="adjoint"))
    service.delete_mandate(person, mandate_id)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.person_id == person.id).order_by(AuditEntry.id)
    ).all()
    assert actions == ["network.mandate_add", "network.mandate_update", "network.mandate_delete"]


def test_nobody_edits_or_deletes_someone_elses_mandate(app):
    owner, other = f.person(), f.person(admin=True, network=True)
    mandate_id = service.add_mandate(owner, data())
    before = snapshot()
    with pytest.raises(NotFound):
        service.update_mandate(other, mandate_id, data(role="maire"))
    with pytest.raises(NotFound):
        service.delete_mandate(other, mandate_id)
    assert snapshot() == before


# Concurrency --------------------------------------------------------------------------------


def test_two_overlapping_mandates_declared_at_once_give_one_row(app):
    person = f.person()
    person_id = person.id
    db.session.commit()
    starts = [date(2020, 7, 3), date(2021, 1, 1), date(2020, 1, 1), date(2022, 5, 5)]

    results = run_together(
        len(starts),
        lambda i: as_person(
            app, person_id, lambda who: service.add_mandate(who, data(starts_on=starts[i]))
        ),
    )

    assert sum(isinstance(r, int) for r in results) == 1, results
    assert all(isinstance(r, Invalid) for r in results if not isinstance(r, int)), results
    assert count_mandates(person_id) == 1


def test_an_edit_and_a_declaration_that_would_overlap_at_once_leave_no_overlap(app):
    person = f.person()
    earlier = mandate(person, starts_on=date(2014, 3, 30), ends_on=date(2020, 7, 2))
    person_id, earlier_id = person.id, earlier.id

    def work(i: int):
        if i == 0:  # stretch the earlier mandate up to today
            return as_person(
                app,
                person_id,
                lambda who: service.update_mandate(
                    who, earlier_id, data(starts_on=date(2014, 3, 30))
                ),
            )
        return as_person(
            app, person_id, lambda who: service.add_mandate(who, data(starts_on=date(2020, 7, 3)))
        )

    results = run_together(2, work)

    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    db.session.rollback()
    rows = db.session.scalars(select(Mandate).where(Mandate.person_id == person_id)).all()
    for a in rows:
        for b in rows:
            if a.id < b.id:
                assert (a.ends_on is not None and a.ends_on < b.starts_on) or (
                    b.ends_on is not None and b.ends_on < a.starts_on
                )


# The pages ------------------------------------------------------------------------------------

FORM = {
    "level": "municipal",
    "council": PESSAC,
    "departement": "33",
    "role": "adjoint",
    "side": "majorite",
    "starts_on": "2020-07-03",
    "ends_on": "",
}


def test_a_signed_in_person_declares_a_mandate_before_joining(client, auth):
    person = f.person()
    auth.login(person)

    response = client.post("/reseau/mandats", data=FORM)

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/reseau/mandats")
    page = page_text(client.get("/reseau/mandats"))
    assert "Le mandat est enregistré" in page
    assert PESSAC in page and "adjoint·e" in page and "majorité" in page
    assert "depuis le 3 juillet 2020" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": "parlementaire"}, "ne peut pas avoir la fonction"),
        ({"council": ""}, "Indiquez le conseil"),
        ({"starts_on": ""}, "date de début"),
        ({"ends_on": "2020-07-01"}, "ne peut précéder"),
        ({"departement": "20"}, "Code de département invalide"),
        ({"level": "cantonal"}, "Niveau"),
        ({"side": ""}, "majorité ou opposition"),
    ],
)
def test_an_invalid_mandate_is_shown_again_with_its_message_and_nothing_written(
    client, auth, change, message
):
    person = f.person()
    auth.login(person)
    before = snapshot()

    response = client.post("/reseau/mandats", data={**FORM, **change})

    assert response.status_code == 422
    body = page_text(response)
    assert message in body
    assert 'role="alert"' in body
    assert snapshot() == before


def test_an_overlapping_mandate_is_refused_on_the_page_naming_the_other(client, auth):
    person = f.person()
    mandate(person, starts_on=date(2014, 3, 30), ends_on=date(2020, 7, 3))
    auth.login(person)

    response = client.post("/reseau/mandats", data=FORM)

    assert response.status_code == 422
    body = page_text(response)
    assert "chevauche" in body and "30/03/2014" in body


def test_a_person_edits_and_deletes_their_own_mandate(client, auth):
    person = f.person()
    row = mandate(person)
    auth.login(person)

    page = client.get(f"/reseau/mandats/{row.id}/modifier")
    assert page.status_code == 200 and PESSAC in page_text(page)
    response = client.post(
        f"/reseau/mandats/{row.id}/modifier", data={**FORM, "ends_on": "2026-03-22"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Mandate, row.id).ends_on == date(2026, 3, 22)

    response = client.post(f"/reseau/mandats/{row.id}/suppression")
    assert response.status_code == 303
    assert count_mandates(person.id) == 0


def test_an_invalid_edit_is_shown_again_with_422(client, auth):
    person = f.person()
    row = mandate(person)
    auth.login(person)
    before = snapshot()
    response = client.post(
        f"/reseau/mandats/{row.id}/modifier", data={**FORM, "role": "maire", "level": "regional"}
    )
    assert response.status_code == 422
    assert "choisissez parmi président·e" in page_text(response)
    assert snapshot() == before


def test_someone_elses_mandate_is_not_found(client, auth):
    owner = f.person()
    row = mandate(owner)
    auth.login(f.person(admin=True))
    before = snapshot()
    assert client.get(f"/reseau/mandats/{row.id}/modifier").status_code == 404
    assert client.post(f"/reseau/mandats/{row.id}/modifier", data=FORM).status_code == 404
    assert client.post(f"/reseau/mandats/{row.id}/suppression").status_code == 404
    assert client.post("/reseau/mandats/999999/suppression").status_code == 404
    assert snapshot() == before


def test_the_mandates_page_needs_signing_in(client):
    response = client.get("/reseau/mandats")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


def test_a_person_sees_only_their_own_mandates(client, auth):
    person, other = f.person(), f.person()
    mandate(other, council="Conseil municipal de Brest", council_key="conseil municipal de brest")
    auth.login(person)
    assert "Brest" not in page_text(client.get("/reseau/mandats"))
