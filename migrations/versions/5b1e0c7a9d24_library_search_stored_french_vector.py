"""library search: PostgreSQL ranks on a stored French vector

Revision ID: 5b1e0c7a9d24
Revises: d23e467ed402
Create Date: 2026-11-29 22:00:00.000000

PostgreSQL's search ranked every match on `to_tsvector('french', search_text)`, computing
the vector again for each one: 264 ms of CPU for a common word over 20,000 resources. Each
resource now stores its vector in a generated column, under the GIN index the search uses.
SQLite (FTS5) is not concerned.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b1e0c7a9d24'
down_revision = 'd23e467ed402'
branch_labels = None
depends_on = None


def upgrade():
    # Copied from models/network.py on purpose: a migration stays as it was written.
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        "ALTER TABLE resource ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('french'::regconfig, search_text)) STORED"
    )
    op.execute("CREATE INDEX ix_resource_search_vector ON resource USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_resource_search_fr")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        "CREATE INDEX ix_resource_search_fr ON resource "
        "USING gin (to_tsvector('french'::regconfig, search_text))"
    )
    op.execute("DROP INDEX IF EXISTS ix_resource_search_vector")
    op.execute("ALTER TABLE resource DROP COLUMN search_vector")
