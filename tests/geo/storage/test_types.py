"""Values between Python and the database: frames of fetched rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from geo.storage.types import frame_of, result_frame


def test_a_frame_of_rows_is_the_frame_pandas_makes_of_them(conn):
    result = conn.execute(sa.text(
        "SELECT 1 AS id, '沙坡头' AS name, 2.5 AS share, NULL AS note UNION ALL "
        "SELECT 2, '迎水桥', NULL, 'x' ORDER BY id"))
    rows, columns = result.fetchall(), list(result.keys())
    assert type(rows[0]) is sa.Row  # what pandas asks, per row, whether it is a named tuple
    pd.testing.assert_frame_equal(frame_of(rows, columns), pd.DataFrame(rows, columns=columns))
    assert frame_of(rows, columns)["name"].tolist() == ["沙坡头", "迎水桥"]


def test_a_frame_of_no_rows_keeps_its_columns(conn):
    result = conn.execute(sa.text("SELECT 1 AS id, 'a' AS name WHERE 1 = 0"))
    frame = result_frame(result)
    assert frame.empty and list(frame.columns) == ["id", "name"]
    assert list(frame_of([], ["id"]).columns) == ["id"]


def test_plain_tuples_and_timestamps_make_the_same_frame():
    when = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    rows = [(1, when), (2, None)]
    pd.testing.assert_frame_equal(frame_of(rows, ["id", "at"]), pd.DataFrame(rows, columns=["id", "at"]))
