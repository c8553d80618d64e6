"""socket cutoff: removals and deactivations made outside the serving process (the command
line) reach its open sockets through the database

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-05 03:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'socket_cutoff',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('origin', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_socket_cutoff')),
    )


def downgrade():
    op.drop_table('socket_cutoff')
