"""notifications of a new report refer to the report by a foreign key

Until now the report's id was written into `notification.text`. Existing rows are carried
over: a digit-only text that names a report that still exists becomes `report_id` (the text
is emptied); a text naming a report that no longer exists is dropped with the notification's
link, as the report is gone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

notification = sa.table('notification', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                        sa.column('text', sa.Text), sa.column('report_id', sa.Integer))
report = sa.table('report', sa.column('id', sa.Integer))


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_report_id'), ['report_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_report_id_report'), 'report',
                                    ['report_id'], ['id'], ondelete='CASCADE')
    connection = op.get_bind()
    rows = connection.execute(sa.select(notification.c.id, notification.c.text).where(
        notification.c.kind == 'new_report')).all()
    wanted = {int(text) for _id, text in rows if (text or '').isdigit()}
    existing = set()
    if wanted:
        existing = set(connection.scalars(sa.select(report.c.id).where(
            report.c.id.in_(wanted))))
    for row_id, text in rows:
        report_id = int(text) if (text or '').isdigit() and int(text) in existing else None
        connection.execute(notification.update().where(notification.c.id == row_id)
                           .values(report_id=report_id, text=''))


def downgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.select(notification.c.id, notification.c.report_id).where(
        notification.c.kind == 'new_report')).all()
    for row_id, report_id in rows:
        connection.execute(notification.update().where(notification.c.id == row_id)
                           .values(text=str(report_id) if report_id else ''))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_report_id_report'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_report_id'))
        batch_op.drop_column('report_id')
