"""Themes (tags) of the network, shared by resources, threads, members and subscriptions:
read from what people type, found or created once each, whatever the concurrency."""

import re

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import NetworkTheme, db, fold_text

from .errors import Invalid

MAX_THEMES = 10
MAX_LENGTH = 80
_SPACES = re.compile(r"\s+")


def theme_key(name: str) -> str:
    """What makes two themes the same: case, accents and spacing aside."""
    return _SPACES.sub(" ", fold_text(name)).strip()


def parse_themes(raw: str | None) -> list[str]:
    """The themes typed in one field, separated by commas or semicolons, each once (the first
    spelling kept), in order. Invalid (422) beyond MAX_THEMES or for a theme too long."""
    names: list[str] = []
    seen: set[str] = set()
    for part in re.split(r"[,;\n]", raw or ""):
        name = _SPACES.sub(" ", part).strip()
        if not name:
            continue
        if len(name) > MAX_LENGTH:
            raise Invalid(
                _(
                    "Un thème compte %(max)s caractères au plus : « %(name)s ».",
                    max=MAX_LENGTH,
                    name=name[:40] + "…",
                )
            )
        key = theme_key(name)
        if key not in seen:
            seen.add(key)
            names.append(name)
    if len(names) > MAX_THEMES:
        raise Invalid(_("%(max)s thèmes au plus.", max=MAX_THEMES))
    return names


def themes_named(names: list[str]) -> list[NetworkTheme]:
    """The themes of these names, created when new, in the same order. Runs inside the
    caller's transaction; a theme created at the same moment by another request is found
    (a savepoint absorbs the unique-key race)."""
    if not names:
        return []
    keys = [theme_key(name) for name in names]
    found = {
        theme.key: theme
        for theme in db.session.scalars(select(NetworkTheme).where(NetworkTheme.key.in_(keys)))
    }
    for name, key in zip(names, keys, strict=True):
        if key in found:
            continue
        try:
            with db.session.begin_nested():
                theme = NetworkTheme(name=name, key=key)
                db.session.add(theme)
        except IntegrityError:
            theme = db.session.scalar(select(NetworkTheme).where(NetworkTheme.key == key))
        found[key] = theme
    return [found[key] for key in keys]


def all_themes() -> list[NetworkTheme]:
    """Every theme, by name (for filters and suggestions)."""
    return list(db.session.scalars(select(NetworkTheme).order_by(func.lower(NetworkTheme.name))))


def theme_field_value(themes) -> str:
    """The text a themes field shows for these themes."""
    return ", ".join(theme.name for theme in themes)
