"""Write transactions: the only place where services begin, lock and commit.

On PostgreSQL a service locks the rows it checks with SELECT … FOR UPDATE. SQLite has no row
locks, so a write transaction there starts with BEGIN IMMEDIATE, which takes the database's
write lock before the first read: rules checked inside it cannot be invalidated by another
writer. Readers are never blocked (WAL).
"""

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

from models import db

_begin_immediate = contextvars.ContextVar("sqlite_begin_immediate", default=False)


def configure_engine(engine: Engine) -> None:
    """Per-connection settings; on SQLite we issue BEGIN ourselves (the driver's is lazy)."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_commun_configured", False):
        return
    engine._commun_configured = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _begin_immediate.get() else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[None]:
    """One service call, one transaction: commits on success, rolls everything back on error."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("unsaved changes outside a service transaction")
    # End the read transaction the request may have opened (loading the signed-in person):
    # the rules must be checked on what is current once the lock is held.
    session.commit()
    token = _begin_immediate.set(True)
    try:
        session.connection()
    finally:
        _begin_immediate.reset(token)
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def for_update(statement):
    """A SELECT that locks its rows on PostgreSQL and reloads them from the database."""
    return statement.with_for_update().execution_options(populate_existing=True)
