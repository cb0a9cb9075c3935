"""The planar predicates behind the spatial filters, on the cases where DE-9IM answers are
easy to get wrong (shared edges, holes, collinear lines, boundaries)."""

from __future__ import annotations

import json

import pytest

from workbook.local.geometry import parse, spatial_test

SQUARE = [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]
HOLED = [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]]


@pytest.mark.parametrize(
    ("method", "a", "b", "expected"),
    [
        ("overlaps", [[0, 0], [2, 0]], [[1, 0], [3, 0]], 1),  # collinear, partly shared
        ("crosses", [[0, 0], [2, 0]], [[1, 0], [3, 0]], 0),
        ("crosses", [[0, 0], [2, 2]], [[0, 2], [2, 0]], 1),
        ("touches", [[0, 0], [1, 0]], [[1, 0], [1, 1]], 1),  # end to end
        ("touches", [[0, 0], [2, 0]], [[1, 0], [1, 1]], 1),  # T: an end on the other's inside
        ("intersects", HOLED, [2, 2], 0),  # in the hole
        ("contains", HOLED, [2, 2], 0),
        ("touches", HOLED, [1, 2], 1),  # on the hole's ring
        ("contains", HOLED, [0.5, 0.5], 1),
        ("contains", HOLED, SQUARE, 0),  # the square reaches into the hole
        ("contains", [[[0, 0], [3, 0], [3, 3], [0, 3], [0, 0]]], SQUARE, 1),  # shares 2 edges
        ("equal", SQUARE, [[[2, 2], [0, 2], [0, 0], [2, 0], [2, 2]]], 1),  # other start
        ("equal", SQUARE, [[[0, 0], [2, 0], [2, 2], [0, 0]]], 0),
        ("contains", SQUARE, [[0.5, 0.5], [1.5, 1.5]], 1),
        ("crosses", [[0.5, 0.5], [1.5, 1.5]], SQUARE, 0),  # inside only
        ("crosses", [[1, 1], [3, 1]], SQUARE, 1),
        ("contains", [[0, 0], [2, 0]], [0, 0], 0),  # an end point is the line's boundary
        ("touches", [[0, 0], [2, 0]], [0, 0], 1),
        ("touches", [1, 1], [1, 1], 0),  # points have no boundary
        ("equal", [1, 1], [1, 1], 1),
        ("notIntersects", SQUARE, [5, 5], 1),
        ("notCrosses", SQUARE, [[1, 1], [3, 1]], None),  # MariaDB: NULL, polygon first
    ],
)
def test_predicates(method: str, a: object, b: object, expected: int | None) -> None:
    assert parse(a) is not None and parse(b) is not None
    assert spatial_test(method, json.dumps(a), json.dumps(b)) == expected


def test_a_null_column_matches_neither_a_predicate_nor_its_negation() -> None:
    assert spatial_test("intersects", None, "[1, 1]") is None
    assert spatial_test("notIntersects", None, "[1, 1]") is None
