"""reviews: opinions on draft materials, section by section and organisation by organisation
(review, its sections and asked organisations, answers, opinions, their history after
submission, dispositions). New tables only: the previous release's code never reads them.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-05 03:22:31.147274

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reminded_before_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_last_day_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['exchange_group.id'], name=op.f('fk_review_group_id_exchange_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['material_id'], ['material.id'], name=op.f('fk_review_material_id_material'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user.id'], name=op.f('fk_review_opened_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['material_version.id'], name=op.f('fk_review_version_id_material_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review'))
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index('ix_review_group', ['group_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_material_id'), ['material_id'], unique=False)

    op.create_table('organisation_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_organisation_answer_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_organisation_answer_review_id_review'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user.id'], name=op.f('fk_organisation_answer_submitted_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_answer')),
    sa.UniqueConstraint('review_id', 'organisation_id', name=op.f('uq_organisation_answer_review_id'))
    )
    op.create_table('review_organisation',
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_review_organisation_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_organisation_review_id_review'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('review_id', 'organisation_id', name=op.f('pk_review_organisation'))
    )
    op.create_table('review_section',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('heading', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_section_review_id_review'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], name=op.f('fk_review_section_thread_id_thread'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_section')),
    sa.UniqueConstraint('review_id', 'number', name=op.f('uq_review_section_review_id'))
    )
    op.create_table('section_opinion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('stance', sa.String(length=24), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('proposed_wording', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['organisation_answer.id'], name=op.f('fk_section_opinion_answer_id_organisation_answer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['review_section.id'], name=op.f('fk_section_opinion_section_id_review_section'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_section_opinion_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_section_opinion')),
    sa.UniqueConstraint('answer_id', 'section_id', name=op.f('uq_section_opinion_answer_id'))
    )
    with op.batch_alter_table('section_opinion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_section_opinion_section_id'), ['section_id'], unique=False)

    op.create_table('comment_disposition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opinion_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_comment_disposition_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opinion_id'], ['section_opinion.id'], name=op.f('fk_comment_disposition_opinion_id_section_opinion'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_disposition')),
    sa.UniqueConstraint('opinion_id', name=op.f('uq_comment_disposition_opinion_id'))
    )
    op.create_table('opinion_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opinion_id', sa.Integer(), nullable=False),
    sa.Column('stance', sa.String(length=24), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('proposed_wording', sa.Text(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'], name=op.f('fk_opinion_history_changed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opinion_id'], ['section_opinion.id'], name=op.f('fk_opinion_history_opinion_id_section_opinion'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_history'))
    )
    with op.batch_alter_table('opinion_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opinion_history_opinion_id'), ['opinion_id'], unique=False)



def downgrade():
    with op.batch_alter_table('opinion_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opinion_history_opinion_id'))

    op.drop_table('opinion_history')
    op.drop_table('comment_disposition')
    with op.batch_alter_table('section_opinion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_section_opinion_section_id'))

    op.drop_table('section_opinion')
    op.drop_table('review_section')
    op.drop_table('review_organisation')
    op.drop_table('organisation_answer')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_material_id'))
        batch_op.drop_index('ix_review_group')

    op.drop_table('review')
