"""Querysets compiled to SQL once and run again for other ids through the cursor, as plain rows.

A page that opens many times a minute pays Django's ORM about a millisecond of Python per query to build, compile
and read it, more than the database takes for a small one (ADR 0028). ``CompiledQuery`` builds the queryset once
per shape with stand-in values, keeps the SQL text Django wrote for it, and on later calls only puts the real values
into the parameters and runs the text through ``connection.cursor()``. The SQL is still Django's, made from the same
querysets, expressions and ``restrict()`` the rest of the product uses; nothing is written twice by hand.

The shape of a query is what changes its text: the scope queryset's filter (compiled and compared on every call,
so another user's projects or rights give another text), the length of any list argument and the page asked for
(``offset`` and ``limit``, written into the text as Django writes a slice).
"""

import datetime
import threading
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models.query import FlatValuesListIterable

# Stand-ins no real id or day takes, found again among the compiled parameters.
_ID_BASE = -7_340_000_000_000_000
_DAY_BASE = datetime.date(1, 1, 1)
_INTEGER_RANGE = (-(2**63), 2**63 - 1)
MAX_SHAPES = 256


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple  # (position in params, argument name, index in a list argument or None, as text)
    compiler: object
    converters: dict
    width: int | None  # the columns asked for, where Django selected more (for an ordering)
    flat: bool  # values_list(..., flat=True): the single values, not 1-tuples


class CompiledQuery:
    """``build(scope, **arguments)`` returns a ``values_list`` queryset; ``rows(scope, **arguments)`` runs it and
    returns its rows as tuples (or single values, with ``flat=True``).

    Arguments are ids (int), lists of ids, days (``datetime.date``) or texts compared for equality (a token's
    hash): the values that change from one call to the next. Everything else (the scope, constants) is part of the
    compiled text.
    """

    def __init__(self, build):
        self.build = build
        self._shapes = {}
        self._lock = threading.Lock()

    def rows(self, scope, *, offset=0, limit=None, **arguments):
        """The queryset's rows as tuples (``limit`` of them from ``offset`` when given); none where the scope can
        match nothing, or an id no database integer holds (a guessed URL) could match nothing either."""
        if not all(_holds(value) for value in arguments.values()):
            return []
        try:
            scope_key = _filter_key(scope)
        except EmptyResultSet:
            return []
        key = (connection.vendor, scope_key, offset, limit, tuple(
            (name, len(value) if isinstance(value, (list, tuple)) else None) for name, value in arguments.items()))
        compiled = self._shapes.get(key)
        if compiled is None:
            try:
                compiled = self._compile(scope, arguments, offset, limit)
            except EmptyResultSet:
                return []
            with self._lock:
                if len(self._shapes) >= MAX_SHAPES:
                    self._shapes.clear()
                self._shapes[key] = compiled
        params = list(compiled.params)
        for position, name, index, as_text in compiled.slots:
            value = arguments[name] if index is None else arguments[name][index]
            params[position] = value.isoformat() if as_text else value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.width is not None:
            rows = [row[: compiled.width] for row in rows]
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        return [row[0] for row in rows] if compiled.flat else rows

    def _compile(self, scope, arguments, offset, limit):
        stand_ins, names = {}, {}
        for name, value in arguments.items():
            if isinstance(value, (list, tuple)):
                stand_ins[name] = [_stand_in(names, name, index, item) for index, item in enumerate(value)]
            else:
                stand_ins[name] = _stand_in(names, name, None, value)
        queryset = self.build(scope, **stand_ins)
        if limit is not None:
            queryset = queryset[offset:offset + limit]
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots = []
        for position, param in enumerate(params):
            found = names.get(param) if isinstance(param, (int, datetime.date, str)) else None
            if found is not None:
                slots.append((position, *found))
        missing = {(name, index) for name, index, _text in names.values()} - {slot[1:3] for slot in slots}
        if missing:
            raise ValueError(f"arguments {sorted(missing)} do not reach the SQL as parameters")
        fields = [select[0] for select in compiler.select[: compiler.col_count]]
        return _Compiled(sql, tuple(params), tuple(slots), compiler, compiler.get_converters(fields),
                         compiler.col_count if compiler.has_extra_select else None,
                         queryset._iterable_class is FlatValuesListIterable)


def _stand_in(names, name, index, value):
    """A stand-in for one argument value, recorded in ``names`` under each form it may take among the params."""
    number = len({found[:2] for found in names.values()})
    if isinstance(value, datetime.date):  # checked by _holds: a day, not a datetime
        stand_in = _DAY_BASE + datetime.timedelta(days=number)
        names[stand_in] = (name, index, False)
        names[stand_in.isoformat()] = (name, index, True)  # as SQLite's backend passes a day
        return stand_in
    if isinstance(value, str):
        stand_in = f"\x1fcompiled stand-in {number}\x1f"
        names[stand_in] = (name, index, False)
        return stand_in
    stand_in = _ID_BASE - number
    names[stand_in] = (name, index, False)
    return stand_in


def _holds(value):
    """Whether a database integer can hold the id (or every id of a list); a type other than ids, days and texts is
    a programming error."""
    if isinstance(value, (list, tuple)):
        return all(_holds(item) for item in value)
    if isinstance(value, str):
        return True
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return _INTEGER_RANGE[0] <= value <= _INTEGER_RANGE[1]
    raise TypeError(f"CompiledQuery takes ids, days and texts, not {type(value).__name__}")


def _filter_key(scope):
    """The scope queryset's WHERE clause as (sql, params): equal keys, equal filters. A scope that did more than
    filter (annotations, joins kept for select_related, distinct, slices) would not be told apart by it."""
    query = scope.query
    if query.annotations or query.select_related or query.distinct or query.is_sliced or query.extra:
        raise ValueError("a CompiledQuery scope may only filter its model's rows")
    if query.is_empty():
        raise EmptyResultSet
    try:
        sql, params = query.get_compiler(connection=connection).compile(query.where)
    except FullResultSet:
        return "", ()
    return sql, tuple(params)
