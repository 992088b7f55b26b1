"""Candidate polygons built in one vectorised call equal those shapely builds one by one."""

from __future__ import annotations

import numpy as np
import shapely
from affine import Affine
from rasterio import features
from shapely.geometry import shape

from geo.pv.siting import _joined_names, _polygons

TRANSFORM = Affine(100.0, 0.0, 500_000.0, 0.0, -100.0, 4_100_000.0)


def test_rings_holes_and_several_labels():
    labels = np.zeros((6, 7), dtype=np.int32)
    labels[0:3, 0:3] = 1
    labels[1, 1] = 0  # a hole in label 1
    labels[4:6, 2:7] = 2
    labels[0, 5] = 3
    polygons, values = _polygons(labels, TRANSFORM)
    expected = [(shape(g), int(v)) for g, v in features.shapes(labels, mask=labels > 0, transform=TRANSFORM,
                                                                connectivity=4)]
    assert values == [v for _, v in expected]
    for built, (reference, _) in zip(polygons, expected):
        assert built.equals_exact(reference, 0)
    by_label = dict(zip(values, polygons))
    assert len(by_label[1].interiors) == 1 and by_label[1].area == 8 * 100.0 * 100.0
    assert by_label[2].area == 10 * 100.0 * 100.0 and by_label[3].area == 100.0 * 100.0
    assert all(shapely.is_valid(polygons))


def test_no_labelled_cell_gives_no_polygon():
    polygons, values = _polygons(np.zeros((3, 3), dtype=np.int32), TRANSFORM)
    assert len(polygons) == 0 and values == []


def test_names_are_joined_per_candidate_in_order():
    joined = _joined_names(np.array([0, 0, 2]), np.array(["近村", "远村", "甲村"], dtype=object), 4)
    assert list(joined) == ["近村、远村", "", "甲村", ""]
    assert list(_joined_names(np.array([], dtype=int), np.array([], dtype=object), 2)) == ["", ""]
