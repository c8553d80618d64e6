"""recommendations: the register of what groups recommend to the training centre (a
recommendation with where it came from, and its dated steps). New tables only: the previous
release's code never reads them.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 13:26:12.073867

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recommendation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_html', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=True),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('workshop_id', sa.Integer(), nullable=True),
    sa.Column('material_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_recommendation_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['exchange_group.id'], name=op.f('fk_recommendation_group_id_exchange_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['material_id'], ['material.id'], name=op.f('fk_recommendation_material_id_material'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_recommendation_poll_id_poll'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], name=op.f('fk_recommendation_thread_id_thread'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_recommendation_workshop_id_workshop'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation'))
    )
    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.create_index('ix_recommendation_group', ['group_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommendation_material_id'), ['material_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommendation_poll_id'), ['poll_id'], unique=False)
        batch_op.create_index('ix_recommendation_status', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommendation_thread_id'), ['thread_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recommendation_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('recommendation_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], name=op.f('fk_recommendation_step_recommendation_id_recommendation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_recommendation_step_recorded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendation_step'))
    )
    with op.batch_alter_table('recommendation_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendation_step_recommendation_id'), ['recommendation_id'], unique=False)



def downgrade():
    with op.batch_alter_table('recommendation_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommendation_step_recommendation_id'))

    op.drop_table('recommendation_step')
    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommendation_workshop_id'))
        batch_op.drop_index(batch_op.f('ix_recommendation_thread_id'))
        batch_op.drop_index('ix_recommendation_status')
        batch_op.drop_index(batch_op.f('ix_recommendation_poll_id'))
        batch_op.drop_index(batch_op.f('ix_recommendation_material_id'))
        batch_op.drop_index('ix_recommendation_group')

    op.drop_table('recommendation')
