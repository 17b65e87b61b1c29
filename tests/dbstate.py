"""The whole database as plain values, to check that a refused request wrote nothing."""

from models import db


def snapshot() -> dict[str, list[tuple]]:
    # End the session's transaction first: what is read is what is committed now.
    db.session.rollback()
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(table.select()).all()
        state[table.name] = sorted(tuple(repr(value) for value in row) for row in rows)
    db.session.rollback()
    return state
