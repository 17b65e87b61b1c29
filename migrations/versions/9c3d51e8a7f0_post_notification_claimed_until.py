"""notifications are taken by one sending run at a time

Revision ID: 9c3d51e8a7f0
Revises: 5b1e0c7a9d24
Create Date: 2026-11-29 22:10:00.000000

Two `flask reseau envoyer` (or `resume`) at once, or one beside the request that wrote the
notifications, could read the same unsent rows and send them twice. A run now takes its rows
until `claimed_until` before sending them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c3d51e8a7f0'
down_revision = '5b1e0c7a9d24'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('post_notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('post_notification', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
