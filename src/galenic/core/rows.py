"""Model instances from SQL written once, for the few reads on the hottest paths.

Building a queryset and compiling it costs Django far more than the database needs to answer it
(about 1 ms for a step with its batch, against 0.1 ms for the query). ``RowShape`` lists a
model's columns once and turns a row into an instance exactly as the ORM does: the same
converters from database to Python values, ``Model.from_db``, and fields left out (e.g. a large
frozen document) deferred and loaded on access. Use it where a profile shows the ORM dominates;
everywhere else write querysets.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

M = TypeVar("M", bound=models.Model)

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


class RowShape(Generic[M]):
    """The concrete fields of ``model`` (less ``defer``), in a fixed order."""

    def __init__(self, model: type[M], *, defer: Sequence[str] = ()) -> None:
        unknown = set(defer) - {f.attname for f in model._meta.concrete_fields}
        if unknown:
            raise ValueError(f"{model._meta.label} has no fields {sorted(unknown)}")
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if f.attname not in defer]
        self.attnames = [f.attname for f in self.fields]
        self.width = len(self.fields)
        # Converters are bound to one connection's operations: kept per connection object.
        self._converters: weakref.WeakKeyDictionary[
            BaseDatabaseWrapper, list[tuple[Any, list[Converter]]]
        ] = weakref.WeakKeyDictionary()

    def columns(self, connection: BaseDatabaseWrapper, alias: str) -> str:
        """``alias."col", ...`` for a SELECT list."""
        quote = connection.ops.quote_name
        return ", ".join(f"{alias}.{quote(f.column or f.attname)}" for f in self.fields)

    def _converters_for(self, connection: BaseDatabaseWrapper) -> list[tuple[Any, list[Converter]]]:
        found = self._converters.get(connection)
        if found is None:
            found = []
            table = self.model._meta.db_table
            for field in self.fields:
                col = field.get_col(table)
                # As SQLCompiler.get_converters: the backend's, then the field's own.
                convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                found.append((col, convs))
            self._converters[connection] = found
        return found

    def build(self, connection: BaseDatabaseWrapper, row: Sequence[Any], start: int = 0) -> M:
        """The instance for ``row[start:start + width]``, as a queryset would have made it."""
        values = list(row[start : start + self.width])
        for i, (col, convs) in enumerate(self._converters_for(connection)):
            for convert in convs:
                values[i] = convert(values[i], col, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def first_row(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> Any:
    """The first row of a read (a tuple), or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()
