"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 15:29:07.128889
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table('assistance_units',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('party_government', 'public_institution', 'state_enterprise', 'financial', 'private_enterprise', 'social_organisation', 'other', name='unit_kind', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('level', sa.Enum('central', 'region', 'city', 'district', 'township', 'other', name='unit_level', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assistance_units')),
    sa.UniqueConstraint('name', name=op.f('uq_assistance_units_name'))
    )
    with op.batch_alter_table('assistance_units', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_assistance_units_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})

    op.create_geospatial_table('roads',
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('road_class', sa.Enum('county', 'township', 'village', 'track', name='road_class', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('surface', sa.Enum('hardened', 'gravel', 'earth', name='road_surface', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('width_m', sa.Float(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTILINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roads')),
    sa.UniqueConstraint('code', name=op.f('uq_roads_code'))
    )
    with op.batch_alter_table('roads', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_roads_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})

    op.create_geospatial_table('townships',
    sa.Column('code', sa.String(length=9), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('seat', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_townships')),
    sa.UniqueConstraint('code', name=op.f('uq_townships_code')),
    sa.UniqueConstraint('name', name=op.f('uq_townships_name'))
    )
    with op.batch_alter_table('townships', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_townships_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_geospatial_index('idx_townships_seat', ['seat'], unique=False, postgresql_using='gist', postgresql_ops={})

    op.create_table('cadres',
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('rank', sa.Enum('division', 'section', 'general', name='cadre_rank', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['assistance_units.id'], name=op.f('fk_cadres_unit_id_assistance_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cadres')),
    sa.UniqueConstraint('code', name=op.f('uq_cadres_code')),
    sa.UniqueConstraint('unit_id', 'name', name=op.f('uq_cadres_unit_id_name'))
    )
    with op.batch_alter_table('cadres', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cadres_unit_id'), ['unit_id'], unique=False)

    op.create_geospatial_table('villages',
    sa.Column('code', sa.String(length=12), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('key_poor', 'poor', 'exited', 'non_poor', name='village_category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('registered_poor_households', sa.Integer(), nullable=True),
    sa.Column('poor_population', sa.Integer(), nullable=True),
    sa.Column('has_feature_industry', sa.Boolean(), nullable=True),
    sa.Column('stable_housing_share_pct', sa.Float(), nullable=True),
    sa.Column('medical_insurance_share_pct', sa.Float(), nullable=True),
    sa.Column('out_of_school_children', sa.Integer(), nullable=True),
    sa.Column('safe_water_share_pct', sa.Float(), nullable=True),
    sa.Column('hardened_road', sa.Boolean(), nullable=True),
    sa.Column('road_surface_width_m', sa.Float(), nullable=True),
    sa.Column('power_share_pct', sa.Float(), nullable=True),
    sa.Column('tv_share_pct', sa.Float(), nullable=True),
    sa.Column('has_public_services', sa.Boolean(), nullable=True),
    sa.Column('has_collective_economy', sa.Boolean(), nullable=True),
    sa.Column('collective_income_wan_yuan', sa.Float(), nullable=True),
    sa.Column('weak_party_organisation', sa.Boolean(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('boundary', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['township_id'], ['townships.id'], name=op.f('fk_villages_township_id_townships'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_villages')),
    sa.UniqueConstraint('code', name=op.f('uq_villages_code')),
    sa.UniqueConstraint('township_id', 'name', name=op.f('uq_villages_township_id_name'))
    )
    with op.batch_alter_table('villages', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_villages_boundary', ['boundary'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_geospatial_index('idx_villages_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_villages_township_id'), ['township_id'], unique=False)

    op.create_table('pairings',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('task_funds_wan_yuan', sa.Float(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['assistance_units.id'], name=op.f('fk_pairings_unit_id_assistance_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_pairings_village_id_villages'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairings')),
    sa.UniqueConstraint('unit_id', 'village_id', 'year', name=op.f('uq_pairings_unit_id_village_id_year'))
    )
    with op.batch_alter_table('pairings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairings_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pairings_village_id'), ['village_id'], unique=False)

    op.create_geospatial_table('projects',
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('road', 'well', 'canal', 'reservoir', 'farmland', 'breeding', 'planting', 'other', name='project_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('funds_wan_yuan', sa.Float(), nullable=True),
    sa.Column('quantity', sa.Float(), nullable=True),
    sa.Column('quantity_unit', sa.String(length=20), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('planned', 'building', 'completed', name='project_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('funding_mode', sa.Enum('self_raised', 'coordinated', name='funding_mode', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('geom', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['assistance_units.id'], name=op.f('fk_projects_unit_id_assistance_units'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_projects_village_id_villages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('code', name=op.f('uq_projects_code'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_projects_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_projects_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_village_id'), ['village_id'], unique=False)

    op.create_geospatial_table('pv_projects',
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('household_rooftop', 'village_station', 'centralized_station', 'agri_pv', name='pv_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('capacity_kw', sa.Float(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'building', 'grid_connected', 'stopped', name='pv_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('grid_date', sa.Date(), nullable=True),
    sa.Column('investment_wan_yuan', sa.Float(), nullable=True),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('beneficiary_households', sa.Integer(), nullable=True),
    sa.Column('annual_income_yuan', sa.Float(), nullable=True),
    sa.Column('geom', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_pv_projects_village_id_villages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pv_projects')),
    sa.UniqueConstraint('code', name=op.f('uq_pv_projects_code'))
    )
    with op.batch_alter_table('pv_projects', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_pv_projects_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_pv_projects_village_id'), ['village_id'], unique=False)

    op.create_geospatial_table('settlements',
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_settlements_village_id_villages'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlements')),
    sa.UniqueConstraint('village_id', 'name', name=op.f('uq_settlements_village_id_name'))
    )
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_settlements_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_settlements_village_id'), ['village_id'], unique=False)

    op.create_table('unit_inputs',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('cadres_division', sa.Integer(), nullable=True),
    sa.Column('cadres_section', sa.Integer(), nullable=True),
    sa.Column('cadres_general', sa.Integer(), nullable=True),
    sa.Column('visits_per_cadre', sa.Float(), nullable=True),
    sa.Column('has_plan', sa.Boolean(), nullable=True),
    sa.Column('has_half_year_summary', sa.Boolean(), nullable=True),
    sa.Column('has_year_summary', sa.Boolean(), nullable=True),
    sa.Column('team_leaders', sa.Integer(), nullable=True),
    sa.Column('team_members', sa.Integer(), nullable=True),
    sa.Column('warmth_households', sa.Integer(), nullable=True),
    sa.Column('warmth_party_members', sa.Integer(), nullable=True),
    sa.Column('warmth_money_yuan', sa.Float(), nullable=True),
    sa.Column('rice_jin', sa.Float(), nullable=True),
    sa.Column('flour_jin', sa.Float(), nullable=True),
    sa.Column('oil_jin', sa.Float(), nullable=True),
    sa.Column('goods_value_yuan', sa.Float(), nullable=True),
    sa.Column('project_funds_wan_yuan', sa.Float(), nullable=True),
    sa.Column('farmland_projects', sa.Integer(), nullable=True),
    sa.Column('road_km', sa.Float(), nullable=True),
    sa.Column('wells', sa.Integer(), nullable=True),
    sa.Column('canal_km', sa.Float(), nullable=True),
    sa.Column('reservoirs', sa.Integer(), nullable=True),
    sa.Column('breeding_parks', sa.Integer(), nullable=True),
    sa.Column('breeding_households', sa.Integer(), nullable=True),
    sa.Column('cattle', sa.Integer(), nullable=True),
    sa.Column('sheep', sa.Integer(), nullable=True),
    sa.Column('chickens', sa.Integer(), nullable=True),
    sa.Column('crops_mu', sa.Float(), nullable=True),
    sa.Column('coordinated_projects', sa.Integer(), nullable=True),
    sa.Column('coordinated_funds_wan_yuan', sa.Float(), nullable=True),
    sa.Column('office_furniture_sets', sa.Integer(), nullable=True),
    sa.Column('computers', sa.Integer(), nullable=True),
    sa.Column('printers', sa.Integer(), nullable=True),
    sa.Column('publicity_sessions', sa.Integer(), nullable=True),
    sa.Column('publicity_attendance', sa.Integer(), nullable=True),
    sa.Column('labour_export_batches', sa.Integer(), nullable=True),
    sa.Column('labour_export_persons', sa.Integer(), nullable=True),
    sa.Column('total_input_wan_yuan', sa.Float(), nullable=True),
    sa.Column('in_kind_wan_yuan', sa.Float(), nullable=True),
    sa.Column('other', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['assistance_units.id'], name=op.f('fk_unit_inputs_unit_id_assistance_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_unit_inputs_village_id_villages'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_inputs')),
    sa.UniqueConstraint('unit_id', 'village_id', 'year', name=op.f('uq_unit_inputs_unit_id_village_id_year'))
    )
    with op.batch_alter_table('unit_inputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_inputs_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_inputs_village_id'), ['village_id'], unique=False)

    op.create_geospatial_table('water_facilities',
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.Enum('supply_point', 'well', 'canal', 'reservoir', 'pipeline', name='water_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('working', 'damaged', 'stopped', 'building', 'planned', name='facility_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_drinking', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('capacity_m3_per_day', sa.Float(), nullable=True),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_water_facilities_village_id_villages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_water_facilities')),
    sa.UniqueConstraint('code', name=op.f('uq_water_facilities_code'))
    )
    with op.batch_alter_table('water_facilities', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_water_facilities_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_water_facilities_village_id'), ['village_id'], unique=False)

    op.create_table('work_teams',
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('leader_unit_id', sa.Integer(), nullable=True),
    sa.Column('first_secretary', sa.String(length=100), nullable=True),
    sa.Column('member_count', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['leader_unit_id'], ['assistance_units.id'], name=op.f('fk_work_teams_leader_unit_id_assistance_units'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_work_teams_village_id_villages'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_teams')),
    sa.UniqueConstraint('village_id', 'year', name=op.f('uq_work_teams_village_id_year'))
    )
    with op.batch_alter_table('work_teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_teams_leader_unit_id'), ['leader_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_teams_village_id'), ['village_id'], unique=False)

    op.create_geospatial_table('households',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('settlement_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('registered', 'exited', 'planned_exit', 'returned', 'non_poor', name='household_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status_year', sa.Integer(), nullable=True),
    sa.Column('poverty_causes', sa.Text(), nullable=True),
    sa.Column('members', sa.Integer(), nullable=True),
    sa.Column('income_per_person_yuan', sa.Float(), nullable=True),
    sa.Column('assured_food_clothing', sa.Boolean(), nullable=True),
    sa.Column('assured_education', sa.Boolean(), nullable=True),
    sa.Column('assured_medical', sa.Boolean(), nullable=True),
    sa.Column('assured_housing', sa.Boolean(), nullable=True),
    sa.Column('housing_m2_per_person', sa.Float(), nullable=True),
    sa.Column('has_safe_water', sa.Boolean(), nullable=True),
    sa.Column('has_power', sa.Boolean(), nullable=True),
    sa.Column('has_tv', sa.Boolean(), nullable=True),
    sa.Column('cadre_id', sa.Integer(), nullable=True),
    sa.Column('head_name', sa.String(length=100), nullable=True),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['cadre_id'], ['cadres.id'], name=op.f('fk_households_cadre_id_cadres'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'], name=op.f('fk_households_settlement_id_settlements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_households_village_id_villages'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('code', name=op.f('uq_households_code'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_households_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_households_cadre_id'), ['cadre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_settlement_id'), ['settlement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_village_id'), ['village_id'], unique=False)

    op.create_table('pv_project_villages',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['pv_projects.id'], name=op.f('fk_pv_project_villages_project_id_pv_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_pv_project_villages_village_id_villages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'village_id', name=op.f('pk_pv_project_villages'))
    )
    op.create_table('water_facility_villages',
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['water_facilities.id'], name=op.f('fk_water_facility_villages_facility_id_water_facilities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_water_facility_villages_village_id_villages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('facility_id', 'village_id', name=op.f('pk_water_facility_villages'))
    )
    op.create_table('pv_project_households',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_pv_project_households_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['pv_projects.id'], name=op.f('fk_pv_project_households_project_id_pv_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'household_id', name=op.f('pk_pv_project_households'))
    )


def downgrade() -> None:
    op.drop_table('pv_project_households')
    op.drop_table('water_facility_villages')
    op.drop_table('pv_project_villages')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_village_id'))
        batch_op.drop_index(batch_op.f('ix_households_settlement_id'))
        batch_op.drop_index(batch_op.f('ix_households_cadre_id'))
        batch_op.drop_geospatial_index('idx_households_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('households')
    with op.batch_alter_table('work_teams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_teams_village_id'))
        batch_op.drop_index(batch_op.f('ix_work_teams_leader_unit_id'))

    op.drop_table('work_teams')
    with op.batch_alter_table('water_facilities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_water_facilities_village_id'))
        batch_op.drop_geospatial_index('idx_water_facilities_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('water_facilities')
    with op.batch_alter_table('unit_inputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_inputs_village_id'))
        batch_op.drop_index(batch_op.f('ix_unit_inputs_unit_id'))

    op.drop_table('unit_inputs')
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_settlements_village_id'))
        batch_op.drop_geospatial_index('idx_settlements_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('settlements')
    with op.batch_alter_table('pv_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pv_projects_village_id'))
        batch_op.drop_geospatial_index('idx_pv_projects_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('pv_projects')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_village_id'))
        batch_op.drop_index(batch_op.f('ix_projects_unit_id'))
        batch_op.drop_geospatial_index('idx_projects_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('projects')
    with op.batch_alter_table('pairings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairings_village_id'))
        batch_op.drop_index(batch_op.f('ix_pairings_unit_id'))

    op.drop_table('pairings')
    with op.batch_alter_table('villages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_villages_township_id'))
        batch_op.drop_geospatial_index('idx_villages_geom', postgresql_using='gist', column_name='geom')
        batch_op.drop_geospatial_index('idx_villages_boundary', postgresql_using='gist', column_name='boundary')

    op.drop_geospatial_table('villages')
    with op.batch_alter_table('cadres', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cadres_unit_id'))

    op.drop_table('cadres')
    with op.batch_alter_table('townships', schema=None) as batch_op:
        batch_op.drop_geospatial_index('idx_townships_seat', postgresql_using='gist', column_name='seat')
        batch_op.drop_geospatial_index('idx_townships_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('townships')
    with op.batch_alter_table('roads', schema=None) as batch_op:
        batch_op.drop_geospatial_index('idx_roads_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('roads')
    with op.batch_alter_table('assistance_units', schema=None) as batch_op:
        batch_op.drop_geospatial_index('idx_assistance_units_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('assistance_units')
