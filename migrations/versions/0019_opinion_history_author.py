"""opinion history author: who wrote an earlier text of a review opinion

A nullable column only: the previous release's code neither reads nor writes it. Rows
written before it stay without an author (unknown).

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-05 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('opinion_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('written_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_opinion_history_written_by_id_user'),
                                    'user', ['written_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_opinion_history_written_by_id'),
                              ['written_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('opinion_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opinion_history_written_by_id'))
        batch_op.drop_constraint(batch_op.f('fk_opinion_history_written_by_id_user'),
                                 type_='foreignkey')
        batch_op.drop_column('written_by_id')
