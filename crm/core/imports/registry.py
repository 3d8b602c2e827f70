"""What can be imported: each domain app registers its importers in `ready()`.

An importer names its columns (with the English and Chinese headers it recognises), the
permission a user needs to use it, and `process`: given a batch of mapped rows it checks
each through the app's own forms and duplicate rules and, when writing, calls the app's
services. crm.core never imports the apps; the apps import this module.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise

CREATE, UPDATE, SKIP, ERROR = "create", "update", "skip", "error"


@dataclass(frozen=True)
class Column:
    name: str
    label: str | Promise
    aliases: Sequence[str] = ()
    required: bool = False
    # Only offered to users who may keep history (original owners and dates).
    history: bool = False


@dataclass
class Row:
    """One data row of the file: its line number and {field: raw value} after the mapping."""

    line: int
    values: dict[str, Any]
    action: str = ""
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # what the importer prepared for the write

    def get(self, name: str, default: Any = "") -> Any:
        value = self.values.get(name, default)
        return default if value is None else value

    def fail(self, message: str) -> None:
        if self.action != ERROR:
            self.action, self.message = ERROR, str(message)
        else:
            self.message = f"{self.message}; {message}"

    def decide(self, action: str, message: str = "") -> None:
        if self.action != ERROR:
            self.action, self.message = action, str(message)


@dataclass
class ImportContext:
    """What one run tells its importer: who acts, the policy, whether this pass writes,
    whether original owners and dates are kept, the file's SHA-256, `seen`, the keys of
    the rows met so far in the file (for duplicates within the file, across batches), and
    `checked`: an importer may keep there, by line, the JSON values it prepared for a row
    that passed the row's own checks; the dry run's are handed to the commit, which need
    not check those rows again."""

    actor: Any
    policy: str
    write: bool
    keep_history: bool
    sha256: str
    seen: dict[str, dict[str, int]] = field(default_factory=dict)
    checked: dict[int, dict[str, Any]] = field(default_factory=dict)

    def seen_before(self, key_kind: str, key: str, line: int) -> int | None:
        """The earlier line with the same `key` (e.g. the normalized e-mail), else None (and remembered)."""
        if not key:
            return None
        keys = self.seen.setdefault(key_kind, {})
        earlier = keys.get(key)
        if earlier is None:
            keys[key] = line
        return earlier


class Importer:
    kind: str = ""
    label: str | Promise = ""
    permission: str = ""  # "app.add_model": who may use it
    columns: Sequence[Column] = ()
    # Rows with the same value in this field are one record (an order's lines): the engine
    # hands them to `process` in one batch, wherever they are in the file.
    group_field: str = ""

    def may_use(self, user) -> bool:
        return bool(user.is_active and user.has_perm(self.permission))

    def columns_for(self, user) -> list[Column]:
        history = user.has_perm("imports.import_history")
        return [column for column in self.columns if history or not column.history]

    def process(self, rows: list[Row], context: ImportContext) -> None:
        """Decide each row's action (create, update, skip, error) and, with `context.write`,
        perform it. Runs inside the caller's transaction."""
        raise NotImplementedError


_IMPORTERS: dict[str, Importer] = {}


def importer_register(importer: Importer) -> None:
    _IMPORTERS[importer.kind] = importer


def importers() -> dict[str, Importer]:
    return dict(_IMPORTERS)


def importer_get(kind: str) -> Importer | None:
    return _IMPORTERS.get(kind)


def header_key(text: Any) -> str:
    """A header as compared with the aliases: lower case, without spaces, punctuation, `*`."""
    return re.sub(r"[\s_\-./:：（）()*#]+", "", str(text or "")).lower()


def mapping_guess(importer: Importer, headers: Sequence[str], user) -> dict[str, str]:
    """{header: field} for every header recognised by its English or Chinese name (each field once)."""
    by_alias: dict[str, str] = {}
    for column in importer.columns_for(user):
        for alias in (column.name, str(column.label), *column.aliases):
            by_alias.setdefault(header_key(alias), column.name)
    mapping, taken = {}, set()
    for header in headers:
        name = by_alias.get(header_key(header))
        if name and name not in taken:
            mapping[str(header)] = name
            taken.add(name)
    return mapping


ProgressCallback = Callable[[int], None]
