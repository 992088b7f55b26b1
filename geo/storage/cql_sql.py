"""CQL2 filters (parsed by pygeofilter) as SQL clauses with bound values, on both backends.

Only the layer's queryable columns can be named (an allow-list: never a personal field, never
an identifier taken from the request); every literal is a bound parameter, geometries are
bound as WKB. What is translated: AND/OR/NOT, the comparisons, LIKE, BETWEEN, IN, IS NULL
(basic CQL2 and the advanced comparison operators) and the spatial predicates S_INTERSECTS,
S_DISJOINT, S_EQUALS, S_TOUCHES, S_OVERLAPS, S_CROSSES, S_WITHIN, S_CONTAINS; anything else
(arithmetic, functions, temporal or array predicates) is refused with a message saying so.

Imported only where a filter is applied (:func:`geo.storage.query`): pygeofilter's syntax tree
and evaluator cost every process that imports the storage layer otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import shapely
import shapely.geometry
import sqlalchemy as sa
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from shapely.geometry.base import BaseGeometry

from geo import models
from geo.errors import ValidationError
from geo.layers import LayerSpec
from geo.storage.cql import CqlFilter, bbox_polygon
from geo.storage.types import _coerce_filter_value

#: The SQL function of each spatial predicate (the same names on PostGIS and SpatiaLite).
SPATIAL_FUNCTIONS = {
    "INTERSECTS": "ST_Intersects", "DISJOINT": "ST_Disjoint", "EQUALS": "ST_Equals",
    "TOUCHES": "ST_Touches", "OVERLAPS": "ST_Overlaps", "CROSSES": "ST_Crosses",
    "WITHIN": "ST_Within", "CONTAINS": "ST_Contains",
}
_COMPARISONS = {"=": "__eq__", "<>": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}


@dataclass(frozen=True)
class _Property:
    column: sa.ColumnElement
    name: str
    geometry: bool = False


class _ToSQL(Evaluator):
    def __init__(self, spec: LayerSpec, cql: CqlFilter, backend: str):
        self.spec = spec
        self.cql = cql
        self.backend = backend

    # -- operands ----------------------------------------------------------------------------

    @handle(ast.Attribute)
    def attribute(self, node):
        name = node.name
        if name in ("geometry", self.spec.geometry) and self.spec.geometry:
            return _Property(self.spec.table.c[self.spec.geometry], "geometry", geometry=True)
        if name not in self.cql.queryables:
            raise ValidationError(
                f"the filter names {name[:60]!r}, which is not a queryable of {self.spec.name}; "
                f"queryables: {', '.join(sorted(self.cql.queryables))}" +
                (", geometry" if self.spec.geometry else ""))
        return _Property(self.spec.table.c[name], name)

    @handle(values.Geometry, values.Envelope)
    def geometry(self, node):
        shape = shapely.geometry.shape(node.__geo_interface__)
        if shape.is_empty or not shapely.is_valid_input(shape):
            raise ValidationError("a geometry in the filter is empty; give coordinates")
        return self.cql.to_storage(shape)

    @handle(ast.Function)
    def function(self, node, *arguments):
        # CQL2's BBOX(minx, miny, maxx, maxy) literal, which pygeofilter reads as a function.
        if node.name.upper() == "BBOX" and len(arguments) in (4, 6) and all(
                isinstance(a, (int, float)) and not isinstance(a, bool) for a in arguments):
            box = bbox_polygon(arguments)
            return self.cql.to_storage(box)
        raise ValidationError(f"the filter calls {node.name[:40]}(), and this server evaluates no functions "
                              "besides the BBOX(minx, miny, maxx, maxy) literal")

    @handle(ast.BBox)
    def bbox_predicate(self, node, lhs):
        return self.spatial(ast.GeometryIntersects(node.lhs, None), lhs,
                            self.cql.to_storage(bbox_polygon([node.minx, node.miny, node.maxx, node.maxy])))

    def adopt(self, node, *sub_args):
        if isinstance(node, (str, int, float, bool, dt.date, dt.datetime)) or node is None:
            return node
        if isinstance(node, list):
            return node
        kind = type(node).__name__
        raise ValidationError(
            f"the filter uses {kind}, which this server does not evaluate; use comparisons, LIKE, "
            "BETWEEN, IN, IS NULL, AND/OR/NOT and the spatial predicates S_INTERSECTS, S_WITHIN ...")

    # -- predicates --------------------------------------------------------------------------

    def _bound(self, prop: _Property, value: Any):
        if isinstance(value, _Property):
            return value.column
        if prop.geometry or isinstance(value, BaseGeometry):
            raise ValidationError("compare the geometry with spatial predicates (S_INTERSECTS ...), "
                                  "not with =, <, LIKE or IN")
        if isinstance(value, (list, dict)):
            raise ValidationError(f"{prop.name}: a list cannot be compared with {prop.name}; use IN (...)")
        coerced = _coerce_filter_value(prop.column, value)
        return sa.bindparam(None, coerced, type_=prop.column.type)

    def _property(self, lhs) -> _Property:
        if not isinstance(lhs, _Property):
            raise ValidationError("each comparison needs a property name on its left, e.g. "
                                  "population > 500")
        return lhs

    @handle(ast.Not)
    def not_(self, node, sub):
        return sa.not_(sub)

    @handle(ast.And)
    def and_(self, node, lhs, rhs):
        return sa.and_(lhs, rhs)

    @handle(ast.Or)
    def or_(self, node, lhs, rhs):
        return sa.or_(lhs, rhs)

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node, lhs, rhs):
        prop = self._property(lhs)
        return getattr(prop.column, _COMPARISONS[node.op.value])(self._bound(prop, rhs))

    @handle(ast.Between)
    def between(self, node, lhs, low, high):
        prop = self._property(lhs)
        clause = prop.column.between(self._bound(prop, low), self._bound(prop, high))
        return sa.not_(clause) if node.not_ else clause

    @handle(ast.In)
    def in_(self, node, lhs, *options):
        prop = self._property(lhs)
        clause = prop.column.in_([self._bound(prop, option) for option in options])
        return sa.not_(clause) if node.not_ else clause

    @handle(ast.IsNull)
    def is_null(self, node, lhs):
        prop = self._property(lhs)
        return prop.column.is_not(None) if node.not_ else prop.column.is_(None)

    @handle(ast.Like)
    def like(self, node, lhs):
        prop = self._property(lhs)
        if not isinstance(node.pattern, str):
            raise ValidationError("LIKE needs a text pattern in quotes, e.g. name LIKE '%村'")
        # CQL2's wildcards are % and _ (pygeofilter passes the pattern through); the
        # escape character is a backslash on both backends.
        pattern = sa.bindparam(None, node.pattern, type_=sa.String)
        column = sa.type_coerce(prop.column, sa.String)
        if node.nocase:
            clause = sa.func.lower(column).like(sa.func.lower(pattern), escape="\\")
        else:
            clause = column.like(pattern, escape="\\")
        return sa.not_(clause) if node.not_ else clause

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node, lhs, rhs):
        sides = []
        for side in (lhs, rhs):
            if isinstance(side, _Property) and side.geometry:
                sides.append(side.column)
            elif isinstance(side, BaseGeometry):
                wkb = sa.bindparam(None, shapely.to_wkb(side), type_=sa.LargeBinary)
                sides.append(sa.func.ST_GeomFromWKB(wkb, models.SRID) if self.backend == "postgis"
                             else sa.func.GeomFromWKB(wkb, models.SRID))
            else:
                raise ValidationError("a spatial predicate compares the geometry with a geometry "
                                      "literal, e.g. S_INTERSECTS(geometry, POINT(105.2 37.5))")
        name = node.op.value.upper()
        if name not in SPATIAL_FUNCTIONS:
            raise ValidationError(f"S_{name} is not supported; use one of "
                                  + ", ".join(f"S_{n}" for n in SPATIAL_FUNCTIONS))
        call = getattr(sa.func, SPATIAL_FUNCTIONS[name])(*sides)
        # SpatiaLite answers 1, 0 or -1 (undecidable); only 1 is a hit.
        return call if self.backend == "postgis" else call == 1

    @handle(ast.Include)
    def include(self, node):
        return sa.true()


def cql_clause(spec: LayerSpec, cql: CqlFilter, backend: str) -> sa.ColumnElement:
    """The SQL condition of ``cql`` on the layer's table (values bound, names allow-listed).

    Raises
    ------
    ValidationError
        A name that is not a queryable, a value of the wrong type, or an unsupported construct.
    """
    try:
        clause = _ToSQL(spec, cql, backend).evaluate(cql.node)
    except RecursionError:
        raise ValidationError("the filter nests too deeply; write it with fewer parentheses") from None
    if isinstance(clause, bool):  # a bare TRUE or FALSE is a whole CQL2 filter too
        return sa.true() if clause else sa.false()
    if isinstance(clause, (_Property, BaseGeometry)) or not isinstance(clause, sa.ColumnElement):
        raise ValidationError("the filter is not a condition; e.g. population > 500 AND category = 'poor'")
    return clause
