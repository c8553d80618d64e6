"""The inbox reads a person's newest notices in index order: its cost does not grow with how
many notices the person has had (issue 13)."""

from forum.extensions import db
from forum.notifications.inbox import list_notifications
from tests import factories


def _plan(statement: str, parameters, dialect: str) -> str:
    """The plan of the statement as it was sent, with its own parameters."""
    connection = db.session.connection().connection  # the driver's connection
    cursor = connection.cursor()
    if dialect == "sqlite":
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())
    # A tiny test table: the planner would read it whole or by bitmap and sort. Made to prefer
    # index order where an index gives it; without one the plan still sorts.
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
        cursor.execute(f"SET LOCAL {setting} = off")
    cursor.execute("EXPLAIN " + statement, parameters)
    return "\n".join(row[0] for row in cursor.fetchall())


def test_the_inbox_page_is_read_in_index_order(app, personas):
    with app.app_context():
        captured = {}

        def capture(conn, cursor, statement, parameters, context, executemany):
            if "FROM notification" in statement and "ORDER BY notification.id DESC" in statement:
                captured["sent"] = (statement, parameters)

        from sqlalchemy import event
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            list_notifications(factories.user(personas.member.id))
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        plan = _plan(*captured["sent"], db.engine.dialect.name)
    assert "ix_notification_user_newest" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan.split("Limit", 1)[-1], plan
