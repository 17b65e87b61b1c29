"""The network's shared library: depositing resources with their files (upload rules), editing
and deleting (author and network team), downloads, "je l'ai repris chez moi", and who may do
what (the authorization matrix). Search has its own module (tests/test_library_search.py)."""

import html
import io
import json
import re
import threading
import zipfile
from pathlib import Path

import pytest
from flask import current_app
from PIL import Image
from sqlalchemy import func, select

from models import (
    AuditEntry,
    MandateLevel,
    Resource,
    ResourceFile,
    ResourceKind,
    ResourceLevel,
    ResourceOutcome,
    ResourceReuse,
    db,
)
from services import library
from services.errors import Invalid, NotAllowed
from tests.conftest import AuthActions
from tests.dbstate import snapshot
from tests.factories import PASSWORD
from tests.network_world import (
    DENIED,
    DONE,
    LOGIN,
    NETWORK_ROLES,
    NetRoute,
    build_network_world,
    no_data,
    run_route,
)
from tests.test_images import HTML
from tests.test_queries import counting_queries
from tests.test_spending import PDF

PNG_IMAGE = io.BytesIO()
Image.new("RGB", (12, 8), (30, 120, 60)).save(PNG_IMAGE, "PNG")
PNG = PNG_IMAGE.getvalue()


def _zip(entries: list[tuple[str, bytes]], stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            kind = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=kind)
    return buffer.getvalue()


ODT = _zip(
    [
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", b"<office:document-content>Texte</office:document-content>"),
        ("META-INF/manifest.xml", b"<manifest:manifest/>"),
    ],
    stored_first=True,
)
DOCX = _zip(
    [
        ("[Content_Types].xml", b'<Types><Default Extension="xml" ContentType="x"/></Types>'),
        ("word/document.xml", b"<w:document>Texte</w:document>"),
    ]
)
DOCM = _zip(
    [
        ("[Content_Types].xml", b"<Types>application/vnd.ms-word.document.macroEnabled</Types>"),
        ("word/document.xml", b"<w:document>Texte</w:document>"),
        ("word/vbaProject.bin", b"\0" * 64),
    ]
)


def text_of(response) -> str:
    page = html.unescape(response.get_data(as_text=True))
    return page.replace("\xa0", " ").replace("\u202f", " ")


def client_for(app, person):
    client = app.test_client()
    AuthActions(client).login(person)
    return client


