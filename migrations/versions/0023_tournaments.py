"""tournaments: the good-practice tournament (a tournament and its rounds, each a poll); a poll
may belong to the whole programme (poll.group_id becomes nullable). The previous release's
code never reads these tables, and every poll it wrote has a group.

Downgrade: programme polls (no group) are deleted first, since the column must be NOT NULL
again; the downgrade says how many.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 13:54:59.051189

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tournament',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_html', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_tournament_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tournament'))
    )
    op.create_table('tournament_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tournament_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_tournament_round_poll_id_poll'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tournament_id'], ['tournament.id'], name=op.f('fk_tournament_round_tournament_id_tournament'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tournament_round')),
    sa.UniqueConstraint('tournament_id', 'number', name=op.f('uq_tournament_round_tournament_id'))
    )
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.alter_column('group_id',
               existing_type=sa.INTEGER(),
               nullable=True)



def downgrade():
    op.drop_table('tournament_round')
    op.drop_table('tournament')
    bind = op.get_bind()
    gone = bind.execute(sa.text("SELECT COUNT(*) FROM poll WHERE group_id IS NULL")).scalar()
    if gone:
        print(f"0023 downgrade: deleting {gone} programme-wide poll(s) of tournaments")
    for table in ('ballot_mark', 'ballot', 'poll_option'):  # whatever the foreign-key pragma
        column = 'ballot_id' if table == 'ballot_mark' else 'poll_id'
        source = ("SELECT ballot.id FROM ballot JOIN poll ON poll.id = ballot.poll_id "
                  "WHERE poll.group_id IS NULL") if table == 'ballot_mark' else (
                  "SELECT id FROM poll WHERE group_id IS NULL")
        bind.execute(sa.text(f"DELETE FROM {table} WHERE {column} IN ({source})"))
    bind.execute(sa.text("DELETE FROM poll WHERE group_id IS NULL"))
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.alter_column('group_id',
               existing_type=sa.INTEGER(),
               nullable=False)
