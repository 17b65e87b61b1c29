"""Illustrations: upload, alternative text and caption, order, cover, deletion, files served,
and what the public sees; with and without htmx, and a refusal leaves nothing behind."""

import io
import os
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Illustration, ProposalStatus, db
from services import illustrations as service
from services import images
from services.errors import Invalid
from tests import factories as f
from tests.dbstate import snapshot
from tests.test_images import (
    GIF,
    HTML,
    PDF,
    SVG,
    fake_jpeg,
    jpeg_with_exif,
    plain_jpeg,
    png_bomb,
    png_with_alpha,
    reopen,
    too_large_jpeg,
    truncated_jpeg,
    webp_with_exif,
)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def stored_files() -> list[str]:
    """Everything under UPLOADS_PATH, temporary files included."""
    root = Path(current_app.config["UPLOADS_PATH"])
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def upload(client, proposal_id, *files, headers=None):
    return client.post(
        f"/espace/propositions/{proposal_id}/illustrations",
        data={"images": [(io.BytesIO(data), name) for name, data in files]},
        headers=headers or {},
    )


def illustrations_of(proposal_id) -> list[Illustration]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Illustration)
            .where(Illustration.proposal_id == proposal_id)
            .order_by(Illustration.position)
        )
    )


class Setting:
    """A certified group with its manager and draft, an animator, and a published proposal."""

    def __init__(self):
        self.round = f.budget_round()
        self.manager, self.group = f.manager_of()
        self.draft = f.proposal(self.round, status=ProposalStatus.draft, origin_group=self.group)
        self.published = f.proposal(self.round, title="Grainothèque de quartier")
        self.animator = f.person(animation=True)

    def add(self, proposal, alt: str = "", caption: str = "", data: bytes | None = None) -> int:
        """An illustration through the services, as its editor would add it."""
        editor = self.manager if proposal.status == ProposalStatus.draft else self.animator
        (illustration_id,) = service.upload_illustrations(
            editor, proposal.id, [service.UploadedFile("photo.jpg", data or plain_jpeg())]
        )
        if alt:
            service.update_illustration(editor, illustration_id, caption, alt)
        return illustration_id


@pytest.fixture
def s(app):
    return Setting()


# Upload --------------------------------------------------------------------------------------


def test_a_manager_adds_photos_to_the_draft_of_their_group(client, auth, s):
    auth.login(s.manager)
    response = upload(
        client,
        s.draft.id,
        ("photo.jpg", jpeg_with_exif()),
        ("logo.png", png_with_alpha()),
        ("affiche.webp", webp_with_exif()),
    )

    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"/espace/propositions/{s.draft.id}#illustrations-editor"
    )
    rows = illustrations_of(s.draft.id)
    assert [(r.position, r.format, r.alt_text, r.is_cover) for r in rows] == [
        (1, "jpeg", "", False),
        (2, "png", "", False),
        (3, "webp", "", False),
    ]
    assert (rows[0].width, rows[0].height) == (20, 40)  # turned upright
    assert {r.uploaded_by_id for r in rows} == {s.manager.id}
    expected = sorted(name for r in rows for name in (r.file_name, r.thumb_name))
    assert stored_files() == expected
    for row in rows:
        data = (Path(current_app.config["UPLOADS_PATH"]) / row.file_name).read_bytes()
        assert len(data) == row.byte_size
        assert len(reopen(data).getexif()) == 0


