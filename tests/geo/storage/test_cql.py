"""CQL2 filters as SQL (geo.storage.cql_sql) on real SpatiaLite and PostGIS: the rows pandas picks
by hand, values always bound (never in the statement's text), names only from the allow-list."""

from __future__ import annotations

import pytest
import shapely
import sqlalchemy as sa
from pygeofilter.parsers.cql2_text import parse

from geo import storage
from geo.errors import ValidationError
from geo.layers import get_layer
from geo.storage.cql import CqlFilter
from geo.storage.cql_sql import cql_clause

QUERYABLES = ("name", "category", "population", "households", "code", "township_id")


def villages(engine, text: str):
    return storage.read_layer(engine, "villages", cql=CqlFilter(parse(text), QUERYABLES))


def test_filters_pick_the_rows_pandas_picks(demo_engine):
    frame = storage.read_layer(demo_engine, "villages")
    cases = {
        "population > 3000": frame.population > 3000,
        "category <> 'poor' AND population BETWEEN 1500 AND 2500": (frame.category != "poor")
        & frame.population.between(1500, 2500),
        "NOT (name LIKE '%村') OR code IS NOT NULL": ~frame.name.str.endswith("村") | frame.code.notna(),
        "category IN ('重点贫困村', 'exited')": frame.category.isin(["key_poor", "exited"]),
        "S_WITHIN(geometry, POLYGON((105 37, 105.3 37, 105.3 37.4, 105 37.4, 105 37)))":
            frame.geometry.within(shapely.box(105, 37, 105.3, 37.4)),
    }
    for text, mask in cases.items():
        assert villages(demo_engine, text)["id"].tolist() == frame.loc[mask, "id"].tolist(), text


def test_values_are_bound_and_never_in_the_sql():
    clause = cql_clause(get_layer("villages"), CqlFilter(parse("name = 'DROP TABLE villages'"), QUERYABLES),
                        "postgis")
    text = str(sa.select(sa.literal(1)).where(clause).compile())
    assert "DROP" not in text and ":param_1" in text


@pytest.mark.parametrize("text", ["head_name = 'x'", "geometry = 'x'", "population + 1 > 2", "CASEI(name) = 'a'"])
def test_what_cannot_be_filtered_is_refused(demo_engine, text):
    with pytest.raises(ValidationError):
        storage.read_layer(demo_engine, "households", cql=CqlFilter(parse(text), ("status", "members")))
