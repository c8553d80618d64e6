"""library: the good-practice library across groups (a practice's listing with its status,
contact person and tags; adoptions; conversations with the contact person). New tables only:
the previous release's code never reads them.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 13:33:06.620775

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('practice_adoption',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['material.id'], name=op.f('fk_practice_adoption_material_id_material'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_practice_adoption_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_practice_adoption_recorded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_adoption')),
    sa.UniqueConstraint('material_id', 'organisation_id', name=op.f('uq_practice_adoption_material_id'))
    )
    with op.batch_alter_table('practice_adoption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_adoption_material_id'), ['material_id'], unique=False)

    op.create_table('practice_conversation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_message_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['user.id'], name=op.f('fk_practice_conversation_contact_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['material_id'], ['material.id'], name=op.f('fk_practice_conversation_material_id_material'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requester_id'], ['user.id'], name=op.f('fk_practice_conversation_requester_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_conversation')),
    sa.UniqueConstraint('material_id', 'requester_id', name=op.f('uq_practice_conversation_material_id'))
    )
    with op.batch_alter_table('practice_conversation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_conversation_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_practice_conversation_requester_id'), ['requester_id'], unique=False)

    op.create_table('practice_listing',
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('contact_user_id', sa.Integer(), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_user_id'], ['user.id'], name=op.f('fk_practice_listing_contact_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['material_id'], ['material.id'], name=op.f('fk_practice_listing_material_id_material'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_practice_listing_proposed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['published_by_id'], ['user.id'], name=op.f('fk_practice_listing_published_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('material_id', name=op.f('pk_practice_listing'))
    )
    with op.batch_alter_table('practice_listing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_listing_contact_user_id'), ['contact_user_id'], unique=False)
        batch_op.create_index('ix_practice_listing_status', ['status', 'published_at'], unique=False)

    op.create_table('practice_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_practice_message_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['practice_conversation.id'], name=op.f('fk_practice_message_conversation_id_practice_conversation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_message'))
    )
    with op.batch_alter_table('practice_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_message_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('practice_tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['practice_listing.material_id'], name=op.f('fk_practice_tag_material_id_practice_listing'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_tag')),
    sa.UniqueConstraint('material_id', 'kind', 'value', name=op.f('uq_practice_tag_material_id'))
    )
    with op.batch_alter_table('practice_tag', schema=None) as batch_op:
        batch_op.create_index('ix_practice_tag_value', ['kind', 'value'], unique=False)



def downgrade():
    with op.batch_alter_table('practice_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_practice_tag_value')

    op.drop_table('practice_tag')
    with op.batch_alter_table('practice_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_message_conversation_id'))

    op.drop_table('practice_message')
    with op.batch_alter_table('practice_listing', schema=None) as batch_op:
        batch_op.drop_index('ix_practice_listing_status')
        batch_op.drop_index(batch_op.f('ix_practice_listing_contact_user_id'))

    op.drop_table('practice_listing')
    with op.batch_alter_table('practice_conversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_conversation_requester_id'))
        batch_op.drop_index(batch_op.f('ix_practice_conversation_contact_id'))

    op.drop_table('practice_conversation')
    with op.batch_alter_table('practice_adoption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_adoption_material_id'))

    op.drop_table('practice_adoption')
