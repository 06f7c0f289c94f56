"""backing (issue 23 items 3, 5): flexible funding, stretch goals

Revision ID: c4d5e6f7a8b9
Revises: b3c4d5e6f7a8
Create Date: 2026-12-07 18:00:00

`projects.funding_model`: all_or_nothing (every existing campaign) or flexible (a reward
campaign whose firm keeps what is raised below the goal). `stretch_goals`: amounts above a
campaign's goal with what they unlock; `reached_at` is set once, when its backers are mailed.
`outbox_messages.body_html`: an HTML alternative (a founder's update, sanitised) beside the text.
"""
from alembic import op
import sqlalchemy as sa


revision = 'c4d5e6f7a8b9'
down_revision = 'b3c4d5e6f7a8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects') as batch:
        batch.add_column(sa.Column('funding_model', sa.String(length=20), nullable=False,
                                   server_default='all_or_nothing'))
    op.create_table(
        'stretch_goals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('reached_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_stretch_goals_amount_positive')),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_stretch_goals_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stretch_goals')),
        sa.UniqueConstraint('project_id', 'amount', name='uq_stretch_goals_project_amount'),
    )
    op.create_index(op.f('ix_stretch_goals_project_id'), 'stretch_goals', ['project_id'], unique=False)
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('body_html', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_column('body_html')
    op.drop_index(op.f('ix_stretch_goals_project_id'), table_name='stretch_goals')
    op.drop_table('stretch_goals')
    with op.batch_alter_table('projects') as batch:
        batch.drop_column('funding_model')
