"""Reading submissions exports: both servers' header layouts, GPS columns, unsafe zip members
(no database)."""

from __future__ import annotations

import zipfile

import pytest
from shapely.geometry import Point

from geo.errors import ValidationError
from geo.inspection import answers


@pytest.mark.parametrize("row, expected", [
    ({"record-location-Latitude": "37.5", "record-location-Longitude": "105.2"}, (105.2, 37.5)),  # Central
    ({"record/location": "37.5 105.2 1200 5"}, (105.2, 37.5)),  # Kobo
    ({"_record/location_latitude": "37.5", "_record/location_longitude": "105.2"}, (105.2, 37.5)),
])
def test_gps_points_in_either_layout(row, expected):
    point, problem = answers._position(row)
    assert problem is None and (point.x, point.y) == expected


def test_bad_gps_and_group_paths():
    assert answers._position({"location": "north"})[1].startswith("'north' is not a GPS point")
    assert "outside the globe" in answers._position({"location": "95 10"})[1]
    assert answers._lookup({"eight-food": "yes"}, "food") == "yes"
    assert answers._lookup({"eight/food": "yes"}, "food") == "yes"
    assert answers._instance_id({"_uuid": "abc"}) == "uuid:abc"
    assert answers._instance_id({"meta-instanceID": "uuid:x", "KEY": "uuid:x"}) == "uuid:x"


def test_geodesic_distance_of_a_degree_of_latitude():
    assert answers.geodesic_m(Point(105, 37), Point(105, 38)) == pytest.approx(110_990, rel=1e-3)


def test_a_zip_lists_members_leaving_it_and_needs_a_table(tmp_path):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("form.csv", "meta-instanceID,KEY\nuuid:1,uuid:1\n")
        z.writestr("../../etc/evil.jpg", b"x")
        z.writestr("/abs.jpg", b"x")
    read = answers.read_submission_file(path)
    assert read.rows == [{"meta-instanceID": "uuid:1", "KEY": "uuid:1"}]
    assert sorted(read.unsafe_members) == ["../../etc/evil.jpg", "/abs.jpg"] and "evil.jpg" not in read.media
    empty = tmp_path / "media.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("media/a.jpg", b"x")
    with pytest.raises(ValidationError, match="no table of submissions in the zip"):
        answers.read_submission_file(empty)
