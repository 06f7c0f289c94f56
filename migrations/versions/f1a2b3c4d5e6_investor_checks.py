"""EU knowledge test, China qualification, custody (issue 24 items 5, 6)

Revision ID: f1a2b3c4d5e6
Revises: e0f1a2b3c4d5
Create Date: 2026-12-07 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'f1a2b3c4d5e6'
down_revision = 'e0f1a2b3c4d5'
branch_labels = None
depends_on = None

Money = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('investor_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('questions', sa.Integer(), nullable=True),
    sa.Column('net_worth', Money, nullable=True),
    sa.Column('loss_capacity', Money, nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_investor_assessments_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_investor_assessments'))
    )
    op.create_index(op.f('ix_investor_assessments_user_id'), 'investor_assessments', ['user_id'], unique=False)
    op.create_table('investor_qualifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('amount', Money, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('evidence_filename', sa.String(length=200), nullable=False),
    sa.Column('evidence_stored_name', sa.String(length=100), nullable=False),
    sa.Column('evidence_content_type', sa.String(length=50), nullable=False),
    sa.Column('evidence_size', sa.Integer(), nullable=False),
    sa.Column('evidence_sha256', sa.String(length=64), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_investor_qualifications_user_id_users'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                            name=op.f('fk_investor_qualifications_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_investor_qualifications'))
    )
    op.create_index(op.f('ix_investor_qualifications_user_id'), 'investor_qualifications', ['user_id'], unique=False)
    op.create_index(op.f('ix_investor_qualifications_status'), 'investor_qualifications', ['status'], unique=False)
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('large_investment_acknowledged_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_column('large_investment_acknowledged_at')
    op.drop_index(op.f('ix_investor_qualifications_status'), table_name='investor_qualifications')
    op.drop_index(op.f('ix_investor_qualifications_user_id'), table_name='investor_qualifications')
    op.drop_table('investor_qualifications')
    op.drop_index(op.f('ix_investor_assessments_user_id'), table_name='investor_assessments')
    op.drop_table('investor_assessments')
