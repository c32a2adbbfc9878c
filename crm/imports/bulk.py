"""Set-based writes for imports: COPY new rows in, UPDATE many rows from one COPY.

The ORM's bulk_create spends most of its time preparing each field of each object;
an import of 100,000 customers with sixty columns each cannot afford that. Here each
table's row is a template of its columns' defaults, already encoded, and a row only
encodes the values it sets. Ids are drawn from the table's own sequence, so children
can point at their parents before anything is written and concurrent writers never
collide.

During a commit the COPYs go through a `Pipe`: a thread of its own sends them on the
same connection, inside the same transaction, while the engine cleans the next chunk
(psycopg2 lets go of the GIL while the server works). Every other statement on the
connection first waits for the COPYs handed over before it, so the database sees the
writes in the order the code makes them.
"""

import contextlib
import contextvars
import datetime
import decimal
import io
import json
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import orjson
from django.db import connection, models
from django.utils import timezone

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]")
NULL = "\\N"


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_text(value) -> str:
    """A value as the JSON text a jsonb column is given: orjson, ten times faster than
    json for an event's changes (the same text); json for what orjson refuses."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return _JSON.encode(value)


def json_value(value) -> str:
    """A value as JSON in COPY's text format. JSON writes every control character as
    an escape, so a backslash is all COPY needs doubled: str.replace, which finds none
    in most events, costs a tenth of text_value's search."""
    return json_text(value).replace("\\", "\\\\")


def text_value(value: str) -> str:
    """A str in COPY's text format."""
    # Most text has nothing to escape; translate() is slow, the search is not.
    return value.translate(_ESCAPES) if _SPECIAL.search(value) else value


def encode(value) -> str:
    """One value in COPY's text format."""
    if type(value) is str:
        return value.translate(_ESCAPES) if _SPECIAL.search(value) else value
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (int, decimal.Decimal, float)):
        return str(value)
    if isinstance(value, dict):
        return json_value(value)
    if isinstance(value, (list, tuple)):
        return encode(array_literal(value))
    return str(value).translate(_ESCAPES)


_ARRAY_SPECIAL = re.compile(r'[{}"\\\s]')
_ARRAY_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})


def array_literal(items) -> str:
    """A PostgreSQL array literal of text: `%s::text[]` sends a list as one value, where
    psycopg2 would send ARRAY['a', 'b', …], thousands of constants for the server to
    parse. Elements are written bare when nothing in them needs quoting (search tokens
    never do), else in double quotes with backslashes before " and \\."""
    joined = ",".join(items)
    if (
        not _ARRAY_SPECIAL.search(joined)
        and joined.count(",") == len(items) - 1
        and "" not in items
        and "null" not in joined.lower()
    ):
        return "{" + joined + "}"
    return "{" + ",".join(f'"{item.translate(_ARRAY_ESCAPES)}"' for item in items) + "}"


def _default(field: models.Field, now):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        return field.get_default()
    if field.null or field.primary_key:
        return None
    return ""


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys from the table's sequence."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        # The sequence is looked up once (a scalar subquery), not once per id.
        cursor.execute(
            f"SELECT nextval((SELECT pg_get_serial_sequence('{table}', 'id'))::regclass) FROM generate_series(1, %s)",
            [count],
        )
        return [row[0] for row in cursor.fetchall()]