def stored_files() -> list[Path]:
    root = Path(current_app.config["UPLOADS_PATH"]) / "network" / "library"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def form(**changes) -> dict:
    values = {
        "kind": "voeu",
        "title": "Vœu pour le retour de l'eau en régie publique",
        "summary": "Un vœu adopté pour reprendre la gestion de l'eau en régie à la fin du contrat.",
        "body": "## Considérant\n\nQue l'eau est un **bien commun**.",
        "levels": ["municipal", "intercommunal"],
        "themes": "Eau en régie publique, services publics",
        "council": "Conseil municipal de Pessac",
        "departement": "33",
        "decided_on": "2025-03-12",
        "outcome": "adopte",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def deposit(client, files=(("voeu.pdf", PDF),), **changes):
    data = form(**changes)
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/reseau/ressources/nouvelle", data=data)


def created_id(response) -> int:
    assert response.status_code == 303, text_of(response)[:3000]
    prefix = "/reseau/ressources/"
    location = response.headers["Location"]
    assert location.startswith(prefix) and location[len(prefix) :].isdecimal(), location
    return int(location[len(prefix) :])


def fields(**changes) -> library.ResourceFields:
    values = dict(
        kind=ResourceKind.deliberation,
        title="Délibération sur la tarification sociale de l'eau",
        summary="Les premiers mètres cubes gratuits pour chaque foyer.",
        levels=(MandateLevel.municipal,),
        themes="Eau en régie publique",
        council="Conseil municipal de Brest",
        departement="29",
        outcome=ResourceOutcome.adopte,
    )
    values.update(changes)
    return library.ResourceFields(**values)


def resource_of(world, files=(("deliberation.pdf", PDF),), **changes) -> int:
    """A resource by the world's other member, with a file."""
    return library.deposit_resource(world.other_member, fields(**changes), list(files))


def reload(resource_id: int) -> Resource | None:
    db.session.rollback()
    return db.session.get(Resource, resource_id)


@pytest.fixture
def world(app):
    return build_network_world()


# Depositing --------------------------------------------------------------------------------


def test_a_member_deposits_a_resource_with_every_field_and_a_file(client, auth, world):
    auth.login(world.people["member"])
    resource_id = created_id(deposit(client))

    resource = reload(resource_id)
    assert resource.kind == ResourceKind.voeu
    assert resource.author_id == world.people["member"].id
    assert resource.departement == "33" and resource.council == "Conseil municipal de Pessac"
    assert resource.outcome == ResourceOutcome.adopte
    assert resource.decided_on.isoformat() == "2025-03-12"
    levels = db.session.scalars(
        select(ResourceLevel.level).where(ResourceLevel.resource_id == resource_id)
    )
    assert set(levels) == {MandateLevel.municipal, MandateLevel.intercommunal}
    files = db.session.scalars(select(ResourceFile)).all()
    assert [(f.display_name, f.content_type, f.size) for f in files] == [
        ("voeu.pdf", "application/pdf", len(PDF))
    ]
    assert len(stored_files()) == 1 and stored_files()[0].read_bytes() == PDF

    page = text_of(client.get(f"/reseau/ressources/{resource_id}"))
    assert "Vœu pour le retour de l'eau en régie publique" in page
    assert "<strong>bien commun</strong>" in page  # the body's Markdown, rendered
    assert "Eau en régie publique" in page and "services publics" in page
    assert "Municipal" in page and "Intercommunal" in page and "Adopté" in page
    assert "voeu.pdf" in page and "(PDF, 1 Ko)" in page
    assert f"/reseau/ressources/{resource_id}/fichiers/{files[0].id}" in page


def test_the_deposit_keeps_the_search_text_with_themes_and_kind(world):
    resource_id = resource_of(world, body="Le *texte* complet.")
    text = reload(resource_id).search_text
    for part in (
        "Délibération sur la tarification sociale",
        "premiers mètres cubes",
        "Le *texte* complet.",
        "Conseil municipal de Brest",
        "Eau en régie publique",
        "Délibération",  # the kind's name
        "deliberation metres regie",  # accented words, once more without accents
    ):
        assert part in text


def test_the_network_team_may_deposit_too(app, world):
    client = client_for(app, world.people["network"])
    resource_id = created_id(deposit(client, files=()))
    assert reload(resource_id).author_id == world.people["network"].id


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("voeu.pdf", PDF, "application/pdf"),
        ("affiche.png", PNG, "image/png"),
        ("note.odt", ODT, "application/vnd.oasis.opendocument.text"),
        (
            "amendement.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_documents_of_the_accepted_kinds_are_stored(
    client, auth, world, name, content, content_type
):
    auth.login(world.people["member"])
    created_id(deposit(client, files=[(name, content)]))
    row = db.session.scalar(select(ResourceFile))
    assert (row.display_name, row.content_type) == (name, content_type)
    assert len(stored_files()) == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("voeu.pdf", HTML, "« voeu.pdf » est refusé : c'est une page HTML"),
        ("vide.pdf", b"", "« vide.pdf » est un fichier vide"),
        ("macro.docx", DOCM, "le document contient des macros"),
        ("programme.pdf", b"MZ\x90\x00" + b"\0" * 200, "c'est un programme"),
    ],
)
def test_a_bad_file_is_refused_with_its_reason_and_nothing_is_written(
    client, auth, world, name, content, message
):
    auth.login(world.people["member"])
    before = snapshot()
    response = deposit(client, files=[("bon.pdf", PDF), (name, content)])
    assert response.status_code == 422
    page = text_of(response)
    assert message in page
    assert "Rien n'a été enregistré." in page
    assert 'aria-invalid="true"' in page and 'id="files-error"' in page
    # What was typed stays in the form.
    assert 'value="Conseil municipal de Pessac"' in page
    assert snapshot() == before
    assert stored_files() == []


def test_a_file_above_its_size_limit_is_413_naming_it(client, auth, world, app):
    app.config["NETWORK_FILE_MAX_BYTES"] = 1024 * 1024
    auth.login(world.people["member"])
    before = snapshot()
    big = b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024) + b"\n%%EOF\n"
    response = deposit(client, files=[("gros.pdf", big)])
    assert response.status_code == 413
    assert "« gros.pdf » pèse 2 Mo" in text_of(response)
    assert snapshot() == before
    assert stored_files() == []


