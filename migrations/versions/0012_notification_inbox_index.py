"""notification inbox index: a person's notices by id, so the inbox reads its newest page in
index order instead of sorting all of the person's notices (issue 13)

An index only: the previous release's code is unaffected.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 23:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_newest', ['user_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_newest')