def next_values(sequence: str, count: int) -> list[int]:
    """`count` values of a named sequence (customer codes, order numbers)."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
        return [row[0] for row in cursor.fetchall()]


class CopyInsert:
    """Rows for one table, written with one COPY by `flush()`.

    `add(values)` takes {attname: python value}; a column not named takes the
    field's default (auto_now fields: the time this writer was made). Generated
    columns are left to the database.
    """

    def __init__(self, model: type[models.Model], *, ids: bool = True, constants: dict | None = None):
        self.model = model
        now = timezone.now()
        # Without `ids` the database numbers the rows (audit events: nothing points at them).
        self.fields = [
            f for f in model._meta.concrete_fields if not getattr(f, "generated", False) and (ids or not f.primary_key)
        ]
        self.position = {f.attname: i for i, f in enumerate(self.fields)}
        self.template = [encode(_default(f, now)) for f in self.fields]
        # Values every row shares (an import's actor and batch) are encoded once.
        for name, value in (constants or {}).items():
            self.template[self.position[name]] = encode(value)
        self.lines: list[str] = []

    def add(self, values: dict) -> None:
        row = self.template.copy()
        position = self.position
        special = _SPECIAL.search
        for name, value in values.items():
            kind = type(value)
            if kind is str:
                row[position[name]] = value.translate(_ESCAPES) if special(value) else value
            elif kind is int:
                row[position[name]] = str(value)
            else:
                row[position[name]] = encode(value)
        self.lines.append("\t".join(row))

    def formatter(self, names: list[str]) -> str:
        """A str.format() template of a whole line with a {} for each of `names`, in
        that order; every other column holds its default or constant. For writers of
        many rows of one shape (audit events): `add_line(template.format(...))` with
        values already encoded."""
        slots = {self.position[name] for name in names}
        parts = [
            "{}" if i in slots else text.replace("{", "{{").replace("}", "}}") for i, text in enumerate(self.template)
        ]
        order = sorted(self.position[name] for name in names)
        if order != [self.position[name] for name in names]:
            raise ValueError(f"names must follow the table's column order: {[self.fields[i].attname for i in order]}")
        return "\t".join(parts)

    def add_line(self, line: str) -> None:
        self.lines.append(line)

    def __len__(self):
        return len(self.lines)

    def flush(self) -> int:
        if not self.lines:
            return 0
        table = self.model._meta.db_table
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        data = ("\n".join(self.lines) + "\n").encode()
        count = len(self.lines)
        self.lines = []
        copy(f"COPY {table} ({columns}) FROM STDIN", data)
        return count


def copy(sql: str, data: bytes) -> None:
    """COPY ... FROM STDIN with `data`: through the open pipe, else at once."""
    pipe = _PIPE.get()
    if pipe is not None:
        pipe.add(sql, data)
        return
    with connection.cursor() as cursor:
        copy_in(cursor, sql, data)


def copy_in(cursor, sql: str, data: bytes) -> None:
    """COPY ... FROM STDIN on `cursor`, the data read in one piece: psycopg2 takes the
    GIL back after each piece it sends (8 kB by default)."""
    # The size goes by position: Django's debug cursor (DEBUG=True) takes no keywords.
    cursor.copy_expert(sql, io.BytesIO(data), len(data) or 1)


# While a pipe is open the engine's thread runs Python without pause, and the pipe's
# thread, between one statement and the next, waits up to the interpreter's switch
# interval (5 ms) for the GIL while the database sits idle: about 0.5 s of a
# 100,000-row import. A pipe shortens the interval while it is open.
PIPE_SWITCH_INTERVAL = 0.0002
_switch = {"open": 0, "saved": None}
_switch_lock = threading.Lock()
_PIPE: contextvars.ContextVar = contextvars.ContextVar("crm_imports_pipe", default=None)


class Pipe:
    """COPYs sent by a thread of their own, in order, on the caller's connection.

    `add()` keeps a COPY until `send()` hands what was kept to the thread; `wait()`
    returns when the thread has sent everything handed over (and raises what it
    raised). Any other statement run on the connection meanwhile first sends what is
    kept and waits, unless `ahead` is set: then it only waits for what was handed over,
    and runs before the COPYs still kept (an importer's lookups for the next chunk,
    which do not need the previous chunk's rows).

    With `check_constraints`, each batch ends by checking the deferred foreign keys
    its rows owe (SET CONSTRAINTS ALL IMMEDIATE, then back to deferred), so that work
    too happens while the engine cleans the next chunk instead of at COMMIT.
    """

    def __init__(self, *, check_constraints: bool = True):
        connection.ensure_connection()
        self.raw = connection.connection
        # Database errors raised by the thread are Django's, as the connection's own are.
        self.wrap_errors = connection.wrap_database_errors
        self.kept: list[tuple[str, bytes]] = []
        self.sent = []
        self.ahead = False
        self.failed = False
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-copy")
        self.after_batch: list[str] = []
        if check_constraints:
            self.after_batch.append("SET CONSTRAINTS ALL IMMEDIATE")
            self.after_batch.append("SET CONSTRAINTS ALL DEFERRED")
            with connection.cursor() as cursor:
                # Deferrable constraints that start immediate go back to immediate.
                cursor.execute(
                    "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.conname) FROM pg_constraint c "
                    "JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.condeferrable AND NOT c.condeferred"
                )
                immediate = [row[0] for row in cursor.fetchall()]
            if immediate:
                self.after_batch.append(f"SET CONSTRAINTS {', '.join(immediate)} IMMEDIATE")

    def add(self, sql: str, data: bytes) -> None:
        self.kept.append((sql, data))

    def send(self) -> None:
        if self.kept:
            batch, self.kept = self.kept, []
            self.sent.append(self.executor.submit(self._copy, batch))

    def wait(self) -> None:
        while self.sent:
            self.sent.pop(0).result()

    def sync(self) -> None:
        self.send()
        self.wait()

    def _copy(self, batch: list[tuple[str, bytes]]) -> None:
        if self.failed:
            return
        try:
            with self.wrap_errors, self.raw.cursor() as cursor:
                for sql, data in batch:
                    copy_in(cursor, sql, data)
                for sql in self.after_batch:
                    cursor.execute(sql)
        except BaseException:
            self.failed = True
            raise

    def _barrier(self, execute, sql, params, many, context):
        if not self.ahead:
            self.send()
        self.wait()
        return execute(sql, params, many, context)

    @classmethod
    @contextlib.contextmanager
    def open(cls, **options):
        """The pipe for the statements of this block; everything is sent and waited
        for when the block ends (if it ends with an error: waited for, not sent)."""
        pipe = cls(**options)
        token = _PIPE.set(pipe)
        _shorten_switch_interval()
        try:
            with connection.execute_wrapper(pipe._barrier):
                yield pipe
                pipe.sync()
        finally:
            _restore_switch_interval()
            _PIPE.reset(token)
            pipe.kept = []
            # The error on its way out of the block, if any, says what went wrong first.
            with contextlib.suppress(BaseException):
                pipe.wait()
            pipe.executor.shutdown(wait=True)


def _shorten_switch_interval() -> None:
    with _switch_lock:
        if _switch["open"] == 0:
            _switch["saved"] = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch["saved"], PIPE_SWITCH_INTERVAL))
        _switch["open"] += 1


def _restore_switch_interval() -> None:
    """Back to what it was when the first of the pipes open at once was opened."""
    with _switch_lock:
        _switch["open"] -= 1
        if _switch["open"] == 0:
            sys.setswitchinterval(_switch["saved"])


def copy_update(model: type[models.Model], rows: list[dict], attnames: list[str]) -> int:
    """Set `attnames` of many rows (each a dict with "id" and those attnames) with one
    COPY into a temporary table and one UPDATE ... FROM it."""
    if not rows or not attnames:
        return 0
    meta = model._meta
    fields = {f.attname: f for f in meta.concrete_fields}
    table = meta.db_table
    quote = connection.ops.quote_name
    columns = ["id", *attnames]
    data = "".join("\t".join(encode(row[name]) for name in columns) + "\n" for row in rows).encode()
    temp = f"import_update_{table}"
    column_list = ", ".join(quote(fields[name].column) for name in columns)
    assignments = ", ".join(f"{quote(fields[name].column)} = u.{quote(fields[name].column)}" for name in attnames)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS SELECT {column_list} FROM {table} WITH NO DATA"
        )
        copy_in(cursor, f"COPY {temp} ({column_list}) FROM STDIN", data)
        cursor.execute(f"UPDATE {table} t SET {assignments} FROM {temp} u WHERE t.id = u.id")
        count = cursor.rowcount
        cursor.execute(f"DROP TABLE {temp}")
    return count
