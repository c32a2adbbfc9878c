"""What an importer declares, and the registry of importers.

An app declares its importers beside its models (customers/importers.py,
sales/importers.py) as subclasses of `Importer` registered with `@register`; the crm
app imports every app's `importers` module when Django starts.

An importer names its columns (each with labels and aliases in Chinese and English
and the cleaner of its cells) and implements, per chunk of cleaned rows, `plan()`
(match against existing rows with one query, decide each row's outcome), optionally
`reserve()` (ids and codes drawn before writing) and `write()` (bulk writes and audit
events through the `Run`). An importer whose plan() never needs the rows earlier
chunks wrote sets `pipelined`: its next chunk is then planned before the previous
chunk's COPYs are sent, and written while the database stores them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CREATED, UPDATED, UNCHANGED, REJECTED = "created", "updated", "unchanged", "rejected"
OUTCOMES = (CREATED, UPDATED, UNCHANGED, REJECTED)


@dataclass(frozen=True)
class Column:
    """One importable column: `name` is the importer's field name, `aliases` the
    headers it is recognised by (besides its label in both languages)."""

    name: str
    label: Any
    aliases: tuple[str, ...] = ()
    clean: Callable = None


@dataclass
class Problem:
    row: int
    column: str
    field: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "value": self.value,
            "message": self.message,
        }


class Record:
    """One data row: its cleaned values by column name, and what became of it."""

    __slots__ = ("row", "values", "cells", "errors", "warnings", "outcome", "target", "extra")

    def __init__(self, row: int, cells: list):
        self.row = row
        self.cells = cells
        self.values: dict[str, Any] = {}
        self.errors: list[tuple[str, str, Any]] = []
        self.warnings: list[tuple[str, str, Any]] = []
        self.outcome: str | None = None
        # What the importer matched or made for this row.
        self.target = None
        self.extra: dict = {}

    @property
    def ok(self) -> bool:
        return not self.errors

    def reject(self, field: str, message, value=None) -> None:
        self.errors.append((field, str(message), value))
        self.outcome = REJECTED

    def warn(self, field: str, message, value=None) -> None:
        self.warnings.append((field, str(message), value))


class Importer:
    kind: str = ""
    label: Any = ""
    columns: list[Column] = []
    # Groups of columns of which the header must name at least one each.
    required_columns: tuple[tuple[str, ...], ...] = ()
    # Rows handled per chunk; None: the whole file at once (rows that belong together,
    # such as an order's lines, may be anywhere in the file).
    chunk_size: int | None = 5000
    # The first chunk is smaller: in a commit the database has nothing to do until it
    # is written (1,000 rows: about 0.5 s sooner for a 100,000-row file).
    first_chunk_size: int = 1000
    # True when plan() never needs the rows written for earlier chunks of the same run
    # (the importer remembers what it planned in run.state, and calls run.sync() in
    # the rare case it does need them): the engine then plans a chunk while the
    # previous chunk's COPYs are still waiting to be sent. Its plan() calls
    # run.release() once its queries are done, so they go while it decides outcomes.
    pipelined: bool = False

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def begin(self, run) -> None:
        """Load what every chunk needs (users by name, products), once per run."""

    def plan(self, records: list[Record], run) -> None:
        """Give each record without errors an outcome: created, updated, unchanged or
        rejected (with `record.reject`). Reads existing rows in bulk; writes nothing."""
        raise NotImplementedError

    def reserve(self, records: list[Record], run) -> None:
        """Before write(), in a commit: draw from the database what writing these
        records needs (ids, codes), so that write() itself need not query it."""

    def write(self, records: list[Record], run) -> None:
        """Write the created and updated records (bulk), with their audit events."""
        raise NotImplementedError

    def finish(self, run) -> None:
        """After the last chunk, in the same transaction: derived figures."""

    def after_undo(self, customer_ids: set[int]) -> None:
        """After an undo, in its transaction: derived figures of the customers touched."""


_REGISTRY: dict[str, Importer] = {}


def register(cls: type[Importer]) -> type[Importer]:
    _REGISTRY[cls.kind] = cls()
    return cls


def get(kind: str) -> Importer | None:
    return _REGISTRY.get(kind)


def kinds() -> list[str]:
    return list(_REGISTRY)


class CreateSnapshot:
    """The history of a created row as the services write it (`audit.snapshot` of the
    saved object, empty values left out), built from a dict of attname values without
    making a model instance per row."""

    def __init__(self, model, *, drop: tuple[str, ...] = ()):
        from crm import audit

        self.blank = {k: v for k, v in audit.snapshot(model()).items() if k not in drop}
        self.filled = {k: [None, v] for k, v in self.blank.items() if v not in self.EMPTY}
        # attname -> (field name, is a foreign key) for the fields the history shows
        # (not id, version or search text, nor the dropped ones).
        self.shown = {f.attname: (f.name, f.is_relation) for f in model._meta.concrete_fields if f.name in self.blank}
        self.plain = audit._plain

    EMPTY = (None, "", {}, [])

    def changes(self, values: dict, related: dict | None = None) -> dict:
        """{field: [None, value]}; `related` renders foreign keys ({attname: str})."""
        result = self.filled.copy()
        plain, shown = self.plain, self.shown
        for attname, value in values.items():
            field = shown.get(attname)
            if field is None:
                continue
            name, relation = field
            if relation:
                value = (related or {}).get(attname) if value is not None else None
            elif type(value) is not str and type(value) is not int:  # those are plain already
                value = plain(value)
            # `value in EMPTY` for what plain() returns (None, bool, int, str, list, dict).
            if value is None or (not value and isinstance(value, (str, dict, list))):
                result.pop(name, None)
            else:
                result[name] = [None, value]
        return result
