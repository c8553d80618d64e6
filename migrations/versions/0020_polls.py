"""polls: one engine for proposals and polls in threads, the chat and the tournament (poll,
its options, one ballot per voter, one mark per option). New tables only: the previous
release's code never reads them; thread.poll_count has a server default.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 13:05:07.875973

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    # The previous release's code does not name the column; the server default fills it in
    # for the rows it inserts.
    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.add_column(sa.Column('poll_count', sa.Integer(), server_default='0',
                                      nullable=False))
    op.create_table('poll',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('workshop_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('question', sa.String(length=300), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('details_html', sa.Text(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('per_organisation', sa.Boolean(), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ballot_count', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_poll_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['exchange_group.id'], name=op.f('fk_poll_group_id_exchange_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], name=op.f('fk_poll_thread_id_thread'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_poll_workshop_id_workshop'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll'))
    )
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.create_index('ix_poll_group_closes', ['group_id', 'closes_at'], unique=False)
        batch_op.create_index('ix_poll_thread', ['thread_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_poll_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('ballot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('voter', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('cast_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('cast_at', sa.DateTime(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cast_by_id'], ['user.id'], name=op.f('fk_ballot_cast_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_ballot_organisation_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_ballot_poll_id_poll'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot')),
    sa.UniqueConstraint('poll_id', 'voter', name=op.f('uq_ballot_poll_id'))
    )
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_cast_by_id'), ['cast_by_id'], unique=False)

    op.create_table('poll_option',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_poll_option_poll_id_poll'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_option')),
    sa.UniqueConstraint('poll_id', 'position', name=op.f('uq_poll_option_poll_id'))
    )
    op.create_table('ballot_mark',
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_ballot_mark_ballot_id_ballot'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['option_id'], ['poll_option.id'], name=op.f('fk_ballot_mark_option_id_poll_option'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ballot_id', 'option_id', name=op.f('pk_ballot_mark'))
    )


def downgrade():
    op.drop_table('ballot_mark')
    op.drop_table('poll_option')
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_cast_by_id'))

    op.drop_table('ballot')
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_workshop_id'))
        batch_op.drop_index('ix_poll_thread')
        batch_op.drop_index('ix_poll_group_closes')

    op.drop_table('poll')
    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.drop_column('poll_count')
