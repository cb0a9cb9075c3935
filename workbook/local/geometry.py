"""Planar spatial predicates on point, line and polygon values, as MariaDB evaluates them.

Appwrite 1.9.6 (utopia-php/database 7.2.6, MariaDB adapter) answers the spatial filters with
ST_Intersects, ST_Crosses, ST_Overlaps, ST_Touches, ST_Equals and ST_Contains. MariaDB computes
these on the plane (it ignores the SRID), with the OGC meanings (DE-9IM). This module decides
them from sample points: both geometries' segments are split where they meet, and every vertex,
meeting point, piece midpoint and (for polygons) a point just inside each boundary piece is
located in the other geometry as interior, boundary or exterior. That is exact for the
predicates' questions as long as pieces are longer than `EPS` (about a centimetre in degrees).

Values are Appwrite's: a point `[x, y]`, a line `[[x, y], ...]`, a polygon `[[[x, y], ...], ...]`
(outer ring first, then holes; rings closed).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

EPS = 1e-7  # the inward step for polygon interior samples, in coordinate units
TOL = 1e-12  # coordinates closer than this are the same point

Point = tuple[float, float]
Segment = tuple[Point, Point]


@dataclass(frozen=True)
class Geometry:
    """A point (dim 0), a line (dim 1) or a polygon (dim 2), as vertex lists."""

    dim: int
    parts: tuple[tuple[Point, ...], ...]  # point: ((p,),); line: (vertices,); polygon: rings

    @property
    def segments(self) -> list[Segment]:
        if self.dim == 0:
            return []
        return [(ring[i], ring[i + 1]) for ring in self.parts for i in range(len(ring) - 1)]

    @property
    def kind(self) -> str:
        return ("point", "linestring", "polygon")[self.dim]


def parse(value: object) -> Geometry | None:
    """The geometry an Appwrite value describes (by its nesting depth), or None."""
    if _is_point(value):
        assert isinstance(value, list)
        return Geometry(0, ((_pt(value),),))
    if isinstance(value, list) and value and all(_is_point(v) for v in value):
        return Geometry(1, (tuple(_pt(v) for v in value),))
    if (
        isinstance(value, list)
        and value
        and all(isinstance(r, list) and r and all(_is_point(v) for v in r) for r in value)
    ):
        return Geometry(2, tuple(tuple(_pt(v) for v in ring) for ring in value))
    return None


def _is_point(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )


def _pt(value: list[float]) -> Point:
    return (float(value[0]), float(value[1]))


# --- primitives -------------------------------------------------------------------------------


def _same(a: Point, b: Point) -> bool:
    return abs(a[0] - b[0]) <= TOL and abs(a[1] - b[1]) <= TOL


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: Point, seg: Segment) -> bool:
    a, b = seg
    if _same(p, a) or _same(p, b):
        return True
    length = math.hypot(b[0] - a[0], b[1] - a[1])
    if length <= TOL or abs(_cross(a, b, p)) > TOL * max(1.0, length):
        return False
    return (
        min(a[0], b[0]) - TOL <= p[0] <= max(a[0], b[0]) + TOL
        and min(a[1], b[1]) - TOL <= p[1] <= max(a[1], b[1]) + TOL
    )


def _meeting_points(s: Segment, t: Segment) -> list[Point]:
    """Where two segments meet: one crossing point, or the ends of their shared stretch."""
    (a, b), (c, d) = s, t
    found = [p for p in (a, b) if _on_segment(p, t)] + [p for p in (c, d) if _on_segment(p, s)]
    denominator = (b[0] - a[0]) * (d[1] - c[1]) - (b[1] - a[1]) * (d[0] - c[0])
    if abs(denominator) > TOL:
        u = ((c[0] - a[0]) * (d[1] - c[1]) - (c[1] - a[1]) * (d[0] - c[0])) / denominator
        v = ((c[0] - a[0]) * (b[1] - a[1]) - (c[1] - a[1]) * (b[0] - a[0])) / denominator
        if -TOL <= u <= 1 + TOL and -TOL <= v <= 1 + TOL:
            found.append((a[0] + u * (b[0] - a[0]), a[1] + u * (b[1] - a[1])))
    return found


def _split(seg: Segment, cuts: Iterable[Point]) -> list[Segment]:
    a, b = seg
    dx, dy = b[0] - a[0], b[1] - a[1]
    norm = dx * dx + dy * dy or 1.0
    ts = sorted({0.0, 1.0, *(((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / norm for p in cuts)})
    points = [(a[0] + t * dx, a[1] + t * dy) for t in ts if 0.0 <= t <= 1.0]
    return [(p, q) for p, q in zip(points, points[1:], strict=False) if not _same(p, q)]


def _in_ring(p: Point, ring: tuple[Point, ...]) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > p[1]) != (y2 > p[1]):
            x = x1 + (p[1] - y1) * (x2 - x1) / (y2 - y1)
            if x > p[0]:
                inside = not inside
    return inside


def locate(p: Point, g: Geometry) -> str:
    """'I' (interior), 'B' (boundary) or 'E' (exterior) of `p` in `g`."""
    if g.dim == 0:
        return "I" if _same(p, g.parts[0][0]) else "E"
    if g.dim == 1:
        line = g.parts[0]
        closed = len(line) > 2 and _same(line[0], line[-1])
        if not closed and (_same(p, line[0]) or _same(p, line[-1])):
            return "B"
        return "I" if any(_on_segment(p, s) for s in g.segments) else "E"
    if any(_on_segment(p, s) for s in g.segments):
        return "B"
    outer, holes = g.parts[0], g.parts[1:]
    return "I" if _in_ring(p, outer) and not any(_in_ring(p, h) for h in holes) else "E"


# --- samples ----------------------------------------------------------------------------------


@dataclass
class _Samples:
    """Points of one geometry, split where the other geometry meets it."""

    interior: list[Point]
    boundary: list[Point]
    pieces: list[Point]  # midpoints of boundary pieces (polygon) or line pieces (line)


def _samples(g: Geometry, other: Geometry) -> _Samples:
    if g.dim == 0:
        return _Samples([g.parts[0][0]], [], [])
    cuts_by_segment = []
    for seg in g.segments:
        cuts = [p for t in other.segments for p in _meeting_points(seg, t)]
        if other.dim == 0 and _on_segment(other.parts[0][0], seg):
            cuts.append(other.parts[0][0])
        cuts_by_segment.append((seg, cuts))
    pieces = [piece for seg, cuts in cuts_by_segment for piece in _split(seg, cuts)]
    mids = [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in pieces]
    ends = [p for piece in pieces for p in piece]
    if g.dim == 1:
        inner = [p for p in ends + mids if locate(p, g) == "I"]
        bounds = [p for p in ends if locate(p, g) == "B"]
        return _Samples(inner, bounds, mids)
    inward: list[Point] = []
    for (a, b), m in zip(pieces, mids, strict=True):
        length = math.hypot(b[0] - a[0], b[1] - a[1]) or 1.0
        nx, ny = -(b[1] - a[1]) / length * EPS, (b[0] - a[0]) / length * EPS
        for q in ((m[0] + nx, m[1] + ny), (m[0] - nx, m[1] - ny)):
            if locate(q, g) == "I":
                inward.append(q)
    return _Samples(inward, ends + mids, mids)


# --- predicates -------------------------------------------------------------------------------


def _pair(a: Geometry, b: Geometry) -> tuple[_Samples, _Samples]:
    return _samples(a, b), _samples(b, a)


def _any(points: Iterable[Point], g: Geometry, where: str) -> bool:
    return any(locate(p, g) in where for p in points)


def _interiors_meet(a: Geometry, b: Geometry, sa: _Samples, sb: _Samples) -> bool:
    return _any(sa.interior, b, "I") or _any(sb.interior, a, "I")


def intersects(a: Geometry, b: Geometry) -> bool:
    sa, sb = _pair(a, b)
    return _any(sa.interior + sa.boundary, b, "IB") or _any(sb.interior + sb.boundary, a, "IB")


def _within(inner: Geometry, outer: Geometry, si: _Samples, so: _Samples) -> bool:
    """No point of `inner` in the exterior of `outer`."""
    if _any(si.interior + si.boundary + si.pieces, outer, "E"):
        return False
    # the other's boundary through this polygon's interior leaves part of it outside
    return not (inner.dim == 2 and _any(so.boundary, inner, "I"))


def contains(a: Geometry, b: Geometry) -> bool:
    sa, sb = _pair(a, b)
    return _within(b, a, sb, sa) and _interiors_meet(a, b, sa, sb)


def equals(a: Geometry, b: Geometry) -> bool:
    if a.dim != b.dim:
        return False
    sa, sb = _pair(a, b)
    return _within(a, b, sa, sb) and _within(b, a, sb, sa)


def touches(a: Geometry, b: Geometry) -> bool:
    if a.dim == 0 and b.dim == 0:
        return False
    sa, sb = _pair(a, b)
    return intersects(a, b) and not _interiors_meet(a, b, sa, sb)


def _shares_stretch(a: Geometry, b: Geometry, sa: _Samples) -> bool:
    """Lines: some piece of `a` runs along the interior of `b` (an intersection of dim 1)."""
    return _any(sa.pieces, b, "I")


def crosses(a: Geometry, b: Geometry) -> bool | None:
    """MariaDB's ST_Crosses: NULL when `a` is a polygon or `b` a point."""
    if a.dim == 2 or b.dim == 0:
        return None
    if a.dim == 0:
        return False
    sa, sb = _pair(a, b)
    if not _interiors_meet(a, b, sa, sb):
        return False
    if b.dim == 1:  # line/line: they meet in points only
        return not _shares_stretch(a, b, sa)
    return _any(sa.pieces + sa.interior, b, "E")  # line/polygon: partly inside, partly out


