"""A small map of a post's places, drawn as SVG on the server: no tile server, no script, no third party.

Newsrooms' intranets (and this machine) often have no internet; a map that
needs one is a blank box. Places are projected equirectangularly into the
bounding box of their coordinates, with a graticule for scale.
"""

import math
from dataclasses import dataclass

from django.db import connection
from django.db.models.expressions import RawSQL

from liveupdates.models import Entry, Place

WIDTH, HEIGHT, MARGIN = 640, 360, 40
LATEST_ENTRIES = 500  # a post's map shows the places named in its latest 500 entries


@dataclass
class Point:
    place: object
    x: float
    y: float
    dx: float = 8
    dy: float = 4
    anchor: str = "start"


LABEL_POSITIONS = [(8, 4, "start"), (-8, 4, "end"), (8, -9, "start"), (8, 17, "start"), (-8, -9, "end"), (-8, 17, "end")]


def _place_labels(points):
    """Put each label where it overlaps no other label, trying right, left, above, below."""
    boxes = []
    for point in sorted(points, key=lambda p: (p.y, p.x)):
        width = 7 * len(point.place.name)
        for dx, dy, anchor in LABEL_POSITIONS:
            left = point.x + dx - (width if anchor == "end" else 0)
            box = (left, point.y + dy - 11, left + width, point.y + dy + 2)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
                break
        point.dx, point.dy, point.anchor = dx, dy, anchor
        boxes.append(box)


@dataclass
class PlaceMap:
    points: list
    grid_x: list  # (x, longitude label)
    grid_y: list  # (y, latitude label)
    width: int = WIDTH
    height: int = HEIGHT


def _step(span):
    for step in (0.1, 0.25, 0.5, 1, 2, 5, 10, 20):
        if span / step <= 6:
            return step
    return 30


def place_map(places):
    """A PlaceMap for the places that have coordinates, or None with fewer than one."""
    # Countries are context, not events: a dot in the middle of one says little.
    located = [p for p in places if p.latitude is not None and p.longitude is not None and p.kind != "country"]
    if not located:
        return None
    lats = [float(p.latitude) for p in located]
    lons = [float(p.longitude) for p in located]
    # Pad the box so a single place (or a cluster) still has surroundings.
    south, north = min(lats) - 0.3, max(lats) + 0.3
    west, east = min(lons) - 0.3, max(lons) + 0.3
    # Longitude degrees shrink with latitude: keep distances honest in the middle of the box.
    squeeze = math.cos(math.radians((north + south) / 2))
    span_x, span_y = (east - west) * squeeze, north - south
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
    offset_x = (WIDTH - span_x * scale) / 2
    offset_y = (HEIGHT - span_y * scale) / 2

    def project(lat, lon):
        return offset_x + (lon - west) * squeeze * scale, offset_y + (north - lat) * scale

    points = [Point(p, *project(float(p.latitude), float(p.longitude))) for p in located]
    _place_labels(points)
    step = _step(max(east - west, north - south))
    grid_x = [(project(north, lon)[0], f"{lon:g}°E") for lon in _ticks(west, east, step)]
    grid_y = [(project(lat, west)[1], f"{lat:g}°N") for lat in _ticks(south, north, step)]
    return PlaceMap(points=points, grid_x=grid_x, grid_y=grid_y)


def _ticks(low, high, step):
    value = math.ceil(low / step) * step
    ticks = []
    while value <= high and len(ticks) < 12:
        ticks.append(round(value, 4))
        value += step
    return ticks


def latest_places(entries):
    """The places (with coordinates) named in the latest entries of `entries`: bounded however long the coverage runs.

    One query. On PostgreSQL the latest entries' ids are gathered first, as an
    array (an init plan), and the links are then read through their index:
    as `IN (subquery)` PostgreSQL reads every link of the post, and as a list
    of 500 ids the ORM spent 8 ms preparing the parameters.
    """
    latest = entries.order_by("-published_at", "-pk").values("pk")[:LATEST_ENTRIES]
    sql, params = latest.query.sql_with_params()
    links = connection.ops.quote_name(Entry.places.through._meta.db_table)
    condition = f"entry_id = ANY(ARRAY({sql}))" if connection.vendor == "postgresql" else f"entry_id IN ({sql})"
    named = RawSQL(f"SELECT DISTINCT place_id FROM {links} WHERE {condition}", params)  # noqa: S611 - compiled by the ORM
    return Place.objects.public().filter(pk__in=named).exclude(latitude=None).order_by("pk")


def latest_place_map(entries):
    return place_map(latest_places(entries))
