"""inspection sampling: plans, recorded draws, sampled villages and households, findings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 15:54:23.989711
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table('inspection_plans',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Text(), nullable=False),
    sa.Column('preset', sa.String(length=40), nullable=True),
    sa.Column('spec_json', sa.Text(), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=True),
    sa.Column('teams', sa.Integer(), server_default='1', nullable=False),
    sa.Column('return_to_start', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('start', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_plans')),
    sa.UniqueConstraint('name', name=op.f('uq_inspection_plans_name'))
    )
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_inspection_plans_start', ['start'], unique=False, postgresql_using='gist', postgresql_ops={})

    op.create_table('inspection_draws',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=40), nullable=False),
    sa.Column('seed', sa.Text(), nullable=False),
    sa.Column('frame_hash', sa.String(length=64), nullable=False),
    sa.Column('result_hash', sa.String(length=64), nullable=False),
    sa.Column('frame_json', sa.Text(), nullable=False),
    sa.Column('result_json', sa.Text(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('route_method', sa.Enum('road_network', 'mixed', 'straight_line', name='route_method', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('route_km', sa.Float(), nullable=True),
    sa.Column('routes_json', sa.Text(), server_default='[]', nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['inspection_plans.id'], name=op.f('fk_inspection_draws_plan_id_inspection_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_draws')),
    sa.UniqueConstraint('plan_id', name=op.f('uq_inspection_draws_plan_id'))
    )
    op.create_geospatial_table('inspection_villages',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('village_key', sa.String(length=120), nullable=False),
    sa.Column('village_name', sa.String(length=100), nullable=False),
    sa.Column('township_name', sa.String(length=100), nullable=False),
    sa.Column('category', sa.Enum('key_poor', 'poor', 'exited', 'non_poor', name='village_category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('team', sa.Integer(), nullable=False),
    sa.Column('visit_order', sa.Integer(), nullable=False),
    sa.Column('leg_km', sa.Float(), nullable=True),
    sa.Column('leg_method', sa.Enum('road_network', 'mixed', 'straight_line', name='route_method', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('households_sampled', sa.Integer(), nullable=False),
    sa.Column('walk_km', sa.Float(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('leg', Geometry(geometry_type='LINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['inspection_plans.id'], name=op.f('fk_inspection_villages_plan_id_inspection_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_inspection_villages_village_id_villages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_villages')),
    sa.UniqueConstraint('plan_id', 'village_key', name=op.f('uq_inspection_villages_plan_id_village_key'))
    )
    with op.batch_alter_table('inspection_villages', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_inspection_villages_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_geospatial_index('idx_inspection_villages_leg', ['leg'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_inspection_villages_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_villages_village_id'), ['village_id'], unique=False)

    op.create_geospatial_table('inspection_households',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('sample_village_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('household_code', sa.String(length=40), nullable=False),
    sa.Column('stratum', sa.String(length=40), nullable=False),
    sa.Column('stratum_label', sa.String(length=100), nullable=False),
    sa.Column('filled_for', sa.String(length=40), nullable=True),
    sa.Column('status', sa.Enum('registered', 'exited', 'planned_exit', 'returned', 'non_poor', name='household_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status_year', sa.Integer(), nullable=True),
    sa.Column('visit_order', sa.Integer(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_inspection_households_household_id_households'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['inspection_plans.id'], name=op.f('fk_inspection_households_plan_id_inspection_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sample_village_id'], ['inspection_villages.id'], name=op.f('fk_inspection_households_sample_village_id_inspection_villages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_households')),
    sa.UniqueConstraint('plan_id', 'household_code', name=op.f('uq_inspection_households_plan_id_household_code'))
    )
    with op.batch_alter_table('inspection_households', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_inspection_households_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_inspection_households_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_households_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_households_sample_village_id'), ['sample_village_id'], unique=False)

    op.create_table('inspection_findings',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('sample_village_id', sa.Integer(), nullable=False),
    sa.Column('sample_household_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.Enum('identification', 'assistance', 'exit', 'other', name='finding_category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('kind', sa.Enum('missed', 'wrongly_registered', 'measures', 'projects', 'funds', 'policies', 'resident_team', 'wrong_exit', 'returned', 'records', 'motivation', 'other', name='finding_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('responsible_unit', sa.String(length=200), nullable=False),
    sa.Column('found_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'rectifying', 'closed', name='finding_status', native_enum=False, create_constraint=True, length=32), server_default='open', nullable=False),
    sa.Column('evidence_note', sa.Text(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('history_json', sa.Text(), server_default='[]', nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['inspection_plans.id'], name=op.f('fk_inspection_findings_plan_id_inspection_plans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sample_household_id'], ['inspection_households.id'], name=op.f('fk_inspection_findings_sample_household_id_inspection_households'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sample_village_id'], ['inspection_villages.id'], name=op.f('fk_inspection_findings_sample_village_id_inspection_villages'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_findings')),
    sa.UniqueConstraint('code', name=op.f('uq_inspection_findings_code'))
    )
    with op.batch_alter_table('inspection_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_findings_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_findings_sample_household_id'), ['sample_household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_findings_sample_village_id'), ['sample_village_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inspection_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_findings_sample_village_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_findings_sample_household_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_findings_plan_id'))

    op.drop_table('inspection_findings')
    with op.batch_alter_table('inspection_households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_households_sample_village_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_households_plan_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_households_household_id'))
        batch_op.drop_geospatial_index('idx_inspection_households_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('inspection_households')
    with op.batch_alter_table('inspection_villages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_villages_village_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_villages_plan_id'))
        batch_op.drop_geospatial_index('idx_inspection_villages_leg', postgresql_using='gist', column_name='leg')
        batch_op.drop_geospatial_index('idx_inspection_villages_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('inspection_villages')
    op.drop_table('inspection_draws')
    with op.batch_alter_table('inspection_plans', schema=None) as batch_op:
        batch_op.drop_geospatial_index('idx_inspection_plans_start', postgresql_using='gist', column_name='start')

    op.drop_geospatial_table('inspection_plans')