def test_upload_with_htmx_answers_the_editor_with_the_new_items(client, auth, s, hx):
    auth.login(s.manager)
    response = upload(client, s.draft.id, ("photo.jpg", plain_jpeg()), headers=hx)

    assert response.status_code == 200
    html = text_of(response)
    assert html.lstrip().startswith('<section id="illustrations-editor"')
    assert "Texte alternatif à rédiger" in html
    assert "1 image ajoutée" in html and 'hx-swap-oob="innerHTML:#messages"' in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("filename", "data", "status", "why"),
    [
        ("dessin.svg", SVG, 422, "SVG"),
        ("tract.pdf", PDF, 422, "PDF"),
        ("photo.jpg", HTML, 422, "HTML"),
        ("anime.gif", GIF, 422, "GIF"),
        ("photo.jpg", truncated_jpeg(), 422, "abîmé ou incomplet"),
        ("photo.jpg", fake_jpeg(), 422, "abîmé ou incomplet"),
        ("bombe.png", png_bomb(), 422, "trop grande"),
        ("enorme.jpg", too_large_jpeg(), 413, "10 Mo"),
    ],
)
def test_a_bad_file_is_refused_saying_why_and_nothing_is_stored(
    client, auth, s, filename, data, status, why
):
    auth.login(s.manager)
    before = snapshot()

    response = upload(client, s.draft.id, (filename, data))

    assert response.status_code == status
    html = text_of(response)
    assert f"« {filename} »" in html and why in html
    assert 'enctype="multipart/form-data"' in html  # the form again, to try another file
    assert snapshot() == before
    assert stored_files() == []


def test_one_bad_file_among_good_ones_stores_none_of_them(client, auth, s, hx):
    auth.login(s.manager)
    before = snapshot()

    response = upload(
        client,
        s.draft.id,
        ("bonne.jpg", plain_jpeg()),
        ("dessin.svg", SVG),
        ("tract.pdf", PDF),
        headers=hx,
    )

    assert response.status_code == 422
    html = text_of(response)
    assert "« dessin.svg »" in html and "« tract.pdf »" in html and "« bonne.jpg »" not in html
    assert "Aucune image n&#39;a été ajoutée." in html
    assert 'id="illustrations-editor"' in html and 'aria-invalid="true"' in html
    assert snapshot() == before
    assert stored_files() == []


def test_a_too_large_file_among_others_is_413_naming_it(client, auth, s):
    auth.login(s.manager)
    response = upload(
        client, s.draft.id, ("bonne.jpg", plain_jpeg()), ("lourde.jpg", too_large_jpeg())
    )
    assert response.status_code == 413
    assert "« lourde.jpg » pèse 11 Mo" in text_of(response)
    assert stored_files() == []


def test_a_request_above_the_total_limit_is_413_in_french(client, auth, s, app):
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    auth.login(s.manager)
    before = snapshot()
    response = upload(client, s.draft.id, ("a.jpg", too_large_jpeg()))
    assert response.status_code == 413
    assert "L&#39;envoi est trop volumineux" in text_of(response)
    assert snapshot() == before
    assert stored_files() == []


def test_several_files_fit_in_one_request():
    from config import Config

    files = Config.UPLOAD_MAX_FILES
    assert files >= 5
    assert files * Config.UPLOAD_MAX_BYTES < Config.MAX_CONTENT_LENGTH


def test_more_files_than_allowed_in_one_upload_are_refused(client, auth, s):
    auth.login(s.manager)
    response = upload(client, s.draft.id, *[(f"{i}.jpg", plain_jpeg()) for i in range(6)])
    assert response.status_code == 422
    assert "5 images au plus par envoi" in text_of(response)
    assert stored_files() == []


def test_an_upload_without_a_file_is_refused(client, auth, s):
    auth.login(s.manager)
    response = client.post(f"/espace/propositions/{s.draft.id}/illustrations", data={})
    assert response.status_code == 422
    assert "Choisissez au moins une image" in text_of(response)


def test_a_proposal_holds_at_most_40_illustrations(client, auth, s, monkeypatch):
    monkeypatch.setattr(service, "MAX_ILLUSTRATIONS", 2)
    s.add(s.draft)
    auth.login(s.manager)
    response = upload(client, s.draft.id, ("a.jpg", plain_jpeg()), ("b.jpg", plain_jpeg()))
    assert response.status_code == 422
    assert "au plus 2 illustrations" in text_of(response)
    assert len(stored_files()) == 2  # the first illustration's files only


