"""campaign changes after approval (issue 21 item 3): public change list, re-review

Revision ID: b7c8d9e0f1a2
Revises: a6b7c8d9e0f1
Create Date: 2026-12-07 18:00:00

Changes to risks, use of funds and documents after approval wait for an administrator's
look. Changes logged before this revision count as looked at (`needs_review` false).
"""
from alembic import op
import sqlalchemy as sa


revision = 'b7c8d9e0f1a2'
down_revision = 'a6b7c8d9e0f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('project_edits') as batch:
        batch.add_column(sa.Column('needs_review', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_project_edits_reviewed_by_id_users', 'users', ['reviewed_by_id'], ['id'])
    op.create_index('ix_project_edits_awaiting_review', 'project_edits', ['project_id'], unique=False,
                    postgresql_where=sa.text('needs_review AND reviewed_at IS NULL'),
                    sqlite_where=sa.text('needs_review AND reviewed_at IS NULL'))


def downgrade():
    op.drop_index('ix_project_edits_awaiting_review', table_name='project_edits')
    with op.batch_alter_table('project_edits') as batch:
        batch.drop_constraint('fk_project_edits_reviewed_by_id_users', type_='foreignkey')
        batch.drop_column('reviewed_by_id')
        batch.drop_column('reviewed_at')
        batch.drop_column('needs_review')