def test_too_many_files_at_once_are_refused(client, auth, world, app):
    app.config["NETWORK_FILE_MAX_FILES"] = 2
    auth.login(world.people["member"])
    before = snapshot()
    response = deposit(client, files=[(f"page-{i}.pdf", PDF) for i in range(3)])
    assert response.status_code == 422
    assert "2 fichiers au plus" in text_of(response)
    assert snapshot() == before
    assert stored_files() == []


def test_a_request_above_the_total_limit_is_413_in_french(client, auth, world, app):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    auth.login(world.people["member"])
    before = snapshot()
    response = deposit(client, files=[("scan.pdf", b"%PDF-1.4\n" + b"0" * 100_000)])
    assert response.status_code == 413
    assert "L'envoi est trop volumineux" in text_of(response)
    assert "Rien n'a été enregistré" in text_of(response)
    assert snapshot() == before
    assert stored_files() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "  "}, "Donnez un titre à la ressource."),
        ({"title": "T" * 201}, "200 caractères au plus."),
        ({"summary": ""}, "Écrivez un résumé"),
        ({"summary": "r" * 1001}, "1000 caractères au plus."),
        ({"kind": "tract"}, "Choisissez le type de ressource dans la liste."),
        ({"kind": ""}, "Choisissez le type de ressource."),
        ({"levels": ["cantonal"]}, "Choisissez les niveaux dans la liste."),
        ({"outcome": "gagne"}, "Choisissez l'issue dans la liste."),
        ({"departement": "999"}, "Code de département invalide"),
        ({"decided_on": "12/03"}, "Indiquez une date complète"),
        ({"council": "C" * 201}, "200 caractères au plus."),
        ({"themes": ", ".join(f"thème {i}" for i in range(11))}, "10 thèmes au plus."),
    ],
)
def test_bad_fields_are_refused_in_french_with_the_files_and_nothing_is_written(
    client, auth, world, changes, message
):
    auth.login(world.people["member"])
    before = snapshot()
    response = deposit(client, **changes)
    assert response.status_code == 422
    page = text_of(response)
    assert message in page
    assert "La ressource n'est pas enregistrée" in page
    assert "Les fichiers choisis n'ont pas été gardés" in page
    assert snapshot() == before
    assert stored_files() == []


def test_a_failure_after_files_were_written_removes_them(world, monkeypatch):
    """The files are written inside the transaction; if it fails, they leave the disk."""
    real_store = library.documents.store_document
    calls = []

    def store_then_fail(root, checked, folder):
        calls.append(checked.display_name)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_store(root, checked, folder)

    monkeypatch.setattr(library.documents, "store_document", store_then_fail)
    before = snapshot()
    with pytest.raises(OSError):
        library.deposit_resource(world.people["member"], fields(), [("a.pdf", PDF), ("b.pdf", PDF)])
    assert calls == ["a.pdf", "b.pdf"]
    assert snapshot() == before
    assert stored_files() == []


def test_outsiders_and_applicants_cannot_deposit(world):
    for role in ("outsider", "applicant"):
        with pytest.raises(NotAllowed):
            library.deposit_resource(world.people[role], fields())
    assert db.session.scalar(select(func.count()).select_from(Resource)) == 0


# Editing, removing a file, deleting -------------------------------------------------------