@pytest.mark.parametrize(
    ("who", "status"),
    [("outsider", 404), ("member", 404), ("animator", 403), ("other_manager", 404)],
)
def test_only_the_group_adds_photos_to_its_draft(client, auth, s, who, status):
    people = {
        "outsider": f.person(),
        "animator": s.animator,
        "other_manager": f.manager_of()[0],
    }
    if who == "member":
        people["member"] = f.person()
        f.member(people["member"], s.group, "member")
    auth.login(people[who])
    before = snapshot()

    response = upload(client, s.draft.id, ("photo.jpg", plain_jpeg()))

    assert response.status_code == status
    assert snapshot() == before
    assert stored_files() == []


def test_an_outsider_with_a_bad_file_learns_nothing_about_a_draft(client, auth, s):
    auth.login(f.person())
    response = upload(client, s.draft.id, ("dessin.svg", SVG))
    assert response.status_code == 404
    assert "SVG" not in text_of(response)
    response = client.post(f"/espace/propositions/{s.draft.id}/illustrations", data={})
    assert response.status_code == 404
    assert s.draft.title not in text_of(response)


@pytest.mark.parametrize("status", [ProposalStatus.submitted, ProposalStatus.published])
def test_once_submitted_the_team_edits_the_illustrations_and_the_group_no_longer(
    client, auth, s, status
):
    proposal = f.proposal(s.round, status=status, origin_group=s.group)
    auth.login(s.manager)
    assert upload(client, proposal.id, ("photo.jpg", plain_jpeg())).status_code == 403
    auth.logout()
    auth.login(s.animator)
    assert upload(client, proposal.id, ("photo.jpg", plain_jpeg())).status_code == 303
    assert len(illustrations_of(proposal.id)) == 1


def test_nobody_changes_the_illustrations_of_a_closed_proposal(client, auth, s):
    proposal = f.proposal(s.round, status=ProposalStatus.withdrawn, origin_group=s.group)
    for person in (s.manager, s.animator):
        auth.login(person)
        assert upload(client, proposal.id, ("photo.jpg", plain_jpeg())).status_code == 403
        auth.logout()


def test_anonymous_is_sent_to_sign_in(client, s):
    response = upload(client, s.draft.id, ("photo.jpg", plain_jpeg()))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


def test_files_are_removed_when_the_database_write_fails(app, s, monkeypatch):
    # A stored name already taken: the unique constraint fails at the insert, after the
    # files were written under that name.
    s.add(s.draft)
    files_before = stored_files()
    taken = "f" * 32
    db.session.add(
        Illustration(
            proposal_id=s.published.id,
            position=1,
            stored_name=taken,
            format="jpeg",
            width=1,
            height=1,
            thumb_width=1,
            thumb_height=1,
            byte_size=1,
        )
    )
    db.session.commit()
    monkeypatch.setattr(images, "new_stored_name", lambda: taken)
    before = snapshot()

    with pytest.raises(IntegrityError):
        service.upload_illustrations(
            s.manager, s.draft.id, [service.UploadedFile("photo.jpg", plain_jpeg())]
        )

    assert snapshot() == before
    assert stored_files() == files_before  # the new files are gone, the others stay


# Alternative text and caption ----------------------------------------------------------------


