"""Queries a hot page runs on every request, compiled to SQL once per process and run with this request's values.

Building a queryset and compiling it cost more than the database's own work
for a live page's first screen (docs/benchmarks.md). A `Prepared` query is
built by the same querysets as everywhere else (`published()`, `on_page()`:
each rule keeps its one home), once per database connection, with stand-in
values for what changes between requests (the time, the post); each request
sends the SQL the ORM made, with its own values where the stand-ins were, and
converts the rows with the ORM's own converters. Nothing is kept but SQL
text: every request reads the database.

On PostgreSQL the SQL is also prepared on the server (`PREPARE`) the second
time a connection runs it, so the server parses it once per connection and
reuses its plan where the plan does not depend on the values (PostgreSQL's
`plan_cache_mode = auto` decides; the post's entries and key events keep a
plan of their own per post). That saved about 0.7 ms of a 4 ms page
(docs/benchmarks.md). Preparing on the second run, not the first, costs
nothing to a connection made for one request. A statement the server no
longer knows (a session reset under us), or refuses because a migration
changed a column it returns, is prepared again; outside a
transaction, that request sends the plain SQL. NEWSROOM_PREPARE_ON_SERVER=0
turns it off (behind PgBouncer in transaction mode).
"""

import itertools
import re
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

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
_names = itertools.count(1)  # statement names, unique in the process and so on every connection
_PLACEHOLDER = re.compile("%([s%])")
UNKNOWN_STATEMENT = "26000"  # PostgreSQL's invalid_sql_statement_name
RESULT_TYPE_CHANGED = "0A000"  # "cached plan must not change result type" (feature_not_supported)


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
        order = None if order == list(range(len(order))) else order
        compiled = (sql, params, slots, compiler, converters, order, f"newsroom_prepared_{next(_names)}")
        # Kept on this thread's connection object (each thread has its own): SQL text, valid on any connection.
        kept = connection.__dict__.setdefault("prepared_queries", {})
        kept[self] = (_current, compiled)
        return compiled

    def rows(self, **values):
        """The rows (tuples, converted as the ORM converts them) for these values."""
        connection = connections[DEFAULT_DB_ALIAS]  # this thread's own
        generation, compiled = connection.__dict__.get("prepared_queries", {}).get(self, (None, None))
        if generation != _current:
            compiled = self._compile(connection)
        sql, params, slots, compiler, converters, order, name = compiled
        sent = [param if slot is None else slot[1](values[slot[0]]) for param, slot in zip(params, slots, strict=True)]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and settings.NEWSROOM_PREPARE_ON_SERVER:
                _execute_prepared(connection, cursor, name, sql, sent)
            else:
                cursor.execute(sql, sent)
            rows = cursor.fetchall()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        if order is None:  # already in values_list()'s order (every query here)
            return [tuple(row) for row in rows]
        return [tuple(row[i] for i in order) for row in rows]


def _execute_prepared(connection, cursor, name, sql, sent):
    """Run `sql` as the server-side statement `name` from its second run on this connection on.

    Which statements a connection holds is kept beside the connection object the
    database driver made: a new connection (CONN_MAX_AGE, a reconnect) starts
    with none.
    """
    raw = connection.connection
    held = connection.__dict__.get("prepared_on_server")
    if held is None or held[0] is not raw:
        held = connection.__dict__["prepared_on_server"] = (raw, {})
    runs = held[1].get(name, 0)
    arguments = f"({', '.join(['%s'] * len(sent))})" if sent else ""
    if runs == 0:
        held[1][name] = 1
        cursor.execute(sql, sent)
    elif runs == 1:
        # PREPARE and its first EXECUTE in one round trip. A statement once prepared stays,
        # whatever becomes of the EXECUTE or the transaction (PREPARE is not transactional).
        n = itertools.count(1)
        server_sql = _PLACEHOLDER.sub(lambda m: f"${next(n)}" if m.group(1) == "s" else "%%", sql)
        held[1][name] = 2
        cursor.execute(f"PREPARE {name} AS {server_sql}; EXECUTE {name}{arguments}", sent)
    else:
        try:
            cursor.execute(f"EXECUTE {name}{arguments}", sent)
        except DatabaseError as error:
            # The server lost this statement (a session reset under us: DISCARD ALL, DEALLOCATE), or
            # refuses it for good (a migration changed a column it returns). Only this one is
            # forgotten: each other statement answers for itself on its own next run. Outside a
            # transaction the plain SQL runs now; inside one the transaction is lost anyway.
            code = getattr(error.__cause__, "pgcode", None)
            if code == UNKNOWN_STATEMENT:
                held[1][name] = 1
            if code not in (UNKNOWN_STATEMENT, RESULT_TYPE_CHANGED) or connection.in_atomic_block:
                raise
            if code == RESULT_TYPE_CHANGED:
                cursor.execute(f"DEALLOCATE {name}")
                held[1][name] = 1
            cursor.execute(sql, sent)
