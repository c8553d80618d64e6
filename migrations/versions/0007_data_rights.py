"""data rights: erasure of accounts, data exports, privacy and accessibility texts,
kept chat transcripts

Existing accounts are neither erased nor waiting for erasure; existing groups keep the
posts of an erased person anonymised; no existing session keeps its chat beyond retention.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('data_export',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_data_export_requested_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_data_export_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_export'))
    )
    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.create_index('ix_data_export_status', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_export_user_id'), ['user_id'], unique=False)

    op.create_table('site_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_site_text_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_text')),
    sa.UniqueConstraint('key', 'locale', name=op.f('uq_site_text_key'))
    )

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erasure_requested_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('exchange_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_posts', sa.String(length=16), nullable=False, server_default='anonymise'))

    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keep_chat', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.drop_column('keep_chat')

    with op.batch_alter_table('exchange_group', schema=None) as batch_op:
        batch_op.drop_column('erased_posts')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('erasure_requested_at')

    op.drop_table('site_text')
    with op.batch_alter_table('data_export', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_export_user_id'))
        batch_op.drop_index('ix_data_export_status')

    op.drop_table('data_export')
