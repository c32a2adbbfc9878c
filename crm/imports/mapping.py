"""Which column of a file is which field: guessed from the headers, confirmed by an
admin, and remembered for the next file with the same headers.

A header is compared folded: NFKC, lower case, no spaces, without a required-marker
star or a trailing colon, and without a bracketed note such as （万元） — which the
cleaners read separately (amounts in 万).

A mapping is a list as long as the header row: the field name for each column, or
"" for a column that is not imported.
"""

import hashlib
import re

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from crm.errors import DomainError

from .base import Importer
from .cleaning import fold

ERR_UNKNOWN_FIELD = _("“%(field)s” is not a column this import knows.")
ERR_TWICE = _("Two columns are mapped to “%(field)s”.")
ERR_LENGTH = _("The mapping does not match the file's %(count)d columns.")
ERR_NOTHING_MAPPED = _("No column is mapped to a field: choose at least one.")
ERR_MISSING = _("The file needs a column for %(fields)s.")

_BRACKETS = re.compile(r"[（(\[【<《].*?[）)\]】>》]")


def fold_header(header: str) -> str:
    text = _BRACKETS.sub("", str(header or ""))
    return fold(text).strip("*＊:：").replace("*", "")


def aliases(importer: Importer) -> dict[str, str]:
    """Folded header → field name, from each column's name, label (both languages)
    and aliases."""
    lookup = {}
    for column in importer.columns:
        names = [column.name, *column.aliases]
        for language in ("en", "zh-hans"):
            with translation.override(language):
                names.append(str(column.label))
        for name in names:
            lookup.setdefault(fold_header(name), column.name)
    return lookup


def guess(importer: Importer, headers: list[str]) -> list[str]:
    """The field each header names, or ""; a field goes to its first column only."""
    lookup = aliases(importer)
    used, result = set(), []
    for header in headers:
        name = lookup.get(fold_header(header), "")
        if name in used:
            name = ""
        if name:
            used.add(name)
        result.append(name)
    return result


def score(importer: Importer):
    """How many cells of a row name a column: how header-like the row is."""
    lookup = aliases(importer)

    def count(cells: list[str]) -> int:
        return len({lookup[key] for key in map(fold_header, cells) if key in lookup})

    return count


def signature(headers: list[str]) -> str:
    """The same headers (as folded) give the same signature."""
    return hashlib.sha256("\x1f".join(fold_header(h) for h in headers).encode()).hexdigest()


def validate(importer: Importer, headers: list[str], columns: list[str]) -> list[str]:
    """The mapping cleaned up, or a DomainError saying what is wrong with it."""
    if len(columns) != len(headers):
        raise DomainError(ERR_LENGTH % {"count": len(headers)}, field="mapping")
    known = {column.name for column in importer.columns}
    seen = set()
    for name in columns:
        if not name:
            continue
        if name not in known:
            raise DomainError(ERR_UNKNOWN_FIELD % {"field": name}, field="mapping")
        if name in seen:
            raise DomainError(ERR_TWICE % {"field": importer.column(name).label}, field="mapping")
        seen.add(name)
    if not seen:
        raise DomainError(ERR_NOTHING_MAPPED, field="mapping")
    missing = [group for group in importer.required_columns if not seen.intersection(group)]
    if missing:
        labels = [" / ".join(str(importer.column(name).label) for name in group) for group in missing]
        raise DomainError(ERR_MISSING % {"fields": "; ".join(labels)}, field="mapping")
    return [name or "" for name in columns]


def remembered(kind: str, headers: list[str]) -> list[str] | None:
    from crm.models import ImportMapping

    stored = ImportMapping.objects.filter(kind=kind, signature=signature(headers)).first()
    if stored is None or len(stored.columns) != len(headers):
        return None
    return stored.columns


def remember(*, kind: str, headers: list[str], columns: list[str], actor) -> None:
    from crm.models import ImportMapping

    ImportMapping.objects.update_or_create(
        kind=kind,
        signature=signature(headers),
        defaults={"headers": headers, "columns": columns, "updated_by": actor},
    )
