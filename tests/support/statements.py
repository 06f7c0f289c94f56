"""Counting the SQL a piece of code sends: `with statements(db) as seen: ...` collects each
statement, lower-cased, as the driver is given it."""

from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def statements(db):
    seen = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
