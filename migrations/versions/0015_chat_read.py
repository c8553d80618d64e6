"""chat read: how far each member has read each group's chat, for the dashboard's unread
message counts

A new table only: the previous release's code never reads it.

Revision ID: 0015
Revises: 0018
Create Date: 2026-12-05 04:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'chat_read',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('last_read_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['exchange_group.id'],
                                name=op.f('fk_chat_read_group_id_exchange_group'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_chat_read_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'group_id', name=op.f('pk_chat_read')),
    )


def downgrade():
    op.drop_table('chat_read')
