"""Loading generated rows fast: PostgreSQL COPY straight from Python dicts.

Rows are dicts keyed by model attribute names; a missing key takes the field's
default (auto_now fields: now); generated columns are left to the database. Ids are
allocated here, so children can point at their parents before anything is written.
"""

import contextlib
import datetime
import decimal
import io
import json

from django.contrib.postgres.fields import ArrayField
from django.db import connection, models
from django.utils import timezone


def next_ids(model: type[models.Model], count: int) -> range:
    """`count` fresh primary keys; `copy_rows` moves the sequence past them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
        (last,) = cursor.fetchone()
    return range(last + 1, last + 1 + count)


def copy_rows(model: type[models.Model], rows: list[dict]) -> None:
    """COPY the rows into the model's table, then move its id sequence past them."""
    if not rows:
        return
    fields = [field for field in model._meta.concrete_fields if not getattr(field, "generated", False)]
    encoders = [_encoder(field) for field in fields]
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(encode(row) for encode in encoders))
        buffer.write("\n")
    buffer.seek(0)
    table = model._meta.db_table
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _text(value) -> str:
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (int, decimal.Decimal, float)):
        return str(value)
    return str(value).translate(_ESCAPES)


def _encoder(field: models.Field):
    name = field.attname
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        now = timezone.now()
        default = now
    elif field.has_default():
        default = field.get_default()
    elif field.null or field.primary_key:
        default = None
    else:
        default = ""
    if isinstance(field, models.JSONField):
        return lambda row: _text(json.dumps(row.get(name, default), ensure_ascii=False))
    if isinstance(field, ArrayField):
        return lambda row: _text(
            "{" + ",".join(json.dumps(v, ensure_ascii=False) for v in row.get(name, default)) + "}"
        )
    return lambda row: _text(row.get(name, default))


@contextlib.contextmanager
def indexes_dropped(*models_: type[models.Model]):
    """Drop the tables' plain indexes for a bulk load and build them again after:
    one sort per index is many times faster than updating each index row by row.
    Indexes behind constraints (primary keys, unique) stay."""
    tables = [model._meta.db_table for model in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid::regclass::text = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """,
            [tables],
        )
        definitions = cursor.fetchall()
        for name, _definition in definitions:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        # Foreign keys are checked at commit; an index cannot be built while checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in definitions:
            cursor.execute(definition)


@contextlib.contextmanager
def foreign_keys_dropped(*models_: type[models.Model]):
    """Drop the tables' foreign keys for a bulk load and add them back after: adding a
    key checks every row in one join, where a kept key checks each row on its own."""
    tables = [model._meta.db_table for model in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint
            WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)
            """,
            [tables],
        )
        keys = cursor.fetchall()
        for table, name, _definition in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    yield
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