def test_the_author_edits_every_field_and_adds_a_file(app, world):
    resource_id = resource_of(world)
    client = client_for(app, world.other_member)
    assert client.get(f"/reseau/ressources/{resource_id}/modifier").status_code == 200
    data = form(
        kind="motion",
        title="Motion pour des cantines bio",
        summary="Cent pour cent bio et local dans les cantines d'ici 2030.",
        levels=["departemental"],
        themes="Cantines bio",
        council="Conseil départemental du Finistère",
        departement="29",
        decided_on="",
        outcome="en_cours",
    )
    data["files"] = [(io.BytesIO(PNG), "affiche.png")]
    response = client.post(f"/reseau/ressources/{resource_id}/modifier", data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/reseau/ressources/{resource_id}"

    resource = reload(resource_id)
    assert (resource.kind, resource.title, resource.outcome, resource.decided_on) == (
        ResourceKind.motion,
        "Motion pour des cantines bio",
        ResourceOutcome.en_cours,
        None,
    )
    assert [row.level for row in db.session.scalars(select(ResourceLevel))] == [
        MandateLevel.departemental
    ]
    assert "Cantines bio" in resource.search_text and "Motion" in resource.search_text
    assert "tarification" not in resource.search_text
    assert resource.updated_by_id == world.other_member.id
    assert db.session.scalar(select(func.count()).select_from(ResourceFile)) == 2
    assert len(stored_files()) == 2
    # The author's own edits are not audited as the team's.
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_another_member_may_not_edit_remove_a_file_or_delete(app, world):
    resource_id = resource_of(world)
    file_id = db.session.scalar(select(ResourceFile.id))
    client = client_for(app, world.people["member"])
    before = snapshot()
    for path in (
        f"/reseau/ressources/{resource_id}/modifier",
        f"/reseau/ressources/{resource_id}/suppression",
        f"/reseau/ressources/{resource_id}/fichiers/{file_id}/retrait",
    ):
        assert client.get(path).status_code == 403
        response = client.post(path, data=form())
        assert response.status_code == 403
        assert "Seul·es son auteur·ice et l'équipe d'animation" in text_of(response)
    assert snapshot() == before
    page = text_of(client.get(f"/reseau/ressources/{resource_id}"))
    assert "Modifier" not in page and "Supprimer" not in page


def test_the_network_team_edits_someone_elses_resource_and_it_is_audited(app, world):
    resource_id = resource_of(world)
    team = world.people["network"]
    client = client_for(app, team)
    page = text_of(client.get(f"/reseau/ressources/{resource_id}/modifier"))
    assert "Raison de la modification" in page
    response = client.post(
        f"/reseau/ressources/{resource_id}/modifier",
        data=form(title="Titre corrigé par l'équipe", reason="Titre trop long"),
    )
    assert response.status_code == 303

    resource = reload(resource_id)
    assert resource.title == "Titre corrigé par l'équipe"
    assert resource.author_id == world.other_member.id
    assert resource.updated_by_id == team.id and resource.updated_at > resource.created_at
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.action, entry.actor_id, entry.person_id, entry.reason) == (
        "resource.edit",
        team.id,
        world.other_member.id,
        "Titre trop long",
    )
    assert (
        json.loads(entry.old_value)["titre"] == "Délibération sur la tarification sociale de l'eau"
    )
    assert json.loads(entry.new_value)["titre"] == "Titre corrigé par l'équipe"
    assert json.loads(entry.new_value)["ressource"] == resource_id
    shown = text_of(
        client_for(app, world.people["member"]).get(f"/reseau/ressources/{resource_id}")
    )
    assert f"par {team.display_name}" in shown


def test_removing_a_file_asks_for_confirmation_then_removes_it_from_the_disk(app, world):
    resource_id = resource_of(world, files=[("a.pdf", PDF), ("b.png", PNG)])
    first, second = db.session.scalars(select(ResourceFile).order_by(ResourceFile.id)).all()
    first_id, second_id = first.id, second.id
    client = client_for(app, world.other_member)
    edit_page = text_of(client.get(f"/reseau/ressources/{resource_id}/modifier"))
    assert f"/reseau/ressources/{resource_id}/fichiers/{first_id}/retrait" in edit_page
    confirm = client.get(f"/reseau/ressources/{resource_id}/fichiers/{first_id}/retrait")
    assert confirm.status_code == 200
    assert "« a.pdf » sera retiré" in text_of(confirm)
    assert len(stored_files()) == 2

    response = client.post(f"/reseau/ressources/{resource_id}/fichiers/{first_id}/retrait")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/reseau/ressources/{resource_id}/modifier"
    db.session.rollback()
    assert db.session.scalars(select(ResourceFile.id)).all() == [second_id]
    assert len(stored_files()) == 1 and stored_files()[0].suffix == ".png"


def test_a_file_of_another_resource_is_not_found(app, world):
    first = resource_of(world)
    second = resource_of(world, title="Une autre délibération")
    other_file = db.session.scalar(
        select(ResourceFile.id).where(ResourceFile.resource_id == second)
    )
    client = client_for(app, world.other_member)
    before = snapshot()
    assert client.get(f"/reseau/ressources/{first}/fichiers/{other_file}").status_code == 404
    assert (
        client.post(f"/reseau/ressources/{first}/fichiers/{other_file}/retrait").status_code == 404
    )
    assert snapshot() == before


