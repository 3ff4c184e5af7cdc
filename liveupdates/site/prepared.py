"""Queries a hot page runs on every request, compiled to SQL once per process and run with this request's values.

Building a queryset and compiling it cost more than the database's own work
for a live page's first screen (docs/benchmarks.md). A `Prepared` query is
built by the same querysets as everywhere else (`published()`, `on_page()`:
each rule keeps its one home), once per database connection, with stand-in
values for what changes between requests (the time, the post); each request
sends the SQL the ORM made, with its own values where the stand-ins were, and
converts the rows with the ORM's own converters. Nothing is kept but SQL
text: every request reads the database.
"""

import itertools
from datetime import UTC, datetime

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections

# Values no request sends, each of one kind, found again among the compiled query's parameters.
STAND_INS = {
    "time": datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC),
    "id": -918_273_645,
    "text": "\x01stand-in\x01",
}
# A second set, to compile the query again: a parameter that differs between the two
# compilations but is no stand-in was derived from one (now - 1 h) and cannot be kept.
OTHER_STAND_INS = {
    "time": datetime(1902, 3, 4, 5, 6, 7, 890123, tzinfo=UTC),
    "id": -827_364_519,
    "text": "\x02stand-in\x02",
}


_generation = itertools.count()
_current = next(_generation)


def forget():
    """Compile every query again on its next run (tests that change a constant a query was built with)."""
    global _current
    _current = next(_generation)


class Prepared:
    """`build(**values)` returns a `values_list()` queryset; `rows(**values)` runs its SQL with these values.

    `kinds` names each value's kind ("time", "id" or "text"). Every value must
    reach the SQL as a parameter (the ORM passes filter values so), and only as
    itself: a stand-in that cannot be found, or a parameter computed from one
    (found by compiling again with other stand-ins), is refused when the query
    is first compiled.
    """

    def __init__(self, build, **kinds):
        self.build, self.kinds = build, kinds

    def _compile(self, connection):
        queryset = self.build(**{name: STAND_INS[kind] for name, kind in self.kinds.items()})
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        adapters = {
            "time": connection.ops.adapt_datetimefield_value,
            "id": lambda value: value,
            "text": lambda value: value,
        }
        slots = []
        for param in params:
            slot = None
            for name, kind in self.kinds.items():
                adapt = adapters[kind]
                if param is not None and param in (STAND_INS[kind], adapt(STAND_INS[kind])):
                    slot = (name, adapt)
            slots.append(slot)
        missing = set(self.kinds) - {slot[0] for slot in slots if slot}
        if missing:
            raise ImproperlyConfigured(f"The values {sorted(missing)} do not reach this query's SQL as parameters.")
        other = self.build(**{name: OTHER_STAND_INS[kind] for name, kind in self.kinds.items()})
        other_sql, other_params = other.query.get_compiler(connection=connection).as_sql()
        same_shape = other_sql == sql and len(other_params) == len(params)
        derived = [i for i, (slot, a, b) in enumerate(zip(slots, params, other_params)) if slot is None and a != b]
        if not same_shape or derived:
            raise ImproperlyConfigured(
                f"This query's SQL holds values derived from {sorted(self.kinds)} (parameters {derived}): "
                "compiled once, they would never change. Pass each derived value as a value of its own."
            )
        converters = compiler.get_converters([column for column, _, _ in compiler.select])
        # The SQL selects in the model's order; give the columns in the order values_list() names them, as it does.
        query = queryset.query
        selected = [*query.extra_select, *query.values_select, *query.annotation_select]
        order = [selected.index(name) for name in queryset._fields]
        compiled = (sql, params, slots, compiler, converters, order)
        # Kept on the connection (each thread has its own), so it goes when the connection does.
        kept = connection.__dict__.setdefault("prepared_queries", {})
        kept[self] = (_current, compiled)
        return compiled

    def rows(self, **values):
        """The rows (tuples, converted as the ORM converts them) for these values."""
        connection = connections[DEFAULT_DB_ALIAS]  # this thread's own
        generation, compiled = connection.__dict__.get("prepared_queries", {}).get(self, (None, None))
        if generation != _current:
            compiled = self._compile(connection)
        sql, params, slots, compiler, converters, order = compiled
        sent = [param if slot is None else slot[1](values[slot[0]]) for param, slot in zip(params, slots, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(sql, sent)
            rows = cursor.fetchall()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [tuple(row[i] for i in order) for row in rows]