def overlaps(a: Geometry, b: Geometry) -> bool:
    if a.dim != b.dim or a.dim == 0:
        return False
    sa, sb = _pair(a, b)
    if a.dim == 1:
        return _shares_stretch(a, b, sa) and _any(sa.pieces, b, "E") and _any(sb.pieces, a, "E")
    if not _interiors_meet(a, b, sa, sb):
        return False
    a_out = _any(sa.interior + sa.pieces, b, "E") or _any(sb.boundary, a, "I")
    b_out = _any(sb.interior + sb.pieces, a, "E") or _any(sa.boundary, b, "I")
    return a_out and b_out


PREDICATES: dict[str, Callable[[Geometry, Geometry], bool | None]] = {
    "intersects": intersects,
    "crosses": crosses,
    "overlaps": overlaps,
    "touches": touches,
    "equal": equals,
    "contains": contains,
}


def spatial_test(method: str, stored: str | None, value_json: str) -> int | None:
    """The SQLite function behind spatial filters: 1, 0, or NULL (MariaDB's NULLs included:
    a NULL column, or ST_Crosses on a polygon), with `not…` methods negated as SQL's NOT."""
    if stored is None:
        return None
    negate = method.startswith("not")
    name = method[3].lower() + method[4:] if negate else method
    a, b = parse(json.loads(stored)), parse(json.loads(value_json))
    if a is None or b is None:
        return None
    result = PREDICATES[name](a, b)
    if result is None:
        return None
    return int(result) ^ int(negate)
