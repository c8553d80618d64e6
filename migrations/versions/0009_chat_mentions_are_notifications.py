"""chat mentions become notifications (kind "chat_mention")

A chat mention was a row of its own table (`chat_mention`), read by its own code on the
notifications page, in the header's count, by the e-mail batcher, the data export and
retention. It is now a `notification` like every other notice: the rows are carried over
(who, which message, its group and author, when, read and e-mailed), mentions of messages a
moderator removed are dropped, and the old table is emptied.

The table itself stays for one release: during a rolling upgrade the previous release's code
still writes to it (those few mentions are not shown by the new code). The next release drops it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

KIND = 'chat_mention'

notification = sa.table(
    'notification', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
    sa.column('kind', sa.String), sa.column('group_id', sa.Integer),
    sa.column('chat_message_id', sa.Integer), sa.column('actor_id', sa.Integer),
    sa.column('text', sa.Text), sa.column('created_at', sa.DateTime),
    sa.column('read_at', sa.DateTime), sa.column('emailed_at', sa.DateTime))
chat_mention = sa.table(
    'chat_mention', sa.column('message_id', sa.Integer), sa.column('user_id', sa.Integer),
    sa.column('read_at', sa.DateTime), sa.column('emailed_at', sa.DateTime))
chat_message = sa.table(
    'chat_message', sa.column('id', sa.Integer), sa.column('group_id', sa.Integer),
    sa.column('author_id', sa.Integer), sa.column('created_at', sa.DateTime),
    sa.column('removed_at', sa.DateTime))


def upgrade():
    mentions = (
        sa.select(chat_mention.c.user_id, sa.literal(KIND), chat_message.c.group_id,
                  chat_mention.c.message_id, chat_message.c.author_id, sa.literal(''),
                  chat_message.c.created_at, chat_mention.c.read_at, chat_mention.c.emailed_at)
        .select_from(chat_mention.join(chat_message,
                                       chat_message.c.id == chat_mention.c.message_id))
        .where(chat_message.c.removed_at.is_(None))
        .order_by(chat_mention.c.message_id, chat_mention.c.user_id))
    op.execute(notification.insert().from_select(
        ['user_id', 'kind', 'group_id', 'chat_message_id', 'actor_id', 'text', 'created_at',
         'read_at', 'emailed_at'], mentions))
    op.execute(chat_mention.delete())


def downgrade():
    # One row per (message, person): the notification table has no such key, so a duplicate
    # is folded (the earliest read and e-mailed times win); a row the previous release wrote
    # meanwhile is kept as it is.
    notices = (
        sa.select(notification.c.chat_message_id, notification.c.user_id,
                  sa.func.min(notification.c.read_at), sa.func.min(notification.c.emailed_at))
        .where(notification.c.kind == KIND, notification.c.chat_message_id.is_not(None),
               ~sa.exists().where(chat_mention.c.message_id == notification.c.chat_message_id,
                                  chat_mention.c.user_id == notification.c.user_id))
        .group_by(notification.c.chat_message_id, notification.c.user_id))
    op.execute(chat_mention.insert().from_select(
        ['message_id', 'user_id', 'read_at', 'emailed_at'], notices))
    op.execute(notification.delete().where(notification.c.kind == KIND))
