"""Model rows read and inserted with SQL written once, for the few statements on the hottest
paths (recording a value, performing a step, signing).

Building a queryset and compiling it costs Django far more than the database needs to answer it
(about 1 ms for a step with its batch, against 0.1 ms for the query itself). ``RowShape`` lists
a model's columns once and turns a row into an instance exactly as the ORM does: the same
converters from database to Python values, ``Model.from_db``, and fields left out (e.g. a large
frozen document) deferred and loaded on access. ``insert`` writes a new instance as
``save(force_insert=True)`` would (same field preparation, same SQL), falling back to ``save``
whenever the model has save signals, a ``save()`` of its own that does more than refuse changes,
or a value is an expression. Use these where a profile shows
the ORM dominates; everywhere else use querysets.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.db.backends.utils import CursorWrapper
from django.db.models.base import ModelState
from django.db.models.fields import Field
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, post_save, pre_init, pre_save

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
            BaseDatabaseWrapper, list[tuple[int, Any, list[Converter]]]
        ] = weakref.WeakKeyDictionary()
        self._columns: dict[tuple[str, str], str] = {}
        self._plain = _init_is_plain(model, self.fields)

    def columns(self, connection: BaseDatabaseWrapper, alias: str) -> str:
        """``alias."col", ...`` for a SELECT list."""
        key = (connection.vendor, alias)
        found = self._columns.get(key)
        if found is None:
            quote = connection.ops.quote_name
            found = ", ".join(f"{alias}.{quote(f.column or f.attname)}" for f in self.fields)
            self._columns[key] = found
        return found

    def _converters_for(
        self, connection: BaseDatabaseWrapper
    ) -> list[tuple[int, Any, list[Converter]]]:
        """(position, column, converters) of the fields that have converters on ``connection``."""
        found = self._converters.get(connection)
        if found is None:
            found = []
            table = self.model._meta.db_table
            for i, field in enumerate(self.fields):
                col = field.get_col(table)
                # As SQLCompiler.get_converters: the backend's, then the field's own.
                convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if convs:
                    found.append((i, col, convs))
            self._converters[connection] = found
        return found

    def build(self, connection: BaseDatabaseWrapper, row: Sequence[Any], start: int = 0) -> M:
        """The instance for ``row[start:start + width]``, as a queryset would have made it."""
        values = list(row[start : start + self.width])
        for i, col, convs in self._converters_for(connection):
            value = values[i]
            for convert in convs:
                value = convert(value, col, connection)
            values[i] = value
        model = self.model
        if self._plain and not pre_init.has_listeners(model) and not post_init.has_listeners(model):
            # What Model.from_db leaves behind, without its per-field setattr: for a model whose
            # fields' attributes are plain (stored in the instance's __dict__ as they are), no
            # __init__ of its own and nobody listening to its init signals, the same instance.
            new = model.__new__(model)
            state = ModelState()
            state.adding = False
            state.db = connection.alias
            new.__dict__["_state"] = state
            new.__dict__.update(zip(self.attnames, values, strict=True))
            return new
        return model.from_db(connection.alias, self.attnames, values)


def _init_is_plain(model: type[models.Model], fields: Sequence[Field[Any, Any]]) -> bool:
    """Whether ``Model.__init__`` with these fields' values does no more than store each in the
    instance's ``__dict__`` (see RowShape.build)."""
    for klass in model.__mro__:
        if klass is models.Model:
            break
        if "__init__" in vars(klass) or "from_db" in vars(klass) or "__new__" in vars(klass):
            return False
    for field in fields:
        # DeferredAttribute (and ForeignKeyDeferredAttribute: on a new instance with nothing
        # cached its __set__ only stores the value) read the __dict__ first.
        if type(_class_attribute(model, field.attname)) not in (
            DeferredAttribute,
            ForeignKeyDeferredAttribute,
        ):
            return False
    return True


