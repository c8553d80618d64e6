"""group chat edit minutes: for how long authors may edit or delete their own chat messages,
a group setting (default 15, 0: not at all)

A column with a server default: the previous release's code inserts groups without it.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-04 23:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('exchange_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_edit_minutes', sa.Integer(), server_default='15',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('exchange_group', schema=None) as batch_op:
        batch_op.drop_column('chat_edit_minutes')