def test_deleting_a_resource_asks_for_confirmation_and_removes_its_files(app, world):
    resource_id = resource_of(world, files=[("a.pdf", PDF), ("b.png", PNG)])
    library.mark_reused(world.people["member"], resource_id, "Brest")
    client = client_for(app, world.other_member)
    confirm = client.get(f"/reseau/ressources/{resource_id}/suppression")
    assert confirm.status_code == 200 and "Supprimer définitivement" in text_of(confirm)
    assert len(stored_files()) == 2

    response = client.post(f"/reseau/ressources/{resource_id}/suppression")
    assert response.status_code == 303
    assert response.headers["Location"] == "/reseau/ressources/"
    assert reload(resource_id) is None
    for model in (ResourceFile, ResourceLevel, ResourceReuse):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert stored_files() == []
    assert client.get(f"/reseau/ressources/{resource_id}").status_code == 404


def test_the_team_deleting_someone_elses_resource_is_audited(app, world):
    resource_id = resource_of(world)
    client = client_for(app, world.people["admin"])
    response = client.post(
        f"/reseau/ressources/{resource_id}/suppression", data={"reason": "Doublon"}
    )
    assert response.status_code == 303
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.action, entry.person_id, entry.reason) == (
        "resource.delete",
        world.other_member.id,
        "Doublon",
    )


# Downloads ---------------------------------------------------------------------------------


def test_a_file_downloads_as_an_attachment_with_its_type_and_nosniff(app, world):
    resource_id = resource_of(world, files=[("Délibération n°12.pdf", PDF)])
    file_id = db.session.scalar(select(ResourceFile.id))
    response = client_for(app, world.people["member"]).get(
        f"/reseau/ressources/{resource_id}/fichiers/{file_id}"
    )
    assert response.status_code == 200
    assert response.get_data() == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''D%C3%A9lib%C3%A9ration" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("role", "status"),
    [("outsider", 403), ("applicant", 403), ("member", 200), ("network", 200), ("admin", 200)],
)
def test_only_those_who_see_the_network_download_files(app, world, role, status):
    resource_id = resource_of(world)
    file_id = db.session.scalar(select(ResourceFile.id))
    response = client_for(app, world.people[role]).get(
        f"/reseau/ressources/{resource_id}/fichiers/{file_id}"
    )
    assert response.status_code == status