def test_the_alternative_text_and_caption_are_saved_without_javascript(client, auth, s):
    illustration_id = s.add(s.draft)
    auth.login(s.manager)

    page = client.get(f"/espace/illustrations/{illustration_id}/modifier")
    assert page.status_code == 200
    assert 'name="alt_text"' in text_of(page) and "hx-post" not in text_of(page).split("<main")[1]

    response = client.post(
        f"/espace/illustrations/{illustration_id}/modifier",
        data={"alt_text": "  Des bocaux de graines  ", "caption": "La grainothèque"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/espace/propositions/{s.draft.id}")
    (row,) = illustrations_of(s.draft.id)
    assert (row.alt_text, row.caption) == ("Des bocaux de graines", "La grainothèque")
    assert service.missing_alt_count(s.draft.id) == 0


def test_in_place_editing_with_htmx(client, auth, s, hx):
    illustration_id = s.add(s.draft)
    s.add(s.draft)
    auth.login(s.manager)

    form = text_of(client.get(f"/espace/illustrations/{illustration_id}/modifier", headers=hx))
    assert form.lstrip().startswith(f'<li id="illustration-{illustration_id}"')
    assert f'hx-post="/espace/illustrations/{illustration_id}/modifier"' in form
    assert "autofocus" in form

    response = client.post(
        f"/espace/illustrations/{illustration_id}/modifier",
        data={"alt_text": "Une affiche", "caption": ""},
        headers=hx,
    )
    assert response.status_code == 200
    html = text_of(response)
    assert html.lstrip().startswith(f'<li id="illustration-{illustration_id}"')
    assert "Une affiche" in html
    # The count of missing alternative texts, out of band: one is still missing.
    assert 'id="illustrations-missing-alt"' in html and 'hx-swap-oob="true"' in html
    assert "1 illustration attend son texte alternatif" in html

    cancel = client.get(f"/espace/illustrations/{illustration_id}", headers=hx)
    assert cancel.status_code == 200 and 'name="alt_text"' not in text_of(cancel)


@pytest.mark.parametrize(
    ("alt_text", "message"),
    [
        ("", "Rédigez le texte alternatif"),
        ("   ", "Rédigez le texte alternatif"),
        ("x" * 301, "300 caractères au plus"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_an_invalid_alternative_text_is_422_keeping_what_was_typed(
    client, auth, s, hx, alt_text, message, htmx
):
    illustration_id = s.add(s.draft, alt="Avant", caption="Ancienne légende")
    auth.login(s.manager)
    before = snapshot()

    response = client.post(
        f"/espace/illustrations/{illustration_id}/modifier",
        data={"alt_text": alt_text, "caption": "Ma nouvelle légende"},
        headers=hx if htmx else {},
    )

    assert response.status_code == 422
    html = text_of(response)
    assert message in html.replace("&#39;", "'")
    assert "Ma nouvelle légende" in html
    assert 'aria-invalid="true"' in html
    assert ("hx-post" in html) == htmx
    assert snapshot() == before


def test_a_too_long_caption_is_refused(client, auth, s):
    illustration_id = s.add(s.draft, alt="Avant")
    auth.login(s.manager)
    response = client.post(
        f"/espace/illustrations/{illustration_id}/modifier",
        data={"alt_text": "Bien", "caption": "x" * 301},
    )
    assert response.status_code == 422


def test_the_service_refuses_an_empty_alternative_text(app, s):
    illustration_id = s.add(s.draft, alt="Avant")
    with pytest.raises(Invalid):
        service.update_illustration(s.manager, illustration_id, "", " ")


def test_an_outsider_cannot_see_the_edit_form(client, auth, s):
    illustration_id = s.add(s.draft)
    auth.login(f.person())
    assert client.get(f"/espace/illustrations/{illustration_id}/modifier").status_code == 404
    response = client.post(
        f"/espace/illustrations/{illustration_id}/modifier", data={"alt_text": ""}
    )
    assert response.status_code == 404  # not 422: the form is not for them


# Order ---------------------------------------------------------------------------------------


def test_moving_up_and_down_swaps_with_the_neighbour(client, auth, s):
    ids = [s.add(s.draft) for _ in range(3)]
    auth.login(s.manager)

    response = client.post(f"/espace/illustrations/{ids[2]}/deplacement", data={"direction": "up"})
    assert response.status_code == 303
    assert [i.id for i in illustrations_of(s.draft.id)] == [ids[0], ids[2], ids[1]]
    client.post(f"/espace/illustrations/{ids[0]}/deplacement", data={"direction": "down"})
    assert [i.id for i in illustrations_of(s.draft.id)] == [ids[2], ids[0], ids[1]]
    assert [i.position for i in illustrations_of(s.draft.id)] == [1, 2, 3]


def test_moving_the_first_up_changes_nothing(client, auth, s):
    ids = [s.add(s.draft) for _ in range(2)]
    auth.login(s.manager)
    before = snapshot()
    response = client.post(f"/espace/illustrations/{ids[0]}/deplacement", data={"direction": "up"})
    assert response.status_code == 303
    assert snapshot() == before


def test_a_move_needs_a_direction(client, auth, s):
    illustration_id = s.add(s.draft)
    auth.login(s.manager)
    response = client.post(
        f"/espace/illustrations/{illustration_id}/deplacement", data={"direction": "sideways"}
    )
    assert response.status_code == 422


def test_the_editor_has_keyboard_controls_with_labels(client, auth, s, hx):
    ids = [s.add(s.draft) for _ in range(2)]
    auth.login(s.manager)
    response = client.post(
        f"/espace/illustrations/{ids[1]}/deplacement", data={"direction": "up"}, headers=hx
    )
    html = text_of(response)
    assert response.status_code == 200
    assert 'aria-label="Monter l\'illustration 2"' in html
    assert 'aria-label="Descendre l\'illustration 1"' in html
    assert 'aria-label="Monter l\'illustration 1"' not in html
    assert '<button type="submit" id="illustration-' in html
    # The moved illustration is now first: its "Descendre" button keeps the focus.
    assert f'id="illustration-{ids[1]}-down"' in html
    focused = html.split(f'id="illustration-{ids[1]}-down"')[1].split(">")[0]
    assert "autofocus" in focused
    assert 'hx-confirm="Supprimer définitivement l\'illustration 1 ?"' in html


# Cover ---------------------------------------------------------------------------------------


def test_a_cover_needs_an_alternative_text(client, auth, s):
    illustration_id = s.add(s.draft)
    auth.login(s.manager)
    before = snapshot()
    response = client.post(f"/espace/illustrations/{illustration_id}/couverture")
    assert response.status_code == 422
    assert "texte alternatif" in text_of(response)
    assert snapshot() == before


def test_choosing_a_cover_replaces_the_previous_one(client, auth, s):
    first = s.add(s.draft, alt="Première")
    second = s.add(s.draft, alt="Seconde")
    auth.login(s.manager)
    assert client.post(f"/espace/illustrations/{first}/couverture").status_code == 303
    assert client.post(f"/espace/illustrations/{second}/couverture").status_code == 303
    assert [i.is_cover for i in illustrations_of(s.draft.id)] == [False, True]


def test_the_cover_and_the_gallery_appear_in_public_without_illustrations_lacking_alt(
    client, auth, s
):
    cover = s.add(s.published, alt="Des bocaux de graines", caption="La grainothèque")
    s.add(s.published, alt="Un atelier de semis", caption="Le premier atelier")
    s.add(s.published)  # no alternative text yet: not shown
    service.set_cover(s.animator, cover)
    rows = illustrations_of(s.published.id)

    page = text_of(client.get(f"/propositions/{s.published.slug}"))
    assert f'src="/medias/{rows[0].file_name}" alt="Des bocaux de graines"' in page
    assert f'src="/medias/{rows[1].thumb_name}" alt="Un atelier de semis"' in page
    assert "Le premier atelier" in page
    assert rows[2].stored_name not in page

    card = text_of(client.get("/"))
    assert f'src="/medias/{rows[0].thumb_name}" alt="Des bocaux de graines"' in card
    assert f'width="{rows[0].thumb_width}" height="{rows[0].thumb_height}" loading="lazy"' in card


def test_the_list_card_follows_the_cover_without_going_stale(client, s):
    first = s.add(s.published, alt="Premier")
    second = s.add(s.published, alt="Second")
    assert "/medias/" not in text_of(client.get("/"))

    service.set_cover(s.animator, first)
    assert 'alt="Premier"' in text_of(client.get("/"))
    service.update_illustration(s.animator, first, "", "Premier, mieux décrit")
    assert 'alt="Premier, mieux décrit"' in text_of(client.get("/"))
    service.set_cover(s.animator, second)
    assert 'alt="Second"' in text_of(client.get("/"))
    service.delete_illustration(s.animator, second)
    assert "/medias/" not in text_of(client.get("/"))  # no cover chosen in its place


def test_the_workspace_page_shows_the_editor(client, auth, s):
    s.add(s.draft)
    auth.login(s.manager)
    html = text_of(client.get(f"/espace/propositions/{s.draft.id}"))
    assert 'id="illustrations-editor"' in html
    assert "Texte alternatif à rédiger" in html
    assert 'enctype="multipart/form-data"' in html


def test_the_editor_is_read_only_for_who_may_not_edit(client, auth, s):
    proposal = f.proposal(s.round, status=ProposalStatus.submitted, origin_group=s.group)
    auth.login(s.animator)
    upload(client, proposal.id, ("photo.jpg", plain_jpeg()))
    auth.logout()
    auth.login(s.manager)
    html = text_of(client.get(f"/espace/propositions/{proposal.id}"))
    assert 'id="illustrations-editor"' in html
    assert "Illustration 1" in html
    assert 'enctype="multipart/form-data"' not in html and "Monter" not in html


# Deletion ------------------------------------------------------------------------------------


def test_deleting_asks_for_confirmation_without_javascript(client, auth, s):
    illustration_id = s.add(s.draft)
    auth.login(s.manager)
    page = client.get(f"/espace/illustrations/{illustration_id}/suppression")
    assert page.status_code == 200
    assert "Supprimer définitivement" in text_of(page)
    assert len(illustrations_of(s.draft.id)) == 1


def test_deleting_removes_the_row_its_files_and_closes_the_gap(client, auth, s):
    ids = [s.add(s.draft, alt=f"Image {i}") for i in range(3)]
    service.set_cover(s.manager, ids[1])
    auth.login(s.manager)

    response = client.post(f"/espace/illustrations/{ids[1]}/suppression")

    assert response.status_code == 303
    rows = illustrations_of(s.draft.id)
    assert [(r.id, r.position, r.is_cover) for r in rows] == [
        (ids[0], 1, False),
        (ids[2], 2, False),
    ]
    assert stored_files() == sorted(n for r in rows for n in (r.file_name, r.thumb_name))


def test_deleting_with_htmx_answers_the_editor(client, auth, s, hx):
    illustration_id = s.add(s.draft)
    auth.login(s.manager)
    response = client.post(f"/espace/illustrations/{illustration_id}/suppression", headers=hx)
    assert response.status_code == 200
    assert 'id="illustrations-editor"' in text_of(response)
    assert "Pas encore d'illustration" in text_of(response)
    assert stored_files() == []


def test_a_refused_deletion_keeps_the_files(client, auth, s):
    illustration_id = s.add(s.draft)
    files = stored_files()
    auth.login(s.animator)  # the team does not edit a draft
    before = snapshot()
    response = client.post(f"/espace/illustrations/{illustration_id}/suppression")
    assert response.status_code == 403
    assert snapshot() == before and stored_files() == files


def test_an_unknown_illustration_is_404(client, auth, s):
    auth.login(s.animator)
    for path in ("modifier", "deplacement", "couverture", "suppression"):
        assert client.post(f"/espace/illustrations/999/{path}", data={}).status_code == 404


# Files ---------------------------------------------------------------------------------------


def test_published_files_are_public_and_cached_for_good(client, s):
    illustration_id = s.add(s.published, alt="Affiche")
    row = db.session.get(Illustration, illustration_id)

    for name in (row.file_name, row.thumb_name):
        response = client.get(f"/medias/{name}")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert reopen(response.get_data()).format == "JPEG"


@pytest.mark.parametrize(("kind", "data"), [("png", png_with_alpha()), ("webp", webp_with_exif())])
def test_files_are_served_with_their_content_type(client, s, kind, data):
    illustration_id = s.add(s.published, alt="Image", data=data)
    row = db.session.get(Illustration, illustration_id)
    response = client.get(f"/medias/{row.file_name}")
    assert response.headers["Content-Type"] == f"image/{kind}"


def test_draft_files_are_for_the_workspace_only(client, auth, s):
    illustration_id = s.add(s.draft, alt="Brouillon")
    name = db.session.get(Illustration, illustration_id).thumb_name

    response = client.get(f"/medias/{name}")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"
    auth.login(f.person())
    assert client.get(f"/medias/{name}").status_code == 404
    auth.logout()
    for person in (s.manager, s.animator):
        auth.login(person)
        response = client.get(f"/medias/{name}")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, max-age=3600"
        auth.logout()


def test_a_published_illustration_without_alternative_text_is_not_public(client, auth, s):
    illustration_id = s.add(s.published)
    name = db.session.get(Illustration, illustration_id).file_name
    assert client.get(f"/medias/{name}").status_code == 404
    auth.login(s.animator)
    response = client.get(f"/medias/{name}")
    assert response.status_code == 200 and response.headers["Cache-Control"].startswith("private")


@pytest.mark.parametrize(
    "name",
    [
        "..%2Fconfig.py",
        "0123456789abcdef0123456789abcdef.gif",
        "0123456789ABCDEF0123456789ABCDEF.jpg",
        "0123456789abcdef0123456789abcdef.jpg",  # well formed, unknown
        "0123456789abcdef0123456789abcdef-800.jpg",
        "test.sqlite3",
    ],
)
def test_only_known_media_names_are_served(client, s, name):
    assert client.get(f"/medias/{name}").status_code == 404


def test_a_media_name_with_the_wrong_extension_is_404(client, s):
    row = db.session.get(Illustration, s.add(s.published, alt="Affiche"))
    assert client.get(f"/medias/{row.stored_name}.png").status_code == 404


def test_a_missing_file_is_404(client, s):
    row = db.session.get(Illustration, s.add(s.published, alt="Affiche"))
    os.remove(Path(current_app.config["UPLOADS_PATH"]) / row.file_name)
    assert client.get(f"/medias/{row.file_name}").status_code == 404


# Counting ------------------------------------------------------------------------------------


def test_missing_alt_count_counts_the_illustrations_without_alternative_text(app, s):
    assert service.missing_alt_count(s.draft.id) == 0
    first = s.add(s.draft)
    s.add(s.draft)
    s.add(s.draft, alt="Décrite")
    assert service.missing_alt_count(s.draft.id) == 2
    service.update_illustration(s.manager, first, "", "Décrite aussi")
    assert service.missing_alt_count(s.draft.id) == 1


def test_every_change_to_the_illustrations_is_audited(s):
    from models import AuditEntry

    first = s.add(s.published, alt="Un grainier en bois")
    second = s.add(s.published, alt="Des sachets de graines", caption="Troc du samedi")
    service.set_cover(s.animator, second)
    service.update_illustration(s.animator, second, "Troc du samedi", "Des sachets étiquetés")
    service.delete_illustration(s.animator, first)
    db.session.rollback()
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.proposal_id == s.published.id).order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == [
        "illustration.upload",
        "illustration.texts",
        "illustration.upload",
        "illustration.texts",
        "illustration.cover",
        "illustration.texts",
        "illustration.delete",
    ]
    assert {e.actor_id for e in entries} == {s.animator.id}
    assert entries[5].old_value == "Des sachets de graines\nTroc du samedi"
    assert entries[5].new_value == "Des sachets étiquetés\nTroc du samedi"
    assert entries[6].old_value.endswith("Un grainier en bois")
