"""Themes of the network: one per spelling-insensitive name, found or created once."""

import threading

import pytest
from sqlalchemy import func, select

from models import NetworkTheme, db
from services.errors import Invalid
from services.themes import MAX_THEMES, parse_themes, theme_key, themes_named
from services.tx import write_transaction


def test_theme_key_ignores_case_accents_and_spacing():
    assert theme_key("  Eau en  RÉGIE publique ") == "eau en regie publique"


def test_parse_themes_splits_on_commas_and_semicolons_and_keeps_the_first_spelling():
    assert parse_themes("Cantines bio; eau en régie, Cantines BIO,, ") == [
        "Cantines bio",
        "eau en régie",
    ]


def test_parse_themes_refuses_too_many_or_too_long():
    with pytest.raises(Invalid):
        parse_themes(",".join(f"thème {n}" for n in range(MAX_THEMES + 1)))
    with pytest.raises(Invalid):
        parse_themes("x" * 81)


def test_themes_named_finds_existing_themes_whatever_their_spelling(app):
    first = themes_named(["Eau en régie publique"])
    db.session.commit()
    again = themes_named(["eau en regie PUBLIQUE", "Dotations"])
    db.session.commit()
    assert again[0].id == first[0].id and again[0].name == "Eau en régie publique"
    assert db.session.scalar(select(func.count()).select_from(NetworkTheme)) == 2


def test_one_theme_typed_by_several_people_at_once_is_created_once(app):
    barrier = threading.Barrier(6)
    errors = []

    def worker():
        with app.app_context():
            try:
                barrier.wait()
                # As every service calls it: inside its write transaction.
                with write_transaction():
                    themes_named(["Travail détaché"])
            except Exception as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(NetworkTheme)) == 1
