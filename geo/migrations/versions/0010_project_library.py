"""project_library: the project pipeline (项目库), its dated event history, 绩效目标 and 联农带农
fields on projects, and the assets (资产) completed projects leave

Projects recorded before keep their status; each gets one event ``migrate`` putting it on
the pipeline: 计划 (planned) -> approved (a project in the county's plan was approved),
在建 (building) -> in_progress, 已完成 (completed) -> completed (hand-over waits for its
asset's class, owner and maintainer). See docs/project-library.md.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

#: The old status -> the stage a migrated project takes (geo.library.pipeline.STAGE_OF_STATUS).
STAGE_OF_STATUS = {"planned": "approved", "building": "in_progress", "completed": "completed"}
STAGES = ('proposed', 'reviewed', 'approved', 'in_progress', 'completed', 'handed_over')
NEW_COLUMNS = ('performance_targets', 'benefit_households', 'benefit_jobs', 'benefit_income_yuan',
               'benefit_mechanism')


def upgrade() -> None:
    op.add_column('projects', sa.Column('performance_targets', sa.Text(), nullable=True))
    op.add_column('projects', sa.Column('benefit_households', sa.Integer(), nullable=True))
    op.add_column('projects', sa.Column('benefit_jobs', sa.Integer(), nullable=True))
    op.add_column('projects', sa.Column('benefit_income_yuan', sa.Float(), nullable=True))
    op.add_column('projects', sa.Column('benefit_mechanism', sa.Text(), nullable=True))
    events = op.create_table('project_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('stage', sa.Enum(*STAGES, name='project_stage', native_enum=False, create_constraint=True,
                               length=32), nullable=False),
    sa.Column('event_date', sa.Date(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('office', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
              nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_events_project_id_projects'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_project_events_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_events'))
    )
    with op.batch_alter_table('project_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_events_project_id'), ['project_id'], unique=False)
    op.create_table('assets',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('asset_class', sa.Enum('operating', 'public_welfare', 'household', name='asset_class',
                                     native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('maintainer', sa.String(length=200), nullable=False),
    sa.Column('value_wan_yuan', sa.Float(), nullable=True),
    sa.Column('handover_date', sa.Date(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('pv_project_id', sa.Integer(), nullable=True),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_assets_project_id_projects'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['pv_project_id'], ['pv_projects.id'], name=op.f('fk_assets_pv_project_id_pv_projects'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['village_id'], ['villages.id'], name=op.f('fk_assets_village_id_villages'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assets')),
    sa.UniqueConstraint('code', name=op.f('uq_assets_code')),
    sa.UniqueConstraint('project_id', name=op.f('uq_assets_project_id')),
    sa.UniqueConstraint('pv_project_id', name=op.f('uq_assets_pv_project_id'))
    )
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assets_village_id'), ['village_id'], unique=False)
    _put_existing_projects_on_the_pipeline(events)


def _put_existing_projects_on_the_pipeline(events: sa.Table) -> None:
    """One ``migrate`` event per project recorded before, dated today (UTC)."""
    conn = op.get_bind()
    projects = sa.table('projects', sa.column('id', sa.Integer), sa.column('status', sa.String))
    rows = conn.execute(sa.select(projects.c.id, projects.c.status).order_by(projects.c.id)).all()
    today = dt.datetime.now(dt.UTC).date()
    labels = {"planned": "计划", "building": "在建", "completed": "已完成"}
    stage_labels = {"approved": "县级审批入库", "in_progress": "实施中", "completed": "已竣工"}
    values = [{"project_id": int(pid), "step": "migrate", "stage": STAGE_OF_STATUS[str(status)],
               "event_date": today, "actor": "migration 0010",
               "note": f"迁移：原状态“{labels[str(status)]}”记为“{stage_labels[STAGE_OF_STATUS[str(status)]]}”"}
              for pid, status in rows if str(status) in STAGE_OF_STATUS]
    if values:
        conn.execute(events.insert(), values)


def downgrade() -> None:
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assets_village_id'))
    op.drop_table('assets')
    with op.batch_alter_table('project_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_events_project_id'))
    op.drop_table('project_events')
    for column in reversed(NEW_COLUMNS):
        # plain ALTER TABLE ... DROP COLUMN on both (SQLite >= 3.35): a batch rebuild of the
        # SpatiaLite table would lose its registered geometry column
        op.execute(f'ALTER TABLE projects DROP COLUMN {column}')