def test_an_anonymous_download_goes_to_the_sign_in_page(client, world):
    resource_id = resource_of(world)
    file_id = db.session.scalar(select(ResourceFile.id))
    response = client.get(f"/reseau/ressources/{resource_id}/fichiers/{file_id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


# "Je l'ai repris chez moi" -----------------------------------------------------------------


def test_reuses_are_counted_and_listed_with_links_to_profiles(app, world):
    resource_id = resource_of(world)
    member, team = world.people["member"], world.people["network"]
    response = client_for(app, member).post(
        f"/reseau/ressources/{resource_id}/reprise", data={"note": "Conseil municipal de Pessac"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/reseau/ressources/{resource_id}#reprises")
    assert (
        client_for(app, team).post(f"/reseau/ressources/{resource_id}/reprise").status_code == 303
    )

    assert reload(resource_id).reuse_count == 2
    page = text_of(client_for(app, world.other_member).get(f"/reseau/ressources/{resource_id}"))
    assert "Reprise par 2 élu·es" in page
    assert f'<a href="/reseau/membres/{member.id}">{member.display_name}</a>' in page
    assert "Conseil municipal de Pessac" in page
    assert f'<a href="/reseau/membres/{team.id}">{team.display_name}</a>' in page
    # The author has no button on their own resource.
    assert "Je l'ai repris chez moi" not in page


def test_a_reuse_is_once_per_person_and_undo_takes_it_back(app, world):
    resource_id = resource_of(world)
    client = client_for(app, world.people["member"])
    assert "Je l'ai repris chez moi" in text_of(client.get(f"/reseau/ressources/{resource_id}"))
    client.post(f"/reseau/ressources/{resource_id}/reprise")
    again = client.post(f"/reseau/ressources/{resource_id}/reprise", follow_redirects=True)
    assert "Vous aviez déjà signalé cette reprise." in text_of(again)
    assert reload(resource_id).reuse_count == 1
    assert db.session.scalar(select(func.count()).select_from(ResourceReuse)) == 1
    assert "Annuler ma reprise" in text_of(again)

    response = client.post(f"/reseau/ressources/{resource_id}/reprise/annulation")
    assert response.status_code == 303
    assert reload(resource_id).reuse_count == 0
    assert db.session.scalar(select(func.count()).select_from(ResourceReuse)) == 0
    # Undoing twice changes nothing.
    client.post(f"/reseau/ressources/{resource_id}/reprise/annulation")
    assert reload(resource_id).reuse_count == 0


def test_nobody_marks_their_own_resource_as_reused(app, world):
    resource_id = resource_of(world)
    before = snapshot()
    response = client_for(app, world.other_member).post(f"/reseau/ressources/{resource_id}/reprise")
    assert response.status_code == 422
    assert "C'est votre propre ressource" in text_of(response)
    assert snapshot() == before
    with pytest.raises(Invalid):
        library.mark_reused(world.other_member, resource_id)


def test_a_reuse_note_too_long_is_refused_on_the_page(app, world):
    resource_id = resource_of(world)
    before = snapshot()
    response = client_for(app, world.people["member"]).post(
        f"/reseau/ressources/{resource_id}/reprise", data={"note": "n" * 301}
    )
    assert response.status_code == 422
    assert "300 caractères au plus." in text_of(response)
    assert snapshot() == before


def test_a_reuse_of_an_unknown_resource_is_not_found(app, world):
    client = client_for(app, world.people["member"])
    assert client.post("/reseau/ressources/999999/reprise").status_code == 404
    assert client.post("/reseau/ressources/999999/reprise/annulation").status_code == 404


@pytest.mark.concurrency
def test_a_double_click_on_reuse_gives_one_row(app, world):
    resource_id = resource_of(world)
    person_id = world.people["member"].id
    db.session.commit()
    barrier = threading.Barrier(6)
    results: list = [None] * 6

    def click(i: int) -> None:
        with app.app_context():
            person = db.session.get(type(world.people["member"]), person_id)
            barrier.wait()
            try:
                results[i] = library.mark_reused(person, resource_id, f"clic {i}")
            except Exception as error:  # collected and asserted on below
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    assert results.count(True) == 1 and results.count(False) == 5, results
    assert reload(resource_id).reuse_count == 1
    assert db.session.scalar(select(func.count()).select_from(ResourceReuse)) == 1


@pytest.mark.concurrency
def test_reuses_and_undos_at_once_keep_the_count_equal_to_the_rows(app, world):
    resource_id = resource_of(world)
    people = [world.people[r].id for r in ("member", "network", "admin")]
    db.session.commit()
    barrier = threading.Barrier(len(people))

    def churn(person_id: int) -> None:
        with app.app_context():
            from models import Person

            person = db.session.get(Person, person_id)
            barrier.wait()
            for turn in range(6):
                if turn % 2 == 0:
                    library.mark_reused(person, resource_id)
                else:
                    library.undo_reuse(person, resource_id)
            library.mark_reused(person, resource_id)
            db.session.remove()

    threads = [threading.Thread(target=churn, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    rows = db.session.scalar(select(func.count()).select_from(ResourceReuse))
    assert rows == reload(resource_id).reuse_count == 3


# Pages for each kind of person ------------------------------------------------------------

PAGES = {
    "index": "/reseau/ressources/",
    "new": "/reseau/ressources/nouvelle",
    "show": "/reseau/ressources/{resource}",
}
# anonymous, outsider, applicant, member, network, admin
PAGE_STATUS = ("login", 403, 403, 200, 200, 200)


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("role", NETWORK_ROLES)
def test_library_pages_for_each_kind_of_person(client, auth, world, page, role):
    resource_id = resource_of(world)
    if role != "anonymous":
        auth.login(world.people[role])
    response = client.get(PAGES[page].format(resource=resource_id))
    expected = PAGE_STATUS[NETWORK_ROLES.index(role)]
    if expected == "login":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/connexion")
    else:
        assert response.status_code == expected
    if expected == 403 and role == "applicant":
        assert "attend la réponse de l'équipe d'animation" in text_of(response)
    if expected == 200:
        assert 'class="network-nav"' in response.get_data(as_text=True)


@pytest.mark.parametrize("resource_id", [424242, 2**31, 10**20])
def test_an_unknown_resource_is_404_whatever_its_number(app, world, resource_id):
    client = client_for(app, world.people["network"])
    before = snapshot()
    for path in ("", "/modifier", "/suppression", "/fichiers/1", "/fichiers/1/retrait"):
        assert client.get(f"/reseau/ressources/{resource_id}{path}").status_code == 404, path
    for path in ("/modifier", "/suppression", "/fichiers/1/retrait", "/reprise"):
        response = client.post(f"/reseau/ressources/{resource_id}{path}", data=form())
        assert response.status_code == 404, path
    assert client.get(f"/reseau/ressources/1/fichiers/{10**20}").status_code == 404
    assert snapshot() == before


def test_a_refused_edit_shows_the_form_again_with_the_files_and_writes_nothing(app, world):
    resource_id = resource_of(world, files=[("annexe.pdf", PDF)])
    client = client_for(app, world.other_member)
    before = snapshot()
    data = form(title="", departement="AB")
    data["files"] = [(io.BytesIO(HTML), "page.pdf")]
    response = client.post(f"/reseau/ressources/{resource_id}/modifier", data=data)
    assert response.status_code == 422
    page = text_of(response)
    assert "« page.pdf » est refusé" in page
    assert "Donnez un titre à la ressource." in page and "Code de département invalide" in page
    assert "annexe.pdf" in page  # the files already there, with their removal links
    assert snapshot() == before
    assert len(stored_files()) == 1
    response = client.post(f"/reseau/ressources/{resource_id}/modifier", data=form(title=""))
    assert response.status_code == 422 and "annexe.pdf" in text_of(response)


def test_a_resource_page_issues_the_same_queries_whatever_its_reuses(app, world):
    resource_id = resource_of(world)
    library.mark_reused(world.people["member"], resource_id)
    client = client_for(app, world.people["network"])
    client.get(f"/reseau/ressources/{resource_id}")
    with counting_queries() as few:
        client.get(f"/reseau/ressources/{resource_id}")
    from models import Person

    for i in range(15):
        person = Person(email=f"elu{i}@example.org", display_name=f"Élu {i}", password_hash="x")
        db.session.add(person)
        db.session.flush()
        db.session.add(ResourceReuse(resource_id=resource_id, person_id=person.id))
        db.session.add(
            ResourceFile(
                resource_id=resource_id,
                stored_name=f"{i:032x}.pdf",
                display_name=f"annexe-{i}.pdf",
                content_type="application/pdf",
                size=100,
                sha256="0" * 64,
            )
        )
    db.session.commit()
    with counting_queries() as many:
        response = client.get(f"/reseau/ressources/{resource_id}")
    assert "Élu 14" in text_of(response) and "annexe-14.pdf" in text_of(response)
    assert len(many) == len(few)


# The authorization matrix -----------------------------------------------------------------


def _other_resource(world) -> None:
    """A resource of the other member with a file; every signed-in person has reused it."""
    world.ids["resource"] = resource_of(world)
    world.ids["file"] = db.session.scalar(select(ResourceFile.id))
    for role in ("member", "network", "admin"):
        library.mark_reused(world.people[role], world.ids["resource"])
    # Rows the outsider and the applicant could not have made: their undo is refused anyway.
    for role in ("outsider", "applicant"):
        db.session.add(
            ResourceReuse(resource_id=world.ids["resource"], person_id=world.people[role].id)
        )
    db.session.commit()


def _deposited(world, role, client) -> None:
    resource = db.session.scalar(select(Resource).where(Resource.title == form()["title"]))
    assert resource.author_id == world.people[role].id


def _edited(world, role, client) -> None:
    resource = reload(world.ids["resource"])
    assert resource.title == "Titre modifié" and resource.updated_by_id == world.people[role].id


def _deleted(world, role, client) -> None:
    assert reload(world.ids["resource"]) is None


def _file_removed(world, role, client) -> None:
    db.session.rollback()
    assert db.session.get(ResourceFile, world.ids["file"]) is None


def _reuse_rows(world, role) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count())
        .select_from(ResourceReuse)
        .where(
            ResourceReuse.resource_id == world.ids["resource"],
            ResourceReuse.person_id == world.people[role].id,
        )
    )


def _reused_setup(world) -> None:
    """A resource of the other member that nobody has reused yet."""
    world.ids["resource"] = resource_of(world)


def _reused(world, role, client) -> None:
    assert _reuse_rows(world, role) == 1
    assert reload(world.ids["resource"]).reuse_count == 1


def _unreused(world, role, client) -> None:
    assert _reuse_rows(world, role) == 0
    assert reload(world.ids["resource"]).reuse_count == 2  # the others' reuses stay


ROUTES: dict[str, NetRoute] = {
    "library.new": NetRoute("/reseau/ressources/nouvelle", lambda w, r: form(), _deposited),
    "library.edit": NetRoute(
        "/reseau/ressources/{resource}/modifier",
        lambda w, r: form(title="Titre modifié"),
        _edited,
        setup=_other_resource,
    ),
    "library.delete": NetRoute(
        "/reseau/ressources/{resource}/suppression", no_data, _deleted, setup=_other_resource
    ),
    "library.remove_file": NetRoute(
        "/reseau/ressources/{resource}/fichiers/{file}/retrait",
        no_data,
        _file_removed,
        setup=_other_resource,
    ),
    "library.reuse": NetRoute(
        "/reseau/ressources/{resource}/reprise",
        lambda w, r: {"note": "Conseil municipal"},
        _reused,
        setup=_reused_setup,
    ),
    "library.undo_reuse": NetRoute(
        "/reseau/ressources/{resource}/reprise/annulation",
        no_data,
        _unreused,
        setup=_other_resource,
    ),
}

# One outcome per NETWORK_ROLES: anonymous, outsider, applicant, member, network, admin.
# The resources acted on belong to another member ("member" is not their author).
EXPECTED: dict[str, tuple] = {
    "library.new": (LOGIN, DENIED, DENIED, DONE, DONE, DONE),
    "library.edit": (LOGIN, DENIED, DENIED, DENIED, DONE, DONE),
    "library.delete": (LOGIN, DENIED, DENIED, DENIED, DONE, DONE),
    "library.remove_file": (LOGIN, DENIED, DENIED, DENIED, DONE, DONE),
    "library.reuse": (LOGIN, DENIED, DENIED, DONE, DONE, DONE),
    "library.undo_reuse": (LOGIN, DENIED, DENIED, DONE, DONE, DONE),
}


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
@pytest.mark.parametrize("role", NETWORK_ROLES)
def test_library_authorization_matrix(app, client, auth, endpoint, role):
    expected = EXPECTED[endpoint][NETWORK_ROLES.index(role)]
    run_route(client, auth, ROUTES[endpoint], expected, role)


def test_unknown_resources_are_hidden_from_members_on_every_post_route(app, world):
    client = client_for(app, world.people["network"])
    before = snapshot()
    for endpoint, route in ROUTES.items():
        if "{resource}" not in route.path:
            continue
        path = route.path.format(resource=987654, file=987654)
        assert client.post(path, data=route.data(world, "network")).status_code == 404, endpoint
    assert snapshot() == before


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def test_the_forms_carry_and_need_their_csrf_token(csrf_app):
    world = build_network_world()
    resource_id = resource_of(world)
    client = csrf_app.test_client()
    token = _token(client.get("/connexion").get_data(as_text=True))
    response = client.post(
        "/connexion",
        data={"email": world.people["member"].email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    before = snapshot()
    response = client.post("/reseau/ressources/nouvelle", data=form())
    assert response.status_code == 400 and "Le formulaire a expiré" in text_of(response)
    assert client.post(f"/reseau/ressources/{resource_id}/reprise").status_code == 400
    assert snapshot() == before

    token = _token(client.get("/reseau/ressources/nouvelle").get_data(as_text=True))
    data = form()
    data["csrf_token"] = token
    data["files"] = [(io.BytesIO(PDF), "voeu.pdf")]
    assert created_id(client.post("/reseau/ressources/nouvelle", data=data))
    token = _token(client.get(f"/reseau/ressources/{resource_id}").get_data(as_text=True))
    response = client.post(f"/reseau/ressources/{resource_id}/reprise", data={"csrf_token": token})
    assert response.status_code == 303
    assert reload(resource_id).reuse_count == 1
