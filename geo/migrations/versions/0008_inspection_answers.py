"""inspection_answers: submissions of the phone forms (ODK Central, KoboToolbox) per sampled
household and village, and their photos

Written by ``atlas sample answers import`` / ``POST /api/inspections/{id}/answers``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _row_columns() -> list[sa.Column]:
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    ]


def upgrade() -> None:
    op.create_geospatial_table('inspection_answers',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('form', sa.String(length=20), nullable=False),
    sa.Column('instance_id', sa.String(length=120), nullable=False),
    sa.Column('form_version', sa.String(length=60), nullable=False),
    sa.Column('sample_village_id', sa.Integer(), nullable=False),
    sa.Column('sample_household_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answers_json', sa.Text(), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('far', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('current', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('history_json', sa.Text(), server_default='[]', nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    *_row_columns(),
    sa.ForeignKeyConstraint(['plan_id'], ['inspection_plans.id'], name=op.f('fk_inspection_answers_plan_id_inspection_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sample_village_id'], ['inspection_villages.id'], name=op.f('fk_inspection_answers_sample_village_id_inspection_villages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sample_household_id'], ['inspection_households.id'], name=op.f('fk_inspection_answers_sample_household_id_inspection_households'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_answers')),
    sa.UniqueConstraint('plan_id', 'instance_id', name=op.f('uq_inspection_answers_plan_id_instance_id'))
    )
    with op.batch_alter_table('inspection_answers', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_inspection_answers_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_inspection_answers_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_answers_sample_village_id'), ['sample_village_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_answers_sample_household_id'), ['sample_household_id'], unique=False)

    op.create_table('inspection_answer_photos',
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    *_row_columns(),
    sa.ForeignKeyConstraint(['answer_id'], ['inspection_answers.id'], name=op.f('fk_inspection_answer_photos_answer_id_inspection_answers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_answer_photos')),
    sa.UniqueConstraint('answer_id', 'field', name=op.f('uq_inspection_answer_photos_answer_id_field'))
    )
    with op.batch_alter_table('inspection_answer_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_answer_photos_answer_id'), ['answer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inspection_answer_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_answer_photos_answer_id'))
    op.drop_table('inspection_answer_photos')
    with op.batch_alter_table('inspection_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_answers_sample_household_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_answers_sample_village_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_answers_plan_id'))
        batch_op.drop_geospatial_index('idx_inspection_answers_geom', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('inspection_answers')
