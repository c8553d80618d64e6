"""chat message revisions: the earlier texts of chat messages their authors edited

A new table only: the previous release's code never reads it.

Revision ID: 0016
Revises: 0017
Create Date: 2026-12-05 04:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'chat_message_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('edited_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['chat_message.id'],
                                name=op.f('fk_chat_message_revision_message_id_chat_message'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['edited_by_id'], ['user.id'],
                                name=op.f('fk_chat_message_revision_edited_by_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_message_revision')),
    )
    with op.batch_alter_table('chat_message_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_message_revision_message_id'), ['message_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('chat_message_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_message_revision_message_id'))
    op.drop_table('chat_message_revision')
