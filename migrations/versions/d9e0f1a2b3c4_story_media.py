"""story images (issue 21 item 7)

Revision ID: d9e0f1a2b3c4
Revises: c8d9e0f1a2b3
Create Date: 2026-12-07 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd9e0f1a2b3c4'
down_revision = 'c8d9e0f1a2b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('story_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_story_images_project_id_projects'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_story_images_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_story_images')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_story_images_stored_name'))
    )
    with op.batch_alter_table('story_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_story_images_project_id'), ['project_id'], unique=False)


def downgrade():
    with op.batch_alter_table('story_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_story_images_project_id'))
    op.drop_table('story_images')