def _class_attribute(model: type[models.Model], name: str) -> Any:
    """The class attribute ``name`` as defined (not through its descriptor's __get__)."""
    for klass in model.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return None


def connection_for(model: type[models.Model], *, write: bool = False) -> BaseDatabaseWrapper:
    """The connection the router picks for reading (or writing) ``model``."""
    alias = router.db_for_write(model) if write else router.db_for_read(model)
    return connections[alias]


# --- running one statement -------------------------------------------------------------------

_QMARK: dict[str, str] = {}


def _dbapi_cursor(connection: BaseDatabaseWrapper) -> Any:
    """The connection's own DB-API cursor, made once per database connection and kept."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    kept = getattr(connection, "_galenic_dbapi_cursor", None)
    if kept is not None and kept[0] is connection.connection:
        return kept[1]
    with connection.wrap_database_errors:
        cursor = connection.create_cursor()
    connection._galenic_dbapi_cursor = (connection.connection, cursor)  # type: ignore[attr-defined]
    return cursor


def run(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> Any:
    """Execute one statement as Django's cursor does (refused in a broken transaction, database
    errors turned into Django's), without its per-call layers: a kept cursor, the SQL's
    placeholders converted once. Returns the DB-API cursor, to fetch from at once. Where those
    layers do something (query logging in DEBUG, execute wrappers), they are used, and the
    caller hands the cursor to ``release`` when done with it."""
    if connection.queries_logged or connection.execute_wrappers:
        cursor = connection.cursor()
        cursor.execute(sql, params)
        return cursor
    dbapi = _dbapi_cursor(connection)
    connection.validate_no_broken_transaction()
    if connection.vendor == "sqlite":
        found = _QMARK.get(sql)
        if found is None:
            found = _QMARK[sql] = FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
        with connection.wrap_database_errors:
            # sqlite3's own execute: Django's cursor class would convert the placeholders again.
            sqlite3.Cursor.execute(dbapi, found, params)
        return dbapi
    with connection.wrap_database_errors:
        dbapi.execute(sql, params)
    return dbapi


def release(cursor: Any) -> None:
    """Done with what ``run`` returned: the kept cursor stays open; Django's (the path with
    query logging or execute wrappers) is closed now rather than by the garbage collector."""
    if isinstance(cursor, CursorWrapper):
        cursor.close()


def first_row(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> Any:
    """The first row of a read (a tuple), or None."""
    cursor = run(connection, sql, params)
    try:
        with connection.wrap_database_errors:
            return cursor.fetchone()
    finally:
        release(cursor)


def all_rows(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> list[Any]:
    cursor = run(connection, sql, params)
    try:
        with connection.wrap_database_errors:
            return list(cursor.fetchall())
    finally:
        release(cursor)


# --- inserting -------------------------------------------------------------------------------


def _save_is_plain(model: type[models.Model]) -> bool:
    """Whether skipping ``model.save()`` skips nothing: Django's own, or an override that only
    refuses changes to stored rows and says so (``save_only_guards = True`` beside it)."""
    for klass in model.__mro__:
        if "save" in vars(klass):
            return klass is models.Model or vars(klass).get("save_only_guards") is True
    return False


class _InsertShape:
    def __init__(self, model: type[models.Model]) -> None:
        meta = model._meta
        self.fields = [
            f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field
        ]
        self.pk = meta.pk
        self.plain = (
            meta.auto_field is not None
            and meta.pk is meta.auto_field
            and not meta.parents
            and meta.order_with_respect_to is None
            and not meta.proxy
            and _save_is_plain(model)
        )
        self._sql: dict[str, str] = {}
        # (field, attname, read straight from __dict__?, how its value is prepared)
        self.preparation = [_preparation_of(f) for f in self.fields]

    def sql(self, connection: BaseDatabaseWrapper) -> str:
        found = self._sql.get(connection.vendor)
        if found is None:
            quote = connection.ops.quote_name
            assert self.pk is not None
            found = (
                f"INSERT INTO {quote(self.pk.model._meta.db_table)} "  # noqa: S608
                f"({', '.join(quote(f.column or f.attname) for f in self.fields)}) "
                f"VALUES ({', '.join(['%s'] * len(self.fields))}) "
                f"RETURNING {quote(self.pk.column or self.pk.attname)}"
            )
            self._sql[connection.vendor] = found
        return found


_insert_shapes: dict[type[models.Model], _InsertShape] = {}

_NONE_ONLY, _TEXT, _BOOL = 1, 2, 3


Preparation = tuple[Any, str, bool, int]  # field, attname, plain pre_save, kind


def _db_values(
    obj: models.Model,
    preparation: Sequence[Preparation],
    connection: BaseDatabaseWrapper,
    *,
    add: bool,
) -> list[Any] | None:
    """``field.get_db_prep_save(field.pre_save(obj, add))`` for each field, as save() prepares
    them; None when a value is an expression (then save() itself must run)."""
    values: list[Any] = []
    stored = obj.__dict__
    for field, attname, plain_pre_save, kind in preparation:
        if plain_pre_save and attname in stored:
            value = stored[attname]  # what Field.pre_save's getattr returns
        else:
            value = field.pre_save(obj, add)
        # Where get_db_prep_save returns the value itself, skip its chain of calls.
        if value is None:
            if kind:
                values.append(None)
                continue
        elif (kind == _TEXT and isinstance(value, str)) or (
            kind == _BOOL and value.__class__ is bool
        ):
            values.append(value)
            continue
        if hasattr(value, "resolve_expression"):
            return None
        values.append(field.get_db_prep_save(value, connection=connection))
    return values


def _preparation_of(field: Field[Any, Any]) -> Preparation:
    return (field, field.attname, _pre_save_is_plain(field), _preparation(field))


def _pre_save_is_plain(field: Field[Any, Any]) -> bool:
    """Whether ``field.pre_save(obj, add)`` is ``getattr(obj, attname)`` (no auto_now, no file)."""
    pre_save_of = type(field).pre_save
    if pre_save_of is Field.pre_save:
        return True
    return (
        isinstance(field, models.DateField)
        and not field.auto_now
        and not field.auto_now_add
        and pre_save_of in (models.DateField.pre_save, models.DateTimeField.pre_save)
    )


def _preparation(field: Field[Any, Any]) -> int:
    """For which values ``field.get_db_prep_save(value)`` is the value itself: 0 (never assumed),
    _NONE_ONLY (None), _TEXT (None and any str), _BOOL (None, True, False). Only for Django's
    own field classes whose preparation is known (a subclass that overrides it gets 0)."""
    klass = type(field)
    if klass in (models.CharField, models.TextField, models.SlugField, models.EmailField):
        return _TEXT
    if klass is models.BooleanField:
        return _BOOL
    if klass in (
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.PositiveBigIntegerField,
        models.DateTimeField,
        models.DateField,
        models.DecimalField,
        models.FloatField,
        models.UUIDField,
        models.ForeignKey,
    ):
        return _NONE_ONLY
    return 0


def insert(obj: models.Model) -> None:
    """Insert the new instance ``obj`` as ``obj.save(force_insert=True)`` does."""
    model = type(obj)
    shape = _insert_shapes.get(model)
    if shape is None:
        shape = _insert_shapes[model] = _InsertShape(model)
    connection = connections[router.db_for_write(model, instance=obj)]
    if (
        not shape.plain
        or not obj._state.adding
        or obj.pk is not None
        or not connection.features.can_return_columns_from_insert
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    ):
        obj.save(force_insert=True)
        return
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    values = _db_values(obj, shape.preparation, connection, add=True)
    if values is None:  # an expression among the values
        obj.save(force_insert=True)
        return
    # As save(): an error inside an atomic block marks it for rollback even if caught there.
    with transaction.mark_for_rollback_on_error(connection.alias):
        row = first_row(connection, shape.sql(connection), values)
    assert shape.pk is not None
    setattr(obj, shape.pk.attname, row[0])
    obj._state.adding = False
    obj._state.db = connection.alias


# --- reading one row by primary key ---------------------------------------------------------

_shapes: dict[type[models.Model], RowShape[Any]] = {}


def get(model: type[M], pk: Any) -> M | None:
    """``model._base_manager.filter(pk=pk).first()`` (every field, no manager filtering)."""
    shape = _shapes.get(model)
    if shape is None:
        shape = _shapes[model] = RowShape(model)
    connection = connections[router.db_for_read(model)]
    meta = model._meta
    assert meta.pk is not None
    quote = connection.ops.quote_name
    row = first_row(
        connection,
        f"SELECT {shape.columns(connection, 't')} FROM {quote(meta.db_table)} t "  # noqa: S608
        f"WHERE t.{quote(meta.pk.column or meta.pk.attname)} = %s",
        [meta.pk.get_db_prep_value(pk, connection)],
    )
    return None if row is None else shape.build(connection, row)


# --- updating --------------------------------------------------------------------------------


class _UpdateShape:
    """An UPDATE of some fields of a model by primary key, written once per vendor."""

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        meta = model._meta
        self.targets: list[Any] = [meta.get_field(name) for name in dict.fromkeys(fields)]
        self.preparation = [_preparation_of(f) for f in self.targets]
        self.update_fields = frozenset(fields)
        assert meta.pk is not None
        self.pk = meta.pk
        self.table = meta.db_table
        self._sql: dict[str, str] = {}

    def sql(self, connection: BaseDatabaseWrapper) -> str:
        found = self._sql.get(connection.vendor)
        if found is None:
            quote = connection.ops.quote_name
            found = self._sql[connection.vendor] = (
                f"UPDATE {quote(self.table)} SET "  # noqa: S608
                + ", ".join(f"{quote(f.column)} = %s" for f in self.targets)
                + f" WHERE {quote(self.pk.column or self.pk.attname)} = %s"
            )
        return found


_update_shapes: dict[tuple[type[models.Model], tuple[str, ...]], _UpdateShape] = {}


def update(obj: models.Model, fields: Sequence[str]) -> None:
    """``obj.save(update_fields=fields)`` with the statement written here: same field
    preparation, same pre_save/post_save signals, same refusal when no row was updated;
    ``save()`` itself wherever skipping it could skip something (an own ``save()``,
    expressions)."""
    model = type(obj)
    shape = _insert_shapes.get(model)
    if shape is None:
        shape = _insert_shapes[model] = _InsertShape(model)
    key = (model, tuple(fields))
    updating = _update_shapes.get(key)
    if updating is None:
        updating = _update_shapes[key] = _UpdateShape(model, fields)
    connection = connections[router.db_for_write(model, instance=obj)]
    if (
        not shape.plain
        or obj._state.adding
        or obj.pk is None
        or not updating.targets
        or any(hasattr(getattr(obj, f.attname), "resolve_expression") for f in updating.targets)
    ):
        obj.save(update_fields=fields)
        return
    update_fields = updating.update_fields
    using = connection.alias
    # The signals save() sends, with the same arguments (e.g. review builds its report when a
    # batch is saved completed).
    pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=update_fields)
    values = _db_values(obj, updating.preparation, connection, add=False)
    assert values is not None  # no expressions (checked above)
    with transaction.mark_for_rollback_on_error(using):
        cursor = run(
            connection,
            updating.sql(connection),
            [*values, updating.pk.get_db_prep_value(obj.pk, connection)],
        )
        updated = cursor.rowcount
        release(cursor)
        if updated != 1:
            from django.db import DatabaseError

            raise DatabaseError("Save with update_fields did not affect any rows.")
    obj._state.db = using
    post_save.send(
        sender=model,
        instance=obj,
        created=False,
        update_fields=update_fields,
        raw=False,
        using=using,
    )
