"""attendance: registrations, check-ins and certificates; evaluation questionnaires (who
answered kept apart from the answers); minutes with amendments; a session's times per day and
a group's registration cap per organisation. New tables and nullable columns only: the previous
release's code never reads them. A downgrade drops these tables and what they hold.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 17:27:12.862189

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attendance_certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_attendance_certificate_user_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_attendance_certificate_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_certificate')),
    sa.UniqueConstraint('serial', name=op.f('uq_attendance_certificate_serial')),
    sa.UniqueConstraint('workshop_id', 'user_id', name=op.f('uq_attendance_certificate_workshop_id'))
    )
    with op.batch_alter_table('attendance_certificate', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_certificate_user', ['user_id'], unique=False)

    op.create_table('evaluation_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('standard', sa.String(length=32), nullable=True),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_evaluation_question_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_question'))
    )
    with op.batch_alter_table('evaluation_question', schema=None) as batch_op:
        batch_op.create_index('ix_evaluation_question_workshop', ['workshop_id', 'position'], unique=False)

    op.create_table('evaluation_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_evaluation_submission_user_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_evaluation_submission_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_submission')),
    sa.UniqueConstraint('workshop_id', 'user_id', name=op.f('uq_evaluation_submission_workshop_id'))
    )
    with op.batch_alter_table('evaluation_submission', schema=None) as batch_op:
        batch_op.create_index('ix_evaluation_submission_user', ['user_id'], unique=False)

    op.create_table('session_checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.SmallInteger(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_session_checkin_organisation_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_session_checkin_recorded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_session_checkin_user_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_session_checkin_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_checkin')),
    sa.UniqueConstraint('workshop_id', 'user_id', 'day', name=op.f('uq_session_checkin_workshop_id'))
    )
    with op.batch_alter_table('session_checkin', schema=None) as batch_op:
        batch_op.create_index('ix_session_checkin_user', ['user_id'], unique=False)

    op.create_table('session_minutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('amendments_until', sa.DateTime(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user.id'], name=op.f('fk_session_minutes_approved_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_session_minutes_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_minutes')),
    sa.UniqueConstraint('workshop_id', name=op.f('uq_session_minutes_workshop_id'))
    )
    op.create_table('session_registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('day1', sa.Boolean(), nullable=False),
    sa.Column('day2', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_session_registration_organisation_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_session_registration_user_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_session_registration_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_registration')),
    sa.UniqueConstraint('workshop_id', 'user_id', name=op.f('uq_session_registration_workshop_id'))
    )
    with op.batch_alter_table('session_registration', schema=None) as batch_op:
        batch_op.create_index('ix_session_registration_user', ['user_id'], unique=False)
        batch_op.create_index('ix_session_registration_workshop_org', ['workshop_id', 'organisation_id'], unique=False)

    op.create_table('evaluation_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('scale', sa.SmallInteger(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['evaluation_question.id'], name=op.f('fk_evaluation_answer_question_id_evaluation_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_evaluation_answer_workshop_id_workshop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_answer'))
    )
    with op.batch_alter_table('evaluation_answer', schema=None) as batch_op:
        batch_op.create_index('ix_evaluation_answer_question', ['question_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_answer_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('minutes_amendment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('minutes_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_html', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_minutes_amendment_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_minutes_amendment_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['minutes_id'], ['session_minutes.id'], name=op.f('fk_minutes_amendment_minutes_id_session_minutes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_amendment'))
    )
    with op.batch_alter_table('minutes_amendment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_amendment_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_minutes_amendment_minutes_id'), ['minutes_id'], unique=False)

    with op.batch_alter_table('exchange_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_cap', sa.Integer(), nullable=True))

    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('day1_starts', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('day1_ends', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('day2_starts', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('day2_ends', sa.Time(), nullable=True))



def downgrade():
    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.drop_column('day2_ends')
        batch_op.drop_column('day2_starts')
        batch_op.drop_column('day1_ends')
        batch_op.drop_column('day1_starts')

    with op.batch_alter_table('exchange_group', schema=None) as batch_op:
        batch_op.drop_column('registration_cap')

    with op.batch_alter_table('minutes_amendment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_amendment_minutes_id'))
        batch_op.drop_index(batch_op.f('ix_minutes_amendment_author_id'))

    op.drop_table('minutes_amendment')
    with op.batch_alter_table('evaluation_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_answer_workshop_id'))
        batch_op.drop_index('ix_evaluation_answer_question')

    op.drop_table('evaluation_answer')
    with op.batch_alter_table('session_registration', schema=None) as batch_op:
        batch_op.drop_index('ix_session_registration_workshop_org')
        batch_op.drop_index('ix_session_registration_user')

    op.drop_table('session_registration')
    op.drop_table('session_minutes')
    with op.batch_alter_table('session_checkin', schema=None) as batch_op:
        batch_op.drop_index('ix_session_checkin_user')

    op.drop_table('session_checkin')
    with op.batch_alter_table('evaluation_submission', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluation_submission_user')

    op.drop_table('evaluation_submission')
    with op.batch_alter_table('evaluation_question', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluation_question_workshop')

    op.drop_table('evaluation_question')
    with op.batch_alter_table('attendance_certificate', schema=None) as batch_op:
        batch_op.drop_index('ix_attendance_certificate_user')

    op.drop_table('attendance_certificate')
