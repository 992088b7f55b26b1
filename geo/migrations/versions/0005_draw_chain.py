"""chain the inspection draws (prev_hash, record_hash); frames recorded before the draw

Every draw record's hash covers the record before it, so deleting or reordering a plan is
detected by ``atlas sample verify --all``. Draws recorded before this revision are chained
here, in plan id order, with the same formula as :func:`geo.inspection.draw.record_hash`
(written out again so this revision never changes when the code does). ``inspection_frames``
holds frames recorded before the seed is announced (``atlas sample frame``); a draw names the
frame it was made from.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 11:45:00
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _record_hash(row, prev_hash: str) -> str:
    body = {
        "plan_id": int(row.plan_id), "name": row.name, "seed": row.seed, "algorithm": row.algorithm,
        "spec_sha256": _sha(row.spec_json), "frame_hash": row.frame_hash, "result_hash": row.result_hash,
        "frame_json_sha256": _sha(row.frame_json), "result_json_sha256": _sha(row.result_json),
        "prev_hash": prev_hash,
    }
    return _sha(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def upgrade() -> None:
    op.create_table('inspection_frames',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('preset', sa.String(length=40), nullable=True),
    sa.Column('spec_json', sa.Text(), nullable=False),
    sa.Column('algorithm', sa.String(length=40), nullable=False),
    sa.Column('frame_hash', sa.String(length=64), nullable=False),
    sa.Column('frame_json', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_frames')),
    sa.UniqueConstraint('name', name=op.f('uq_inspection_frames_name'))
    )
    with op.batch_alter_table('inspection_draws', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('record_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('frame_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_inspection_draws_prev_hash'), ['prev_hash'])
        batch_op.create_foreign_key(batch_op.f('fk_inspection_draws_frame_id_inspection_frames'),
                                    'inspection_frames', ['frame_id'], ['id'], ondelete='RESTRICT')
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT d.id, d.plan_id, p.name, d.seed, d.algorithm, p.spec_json, d.frame_hash, d.result_hash, "
        "d.frame_json, d.result_json FROM inspection_draws d JOIN inspection_plans p ON p.id = d.plan_id "
        "ORDER BY d.plan_id")).all()
    prev = GENESIS
    for row in rows:
        current = _record_hash(row, prev)
        conn.execute(sa.text("UPDATE inspection_draws SET prev_hash = :prev, record_hash = :rec WHERE id = :id"),
                     {"prev": prev, "rec": current, "id": row.id})
        prev = current


def downgrade() -> None:
    with op.batch_alter_table('inspection_draws', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_inspection_draws_frame_id_inspection_frames'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_inspection_draws_prev_hash'), type_='unique')
        batch_op.drop_column('frame_id')
        batch_op.drop_column('record_hash')
        batch_op.drop_column('prev_hash')
    op.drop_table('inspection_frames')
