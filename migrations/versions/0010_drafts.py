"""drafts: what a person is writing, kept on the server (a reply per thread, a new thread per
group), so that it survives a reload, a lost connection and another device

A new table only: the previous release's code never reads it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('reply_to_id', sa.Integer(), nullable=True),
    sa.Column('workshop_number', sa.Integer(), nullable=True),
    sa.Column('material_ids', sa.String(length=500), nullable=False),
    sa.Column('saved_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['exchange_group.id'], name=op.f('fk_draft_group_id_exchange_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reply_to_id'], ['post.id'], name=op.f('fk_draft_reply_to_id_post'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], name=op.f('fk_draft_thread_id_thread'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_draft_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft'))
    )
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draft_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_draft_thread_id'), ['thread_id'], unique=False)
        # One draft per person and thread, and one new-thread draft per person and group.
        batch_op.create_index('uq_draft_reply', ['user_id', 'thread_id'], unique=True,
                              sqlite_where=sa.text('thread_id IS NOT NULL'),
                              postgresql_where=sa.text('thread_id IS NOT NULL'))
        batch_op.create_index('uq_draft_new_thread', ['user_id', 'group_id'], unique=True,
                              sqlite_where=sa.text('thread_id IS NULL'),
                              postgresql_where=sa.text('thread_id IS NULL'))


def downgrade():
    op.drop_table('draft')
