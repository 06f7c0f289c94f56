"""project updates: their Markdown kept for the mail to backers, and when it was queued

Revision ID: 7a4e5f6b8c21
Revises: 3c1d2e9a7b40
Create Date: 2026-11-22 05:50:00

Updates posted before this revision count as announced: nobody is mailed about old news.
"""
from alembic import op
import sqlalchemy as sa


revision = '7a4e5f6b8c21'
down_revision = '3c1d2e9a7b40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('project_updates') as batch:
        batch.add_column(sa.Column('body', sa.Text(), server_default='', nullable=False))
        batch.add_column(sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE project_updates SET announced_at = created_at")
    op.create_index('ix_project_updates_unannounced', 'project_updates', ['id'], unique=False,
                    postgresql_where=sa.text('announced_at IS NULL'), sqlite_where=sa.text('announced_at IS NULL'))


def downgrade():
    op.drop_index('ix_project_updates_unannounced', table_name='project_updates')
    with op.batch_alter_table('project_updates') as batch:
        batch.drop_column('announced_at')
        batch.drop_column('body')
