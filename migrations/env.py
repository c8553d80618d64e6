import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from forum.search import include_object

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# Inside a running application (tests, `flask db`), keep its logging as it is.
if not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


def get_engine():
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def _check_downgrade(connection):
    """A downgrade drops the tables and columns of the newer migrations and what they hold.
    In production it runs only with FORUM_ALLOW_DOWNGRADE=1 (after a backup); elsewhere it
    says so in the log. (Issue 18: downgrades dropped data without a warning.)"""
    import os

    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    destination = context.get_revision_argument()
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None or destination is None:
        return
    script = ScriptDirectory.from_config(config)
    destination = str(destination)
    if destination.startswith("-"):  # relative: "-1"
        undone = [r.revision for r in script.iterate_revisions(current, "base")]
        undone = undone[:int(destination[1:])]
    elif destination == "base" or destination in {
            r.revision for r in script.iterate_revisions(current, "base")} - {current}:
        lower = None if destination == "base" else destination
        undone = [r.revision for r in script.iterate_revisions(current, lower or "base")
                  if r.revision != lower]
    else:
        return  # an upgrade, or staying put
    if not undone:
        return
    message = (f"Downgrading undoes migration(s) {', '.join(undone)}: their tables and "
               f"columns are dropped with everything stored in them. Make a backup first "
               f"(flask --app wsgi forum backup).")
    if current_app.config.get("FORUM_ENV") == "production" and \
            os.environ.get("FORUM_ALLOW_DOWNGRADE") != "1":
        raise SystemExit(message + " To go ahead, run it again with FORUM_ALLOW_DOWNGRADE=1.")
    logger.warning(message)


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    # Our UTCDateTime is a plain DateTime in the database: render it so, so that
    # revisions do not import application code.
    def render_item(type_, obj, autogen_context):
        if type_ == "type" and type(obj).__name__ == "UTCDateTime":
            return "sa.DateTime()"
        return False

    conf_args = current_app.extensions['migrate'].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives
    conf_args.setdefault("render_item", render_item)
    # The search index (migration 0004) is not in the models: autogenerate leaves it alone.
    conf_args.setdefault("include_object", include_object)

    connectable = get_engine()

    with connectable.connect() as connection:
        _check_downgrade(connection)
        if connection.in_transaction():  # reading the revision began one: end it, so that
            connection.rollback()  # the migrations' own transaction is committed
        # SQLite alters a table by copying it and dropping the old one; with foreign keys
        # enforced, that drop would cascade and delete rows in other tables. The pragma only
        # works outside a transaction, so it is set on the raw connection first.
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            **conf_args
        )

        try:
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                connection.commit()
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
